"""A real `brigada serve` process on 127.0.0.1 (a free port, a self-signed certificate made for
the test), stopped by the test; and laptops provisioned to sync with it over HTTPS."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sync_support import Field, provisioned_field

from adapters.bootstrap import central_for
from adapters.site_credentials import pinned_context, self_signed
from adapters.sync_client import HttpCentral
from application.brigada import Brigada

BRIGADA = str(Path(sys.executable).parent / "brigada")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One `brigada serve` process: its address, its certificate, its process."""

    url: str
    certificate: str
    cert_path: Path
    key_path: Path
    store_url: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self) -> httpx.Client:
        """A plain HTTPS client that trusts this server's certificate (no credential)."""
        return httpx.Client(base_url=self.url, verify=pinned_context(self.certificate), timeout=30)


def start_server(store_url: str, folder: Path, *, workers: int = 1, port: int | None = None) -> Server:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = (folder / "central.crt", folder / "central.key")
    if not cert.exists():
        cert, key = self_signed(folder, "127.0.0.1")
    port = port or free_port()
    log_path = folder / f"serve-{port}.log"
    env = {**os.environ, "BRIGADA_LANG": "en"}
    command = [BRIGADA, "--store", store_url, "serve", "--bind", f"127.0.0.1:{port}"]
    command += ["--tls-cert", str(cert), "--tls-key", str(key), "--workers", str(workers)]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    server = Server(f"https://127.0.0.1:{port}", cert.read_text(), cert, key, store_url, process, log_path)
    deadline = time.monotonic() + 30
    with server.client() as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"brigada serve stopped: {server.log()}")
            with contextlib.suppress(httpx.TransportError):
                if client.get("/health").status_code == 200:
                    return server
            if time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"brigada serve did not answer: {server.log()}")
            time.sleep(0.1)


@contextlib.contextmanager
def serving(store_url: str, folder: Path, **options: int) -> Iterator[Server]:
    server = start_server(store_url, folder, **options)
    try:
        yield server
    finally:
        server.stop()


def over_http(laptop: Brigada, operator: str, url: str | None = None) -> HttpCentral:
    """The laptop's transport to the server it was provisioned for (fast retries for tests)."""
    central = central_for(laptop, operator, url)
    central.backoff = 0.05
    return central


@contextlib.contextmanager
def served_field(open_store: Any, central_url: str, folder: Path, **options: int) -> Iterator[Field]:
    """Central (stocked) and BRG01's laptop provisioned to sync with `brigada serve` on central,
    which runs for the test: ``field.sync()`` goes over HTTPS."""
    cert, _key = self_signed(folder / "tls", "127.0.0.1")
    port = free_port()
    address = (f"https://127.0.0.1:{port}", cert.read_text())
    field = provisioned_field(open_store, central_url, folder, address=address)
    server = start_server(central_url, folder / "tls", port=port, **options)
    field.transport = lambda operator: over_http(field.laptop, operator)
    try:
        yield field
    finally:
        server.stop()

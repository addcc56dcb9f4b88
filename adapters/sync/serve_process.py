"""`brigada serve` as a child process on 127.0.0.1 (the demo's central, and the tests'): started
on a free port with a certificate made for 127.0.0.1, waited for until /health answers, stopped
with SIGTERM (graceful) or SIGKILL."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.sync.site_credentials import pinned_context, self_signed

BRIGADA = str(Path(sys.executable).parent / "brigada")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def certificate_in(folder: Path) -> tuple[Path, Path]:
    """central.crt and central.key in ``folder``, made for 127.0.0.1 if they are not there."""
    cert, key = folder / "central.crt", folder / "central.key"
    if not (cert.exists() and key.exists()):
        cert, key = self_signed(folder, "127.0.0.1")
    return cert, key


@dataclass
class ServeProcess:
    url: str
    certificate: str
    store_url: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self) -> httpx.Client:
        """A plain HTTPS client that trusts this server's certificate (it holds no credential)."""
        return httpx.Client(base_url=self.url, verify=pinned_context(self.certificate), timeout=30)

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


def start_serve(
    store_url: str, folder: Path, *, port: int | None = None, workers: int = 1, language: str = "en"
) -> ServeProcess:
    """Start `brigada serve` for ``store_url`` and wait until it answers (30 s at most)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = certificate_in(folder)
    port = port or free_port()
    log_path = folder / f"serve-{port}.log"
    command = [BRIGADA, "--store", store_url, "--lang", language, "serve", "--bind", f"127.0.0.1:{port}"]
    command += ["--tls-cert", str(cert), "--tls-key", str(key), "--workers", str(workers)]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    server = ServeProcess(f"https://127.0.0.1:{port}", cert.read_text(), store_url, process, log_path)
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

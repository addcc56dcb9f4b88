"""A real `brigada serve` process on 127.0.0.1 (adapters/sync/serve_process.py: a free port, a
certificate made for the test), stopped by the test; the same app run by uvicorn in a thread, for
tests that hold central's clock; and laptops provisioned to sync with them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from adapters.bootstrap import central_for
from adapters.sync.client import HttpCentral
from adapters.sync.serve_process import ServeProcess, certificate_in, free_port, start_serve
from adapters.sync.server import create_app
from application.brigada import Brigada
from tests.support.sync import Field, provisioned_field

Server = ServeProcess


def start_server(store_url: str, folder: Path, *, workers: int = 1, port: int | None = None) -> Server:
    return start_serve(store_url, folder, port=port, workers=workers)


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
    cert, _key = certificate_in(folder / "tls")
    port = free_port()
    address = (f"https://127.0.0.1:{port}", cert.read_text())
    field = provisioned_field(open_store, central_url, folder, address=address)
    server = start_server(central_url, folder / "tls", port=port, **options)
    field.transport = lambda operator: over_http(field.laptop, operator)
    field.server = server
    try:
        yield field
    finally:
        server.stop()


@contextlib.contextmanager
def serving_in_thread(store_url: str, folder: Path, opener: Callable[[str], Brigada]) -> Iterator[str]:
    """`brigada serve`'s own app (adapters/sync_server.create_app) on 127.0.0.1 over TLS, run by
    uvicorn in a thread of the test's process, central's store opened by ``opener``: for tests
    that hold central's clock (a process of its own reads the system's). Yields its https URL."""
    cert, key = certificate_in(folder)
    port = free_port()
    config = uvicorn.Config(
        create_app(store_url, opener),
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sync service did not start")
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)

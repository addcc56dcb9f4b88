"""A real `brigada serve` process on 127.0.0.1 (adapters/serve_process.py: a free port, a
certificate made for the test), stopped by the test; and laptops provisioned to sync with it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sync_support import Field, provisioned_field

from adapters.bootstrap import central_for
from adapters.serve_process import ServeProcess, certificate_in, free_port, start_serve
from adapters.sync_client import HttpCentral
from application.brigada import Brigada

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

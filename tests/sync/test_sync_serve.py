"""The sync through a real `brigada serve` process on 127.0.0.1 over HTTPS, central on SQLite and
on PostgreSQL: both crossings, the laptop's credential and central's pinned certificate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from serve_support import Server, free_port, over_http, start_server
from sync_support import Field, provisioned_field
from test_sync_store import central_event_ids, finalized_visit, site_event_ids

from adapters.site_credentials import self_signed
from application.sync import SyncOutcome
from domain.site import SiteMode


@pytest.fixture
def served(open_store: Any, store_url: str, tmp_path: Path) -> Any:
    folder = tmp_path / "tls"
    cert, _key = self_signed(folder, "127.0.0.1")
    port = free_port()
    field = provisioned_field(
        open_store, store_url, tmp_path, address=(f"https://127.0.0.1:{port}", cert.read_text())
    )
    server = start_server(store_url, folder, port=port)
    yield field, server
    server.stop()


def sync_over_http(field: Field) -> SyncOutcome:
    nurse = field.nurse()
    central = over_http(field.laptop, nurse.username)
    try:
        outcome = field.laptop.sync.run(nurse, central, field.stores())
    finally:
        central.close()
    if outcome.laptop is not None:
        field.laptop = outcome.laptop
    return outcome


def test_both_crossings_through_brigada_serve(served: tuple[Field, Server]) -> None:
    field, server = served

    started = sync_over_http(field)
    finalized_visit(field)
    mission = site_event_ids(field)
    ended = sync_over_http(field)

    assert (started.plan.new_mode, ended.plan.new_mode) == (SiteMode.ON_MISSION, SiteMode.ON_SITE)
    assert ended.quarantined == 0
    on_central = central_event_ids(field)
    assert all(on_central.count(event_id) == 1 for event_id in mission)
    assert field.central.sites.show(field.admin, "BRG01").mode == "INS"
    assert "/v1/sync/merge site=BRG01 status=200" in server.log()

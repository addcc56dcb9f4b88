"""The sync through a real `brigada serve` process on 127.0.0.1 over HTTPS, central on SQLite and
on PostgreSQL: both crossings, the laptop's credential and central's pinned certificate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.sites.site import SiteMode
from tests.support.serve import served_field
from tests.support.sync import Field, central_event_ids, finalized_visit, site_event_ids


@pytest.fixture
def field(open_store: Any, store_url: str, tmp_path: Path) -> Iterator[Field]:
    with served_field(open_store, store_url, tmp_path) as field:
        yield field


def test_both_crossings_through_brigada_serve(field: Field) -> None:
    server = field.server

    started = field.sync()
    finalized_visit(field)
    mission = site_event_ids(field)
    ended = field.sync()

    assert (started.plan.new_mode, ended.plan.new_mode) == (SiteMode.ON_MISSION, SiteMode.ON_SITE)
    assert ended.quarantined == 0
    on_central = central_event_ids(field)
    assert all(on_central.count(event_id) == 1 for event_id in mission)
    assert field.central.sites.show(field.admin, "BRG01").mode == "INS"
    assert "/v1/sync/merge site=BRG01 status=200" in server.log()

"""The activity log folds events as stored (the JSON parsed without building domain events) into
exactly the rows it folds from the domain events; views far behind catch up as a rebuild does and
end with their indexes (the demo's central and laptop stores)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import application.projection_runner as runner
from adapters.bootstrap import open_brigada
from application.app import LOG_PAGE_SIZE
from application.brigada import Brigada
from cli.main import cli
from projections.audit.activity_log import ActivityLogProjection, fields_json
from projections.base import StoredEvent, ViewRows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stored") / "demo"
    done = CliRunner().invoke(cli, ["--lang", "en", "demo", "--dir", str(folder), "--patients", "3"])
    assert done.exit_code == 0, done.stderr
    return folder


def notifications(brigada: Brigada) -> list[Any]:
    found: list[Any] = []
    position = 0
    while page := brigada.app.recorder.select_notifications(
        start=position, limit=LOG_PAGE_SIZE, inclusive_of_start=False
    ):
        found += page
        position = page[-1].id
    return found


def schema(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')")
        return sorted(row[0] for row in found)


@pytest.mark.store
@pytest.mark.parametrize("store", ["central.db", "brg01.db"])
def test_a_stored_event_holds_what_its_domain_event_holds(demo: Path, store: str) -> None:
    brigada = open_brigada(f"sqlite:///{demo / store}")
    try:
        decoder = runner._Decoder(brigada.app.mapper, keep=False)
        seen = 0
        for notification in notifications(brigada):
            stored = decoder.stored(notification)
            event: Any = brigada.app.mapper.to_domain_event(notification)
            assert isinstance(stored, StoredEvent)
            assert stored.stored_type is type(event)
            for name, value in event.__dict__.items():
                assert getattr(stored, name) == value, (notification.topic, name)
                assert type(getattr(stored, name)) is type(value), (notification.topic, name)
            assert stored.context_data == event.__dict__["context"].as_dict()
            seen += 1
        assert seen > 100
    finally:
        brigada.close()


@pytest.mark.store
@pytest.mark.parametrize("store", ["central.db", "brg01.db"])
def test_the_activity_log_folds_stored_events_into_the_rows_of_domain_events(demo: Path, store: str) -> None:
    brigada = open_brigada(f"sqlite:///{demo / store}")
    try:
        others = ViewRows(brigada.views.store)
        from_stored, from_domain = ActivityLogProjection(others), ActivityLogProjection(others)
        decoder = runner._Decoder(brigada.app.mapper, keep=False)
        found = notifications(brigada)
        stored_rows = [from_stored.row_at(decoder.stored(n), n.id) for n in found]
        domain_rows = [from_domain.row_at(brigada.app.mapper.to_domain_event(n), n.id) for n in found]
        assert stored_rows == domain_rows
        assert stored_rows == brigada.views.store("activity_log").all_rows()
    finally:
        brigada.close()


@pytest.mark.store
def test_views_far_behind_catch_up_as_a_rebuild_with_their_indexes(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brigada = open_brigada(f"sqlite:///{demo / 'central.db'}")
    try:
        views = brigada.views
        before = {name: views.store(name).all_rows() for name in views.names()}
        engine: sa.Engine = brigada.storage.engine  # type: ignore[attr-defined]
        indexes = schema(engine)
        for name in views.names():
            views.store(name).reset()
        monkeypatch.setattr(runner, "FAR_BEHIND_PAGES", 0)  # every view is far behind
        assert runner.far_behind(0, views.head())

        views.catch_up()

        for name in views.names():
            assert views.store(name).all_rows() == before[name], name
        after = schema(engine)
        assert after == indexes
        assert any(name.startswith("ix_view_activity_log") for name in after)
        text = views.store("activity_log").contains("comment", ["HIST="], limit=5, order_by="position")
        assert text
    finally:
        brigada.close()


@given(st.dictionaries(st.text(), st.text()))
def test_the_fields_are_written_as_json_dumps_writes_them(fields: dict[str, str]) -> None:
    assert fields_json(fields) == json.dumps(fields, ensure_ascii=False)

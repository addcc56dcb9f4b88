"""Many events in one insert (what a sync's merge stores) on real stores: one statement on SQLite,
COPY on PostgreSQL; consecutive log positions in the batch's order, the tracking record in the
same transaction, every event linked in the chain, and a batch that meets a stored event stores
nothing at all."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from application.brigada import Brigada
from application.context import Actor
from domain.access_log import PATIENT_VIEW

PASSWORD = "a-long-password-1234"
SIZE = 120  # above the PostgreSQL recorder's bulk threshold


def central(store_url: str, open_store: Any) -> tuple[Brigada, Actor]:
    brigada = open_store(store_url)
    brigada.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
    admin, _ticket = brigada.auth.resume(brigada.auth.login("admin", PASSWORD))
    brigada.core.record_access("admin", PATIENT_VIEW, {"HIST": "CEN-1"})
    return brigada, admin


def copies(brigada: Brigada, count: int) -> list[StoredEvent]:
    """New access records, each a copy of the newest one under a new id."""
    recorder = brigada.app.recorder
    page = recorder.select_notifications(start=1, limit=1000, topics=["brigada.Access.Recorded"])
    template = page[-1]
    return [StoredEvent(uuid4(), 1, template.topic, bytes(template.state)) for _ in range(count)]


def test_a_bulk_insert_takes_consecutive_positions_with_its_tracking_and_links(
    store_url: str, open_store: Any
) -> None:
    brigada, admin = central(store_url, open_store)
    recorder = brigada.app.recorder
    before = recorder.max_notification_id() or 0
    events = copies(brigada, SIZE)
    positions = recorder.insert_events(events, tracking=Tracking(application_name="bulk", notification_id=7))
    assert list(positions or []) == list(range(before + 1, before + SIZE + 1))
    stored = recorder.select_notifications(start=before + 1, limit=SIZE + 10)
    assert [(n.id, n.originator_id) for n in stored] == list(
        zip(positions or [], [e.originator_id for e in events], strict=True)
    )
    assert recorder.max_tracking_id("bulk") == 7
    broken, _checked = brigada.audit.verify(admin)
    assert broken is None


def test_a_bulk_insert_that_meets_a_stored_event_stores_nothing(store_url: str, open_store: Any) -> None:
    brigada, admin = central(store_url, open_store)
    recorder = brigada.app.recorder
    events = copies(brigada, SIZE)
    recorder.insert_events(events[:1])
    before = recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        recorder.insert_events(
            events[1:] + events[:1], tracking=Tracking(application_name="bulk", notification_id=3)
        )
    assert recorder.max_notification_id() == before
    assert recorder.max_tracking_id("bulk") in (None, 0)
    recorder.insert_events(events[1:])  # the rest goes in afterwards, linked after the first
    assert brigada.audit.verify(admin)[0] is None

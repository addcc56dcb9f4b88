"""Copying aggregates' stored events from one store to another, byte for byte.

Provisioning and the start-of-mission rebuild use it to give a laptop central's slice for its
site, and the laptop uses it to record central's later events of aggregates central owns (its
Site record, with the mode, and its sync runs). The target's recorder writes each copied event's
chain link in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.app import BrigadaApplication
from application.context import SYSTEM
from domain.store_identity import StoreIdentity, StoreRole

BATCH = 500

# Reads one aggregate's stored events after a version (None: all of them).
EventReader = Callable[[UUID, int | None], list[StoredEvent]]


def reader_of(source: BrigadaApplication) -> EventReader:
    return lambda aggregate_id, after: list(source.recorder.select_events(aggregate_id, gt=after))


def copy_aggregates(
    source: BrigadaApplication | EventReader,
    target: BrigadaApplication,
    aggregate_ids: Iterable[UUID],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Copy the events the target lacks of each aggregate; returns how many were copied."""
    read = reader_of(source) if isinstance(source, BrigadaApplication) else source
    pending: list[StoredEvent] = []
    copied = 0
    for aggregate_id in aggregate_ids:
        have = target.recorder.select_events(aggregate_id, desc=True, limit=1)
        pending.extend(read(aggregate_id, have[0].originator_version if have else None))
        if len(pending) >= BATCH:
            target.recorder.insert_events(pending)
            copied += len(pending)
            pending = []
        if progress:
            progress(1)
    if pending:
        target.recorder.insert_events(pending)
        copied += len(pending)
    return copied


def seed_site_store(
    source: BrigadaApplication | EventReader,
    target: object,
    aggregate_ids: list[UUID],
    *,
    site: str,
    central_code: str,
    secret: str,
    generation: str,
    software_version: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fill an empty laptop store with central's slice, then write its identity: a laptop's own
    events are those recorded after ``slice_end``, the last position copied. ``target`` is an
    open Brigada. Returns the events copied."""
    app = target.core.app  # type: ignore[attr-defined]
    copied = copy_aggregates(source, app, aggregate_ids, progress)
    slice_end = app.recorder.max_notification_id() or 0
    with target.core.acting_as(SYSTEM, site=site):  # type: ignore[attr-defined]
        identity = StoreIdentity(role=StoreRole.SITE, site_code=site, software_version=software_version)
        identity.mark_provisioned(
            central_code=central_code, sync_secret=secret, generation=generation, slice_end=slice_end
        )
        app.save(identity)
    target.core.views.catch_up()  # type: ignore[attr-defined]
    return copied

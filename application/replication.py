"""Copying aggregates' stored events from one store to another, byte for byte.

Provisioning and the start-of-mission rebuild use it to give a laptop central's slice for its
site, and the laptop uses it to record central's later events of aggregates central owns (its
Site record, with the mode, and its sync runs). The target's recorder writes each copied event's
chain link in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.app import BrigadaApplication
from application.context import SYSTEM
from application.core import Core
from domain.store_identity import StoreIdentity, StoreRole

CHUNK = 200  # aggregates read per call

# Reads the stored events of several aggregates, each after a version (None: all of them).
EventReader = Callable[[list[tuple[UUID, int | None]]], list[StoredEvent]]


def reader_of(source: BrigadaApplication) -> EventReader:
    def read(wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        return [
            e for aggregate_id, after in wanted for e in source.recorder.select_events(aggregate_id, gt=after)
        ]

    return read


def copy_aggregates(
    source: BrigadaApplication | EventReader,
    target: BrigadaApplication,
    aggregate_ids: Iterable[UUID],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Copy the events the target lacks of each aggregate, a chunk of aggregates per read and
    per transaction; returns how many were copied."""
    read = reader_of(source) if isinstance(source, BrigadaApplication) else source
    ids = list(dict.fromkeys(aggregate_ids))
    empty = not target.recorder.max_notification_id()  # a fresh store: nothing to look up
    copied = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        wanted = [(i, None if empty else _head(target, i)) for i in chunk]
        events = read(wanted)
        if events:
            target.recorder.insert_events(events)
            copied += len(events)
        if progress:
            progress(len(chunk))
    return copied


def _head(target: BrigadaApplication, aggregate_id: UUID) -> int | None:
    newest = target.recorder.select_events(aggregate_id, desc=True, limit=1)
    return newest[0].originator_version if newest else None


class OpenStore(Protocol):
    """An open store (application/brigada.py's Brigada), seen through its core."""

    @property
    def core(self) -> Core: ...


def seed_site_store(
    source: BrigadaApplication | EventReader,
    target: OpenStore,
    aggregate_ids: list[UUID],
    *,
    site: str,
    central_code: str,
    generation: str,
    software_version: str,
    central_url: str = "",
    central_certificate: str = "",
    administrators: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fill an empty laptop store with central's slice, then write its identity: a laptop's own
    events are those recorded after ``slice_end``, the last position copied. ``target`` is an
    open Brigada; ``administrators``: central's, each with a partial verifier of the password
    (what the laptop's login tells them). Returns the events copied."""
    app = target.core.app
    copied = copy_aggregates(source, app, aggregate_ids, progress)
    slice_end = app.recorder.max_notification_id() or 0
    with target.core.acting_as(SYSTEM, site=site):
        identity = StoreIdentity(role=StoreRole.SITE, site_code=site, software_version=software_version)
        identity.mark_provisioned(
            central_code=central_code, sync_secret="", generation=generation, slice_end=slice_end
        )
        if central_url:
            identity.address_central(central_url, central_certificate)
        if administrators:
            identity.note_administrators(administrators)
        app.save(identity)
    target.core.views.catch_up()
    return copied

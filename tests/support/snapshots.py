"""Loading an aggregate as a new process would (no aggregate cache), with or without snapshots."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.app import BrigadaApplication


def loaded(app: BrigadaApplication, aggregate_id: UUID, *, snapshots: bool = True) -> Any:
    """As a new process loads it (no aggregate cache), from the newest snapshot or replayed."""
    repository = app.repository
    saved = repository.snapshot_store, repository.cache
    repository.snapshot_store = saved[0] if snapshots else None
    repository.cache = None
    try:
        return repository.get(aggregate_id)
    finally:
        repository.snapshot_store, repository.cache = saved


def snapshot_versions(app: BrigadaApplication, aggregate_id: UUID) -> list[int]:
    assert app.snapshots is not None
    return [s.originator_version for s in app.snapshots.get(aggregate_id)]

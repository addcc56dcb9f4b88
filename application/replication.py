"""Copying aggregates' stored events from one store to another, byte for byte.

Provisioning uses it to give a laptop central's slice for its site, and the laptop uses it to
record central's later events of aggregates central owns (its Site record, with the mode). The
target's recorder writes each copied event's chain link in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from application.app import BrigadaApplication

BATCH = 500


def copy_aggregates(
    source: BrigadaApplication,
    target: BrigadaApplication,
    aggregate_ids: Iterable[UUID],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Copy the events the target lacks of each aggregate; returns how many were copied."""
    pending, copied = [], 0
    for aggregate_id in aggregate_ids:
        have = target.recorder.select_events(aggregate_id, desc=True, limit=1)
        after = have[0].originator_version if have else None
        pending.extend(source.recorder.select_events(aggregate_id, gt=after))
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

"""Refused syncs (seed 000): one row per attempt a laptop refused, with its reason. A laptop
holds its own; central, those its laptops pushed. ``sync history`` lists them beside the runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from domain.sync.sync_refusal import SyncRefusal
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class SyncRefusalRow:
    refusal_id: str
    site: str
    crossing: str
    mode: str  # the laptop's
    operator: str
    computer: str
    started_at: str  # when the attempt was made (and refused)
    reason: str  # the refusal's message template (an English msgid)
    reason_params: str  # JSON: its parameters

    status = "refused"  # beside a run's started | flipped | completed

    def message(self, translate: Any = str) -> str:
        """The refusal as the operator read it, in the language ``translate`` gives."""
        return str(translate(self.reason)).format(**json.loads(self.reason_params))


class SyncRefusalsProjection(ByAggregate):
    name = "sync_refusals"
    version = 1
    topics = (SyncRefusal.Recorded.TOPIC,)
    row_type = SyncRefusalRow
    key_fields = ("refusal_id",)
    indexes = (("site", "started_at"),)

    def apply(self, row: SyncRefusalRow | None, event: Any) -> SyncRefusalRow | None:
        return SyncRefusalRow(
            refusal_id=event.originator_id.hex,
            site=event.site,
            crossing=event.crossing.value,
            mode=event.mode.value,
            operator=event.context.user,
            computer=event.context.computer,
            started_at=event.context.recorded_at.isoformat(),
            reason=event.reason,
            reason_params=json.dumps(event.params, ensure_ascii=False, sort_keys=True),
        )


class SyncRefusalQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def history(self, site: str | None = None, limit: int = 100) -> list[SyncRefusalRow]:
        equals = {"site": site.upper()} if site else {}
        return self.rows.select(Query(equals=equals, order_by="started_at", descending=True, limit=limit))

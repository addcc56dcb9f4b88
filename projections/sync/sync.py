"""Sync history (one row per sync, on central and, for its own site, on the laptop), sync
conflicts waiting for review, and the events central holds in quarantine."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.sync.quarantine import Quarantine, event_kind
from domain.sync.sync import SyncConflict, SyncRun
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class SyncRunRow:
    run_id: str
    site: str
    crossing: str
    generation: str
    operator: str
    computer: str
    started_at: str
    status: str  # started | flipped | completed
    pending: str  # JSON: function -> count at the start
    merged: str  # JSON: function -> count merged
    total: int
    reapplied: int
    conflicts: int
    quarantined: int
    rebuilt: int
    mode_after: str
    chain_head: str
    upto: int
    ended_at: str
    duration_ms: int


class SyncRunsProjection(ByAggregate):
    name = "sync_runs"
    version = 2  # 2: events held in quarantine
    topics = (
        SyncRun.Started.TOPIC,
        SyncRun.Merged.TOPIC,
        SyncRun.ModeFlipped.TOPIC,
        SyncRun.Completed.TOPIC,
    )
    row_type = SyncRunRow
    key_fields = ("run_id",)
    indexes = (("site", "started_at"), ("status",))

    def apply(self, row: SyncRunRow | None, event: Any) -> SyncRunRow | None:
        stamp = event.context.recorded_at
        if isinstance(event, SyncRun.Started):
            return SyncRunRow(
                run_id=event.originator_id.hex,
                site=event.site,
                crossing=event.crossing.value,
                generation=event.generation,
                operator=event.context.user,
                computer=event.context.computer,
                started_at=stamp.isoformat(),
                status="started",
                pending=json.dumps(event.pending, sort_keys=True),
                merged="{}",
                total=0,
                reapplied=0,
                conflicts=0,
                quarantined=0,
                rebuilt=0,
                mode_after="",
                chain_head="",
                upto=0,
                ended_at="",
                duration_ms=0,
            )
        if row is None:
            return None
        if isinstance(event, SyncRun.Merged):
            merged = json.loads(row.merged)
            for name, count in event.counts.items():
                merged[name] = merged.get(name, 0) + count
            return replace(
                row,
                merged=json.dumps(merged, sort_keys=True),
                total=row.total + sum(event.counts.values()),
                reapplied=row.reapplied + event.reapplied,
                conflicts=row.conflicts + event.conflicts,
                quarantined=row.quarantined + event.quarantined,
                chain_head=event.chain_head,
                upto=event.upto,
            )
        if isinstance(event, SyncRun.ModeFlipped):
            return replace(row, status="flipped", mode_after=event.mode.value)
        if isinstance(event, SyncRun.Completed):
            started = datetime.fromisoformat(row.started_at)
            return replace(
                row,
                status="completed",
                rebuilt=event.rebuilt,
                ended_at=stamp.isoformat(),
                duration_ms=int((stamp - started).total_seconds() * 1000),
            )
        return row


class SyncRunQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def history(self, site: str | None = None, limit: int = 100) -> list[SyncRunRow]:
        equals = {"site": site.upper()} if site else {}
        return self.rows.select(Query(equals=equals, order_by="started_at", descending=True, limit=limit))

    def open_run(self, site: str) -> SyncRunRow | None:
        """The newest run of a site that did not complete."""
        for row in self.history(site, limit=20):
            if row.status != "completed":
                return row
        return None

    def of_site(self, site: str) -> list[str]:
        return [row.run_id for row in self.rows.find(site=site.upper(), order_by="started_at")]

    def chain_head(self, site: str, generation: str) -> str | None:
        """The laptop's last chain link central verified for a log generation."""
        found = self.rows.select(
            Query(
                equals={"site": site.upper(), "generation": generation},
                order_by="started_at",
                descending=True,
            )
        )
        for row in found:
            if row.chain_head:
                return row.chain_head
        return None


@dataclass(frozen=True)
class SyncConflictRow:
    conflict_id: str
    site: str
    record: str
    reference: str
    aggregate_id: str
    fields: str  # space-separated
    central_values: str  # JSON
    site_values: str  # JSON
    site_event: str
    recorded_at: str
    user: str
    status: str  # open | central | site
    resolved_by: str


class SyncConflictsProjection(ByAggregate):
    name = "sync_conflicts"
    version = 1
    topics = (SyncConflict.Recorded.TOPIC, SyncConflict.Resolved.TOPIC)
    row_type = SyncConflictRow
    key_fields = ("conflict_id",)
    indexes = (("status", "recorded_at"),)

    def apply(self, row: SyncConflictRow | None, event: Any) -> SyncConflictRow | None:
        if isinstance(event, SyncConflict.Recorded):
            return SyncConflictRow(
                conflict_id=event.originator_id.hex,
                site=event.site,
                record=event.record,
                reference=event.reference,
                aggregate_id=event.aggregate_id.hex,
                fields=" ".join(event.fields),
                central_values=json.dumps(event.central_values, ensure_ascii=False, sort_keys=True),
                site_values=json.dumps(event.site_values, ensure_ascii=False, sort_keys=True),
                site_event=event.site_event,
                recorded_at=event.context.recorded_at.isoformat(),
                user=event.context.user,
                status="open",
                resolved_by="",
            )
        if row is None:
            return None
        return replace(row, status=event.keep.value, resolved_by=event.context.user)


class SyncConflictQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def list(self, include_resolved: bool = False) -> list[SyncConflictRow]:
        equals = {} if include_resolved else {"status": "open"}
        return self.rows.select(Query(equals=equals, order_by="recorded_at"))

    def by_prefix(self, prefix: str) -> builtins.list[SyncConflictRow]:
        prefix = prefix.lower().replace("-", "")
        return [row for row in self.list(include_resolved=True) if row.conflict_id.startswith(prefix)]


@dataclass(frozen=True)
class QuarantineRow:
    quarantine_id: str
    site: str
    run_id: str
    position: int  # in the laptop's log
    record_id: str
    record_version: int
    kind: str  # the event's kind ("Patient.Corrected")
    rule: str  # a domain.sync.sync_trust.TrustRule value
    detail: str  # JSON: the rule's parameters
    user: str  # the acting user the event claims
    event_id: str
    held_at: str
    status: str  # held | released | rejected
    reviewer: str
    reviewed_at: str
    reason: str


class QuarantineProjection(ByAggregate):
    name = "sync_quarantine"
    version = 1
    topics = (Quarantine.Held.TOPIC, Quarantine.Released.TOPIC, Quarantine.Rejected.TOPIC)
    row_type = QuarantineRow
    key_fields = ("quarantine_id",)
    indexes = (("status", "site"), ("record_id",))

    def apply(self, row: QuarantineRow | None, event: Any) -> QuarantineRow | None:
        if isinstance(event, Quarantine.Held):
            return QuarantineRow(
                quarantine_id=event.originator_id.hex,
                site=event.site,
                run_id=event.run_id.hex,
                position=event.position,
                record_id=event.record_id.hex,
                record_version=event.record_version,
                kind=event_kind(event.topic),
                rule=event.rule,
                detail=json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
                user=event.user,
                event_id=event.event_id,
                held_at=event.context.recorded_at.isoformat(),
                status="held",
                reviewer="",
                reviewed_at="",
                reason="",
            )
        if row is None:
            return None
        decided = {
            "status": "released" if isinstance(event, Quarantine.Released) else "rejected",
            "reviewer": event.context.user,
            "reviewed_at": event.context.recorded_at.isoformat(),
        }
        if isinstance(event, Quarantine.Rejected):
            decided["reason"] = event.reason
        return replace(row, **decided)


class QuarantineQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def list(self, site: str | None = None, include_decided: bool = False) -> list[QuarantineRow]:
        equals = {} if include_decided else {"status": "held"}
        if site:
            equals["site"] = site.upper()
        return self.rows.select(Query(equals=equals, order_by="held_at"))

    def by_prefix(self, prefix: str) -> builtins.list[QuarantineRow]:
        prefix = prefix.lower().replace("-", "")
        return [row for row in self.list(include_decided=True) if row.quarantine_id.startswith(prefix)]

    def held_records(self, site: str) -> set[str]:
        """The records (hex ids) with an event of ``site`` still held."""
        return {row.record_id for row in self.list(site)}

    def of_record(self, record_id: str, site: str) -> builtins.list[QuarantineRow]:
        """Every event of one record pushed by ``site`` and held, in the order they were held."""
        rows = [row for row in self.rows.find(record_id=record_id) if row.site == site]
        return sorted(rows, key=lambda row: (row.held_at, row.position))

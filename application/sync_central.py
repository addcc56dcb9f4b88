"""Central's side of a sync (the direct transport calls it in-process): it authenticates the
site, checks the laptop's chain, merges the laptop's events exactly once (each batch with a
tracking record and its SyncRun entry in one transaction), re-applies changes to shared records
that central also changed, flips the mode, and gives a rebuilt laptop its slice.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from application.access import Access
from application.context import Actor
from application.core import CONFLICT, Core
from application.sites import Sites
from application.sync_port import Batch, CentralStatus, LoggedEvent, MergeResult, RunState
from domain.chain import link
from domain.errors import N_, Conflict, NotFound
from domain.site import Site, site_id
from domain.sync import (
    WHOLE_RECORD,
    ConflictKeep,
    SyncConflict,
    SyncCrossing,
    SyncRefused,
    SyncRun,
    field_value,
    function_of,
    overlap,
    touched,
)
from projections.sync import SyncConflictQueries, SyncConflictRow, SyncRunQueries


class CentralLog(Protocol):
    def events_of(self, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]: ...


def tracking_name(site: str, generation: str) -> str:
    """Central's tracking record of one laptop log generation."""
    return f"sync:{site}:{generation}"


class ConflictNotFound(NotFound):
    template = N_("no sync conflict {conflict}")


class CentralSync:
    def __init__(
        self,
        core: Core,
        access: Access,
        sites: Sites,
        runs: SyncRunQueries,
        conflicts: SyncConflictQueries,
        log: CentralLog,
    ) -> None:
        self.core = core
        self.log = log
        self.access = access
        self.sites = sites
        self.runs = runs
        self.conflicts = conflicts

    # -- the port (application/sync_port.py), each call authenticated ----------------------------
    def status(self, site: str, secret: str, generation: str) -> CentralStatus:
        record = self._site(site, secret)
        identity = self.core.require_identity()
        tracked = self.core.app.recorder.max_tracking_id(tracking_name(record.code, generation)) or 0
        open_row = self.runs.open_run(record.code)
        return CentralStatus(
            central_code=identity.site_code,
            software_version=identity.software_version,
            mode=record.mode,
            site_record_version=record.version,
            tracked=tracked,
            chain_head=self.runs.chain_head(record.code, generation),
            open_run=self._state(self.core.get(SyncRun, UUID(open_row.run_id))) if open_row else None,
        )

    def start(
        self,
        site: str,
        secret: str,
        crossing: SyncCrossing,
        generation: str,
        pending: dict[str, int],
        operator: str,
    ) -> RunState:
        record = self._site(site, secret)
        with self.core.acting_as(operator):
            run = SyncRun(site=record.code, crossing=crossing, generation=generation, pending=pending)
            self.core.save(run)
        return self._state(run)

    def merge(
        self,
        site: str,
        secret: str,
        run_id: UUID,
        batch: Batch,
        known_event_ids: Callable[[UUID], set[str]],
        operator: str,
    ) -> MergeResult:
        """Store a batch of the laptop's events exactly once: verbatim where central's copy of
        each record is where the laptop left it, re-applied on central's state where not."""
        record = self._site(site, secret)
        run = self._run(record.code, run_id)
        recorder = self.core.app.recorder
        name = tracking_name(record.code, run.generation)
        tracked = recorder.max_tracking_id(name) or 0
        events = [e for e in batch.events if e.position > tracked]
        if not events or batch.upto <= tracked:
            return MergeResult(0, 0, 0)  # merged by an earlier, interrupted attempt
        head = self._verify_chain(
            record.code, events, run.chain_head or self.runs.chain_head(site, run.generation)
        )
        counts: dict[str, int] = {}
        for event in events:
            function = function_of(event.stored.topic).value
            counts[function] = counts.get(function, 0) + 1
        tracking = Tracking(application_name=name, notification_id=batch.upto)
        stored = [e.stored for e in events]
        try:
            recorder.insert_events(
                [*stored, *self._run_entry(run_id, counts, batch.upto, 0, 0, head, operator)],
                tracking=tracking,
            )
            return MergeResult(len(stored), 0, 0)
        except IntegrityError:
            pass  # a shared record changed on central too, or another sync of this site ran
        rows, reapplied, conflicts = self._rebase(record.code, events, known_event_ids, operator)
        entry = self._run_entry(run_id, counts, batch.upto, reapplied, len(conflicts), head, operator)
        try:
            recorder.insert_events([*rows, *conflicts, *entry], tracking=tracking)
        except IntegrityError as error:
            raise Conflict(CONFLICT) from error
        return MergeResult(len(rows), reapplied, len(conflicts))

    def flip(self, site: str, secret: str, run_id: UUID, operator: str) -> None:
        """Central's record of the lease changes with the run's own record, in one transaction."""
        record = self._site(site, secret)
        run = self._run(record.code, run_id)
        if run.flipped:
            return
        with self.core.acting_as(operator):
            if run.crossing is SyncCrossing.END_OF_MISSION:
                record.start_return()  # INS on record; the lease comes back at ``complete``
            else:
                record.change_mode(run.crossing.new_mode)
            run.flip()
            # The lease flips at once; the merged events reach the views at ``complete``.
            self.core.save(record, run, catch_up=False)

    def complete(self, site: str, secret: str, run_id: UUID, rebuilt: int, operator: str) -> None:
        """The run ends once central's views hold everything it merged."""
        record = self._site(site, secret)
        run = self._run(record.code, run_id)
        self.core.views.catch_up()
        if not run.completed:
            with self.core.acting_as(operator):
                run.complete(rebuilt)
                record.finish_return()
                self.core.save(record, run)

    def site_records(self, site: str, secret: str) -> list[UUID]:
        record = self._site(site, secret)
        return [record.id, *(UUID(r) for r in self.runs.of_site(record.code))]

    def slice(self, site: str, secret: str) -> list[UUID]:
        record = self._site(site, secret)
        self.core.views.catch_up()  # the slice is read from the views (patients, users, stock)
        return self.sites.slice_ids(record.code, history=True)

    def read(self, site: str, secret: str, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        """The events of several records, each after a version (None: all), in that order."""
        self._site(site, secret)
        return self.log.events_of(wanted)

    # -- conflicts, reviewed on central ------------------------------------------------------------
    def list_conflicts(self, actor: Actor, include_resolved: bool) -> list[SyncConflictRow]:
        self.access.require(actor, "sync.conflicts")
        return self.conflicts.list(include_resolved)

    def resolve(self, actor: Actor, prefix: str, keep: ConflictKeep) -> SyncConflictRow:
        """Keep the site's value (it is already the current one) or central's (central's
        conflicting changes are recorded again, by the reviewer, on top)."""
        self.access.require_central(N_("resolving sync conflicts"))
        self.access.require(actor, "sync.conflicts")
        found = self.conflicts.by_prefix(prefix) if len(prefix) >= 6 else []
        if len(found) != 1:
            raise ConflictNotFound(conflict=prefix)
        conflict = self.core.get(SyncConflict, UUID(found[0].conflict_id))
        with self.core.acting_as(actor.username) as context:
            conflict.resolve(keep)
            events: list[StoredEvent] = []
            if keep is ConflictKeep.CENTRAL:
                events = self._restore_central(conflict, context)
            mapper = self.core.app.mapper
            events += [mapper.to_stored_event(e) for e in conflict.collect_events()]
        try:
            self.core.app.recorder.insert_events(events)
        except IntegrityError as error:
            raise Conflict(CONFLICT) from error
        self.core.views.catch_up()
        return self.conflicts.by_prefix(found[0].conflict_id)[0]

    # -- inside ------------------------------------------------------------------------------------
    def _site(self, code: str, secret: str) -> Site:
        self.access.require_central(N_("receiving a sync"))
        record = self.core.get(Site, site_id(code))
        if record is None:
            raise SyncRefused(N_("site {site} is not registered on central"), site=code)
        if record.revoked:
            raise SyncRefused(
                N_("site {site} is revoked: it may not be provisioned or synchronized"), site=code
            )
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if not record.secret_hash or not hmac.compare_digest(digest, record.secret_hash):
            raise SyncRefused(
                N_("this laptop cannot prove it is site {site}: provision it again from central"), site=code
            )
        return record

    def _run(self, site: str, run_id: UUID) -> SyncRun:
        run = self.core.get(SyncRun, run_id)
        if run is None or run.site != site:
            raise SyncRefused(N_("no sync run {run} for site {site}"), run=run_id.hex[:8], site=site)
        return run

    @staticmethod
    def _state(run: SyncRun) -> RunState:
        return RunState(run.id, run.crossing, run.generation, run.flipped, run.completed)

    def _run_entry(
        self,
        run_id: UUID,
        counts: dict[str, int],
        upto: int,
        reapplied: int,
        conflicts: int,
        head: str,
        operator: str,
    ) -> list[StoredEvent]:
        run = self.core.get(SyncRun, run_id)
        with self.core.acting_as(operator):
            run.record_merge(counts, upto, reapplied, conflicts, head)
        return [self.core.app.mapper.to_stored_event(e) for e in run.collect_events()]

    @staticmethod
    def _verify_chain(site: str, events: list[LoggedEvent], head: str | None) -> str:
        """Each event's recorded link must be its own hash and follow the one before: an event
        changed, removed or slipped in on the laptop breaks it, and central refuses the batch."""
        previous = head
        for event in events:
            stored = event.stored
            if event.link is None or event.previous is None:
                raise ChainRefused(position=event.position, reason=N_("an event has no link"))
            if previous is not None and event.previous != previous:
                raise ChainRefused(position=event.position, reason=N_("an event is missing before it"))
            expected = link(
                event.previous,
                site,
                stored.originator_id.hex,
                stored.originator_version,
                stored.topic,
                stored.state,
            )
            if expected != event.link:
                raise ChainRefused(position=event.position, reason=N_("the event was changed"))
            previous = event.link
        assert previous is not None
        return previous

    def _rebase(
        self,
        site: str,
        events: list[LoggedEvent],
        known_event_ids: Callable[[UUID], set[str]],
        operator: str,
    ) -> tuple[list[StoredEvent], int, list[StoredEvent]]:
        """The batch event by event: an event whose record central left where the laptop did is
        stored as it is; one whose record central changed meanwhile is re-applied on central's
        state (its origin kept), and fields changed on both sides become conflicts."""
        recorder, mapper = self.core.app.recorder, self.core.app.mapper
        heads: dict[UUID, int] = {}
        rows: list[StoredEvent] = []
        conflicts: list[StoredEvent] = []
        reapplied = 0
        for event in events:
            stored = event.stored
            aggregate_id = stored.originator_id
            if aggregate_id not in heads:
                newest = recorder.select_events(aggregate_id, desc=True, limit=1)
                heads[aggregate_id] = newest[0].originator_version if newest else 0
            head = heads[aggregate_id]
            if stored.originator_version == head + 1:
                rows.append(stored)
                heads[aggregate_id] = head + 1
                continue
            laptop_event = mapper.to_domain_event(stored)
            known = known_event_ids(aggregate_id)
            history = (mapper.to_domain_event(s) for s in recorder.select_events(aggregate_id))
            theirs = [e for e in history if e.context.event_id.hex not in known]
            conflict = self._conflict(
                site, aggregate_id, laptop_event, theirs, stored.originator_version == 1, operator
            )
            if conflict:
                conflicts.extend(conflict)
            if stored.originator_version == 1:
                continue  # created on both sides: kept whole in the conflict record
            rows.append(mapper.to_stored_event(rebased(laptop_event, head + 1)))
            heads[aggregate_id] = head + 1
            reapplied += 1
        return rows, reapplied, conflicts

    def _conflict(
        self,
        site: str,
        aggregate_id: UUID,
        laptop_event: Any,
        theirs: list[Any],
        created: bool,
        operator: str,
    ) -> list[StoredEvent]:
        if created:  # the same record created on both sides: all of it is in conflict
            fields = [WHOLE_RECORD]
        else:
            fields = overlap(touched(laptop_event), frozenset().union(*(touched(e) for e in theirs)))
        if not fields:
            return []
        central_values: dict[str, str] = {}
        central_events: list[str] = []
        for field in fields:
            for theirs_event in reversed(theirs):
                hit = touched(theirs_event)
                if field in hit or WHOLE_RECORD in hit:
                    central_values[field] = field_value(
                        theirs_event, WHOLE_RECORD if WHOLE_RECORD in hit else field
                    )
                    central_events.append(theirs_event.context.event_id.hex)
                    break
        aggregate = self.core.get(object, aggregate_id)
        reference = str(
            getattr(aggregate, "chart_number", None)
            or getattr(aggregate, "username", None)
            or aggregate_id.hex[:8]
        )
        with self.core.acting_as(operator):
            conflict = SyncConflict(
                site=site,
                aggregate_id=aggregate_id,
                record=type(laptop_event).TOPIC.split(".")[1],
                reference=reference,
                fields=fields,
                central_values=central_values,
                site_values={f: field_value(laptop_event, f) for f in fields},
                central_events=list(dict.fromkeys(central_events)),
                site_event=laptop_event.context.event_id.hex,
            )
        return [self.core.app.mapper.to_stored_event(e) for e in conflict.collect_events()]

    def _restore_central(self, conflict: SyncConflict, context: Any) -> list[StoredEvent]:
        """Central's conflicting changes recorded again on top, stamped by the reviewer."""
        recorder, mapper = self.core.app.recorder, self.core.app.mapper
        wanted = set(conflict.central_events)
        history = [mapper.to_domain_event(s) for s in recorder.select_events(conflict.aggregate_id)]
        version = history[-1].originator_version if history else 0
        restored = []
        for event in history:
            if event.context.event_id.hex in wanted and WHOLE_RECORD not in touched(event):
                version += 1
                restored.append(mapper.to_stored_event(rebased(event, version, context.for_new_event())))
        return restored


class ChainRefused(SyncRefused):
    template = N_("the laptop's log is broken at position {position} ({reason}): central refuses it")


def rebased(domain_event: Any, version: int, context: Any = None) -> Any:
    """The same event at another version of its record (its origin kept unless ``context``)."""
    copy = object.__new__(type(domain_event))
    copy.__dict__.update(vars(domain_event))
    copy.__dict__["originator_version"] = version
    if context is not None:
        copy.__dict__["context"] = context
        copy.__dict__["timestamp"] = context.recorded_at
    return copy


class DirectCentral:
    """The direct transport: central's store open in the laptop's process. Implements the port
    (application/sync_port.Central) for one operator, whose name central stamps on what it
    records."""

    def __init__(self, central: CentralSync, operator: str) -> None:
        self.central = central
        self.operator = operator

    def status(self, site: str, secret: str, generation: str) -> CentralStatus:
        return self.central.status(site, secret, generation)

    def start(
        self, site: str, secret: str, crossing: SyncCrossing, generation: str, pending: dict[str, int]
    ) -> RunState:
        return self.central.start(site, secret, crossing, generation, pending, self.operator)

    def merge(
        self, site: str, secret: str, run_id: UUID, batch: Batch, known_event_ids: Callable[[UUID], set[str]]
    ) -> MergeResult:
        return self.central.merge(site, secret, run_id, batch, known_event_ids, self.operator)

    def flip(self, site: str, secret: str, run_id: UUID) -> None:
        self.central.flip(site, secret, run_id, self.operator)

    def complete(self, site: str, secret: str, run_id: UUID, rebuilt: int) -> None:
        self.central.complete(site, secret, run_id, rebuilt, self.operator)

    def site_records(self, site: str, secret: str) -> list[UUID]:
        return self.central.site_records(site, secret)

    def slice(self, site: str, secret: str) -> list[UUID]:
        return self.central.slice(site, secret)

    def read(self, site: str, secret: str, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        return self.central.read(site, secret, wanted)

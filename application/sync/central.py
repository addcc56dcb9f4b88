"""Central's side of a sync (the direct transport calls it in-process): it authenticates the
site, checks the laptop's keyed chain from central's checkpoint, judges every pushed event
(domain/sync/sync_trust.py), merges what a site may record exactly once (each batch with a tracking
record, its SyncRun entry, the moved checkpoint and whatever it holds in quarantine, in one
transaction), re-applies changes to shared records that central also changed, flips the mode,
and gives a rebuilt laptop its slice. Held events wait for a person (``release``, ``reject``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from functools import partial
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from application.context import Actor
from application.core import CONFLICT, Core
from application.errors import CentralOnly
from application.security.access import Access
from application.setup import SOFTWARE_VERSION
from application.sync.sites import Sites
from application.sync.sync_port import Batch, CentralStatus, LoggedEvent, MergeResult, RunState
from application.validation import safe_text
from domain.base import BrigadaAggregate, context_of, uuid_of
from domain.chain import SITES_MASTER_KEY, ChainedEvent, follow, site_key, site_of
from domain.errors import N_, Conflict, NotFound
from domain.security.user import User, user_id
from domain.sites.site import LostLaptop, Site, site_id
from domain.store_time import Dating
from domain.sync.checkpoint import ChainCheckpoint, checkpoint_id
from domain.sync.merge import CannotApply as CannotApply  # re-exported: release raises them
from domain.sync.merge import ReleaseOutOfOrder as ReleaseOutOfOrder
from domain.sync.merge import (
    applicable,
    central_changes,
    conflicting_fields,
    hold,
    holds_back,
    is_brigada_event,
    lost_laptop_verdicts,
    rebased,
    record_kind,
    record_reference,
    require_release_in_order,
    resolvable_topic,
    restored_central,
)
from domain.sync.quarantine import Quarantine, shown_fields
from domain.sync.sync import (
    ConflictKeep,
    SyncConflict,
    SyncCrossing,
    SyncRefused,
    SyncRun,
    function_of,
    require_crossing,
)
from domain.sync.sync_trust import (
    CentralRecord,
    Origin,
    Outcome,
    PushedEvent,
    PushingSite,
    Verdict,
    authorize,
    origin_of,
)
from projections.sync.sync import (
    QuarantineQueries,
    QuarantineRow,
    SyncConflictQueries,
    SyncConflictRow,
    SyncRunQueries,
    SyncRunRow,
)


class CentralLog(Protocol):
    def events_of(self, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]: ...
    def heads_and_origins(self, ids: list[UUID]) -> dict[UUID, tuple[int, StoredEvent]]: ...
    def writers_in_turn(self) -> AbstractContextManager[None]: ...


def tracking_name(site: str, generation: str) -> str:
    """Central's tracking record of one laptop log generation."""
    return f"sync:{site}:{generation}"


class ConflictNotFound(NotFound):
    template = N_("no sync conflict {conflict}")


class QuarantineNotFound(NotFound):
    template = N_("no event in quarantine {event}")


class UnknownGeneration(SyncRefused):
    template = N_(
        "central never issued this laptop's log for site {site} (no checkpoint): provision it again"
    )


class LostLaptopRefused(SyncRefused):
    """A laptop replaced as lost hands in its log (held in quarantine), and nothing more."""

    template = N_(
        "this laptop of site {site} was replaced as lost on {date}: central holds the {held} events it "
        "pushed in quarantine for a person to review, and it may never take the site's lease back"
    )


class CredentialRefused(SyncRefused):
    template = N_(
        "this laptop of site {site} was replaced as lost: it may only hand in its own log, to quarantine"
    )


class CentralSync:
    def __init__(
        self,
        core: Core,
        access: Access,
        sites: Sites,
        runs: SyncRunQueries,
        conflicts: SyncConflictQueries,
        quarantine: QuarantineQueries,
        log: CentralLog,
    ) -> None:
        self.core = core
        self.log = log
        self.access = access
        self.sites = sites
        self.runs = runs
        self.conflicts = conflicts
        self.quarantine = quarantine
        self._readable_cache: dict[str, tuple[int, frozenset[UUID]]] = {}
        # What a merge reads again at every batch, kept between batches where it cannot change:
        # each record's origin (its first event, never changed), each user's being an
        # administrator at a version of the user, and how far the log is known to hold no
        # quarantine event the quarantine view has not read.
        self._origins: dict[UUID, Origin] = {}
        self._admins: dict[str, tuple[int, bool]] = {}
        self._quarantine_read = (0, 0)  # (the view's position then, the log read up to)

    # -- the port (application/sync/sync_port.py), each call authenticated ----------------------------
    # ``credential``: the public key that signed the call (`brigada serve` passes it; None in
    # process, with the direct transport). A laptop replaced as lost still signs with its retired
    # key: it may only hand in its own log generations, to quarantine.
    def status(self, site: str, generation: str, *, credential: str | None = None) -> CentralStatus:
        """What the laptop's preflight needs, with the software central runs. A laptop replaced as
        lost is answered as the site stood when it was replaced (its mode, its own open run), so
        that it hands its log in; the flip then refuses it."""
        record = self._site(site, credential)
        lost = self._lost(record, generation, credential)
        identity = self.core.require_identity()
        tracked = self.core.app.recorder.max_tracking_id(tracking_name(record.code, generation)) or 0
        lost_generations = {g for laptop in record.lost_laptops for g in laptop.generations}
        if lost is None:
            open_row = self._open_run(record.code, lambda g: g not in lost_generations)
            open_row = open_row or self._last_run(record.code, generation)
        else:
            open_row = self._open_run(record.code, lambda g: g in lost.generations)
        return CentralStatus(
            central_code=identity.site_code,
            software_version=SOFTWARE_VERSION,
            mode=lost.mode if lost is not None else record.mode,
            site_record_version=record.version,
            tracked=tracked,
            chain_head=checkpoint.link if (checkpoint := self._checkpoint(record.code, generation)) else None,
            open_run=self._state(self.core.existing(SyncRun, UUID(open_row.run_id))) if open_row else None,
        )

    def start(
        self,
        site: str,
        run_id: UUID,
        crossing: SyncCrossing,
        generation: str,
        pending: dict[str, int],
        operator: str,
        *,
        credential: str | None = None,
    ) -> RunState:
        """A run under the laptop's id; the same start sent again finds it."""
        record = self._site(site, credential)
        lost = self._lost(record, generation, credential)
        self.require_operator(operator)
        run = self.core.get(SyncRun, run_id)
        if run is None and lost is None:
            require_crossing(record.code, crossing, record.mode, record.returning)
        if run is not None:
            if (run.site, run.crossing, run.generation) != (record.code, crossing, generation):
                raise SyncRefused(
                    N_("no sync run {run} for site {site}"), run=run_id.hex[:8], site=record.code
                )
            return self._state(run)
        with self.core.acting_as(operator, dating=Dating.BOOKKEEPING):
            run = SyncRun.begin(
                run_id, record.code, crossing, generation, {k[:40]: v for k, v in pending.items()}
            )
            self.core.save(run)
        return self._state(run)

    def merge(
        self, site: str, run_id: UUID, batch: Batch, operator: str, *, credential: str | None = None
    ) -> MergeResult:
        """``_merge_once``, judged again when another writer (another site's sync in another
        worker, central's own work) stored an event of the same record between the judging and
        the insert: the batch is judged on central's new state, a few times at most."""
        try:
            return self._merge_once(site, run_id, batch, operator, credential)
        except _Collided:
            pass
        # Met by another writer: judged again in turn with the others met, so that writers of one
        # busy record (a user who logs in at every site) do not keep beating each other.
        with self.log.writers_in_turn():
            for attempt in range(1, MERGE_ATTEMPTS):
                try:
                    return self._merge_once(site, run_id, batch, operator, credential)
                except _Collided as collided:
                    if attempt == MERGE_ATTEMPTS - 1:
                        raise Conflict(CONFLICT) from collided.__cause__
        raise AssertionError("unreachable")

    def _merge_once(
        self, site: str, run_id: UUID, batch: Batch, operator: str, credential: str | None
    ) -> MergeResult:
        """Judge a batch of the laptop's events and store it exactly once: what the site may
        record verbatim where central's copy of each record is where the laptop left it,
        re-applied on central's state where a shared record changed meanwhile, and the rest held
        in quarantine (with every later event of the same record). A laptop replaced as lost has
        every event held (its chain still checked with its own provisioning's key)."""
        record = self._site(site, credential)
        self.require_operator(operator)
        run = self._run(record.code, run_id)
        lost = self._lost(record, run.generation, credential)
        recorder = self.core.app.recorder
        name = tracking_name(record.code, run.generation)
        tracked = recorder.max_tracking_id(name) or 0
        events = [e for e in batch.events if e.position > tracked]
        if not events or batch.upto <= tracked:
            return MergeResult(0, 0, 0)  # merged by an earlier, interrupted attempt
        checkpoint = self._checkpoint(record.code, run.generation)
        if checkpoint is None:
            raise UnknownGeneration(site=record.code)
        head = self._verify_chain(record, events, checkpoint.link, run.generation)
        pushed = [self._pushed(e) for e in events]
        if lost is not None:
            verdicts = lost_laptop_verdicts(pushed, lost.replaced_at.date())
        else:
            verdicts = authorize(
                pushed, self._pushing_site(record, run, pushed), self._records(record.code, pushed)
            )
        with self.core.acting_as(operator, dating=Dating.BOOKKEEPING):
            merged = self._outcomes(record.code, run, events, pushed, verdicts, operator)
            checkpoint.advance(events[-1].position, head)
            run.record_merge(
                merged.counts, batch.upto, merged.reapplied, merged.conflict_count, head, merged.held_count
            )
        mapper = self.core.app.mapper
        bookkeeping = [mapper.to_stored_event(e) for a in (run, checkpoint) for e in a.collect_events()]
        # The site each verbatim event is filed under in central's chain is the one the judge
        # found stamped in its state (the pushing site); central's own rows are read for it.
        others = len(merged.conflicts) + len(merged.held) + len(bookkeeping)
        try:
            recorder.insert_events(
                [*merged.rows, *merged.conflicts, *merged.held, *bookkeeping],
                tracking=Tracking(application_name=name, notification_id=batch.upto),
                sites=[*merged.sites, *[None] * others],
            )
        except IntegrityError as error:
            raise _Collided() from error  # another writer stored an event of one of these records
        return MergeResult(len(merged.rows), merged.reapplied, merged.conflict_count, merged.held_count)

    def flip(self, site: str, run_id: UUID, operator: str, *, credential: str | None = None) -> None:
        """Central's record of the lease changes with the run's own record, in one transaction
        (never for a laptop replaced as lost)."""
        record = self._site(site, credential)
        self.require_operator(operator)
        run = self._run(record.code, run_id)
        self._refuse_lost(record, run, credential)
        if run.flipped:
            return
        with self.core.acting_as(operator, dating=Dating.BOOKKEEPING):
            if run.crossing is SyncCrossing.END_OF_MISSION:
                record.start_return()  # INS on record; the lease comes back at ``complete``
            else:
                record.change_mode(run.crossing.new_mode)
            run.flip()
            # The lease flips at once; the merged events reach the views at ``complete``.
            self.core.save(record, run, catch_up=False)

    def complete(
        self,
        site: str,
        run_id: UUID,
        rebuilt: int,
        genesis: tuple[int, str] | None,
        operator: str,
        *,
        credential: str | None = None,
    ) -> None:
        """The run ends once central's views hold everything it merged. A start-of-mission run
        also opens the checkpoint of the rebuilt store's log (``genesis``: where its own events
        start, and the link there). Never for a laptop replaced as lost."""
        record = self._site(site, credential)
        self.require_operator(operator)
        run = self._run(record.code, run_id)
        self._refuse_lost(record, run, credential)
        self.core.views.catch_up()
        if not run.completed:
            with self.core.acting_as(operator, dating=Dating.BOOKKEEPING):
                run.complete(rebuilt)
                record.finish_return()
                opened = []
                rebuilt_log = genesis if run.crossing is SyncCrossing.START_OF_MISSION else None
                if rebuilt_log is not None and self._checkpoint(record.code, run.id.hex) is None:
                    position, chain_link = rebuilt_log
                    opened.append(
                        ChainCheckpoint(
                            site=record.code, generation=run.id.hex, position=position, link=chain_link
                        )
                    )
                self.core.save(record, run, *opened)

    def site_records(self, site: str, *, credential: str | None = None) -> list[UUID]:
        record = self._current_laptop(site, credential)
        return [record.id, *(UUID(r) for r in self.runs.of_site(record.code))]

    def slice(self, site: str, *, credential: str | None = None) -> list[UUID]:
        record = self._current_laptop(site, credential)
        self.core.views.catch_up()  # the slice is read from the views (patients, users, stock)
        return self.sites.slice_ids(record.code, history=True)

    def read(
        self, site: str, wanted: list[tuple[UUID, int | None]], *, credential: str | None = None
    ) -> list[StoredEvent]:
        """The events of several records, each after a version (None: all), in that order: only
        records the site's laptop holds (its slice and the records central keeps for it), so a
        laptop can never read central's administrators, other sites' records or anything else."""
        record = self._current_laptop(site, credential)
        readable = self._readable(record)
        outside = [i for i, _after in wanted if i not in readable]
        if outside:
            raise SyncRefused(
                N_("site {site} may not read record {record}: it is not part of what its laptop holds"),
                site=record.code,
                record=outside[0].hex[:8],
            )
        return self.log.events_of(wanted)

    def _readable(self, record: Site) -> frozenset[UUID]:
        """What the site's laptop may read, computed once per state of central's log (a rebuild
        reads it a page at a time)."""
        head = self.core.app.recorder.max_notification_id() or 0
        cached = self._readable_cache.get(record.code)
        if cached is None or cached[0] != head:
            self.core.views.catch_up()
            ids = [record.id, *(UUID(r) for r in self.runs.of_site(record.code))]
            ids += self.sites.slice_ids(record.code, history=True)
            cached = (self.core.app.recorder.max_notification_id() or 0, frozenset(ids))
            self._readable_cache[record.code] = cached
        return cached[1]

    # -- conflicts, reviewed on central ------------------------------------------------------------
    def list_conflicts(self, actor: Actor, include_resolved: bool) -> list[SyncConflictRow]:
        self.access.require(actor, "sync.conflicts")
        return self.conflicts.list(include_resolved)

    def resolve(self, actor: Actor, prefix: str, keep: ConflictKeep) -> SyncConflictRow:
        """Keep the site's value (it is already the current one) or central's (central's
        conflicting changes are recorded again, by the reviewer, on top)."""
        self.access.require_central(actor, N_("resolving sync conflicts"))
        self.access.require(actor, "sync.conflicts")
        found = self.conflicts.by_prefix(prefix) if len(prefix) >= 6 else []
        if len(found) != 1:
            raise ConflictNotFound(conflict=prefix)
        conflict = self.core.existing(SyncConflict, UUID(found[0].conflict_id))
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

    # -- quarantine, reviewed on central -----------------------------------------------------------
    def list_quarantine(
        self, actor: Actor, site: str | None = None, include_decided: bool = False
    ) -> list[QuarantineRow]:
        self.access.require(actor, "sync.quarantine")
        self.core.views.catch_up(["sync_quarantine"])
        return self.quarantine.list(site, include_decided)

    def show_quarantined(self, actor: Actor, prefix: str) -> tuple[QuarantineRow, dict[str, str]]:
        """A held event and its fields as pushed (secrets shown as ••••)."""
        self.access.require(actor, "sync.quarantine")
        held = self._held(prefix)
        return self.quarantine.by_prefix(held.id.hex)[0], shown_fields(held.stored_state)

    def release(self, actor: Actor, prefix: str) -> QuarantineRow:
        """Apply a held event on central's current record, its origin kept and the reviewer
        beside it; an earlier held event of the same record must be decided first."""
        self._require_reviewer(actor)
        held = self._held(prefix)
        rows = self.quarantine.of_record(held.record_id.hex, held.site)
        require_release_in_order(held.id.hex, [r.quarantine_id for r in rows if r.status == "held"])
        recorder, mapper = self.core.app.recorder, self.core.app.mapper
        newest = recorder.select_events(held.record_id, desc=True, limit=1)
        head = newest[0].originator_version if newest else 0
        applied = self._applicable(held, head, actor.username)
        with self.core.acting_as(actor.username):
            held.release(head + 1)
        events = [
            mapper.to_stored_event(applied),
            *(mapper.to_stored_event(e) for e in held.collect_events()),
        ]
        try:
            recorder.insert_events(events)
        except IntegrityError as error:
            raise Conflict(CONFLICT) from error
        self.core.views.catch_up()
        return self.quarantine.by_prefix(held.id.hex)[0]

    def reject(self, actor: Actor, prefix: str, reason: str) -> QuarantineRow:
        """Record that a held event is never to be applied, and why."""
        self._require_reviewer(actor)
        reason = safe_text("reason", reason)
        held = self._held(prefix)
        with self.core.acting_as(actor.username):
            held.reject(reason)
            self.core.save(held)
        return self.quarantine.by_prefix(held.id.hex)[0]

    def _require_reviewer(self, actor: Actor) -> None:
        self.access.require_central(actor, N_("reviewing quarantined events"))
        self.access.require_admin(actor, N_("review quarantined events"))
        self.access.require(actor, "sync.quarantine")

    def _held(self, prefix: str) -> Quarantine:
        self.core.views.catch_up(["sync_quarantine"])
        found = self.quarantine.by_prefix(prefix) if len(prefix) >= 6 else []
        held = self.core.get(Quarantine, UUID(found[0].quarantine_id)) if len(found) == 1 else None
        if held is None:
            raise QuarantineNotFound(event=prefix[:40])
        return held

    def _applicable(self, held: Quarantine, head: int, reviewer: str) -> Any:
        """The held event as central would store it at ``head + 1``, if it applies there."""
        pushed = self._pushed(LoggedEvent(held.position, self._stored_of(held), None, None))
        current = partial(self.core.get, BrigadaAggregate, held.record_id)
        return applicable(pushed.event, head, reviewer, current, held.short_id)

    @staticmethod
    def _stored_of(held: Quarantine) -> StoredEvent:
        return StoredEvent(held.record_id, held.record_version, held.topic, held.stored_state)

    # -- inside ------------------------------------------------------------------------------------
    def _checkpoint(self, site: str, generation: str) -> ChainCheckpoint | None:
        return self.core.get(ChainCheckpoint, checkpoint_id(site, generation))

    def site_chain_key(self, record: Site, generation: str) -> bytes:
        """The chain key a log generation was made with, derived from central's master key: the
        current provisioning's, or a lost laptop's own."""
        master = self.core.app.keys.key(SITES_MASTER_KEY)
        return site_key(master, record.code, record.key_id_of(generation))

    def _pushed(self, event: LoggedEvent) -> PushedEvent:
        """A pushed event decoded, if its topic names one of Brigada's events (nothing else is
        ever resolved: a topic is an import path) and its state reads as one."""
        stored = event.stored
        decoded = None
        if resolvable_topic(stored.topic):
            try:
                decoded = self.core.app.mapper.to_domain_event(stored)
            except Exception:  # any malformed state: the event is held, undecodable
                decoded = None
            if not is_brigada_event(decoded, stored.topic):
                decoded = None
        return PushedEvent(
            position=event.position,
            record_id=uuid_of(stored.originator_id),
            version=stored.originator_version,
            topic=stored.topic,
            event=decoded,
            stamped_site=site_of(stored.state),
        )

    def _quarantine_caught_up(self) -> None:
        """The quarantine view caught up if the log holds a quarantine event it has not read
        (a merge's own batches hold none, unless it held an event): the log after what an earlier
        look covered is searched for its topics, and only the view reads whole pages."""
        views = self.core.views
        head = views.head()
        position = views.store(QUARANTINE_VIEW).position()
        seen, read = self._quarantine_read
        # What an earlier look covered counts only while the view has not gone back (a rebuild).
        after = max(position, read) if position >= seen else position
        if after < head:
            recorder = self.core.app.recorder
            found = recorder.select_notifications(
                start=after, limit=1, stop=head, topics=QUARANTINE_TOPICS, inclusive_of_start=False
            )
            if found:
                views.catch_up([QUARANTINE_VIEW])
                position = views.store(QUARANTINE_VIEW).position()
        self._quarantine_read = (position, head)

    def _pushing_site(self, record: Site, run: SyncRun, pushed: list[PushedEvent]) -> PushingSite:
        users: dict[str, bool] = {}
        recorder = self.core.app.recorder
        for name in {p.event.context.user for p in pushed if p.event is not None}:
            newest = recorder.select_events(user_id(name), desc=True, limit=1)
            if not newest:
                continue
            version = newest[0].originator_version
            known = self._admins.get(name)
            if known is None or known[0] != version:  # loaded again once the user changed
                user = self.core.get(User, user_id(name))
                if user is None:
                    continue
                known = self._admins[name] = (user.version, user.is_admin)
            users[name] = known[1]
        return PushingSite(
            code=record.code,
            crossing=run.crossing,
            lease=record.lease,
            field_warehouses=frozenset(record.warehouses),
            users=users,
        )

    def _records(self, site: str, pushed: list[PushedEvent]) -> dict[UUID, CentralRecord]:
        """Central's copy of every record the batch touches: its head, its origin, whether an
        event of it from this site is held (not counting a lost laptop's), and (where the batch
        repeats a version) its event ids."""
        ids = list(dict.fromkeys(p.record_id for p in pushed))
        self._quarantine_caught_up()
        held = {row.record_id for row in self.quarantine.list(site) if holds_back(row.rule)}
        mapper, recorder = self.core.app.mapper, self.core.app.recorder
        records: dict[UUID, CentralRecord] = {}
        if len(self._origins) > ORIGINS_KEPT:
            self._origins.clear()
        for record_id, (head, first) in self.log.heads_and_origins(ids).items():
            origin = self._origins.get(record_id)
            if origin is None:
                origin = self._origins[record_id] = origin_of(mapper.to_domain_event(first))
            records[record_id] = CentralRecord(origin, head, record_id.hex in held)
        for record_id in ids:
            if record_id.hex in held and record_id not in records:
                records[record_id] = CentralRecord(Origin(kind="", site=""), head=0, held=True)
        for p in pushed:
            central = records.get(p.record_id)
            if central is not None and central.head and p.version <= central.head and not central.event_ids:
                known = {
                    context_of(mapper.to_domain_event(s)).event_id.hex
                    for s in recorder.select_events(p.record_id)
                }
                records[p.record_id] = replace(central, event_ids=frozenset(known))
        return records

    def _outcomes(
        self,
        site: str,
        run: SyncRun,
        events: list[LoggedEvent],
        pushed: list[PushedEvent],
        verdicts: list[Verdict],
        operator: str,
    ) -> _Merged:
        """The rows each verdict stores: the event, a re-applied copy (and its conflicts), or
        a quarantine record."""
        mapper = self.core.app.mapper
        merged = _Merged()
        for event, one, verdict in zip(events, pushed, verdicts, strict=True):
            if verdict.outcome is Outcome.QUARANTINE:
                held = hold(site, run.id, run.generation, one, event.stored.state, verdict)
                merged.held.extend(mapper.to_stored_event(e) for e in held.collect_events())
                merged.held_count += 1
                continue
            if verdict.outcome is Outcome.APPLY:
                merged.rows.append(event.stored)
                merged.sites.append(one.stamped_site)  # the site's own: the judge checked it
            else:
                merged.rows.append(self._reapplied(site, one, verdict.version, merged, operator))
                merged.sites.append(None)
            function = function_of(one.topic).value
            merged.counts[function] = merged.counts.get(function, 0) + 1
        return merged

    def _reapplied(
        self,
        site: str,
        pushed: PushedEvent,
        version: int,
        merged: _Merged,
        operator: str,
    ) -> StoredEvent:
        """A change to a shared record re-applied on central's newer copy (its origin kept);
        fields central changed too become a conflict for a person. Central's changes the laptop
        did not know are those after the version the laptop built on, recorded elsewhere."""
        recorder, mapper = self.core.app.recorder, self.core.app.mapper
        newer = recorder.select_events(pushed.record_id, gt=pushed.version - 1)
        theirs = central_changes(map(mapper.to_domain_event, newer), site)
        conflict = self._conflict(site, pushed.record_id, pushed.event, theirs, operator)
        merged.conflicts.extend(conflict)
        merged.conflict_count += 1 if conflict else 0
        merged.reapplied += 1
        return mapper.to_stored_event(rebased(pushed.event, version))

    def _site(self, code: str, credential: str | None = None) -> Site:
        """The calling site (the transport proved it is that site), registered and not revoked,
        and the key that signed the call one of its laptops' (the current one or a lost one)."""
        if not self.core.require_identity().is_central:  # a laptop's store asked to act as central
            raise CentralOnly(action=N_("receiving a sync"))
        record = self.core.get(Site, site_id(code))
        if record is None:
            raise SyncRefused(N_("site {site} is not registered on central"), site=code[:20])
        if record.revoked:
            raise SyncRefused(
                N_("site {site} is revoked: it may not be provisioned or synchronized"), site=code
            )
        if credential is not None and credential not in (record.public_key, *record.retired_keys):
            raise SyncRefused(N_("this request is not signed by a laptop of site {site}"), site=record.code)
        return record

    def _current_laptop(self, code: str, credential: str | None) -> Site:
        """The calling site, for what only its current laptop may ask (the site's records, its
        slice, central's events): never a laptop replaced as lost."""
        record = self._site(code, credential)
        if credential is not None and credential != record.public_key:
            raise CredentialRefused(site=record.code)
        return record

    @staticmethod
    def _lost(record: Site, generation: str, credential: str | None) -> LostLaptop | None:
        """The lost laptop a log generation belongs to, if one; a retired key speaks only for
        its own laptop's generations, the current key never for a lost laptop's."""
        lost = record.lost_laptop(generation)
        if credential is None:
            return lost
        if credential == record.public_key:
            if lost is not None:
                raise CredentialRefused(site=record.code)
            return None
        if lost is None or lost.public_key != credential:
            raise CredentialRefused(site=record.code)
        return lost

    def _refuse_lost(self, record: Site, run: SyncRun, credential: str | None) -> None:
        """A lost laptop's run never flips nor completes: the lease stays where it is."""
        lost = self._lost(record, run.generation, credential)
        if lost is None:
            return
        self.core.views.catch_up(["sync_quarantine"])
        held = [r for r in self.quarantine.list(record.code, include_decided=True) if r.run_id == run.id.hex]
        raise LostLaptopRefused(site=record.code, date=lost.replaced_at.date().isoformat(), held=len(held))

    def _open_run(self, site: str, of_generation: Callable[[str], bool]) -> SyncRunRow | None:
        """The newest run of a site that did not complete, among those of the generations kept
        (a lost laptop's runs never complete: they are not the current laptop's to resume)."""
        for row in self.runs.history(site, limit=100):
            if row.status != "completed" and of_generation(row.generation):
                return row
        return None

    def _last_run(self, site: str, generation: str) -> SyncRunRow | None:
        """The newest completed run of this laptop's store (one it pushed from, or the start of
        mission that made it): the laptop that does not hold its completion lost central's last
        answer, and a sync run again only finishes that run instead of starting the next one."""
        for row in self.runs.history(site, limit=100):
            if generation in (row.generation, UUID(row.run_id).hex):
                return row
        return None

    def require_operator(self, name: str) -> None:
        """Who runs the sync on the laptop, stamped on what central records: a user central knows
        and hands to sites (never an administrator)."""
        user = self.core.get(User, user_id(name))
        if user is None or user.is_admin:
            raise SyncRefused(N_("user {user} may not synchronize a site"), user=name[:40])

    def _run(self, site: str, run_id: UUID) -> SyncRun:
        run = self.core.get(SyncRun, run_id)
        if run is None or run.site != site:
            raise SyncRefused(N_("no sync run {run} for site {site}"), run=run_id.hex[:8], site=site)
        return run

    @staticmethod
    def _state(run: SyncRun) -> RunState:
        return RunState(run.id, run.crossing, run.generation, run.flipped, run.completed)

    def _verify_chain(self, record: Site, events: list[LoggedEvent], head: str, generation: str) -> str:
        """Each event's recorded link must be its keyed hash (the site's key) and follow the one
        before, from central's checkpoint: an event changed, removed or slipped in on the laptop,
        or a chain recomputed by someone without the key, breaks it, and central refuses the
        batch. Returns the link the batch reaches."""
        chained = (
            ChainedEvent(
                position=e.position,
                originator_id=uuid_of(e.stored.originator_id).hex,
                version=e.stored.originator_version,
                topic=e.stored.topic,
                state=e.stored.state,
                recorded_site=record.code,
                recorded_previous=e.previous,
                recorded_link=e.link,
            )
            for e in events
        )
        broken, reached = follow(chained, record.code, head, self.site_chain_key(record, generation))
        if broken is not None:
            raise ChainRefused(position=broken.position, reason=CHAIN_REASONS[broken.reason])
        return reached

    def _conflict(
        self,
        site: str,
        aggregate_id: UUID,
        laptop_event: Any,
        theirs: list[Any],
        operator: str,
    ) -> list[StoredEvent]:
        found = conflicting_fields(laptop_event, theirs)
        if found is None:
            return []
        reference = record_reference(self.core.get(object, aggregate_id), aggregate_id)
        with self.core.acting_as(operator, dating=Dating.BOOKKEEPING):
            conflict = SyncConflict(
                site=site,
                aggregate_id=aggregate_id,
                record=record_kind(laptop_event),
                reference=reference,
                fields=found.fields,
                central_values=found.central_values,
                site_values=found.site_values,
                central_events=found.central_events,
                site_event=laptop_event.context.event_id.hex,
            )
        return [self.core.app.mapper.to_stored_event(e) for e in conflict.collect_events()]

    def _restore_central(self, conflict: SyncConflict, context: Any) -> list[StoredEvent]:
        """Central's conflicting changes recorded again on top, stamped by the reviewer."""
        recorder, mapper = self.core.app.recorder, self.core.app.mapper
        history = [mapper.to_domain_event(s) for s in recorder.select_events(conflict.aggregate_id)]
        return [
            mapper.to_stored_event(e) for e in restored_central(history, conflict.central_events, context)
        ]


class ChainRefused(SyncRefused):
    template = N_("the laptop's log is broken at position {position} ({reason}): central refuses it")


CHAIN_REASONS = {
    "inserted": N_("an event has no link"),
    "deleted": N_("an event is missing before it"),
    "changed": N_("the event was changed"),
}


MERGE_ATTEMPTS = 4
ORIGINS_KEPT = 50_000  # records' origins kept between batches (then forgotten; an L mission has ~30,000)
QUARANTINE_VIEW = "sync_quarantine"
QUARANTINE_TOPICS = [Quarantine.Held.TOPIC, Quarantine.Released.TOPIC, Quarantine.Rejected.TOPIC]


class _Collided(Exception):
    """The insert met an event stored since the batch was judged."""


class _Merged:
    """What one batch stores, as the verdicts are carried out."""

    def __init__(self) -> None:
        self.rows: list[StoredEvent] = []
        self.sites: list[str | None] = []  # each row's chain site where the judge read it
        self.conflicts: list[StoredEvent] = []
        self.held: list[StoredEvent] = []
        self.counts: dict[str, int] = {}
        self.reapplied = 0
        self.conflict_count = 0
        self.held_count = 0


class DirectCentral:
    """The direct transport: central's store open in the laptop's process, with no network and
    no credential. It is the test double of the sync logic's tests (application/sync_port.Central);
    laptops sync through `brigada serve`. ``operator`` is the name central stamps on what it
    records."""

    def __init__(self, central: CentralSync, operator: str) -> None:
        self.central = central
        self.operator = operator

    def status(self, site: str, generation: str, software_version: str) -> CentralStatus:
        return self.central.status(site, generation)

    def start(
        self, site: str, run_id: UUID, crossing: SyncCrossing, generation: str, pending: dict[str, int]
    ) -> RunState:
        return self.central.start(site, run_id, crossing, generation, pending, self.operator)

    def merge(self, site: str, run_id: UUID, batch: Batch) -> MergeResult:
        return self.central.merge(site, run_id, batch, self.operator)

    def flip(self, site: str, run_id: UUID) -> None:
        self.central.flip(site, run_id, self.operator)

    def complete(self, site: str, run_id: UUID, rebuilt: int, genesis: tuple[int, str] | None) -> None:
        self.central.complete(site, run_id, rebuilt, genesis, self.operator)

    def site_records(self, site: str) -> list[UUID]:
        return self.central.site_records(site)

    def slice(self, site: str) -> list[UUID]:
        return self.central.slice(site)

    def read(self, site: str, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        return self.central.read(site, wanted)

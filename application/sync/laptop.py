"""The laptop's side of a sync (seed 000, "Sincronización de centros"): preflight, push, mode
flip, and at the start of a mission the rebuild of the laptop's store from central's slice.

Every step can be interrupted and the sync run again: central's tracking record says how far the
push got, central's SyncRun says whether the mode flipped, and the laptop's store generation
says whether the rebuild was swapped in. A rerun picks up where the last one stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from application.context import Actor
from application.core import Core
from application.faults import checkpoint
from application.replication import EventReader, seed_site_store
from application.security.access import Access
from application.setup import SOFTWARE_VERSION
from application.sites.operations import Operations
from application.sync.sync_port import Batch, Central, CentralStatus, LoggedEvent, RunState
from domain.base import uuid_of
from domain.chain import CHAIN_KEY, SITE_SIGNING_KEY, verify
from domain.errors import N_
from domain.security.session import SESSION_KEY
from domain.sites.site import Site, SiteMode, site_id
from domain.store_identity import (
    STORE_IDENTITY_ID,
    StoreAheadOfSoftware,
    StoreBehindSoftware,
    StoreIdentity,
    version_order,
)
from domain.store_time import Dating
from domain.sync.sync import (
    StepCount,
    SyncCrossing,
    SyncFunction,
    SyncNotAllowed,
    SyncRefused,
    SyncRun,
    function_of,
    plan_crossing,
    tally,
)
from domain.sync.sync_refusal import SyncRefusal
from projections.clinical.admissions import AdmissionQueries
from projections.clinical.encounters import EncounterQueries
from projections.sync.sync import SyncRunQueries, SyncRunRow
from projections.sync.sync_refusals import SyncRefusalQueries, SyncRefusalRow

PAGE = 2000  # laptop log rows read per batch


class SiteLog(Protocol):
    def events_of_site(self, site: str, after: int, limit: int) -> tuple[list[LoggedEvent], int]: ...
    def count_by_record(self, site: str, after: int, leave_out: UUID) -> Iterator[tuple[str, UUID, int]]: ...
    def events_of(self, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]: ...
    def aggregates_of_site(self, site: str) -> list[UUID]: ...
    def identity_link(self, site: str, identity_id: UUID) -> tuple[int, str]: ...


class LaptopStores(Protocol):
    """Where a rebuilt laptop store is made and swapped in (adapters/sync/store_io.py)."""

    def fresh(self) -> Any: ...
    def swap(self, fresh: Any) -> str:
        """Close the current store and the fresh one, put the fresh one in the current one's
        place, and return where the old one was kept."""
        ...

    def reopen(self) -> Any: ...


class MirrorBroken(SyncRefused):
    template = N_(
        "this laptop's copy of central's {record} record was changed on the laptop (version "
        "{version}): it can no longer follow central; provision a new laptop for the site"
    )


class SyncProgress(Protocol):
    def planned(self, plan: SyncPlan) -> None: ...
    def merged(self, function: SyncFunction, count: int) -> None: ...
    def stage(self, stage: str, done: int = 0, total: int = 0) -> None: ...


class QuietProgress:
    def planned(self, plan: SyncPlan) -> None:
        pass

    def merged(self, function: SyncFunction, count: int) -> None:
        pass

    def stage(self, stage: str, done: int = 0, total: int = 0) -> None:
        pass


@dataclass(frozen=True)
class SyncPlan:
    site: str
    mode: SiteMode  # the laptop's, shown at the top
    central_mode: SiteMode
    crossing: SyncCrossing
    steps: dict[SyncFunction, StepCount]  # every function, in the seed's order, zeros included
    resuming: bool

    @property
    def new_mode(self) -> SiteMode:
        return self.crossing.new_mode

    @property
    def pending(self) -> dict[SyncFunction, int]:
        """Events to push per function (what central's run records)."""
        return {function: step.events for function, step in self.steps.items()}

    @property
    def total(self) -> int:
        return sum(step.events for step in self.steps.values())

    @property
    def total_records(self) -> int:
        return sum(step.records for step in self.steps.values())


@dataclass
class SyncOutcome:
    plan: SyncPlan
    merged: dict[SyncFunction, int] = field(default_factory=dict)
    reapplied: int = 0
    conflicts: int = 0
    quarantined: int = 0  # pushed events central did not apply: held for a person
    rebuilt: int = 0
    backup: str | None = None
    seconds: float = 0.0
    laptop: Any = None  # the laptop's Brigada after the sync (a new one after a rebuild)


class SiteSync:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        encounters: EncounterQueries,
        admissions: AdmissionQueries,
        log: SiteLog,
        runs: SyncRunQueries,
        refusals: SyncRefusalQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.encounters = encounters
        self.admissions = admissions
        self.log = log
        self.runs = runs
        self.refusals = refusals

    def history(self, actor: Actor, site: str | None = None) -> list[SyncRunRow | SyncRefusalRow]:
        """The syncs recorded here, newest first, refused ones too (a laptop's own only: another
        site's are a report of that site)."""
        self.access.require(actor, "sync.history")
        site = self.operations.report_site(actor, site)
        rows: list[SyncRunRow | SyncRefusalRow] = [*self.runs.history(site), *self.refusals.history(site)]
        return sorted(rows, key=lambda row: row.started_at, reverse=True)[:100]

    def preflight(self, actor: Actor, central: Central) -> tuple[SyncPlan, CentralStatus, RunState | None]:
        """Every check, before anything is written on either side."""
        self.access.require(actor, "sync.run")
        identity, generation = self._identity()
        status = central.status(identity.site_code, generation, SOFTWARE_VERSION)
        if status.software_version == SOFTWARE_VERSION:  # else refused below: the same software first
            try:  # then this store brought to it
                identity.require_current(SOFTWARE_VERSION)
            except (StoreBehindSoftware, StoreAheadOfSoftware) as refused:
                raise SyncRefused(refused.template, **refused.params) from refused
        site = identity.site_code
        record = self.core.get(Site, site_id(site))
        mode = record.mode if record else SiteMode.ON_SITE
        run = status.open_run
        if run is not None and run.completed and self._holds_completion(run.run_id):
            run = None  # the last run ended here too: a new one starts
        resuming = run is not None and (
            run.generation == generation or (run.flipped and run.run_id.hex == generation)
        )
        run = run if resuming else None
        crossing = plan_crossing(
            site,
            server_version=status.software_version,
            laptop_version=SOFTWARE_VERSION,
            open_visits=[v.number for v in self.encounters.open_at_site(site)],
            open_admissions=[a.number for a in self.admissions.open_at_site(site)],
            laptop_mode=mode,
            central_mode=status.mode,
            resuming=run.crossing if run else None,
        )
        steps = tally(self.log.count_by_record(site, self._after(identity, status), STORE_IDENTITY_ID))
        plan = SyncPlan(site, mode, status.mode, crossing, steps, resuming)
        return plan, status, run

    def run(
        self,
        actor: Actor,
        central: Central,
        stores: LaptopStores,
        progress: SyncProgress | None = None,
    ) -> SyncOutcome:
        progress = progress or QuietProgress()
        started = time.monotonic()
        try:
            plan, status, run = self.preflight(actor, central)
        except SyncNotAllowed as refused:
            self._record_refusal(actor, refused)
            raise
        progress.planned(plan)
        identity, generation = self._identity()
        site = identity.site_code
        outcome = SyncOutcome(plan=plan, laptop=None)
        if run is not None and run.completed:  # central ended it, its answer was lost: record it
            progress.stage("complete")
            self.receive_records(central, site)
            outcome.seconds = time.monotonic() - started
            return outcome
        checkpoint("before-push")
        if run is None:
            pending = {f.value: n for f, n in plan.pending.items() if n}
            try:
                run = central.start(site, uuid4(), plan.crossing, generation, pending)
            except SyncRefused as refused:  # central would not start this crossing
                self._record_refusal(actor, refused)
                raise
        if run.run_id.hex != generation:  # not yet rebuilt by this run: this store still pushes
            self._push(central, site, run, self._after(identity, status), outcome, progress)
        checkpoint("after-push")
        progress.stage("flip")
        central.flip(site, run.run_id)
        checkpoint("after-flip")
        laptop: Any = None
        if plan.crossing is SyncCrossing.END_OF_MISSION:
            self.receive_records(central, site)  # the laptop records INS at once
        elif run.run_id.hex != generation:
            laptop = self._rebuild(central, stores, run, outcome, progress)
        progress.stage("complete")  # central's views take in the merged events, then the run ends
        target = laptop.sync if laptop is not None else self
        genesis = target.generation_start() if plan.crossing is SyncCrossing.START_OF_MISSION else None
        central.complete(site, run.run_id, outcome.rebuilt, genesis)
        target.receive_records(central, site)
        outcome.laptop = laptop
        outcome.seconds = time.monotonic() - started
        return outcome

    def generation_start(self) -> tuple[int, str]:
        """Where this store's own log starts: the position and chain link of its site's chain at
        its identity (what central checkpoints when it makes or rebuilds the store)."""
        identity = self.core.require_identity()
        return self.log.identity_link(identity.site_code, STORE_IDENTITY_ID)

    def receive_records(self, central: Central, site: str) -> int:
        """Record central's newer events of the records it owns for this site: the site record
        (with the mode) and the sync runs. The laptop only ever mirrors them: if its copy holds
        an event central does not (written on the laptop behind the application's back), it can
        no longer follow central's record, and says so instead of diverging silently."""
        ids = central.site_records(site)
        theirs: dict[UUID, dict[int, StoredEvent]] = {}
        for event in central.read(site, [(i, None) for i in ids]):
            theirs.setdefault(uuid_of(event.originator_id), {})[event.originator_version] = event
        missing = []
        for record_id in ids:
            central_copy = theirs.get(record_id, {})
            mine = self.core.app.recorder.select_events(record_id)
            for event in mine:
                kept = central_copy.get(event.originator_version)
                if kept is None or (kept.topic, bytes(kept.state)) != (event.topic, bytes(event.state)):
                    raise MirrorBroken(record=event.topic.split(".")[1], version=event.originator_version)
            head = mine[-1].originator_version if mine else 0
            missing += [e for version, e in sorted(central_copy.items()) if version > head]
        if missing:
            self.core.app.recorder.insert_events(missing)
            self.core.views.catch_up()
        return len(missing)

    # -- inside ------------------------------------------------------------------------------------
    def _record_refusal(self, actor: Actor, refused: SyncRefused) -> None:
        """The one event a refused sync writes (seed 000 wants the attempt on record): in the
        site's own log, so the next push takes it to central. Older software never writes to a
        newer store, so there the refusal is only shown."""
        identity = self.core.require_identity()
        if version_order(identity.software_version) > version_order(SOFTWARE_VERSION):
            return
        site = identity.site_code
        record = self.core.get(Site, site_id(site))
        mode = record.mode if record else SiteMode.ON_SITE
        with self.core.acting_as(actor.username, dating=Dating.BOOKKEEPING):
            self.core.save(SyncRefusal.of(site, mode, refused))

    def _holds_completion(self, run_id: UUID) -> bool:
        run = self.core.get(SyncRun, run_id)
        return run is not None and run.completed

    def _identity(self) -> tuple[StoreIdentity, str]:
        """This laptop's identity and its log generation."""
        identity = self.core.require_identity()
        if identity.is_central:
            raise SyncRefused(N_("sync runs on a laptop: this is central's store"))
        if not identity.generation:
            raise SyncRefused(N_("this store was not provisioned from central: it cannot sync"))
        return identity, identity.generation

    @staticmethod
    def _after(identity: StoreIdentity, status: CentralStatus) -> int:
        return max(status.tracked, identity.slice_end)

    def _batches(self, site: str, after: int) -> Iterator[Batch]:
        """The laptop's own events after a position, in log order (its identity stays home)."""
        while True:
            events, last = self.log.events_of_site(site, after, PAGE)
            if last == after:
                return
            own = [e for e in events if e.stored.originator_id != STORE_IDENTITY_ID]
            if own:
                yield Batch(own, upto=own[-1].position)
            after = last

    def _push(
        self,
        central: Central,
        site: str,
        run: RunState,
        after: int,
        outcome: SyncOutcome,
        progress: SyncProgress,
    ) -> None:
        for number, batch in enumerate(self._batches(site, after)):
            result = central.merge(site, run.run_id, batch)
            outcome.reapplied += result.reapplied
            outcome.conflicts += result.conflicts
            outcome.quarantined += result.quarantined
            counts: dict[SyncFunction, int] = {}
            for event in batch.events:
                function = function_of(event.stored.topic)
                counts[function] = counts.get(function, 0) + 1
            for function, count in counts.items():
                outcome.merged[function] = outcome.merged.get(function, 0) + count
                progress.merged(function, count)
            if number == 0:
                checkpoint("mid-push")

    def _reader(self, central: Central, site: str) -> EventReader:
        return lambda wanted: central.read(site, wanted)

    def _rebuild(
        self,
        central: Central,
        stores: LaptopStores,
        run: RunState,
        outcome: SyncOutcome,
        progress: SyncProgress,
    ) -> Any:
        """A fresh store from central's slice, verified, then swapped in for this one."""
        identity, _ = self._identity()
        site = identity.site_code
        ids = central.slice(site)
        fresh = stores.fresh()
        # The same laptop, the same provisioning: the rebuilt store links with the same key,
        # signs with the same credential and keeps the operator's session.
        for name in (CHAIN_KEY, SITE_SIGNING_KEY, SESSION_KEY):
            kept = self.core.app.keys.key(name, create=False)
            if kept is not None:
                fresh.core.app.keys.key(name, kept)
        done = 0

        def advance(step: int) -> None:
            nonlocal done
            halfway = done < len(ids) / 2 <= done + step
            done += step
            progress.stage("rebuild", done, len(ids))
            if halfway:
                checkpoint("mid-rebuild")

        outcome.rebuilt = seed_site_store(
            self._reader(central, site),
            fresh,
            ids,
            site=site,
            central_code=identity.central_code or "",
            generation=run.run_id.hex,
            software_version=identity.software_version,
            central_url=identity.central_url,
            central_certificate=identity.central_certificate,
            administrators=identity.administrator_verifiers,  # as provisioning left them
            progress=advance,
        )
        self._verify_rebuilt(fresh, site, outcome.rebuilt)
        checkpoint("before-swap")
        progress.stage("swap")
        outcome.backup = stores.swap(fresh)
        checkpoint("after-swap")
        return stores.reopen()

    @staticmethod
    def _verify_rebuilt(fresh: Any, site: str, copied: int) -> None:
        broken = verify(
            fresh.chain.chained_events(), fresh.chain.orphan_links(), fresh.core.app.keys.chain_key()
        )
        stored = fresh.core.app.recorder.max_notification_id() or 0
        record = fresh.core.get(Site, site_id(site))
        if broken is not None or stored <= copied or record is None or record.mode is not SiteMode.ON_MISSION:
            raise SyncRefused(
                N_("the rebuilt store for {site} failed its check: nothing was swapped"), site=site
            )

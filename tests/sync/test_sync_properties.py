"""Random missions of two laptops against one central store, synchronized through the application
with the direct transport, some syncs interrupted by a simulated crash at a named point.

It starts from central (stocked, patient CEN-1 registered there), BRG01's laptop on mission with
work of its own not yet synchronized, and OTHER's laptop provisioned and on site. The rules are
what operators do: clinical and inventory work on a laptop on mission (and the same work refused
on one on site), corrections of the patient shared with central on every side, central moving
stock to and from a site's field warehouse (refused while that site is on mission), logins, syncs
of either laptop, and syncs that crash at one of ``application.faults.POINTS``: the process dies
there, so every store the laptop's sync opened is closed, and the laptop's store is opened again
from its URL (always when the crash came at or after the swap, where the old object may be closed
or no longer the store in place). A later sync finishes what a crashed one left.

After every step, the lease holds: central and a laptop are never both allowed to move the site's
stock. After every completed sync:

- central holds every event the laptop recorded at its site exactly once (by event id), except
  those recorded on a rebuilt store before its start-of-mission sync was rerun, which the next sync
  pushes (and a second sync of any other kind would move nothing);
- central and the laptop agree on the site's mode, and no sync of the site is left open;
- every view on central and on the laptop equals one rebuilt from the log;
- no lot has a negative stock on central or on either laptop, and no sync conflict names data a
  site holds under its lease (only patients and users are shared).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from inventory_support import (
    ACETAMINOPHEN,
    CENTRAL_WAREHOUSE,
    FIELD,
    FIELD_2,
    JOSE,
    NOW,
    NURSE,
    NURSE_PASSWORD,
    OTHER_FIELD,
    head,
    stocked_central,
    template_stores,
    transfer,
)
from security_support import QuickArgon2Hasher, log_in

import adapters.bootstrap
from adapters.bootstrap import open_brigada
from adapters.sync_io import StoreRebuilds
from adapters.system import FixedClock, Host
from application import faults
from application.brigada import Brigada, all_projections
from application.context import Actor
from application.projection_runner import ProjectionRunner
from application.sync_central import DirectCentral
from domain.patient import NothingToCorrect
from domain.site import Site, SiteAction, SiteMode, site_id
from domain.site_policy import OperationRefused
from domain.store_identity import STORE_IDENTITY_ID
from domain.sync import SyncCrossing
from projections.base import InMemoryRowStore, Projection

OTHER_FIELD_2 = "OTHER-BODEGA"
# Each history's stores in memory where the system has it: a rebuild creates a store (a few dozen
# tables, each created in its own transaction) and that is most of a history's time.
FAST_DIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
SHARED_RECORDS = ("Patient", "User")  # what central and every site may change
SHARED = "CEN-1"  # JOSE, registered on central: every laptop's slice holds it


@dataclass(frozen=True)
class SiteSetup:
    code: str
    file: str
    pharmacy: str  # the field warehouse visits dispense from
    store: str  # the site's second field warehouse


SITES = {
    "BRG01": SiteSetup("BRG01", "brg01.db", FIELD, FIELD_2),
    "OTHER": SiteSetup("OTHER", "other.db", OTHER_FIELD, OTHER_FIELD_2),
}
SWAP_POINTS = faults.POINTS[faults.POINTS.index("before-swap") :]  # the laptop's store may be replaced
# Points a sync may not reach: nothing to push, or an end of mission (no rebuild).
MAY_BE_SKIPPED = ("mid-push", "mid-rebuild", "before-swap", "after-swap")

FIRST_NAMES = ("José", "Josué", "Pepe", "Joselito", "Ñato")
MUNICIPALITIES = ("05001", "08001", "11001", "52835", "27001")
corrections = st.one_of(
    st.fixed_dictionaries({"first_name": st.sampled_from(FIRST_NAMES)}),
    st.fixed_dictionaries({"municipality": st.sampled_from(MUNICIPALITIES)}),
    st.fixed_dictionaries({"zone": st.sampled_from(("01", "02"))}),
    st.fixed_dictionaries({"coverage_status": st.sampled_from(("01", "04", "07"))}),
)
sites = st.sampled_from(sorted(SITES))
lots = st.sampled_from(("A1", "B2"))


# -- the template: central, BRG01 on mission, OTHER provisioned and on site -----------------------
@dataclass(frozen=True)
class Template:
    folder: Path
    admin: Actor  # on central
    ana: Actor  # the nurse, on either laptop (the same user everywhere)


def build_template(folder: Path) -> Template:
    with template_stores() as open_store:
        central, admin = stocked_central(open_store, f"sqlite:///{folder / 'central.db'}")
        second = {"code": OTHER_FIELD_2, "name": "Otra bodega", "site": "OTHER"}
        central.inventory.create_warehouse(admin, second)
        central.patients.register(admin, JOSE)
        for target, amounts in ((FIELD, (("A1", 30), ("B2", 50))), (OTHER_FIELD, (("A1", 20), ("B2", 20)))):
            for lot, quantity in amounts:
                transfer(central, admin, CENTRAL_WAREHOUSE, target, ACETAMINOPHEN, lot, quantity)
        laptops = {}
        for code, setup in SITES.items():
            laptops[code] = open_store(f"sqlite:///{folder / setup.file}")
            central.sites.provision(admin, code, laptops[code], setup.file)
        ana = log_in(laptops["OTHER"], NURSE, NURSE_PASSWORD)  # pushed at OTHER's start of mission
        brg01 = start_a_mission(
            laptops["BRG01"], f"sqlite:///{folder / SITES['BRG01'].file}", central, open_store
        )
        # BRG01's pending work: a login (ana's record changes on every laptop she uses), a change
        # of the shared patient (central may change it too), a visit that dispenses.
        log_in(brg01, NURSE, NURSE_PASSWORD)
        brg01.patients.correct(ana, SHARED, {"first_name": "Josué"})
        visit = brg01.encounters.open(ana, {"chart_number": SHARED, "kind": "outpatient"}).number
        brg01.encounters.set_diagnosis(ana, visit, {"code": "I10X"})
        prescribe_and_dispense(brg01, ana, visit, FIELD, 35)
        brg01.encounters.finalize(ana, visit)
    for leftover in folder.glob("*.backup-*"):
        leftover.unlink()
    return Template(folder, admin, ana)


def start_a_mission(
    laptop: Brigada, url: str, central: Brigada, open_store: Callable[..., Brigada]
) -> Brigada:
    ana = log_in(laptop, NURSE, NURSE_PASSWORD)
    stores = StoreRebuilds(laptop, url, lambda u, create: open_store(u, create=create))
    outcome = laptop.sync.run(ana, DirectCentral(central.sync_central, NURSE), stores)
    assert outcome.laptop is not None and outcome.plan.new_mode is SiteMode.ON_MISSION
    return outcome.laptop


def prescribe_and_dispense(laptop: Brigada, ana: Actor, visit: str, warehouse: str, units: int) -> None:
    data = {"item": ACETAMINOPHEN, "dose": "500 mg", "route": "oral"}
    data |= {"frequency": "cada 8 horas", "days": 5, "quantity": units}
    prescription = laptop.orders.prescribe(ana, visit, data).number
    dispensing = {"item": ACETAMINOPHEN, "quantity": units, "warehouse": warehouse}
    laptop.pharmacy.dispense(ana, "prescription", prescription, dispensing)


class MemoryViews:
    def row_store(self, projection: Projection) -> InMemoryRowStore:
        return InMemoryRowStore(projection)

    def close(self) -> None:
        pass


def rows(store: Any) -> list[str]:
    return sorted(repr(row) for row in store.all_rows())


@dataclass
class Laptop:
    url: str
    brigada: Brigada
    opened: list[Brigada] = field(default_factory=list)  # everything this laptop's process opened
    charts: list[str] = field(default_factory=lambda: [SHARED])  # charts a visit may be opened on
    crashed: str | None = None  # the point its last sync crashed at, until a sync completes


class SyncMissions(RuleBasedStateMachine):
    template: Template

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="brigada-sync-", dir=FAST_DIR))
        for name in ("central.db", *(s.file for s in SITES.values())):
            shutil.copyfile(self.template.folder / name, self.folder / name)
        self.clock = FixedClock(NOW)
        self.host = Host(computer="test-pc", ip_octet=7)
        self.central = self.open(f"sqlite:///{self.folder / 'central.db'}")
        self.admin, self.ana = self.template.admin, self.template.ana
        self.laptops: dict[str, Laptop] = {}
        for code, setup in SITES.items():
            url = f"sqlite:///{self.folder / setup.file}"
            self.laptops[code] = Laptop(url, self.open(url))
            self.laptops[code].opened.append(self.laptops[code].brigada)
        self.documents = 80_000_000

    def teardown(self) -> None:
        faults.arm(None)
        self.central.close()
        for laptop in self.laptops.values():
            for brigada in laptop.opened:
                brigada.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------
    def open(self, url: str, create: bool = False) -> Brigada:
        return open_brigada(url, create=create, clock=self.clock, host=self.host)

    def opener(self, laptop: Laptop) -> Callable[[str, bool], Brigada]:
        def open_for_laptop(url: str, create: bool) -> Brigada:
            laptop.opened.append(self.open(url, create))
            return laptop.opened[-1]

        return open_for_laptop

    def direct(self) -> DirectCentral:
        return DirectCentral(self.central.sync_central, NURSE)

    def tick(self) -> None:
        self.clock.advance(minutes=1)

    @staticmethod
    def mode(brigada: Brigada, code: str) -> SiteMode:
        record = brigada.core.get(Site, site_id(code))
        return record.mode if record else SiteMode.ON_SITE

    def in_mode(self, mode: SiteMode) -> list[str]:
        """The laptops that hold themselves in ``mode``."""
        return [code for code, laptop in self.laptops.items() if self.mode(laptop.brigada, code) is mode]

    def on_mission(self, data: st.DataObject) -> tuple[str, Brigada]:
        code = data.draw(st.sampled_from(self.in_mode(SiteMode.ON_MISSION)), label="laptop")
        return code, self.laptops[code].brigada

    def available(self, brigada: Brigada, warehouse: str) -> dict[str, int]:
        lines = brigada.inventory.stock(self.ana, warehouse, ACETAMINOPHEN)
        return {line.lot: line.on_hand for line in lines}

    # -- the laptops' work, on mission ----------------------------------------------------------
    @precondition(lambda self: self.in_mode(SiteMode.ON_MISSION))
    @rule(data=st.data(), first_name=st.sampled_from(FIRST_NAMES))
    def register_a_patient(self, data: st.DataObject, first_name: str) -> None:
        self.tick()
        code, laptop = self.on_mission(data)
        self.documents += 1
        details = {**JOSE, "document_number": str(self.documents), "first_name": first_name}
        self.laptops[code].charts.append(laptop.patients.register(self.ana, details).chart_number)

    @precondition(lambda self: self.in_mode(SiteMode.ON_MISSION))
    @rule(data=st.data(), chart=st.integers(0, 50), quantity=st.integers(0, 40))
    def see_a_patient(self, data: st.DataObject, chart: int, quantity: int) -> None:
        """Open a visit, diagnose, maybe prescribe and dispense acetaminophen, finalize."""
        self.tick()
        code, laptop = self.on_mission(data)
        charts, pharmacy = self.laptops[code].charts, SITES[code].pharmacy
        number = laptop.encounters.open(
            self.ana, {"chart_number": charts[chart % len(charts)], "kind": "outpatient"}
        ).number
        laptop.encounters.set_diagnosis(self.ana, number, {"code": "I10X"})
        units = min(quantity, sum(self.available(laptop, pharmacy).values()))
        if units:
            prescribe_and_dispense(laptop, self.ana, number, pharmacy, units)
        laptop.encounters.finalize(self.ana, number)

    @precondition(lambda self: self.in_mode(SiteMode.ON_MISSION))
    @rule(data=st.data(), changes=corrections)
    def correct_the_shared_patient_on_a_laptop(self, data: st.DataObject, changes: dict[str, str]) -> None:
        self.tick()
        _code, laptop = self.on_mission(data)
        with contextlib.suppress(NothingToCorrect):
            laptop.patients.correct(self.ana, SHARED, changes)

    @precondition(lambda self: self.in_mode(SiteMode.ON_MISSION))
    @rule(data=st.data(), backwards=st.booleans(), lot=lots, quantity=st.integers(1, 30))
    def move_stock_between_field_warehouses(
        self, data: st.DataObject, backwards: bool, lot: str, quantity: int
    ) -> None:
        self.tick()
        code, laptop = self.on_mission(data)
        setup = SITES[code]
        source, target = (setup.store, setup.pharmacy) if backwards else (setup.pharmacy, setup.store)
        units = min(quantity, self.available(laptop, source).get(lot, 0))
        if units:
            transfer(laptop, self.ana, source, target, ACETAMINOPHEN, lot, units)

    @precondition(lambda self: self.in_mode(SiteMode.ON_SITE))
    @rule(data=st.data(), work=st.sampled_from(("register", "visit", "correct")))
    def mission_work_is_refused_on_site(self, data: st.DataObject, work: str) -> None:
        code = data.draw(st.sampled_from(self.in_mode(SiteMode.ON_SITE)), label="laptop")
        laptop = self.laptops[code].brigada
        before = head(laptop)
        with pytest.raises(OperationRefused):
            if work == "register":
                laptop.patients.register(self.ana, {**JOSE, "document_number": "79999999"})
            elif work == "visit":
                laptop.encounters.open(self.ana, {"chart_number": SHARED, "kind": "outpatient"})
            else:
                laptop.patients.correct(self.ana, SHARED, {"first_name": "Nadie"})
        assert head(laptop) == before

    @rule(code=sites)
    def log_in_on_a_laptop(self, code: str) -> None:
        self.tick()
        log_in(self.laptops[code].brigada, NURSE, NURSE_PASSWORD)

    # -- central's work -------------------------------------------------------------------------
    @rule(changes=corrections)
    def correct_the_shared_patient_on_central(self, changes: dict[str, str]) -> None:
        self.tick()
        with contextlib.suppress(NothingToCorrect):
            self.central.patients.correct(self.admin, SHARED, changes)

    @rule(code=sites, back=st.booleans(), lot=lots, quantity=st.integers(1, 30))
    def central_moves_field_stock(self, code: str, back: bool, lot: str, quantity: int) -> None:
        """To a site's field warehouse, or back to central's pharmacy: only while it is on site."""
        self.tick()
        source, target = CENTRAL_WAREHOUSE, SITES[code].pharmacy
        if back:
            source, target = target, source
        units = min(quantity, self.available(self.central, source).get(lot, 0))
        if not units:
            return
        if self.mode(self.central, code) is SiteMode.ON_MISSION:
            before = head(self.central)
            with pytest.raises(OperationRefused):
                transfer(self.central, self.admin, source, target, ACETAMINOPHEN, lot, units)
            assert head(self.central) == before
            return
        transfer(self.central, self.admin, source, target, ACETAMINOPHEN, lot, units)

    # -- syncs ----------------------------------------------------------------------------------
    @rule(code=sites)
    def sync(self, code: str) -> None:
        self.tick()
        self.completed(code, self.run_sync(code))

    @rule(code=sites, point=st.sampled_from(faults.POINTS), restart=st.booleans())
    def sync_crashes(self, code: str, point: str, restart: bool) -> None:
        """The process dies at ``point``; with ``restart`` (always from the swap on) the laptop's
        store is opened again, else the same objects go on (only what the sync opened is gone)."""
        self.tick()
        laptop = self.laptops[code]
        faults.arm(point)
        try:
            outcome = self.run_sync(code)
        except faults.SimulatedCrash as crash:
            assert crash.args == (point,)
        else:
            assert point in MAY_BE_SKIPPED, f"the sync never reached {point}"
            self.completed(code, outcome)
            return
        finally:
            faults.arm(None)
        laptop.crashed = point
        keep = None if restart or point in SWAP_POINTS else laptop.brigada
        for brigada in laptop.opened:
            if brigada is not keep:
                brigada.close()
        if keep is None:
            laptop.brigada = self.open(laptop.url)
        laptop.opened = [laptop.brigada]

    def run_sync(self, code: str) -> Any:
        laptop = self.laptops[code]
        stores = StoreRebuilds(laptop.brigada, laptop.url, self.opener(laptop))
        outcome = laptop.brigada.sync.run(self.ana, self.direct(), stores)
        if outcome.laptop is not None:
            laptop.brigada = outcome.laptop
        return outcome

    def completed(self, code: str, outcome: Any) -> None:
        laptop = self.laptops[code]
        resumed_from, laptop.crashed = laptop.crashed, None
        # What the sync closed (the old store, the rebuilt one before the swap) is gone for good.
        laptop.opened = [b for b in laptop.opened if b is laptop.brigada] or [laptop.brigada]
        self.check_converged(code, outcome, resumed_from)

    # -- at every step --------------------------------------------------------------------------
    @invariant()
    def one_side_at_a_time_may_move_a_sites_stock(self) -> None:
        """The mode is a lease (DESIGN.md §6): whatever syncs did or where they stopped, central
        and the laptop are never both allowed to move stock in the site's field warehouses."""
        for code, laptop in self.laptops.items():
            allowed = []
            for side, brigada, owner in (("central", self.central, code), ("laptop", laptop.brigada, None)):
                try:
                    brigada.operations.require(SiteAction.FIELD_TRANSFERS, owner_site=owner)
                except OperationRefused:
                    continue
                allowed.append(side)
            assert len(allowed) < 2, f"central and {code}'s laptop may both move its field stock"

    # -- what a completed sync leaves -----------------------------------------------------------
    def check_converged(self, code: str, outcome: Any, resumed_from: str | None) -> None:
        laptop = self.laptops[code].brigada
        deferred = self.check_merged_once(code, outcome.plan.crossing)
        assert not deferred or resumed_from == "after-swap", deferred
        plan, status, run = laptop.sync.preflight(self.ana, self.direct())
        assert plan.total == len(deferred), f"a second sync of {code} would move {plan.pending}"
        assert run is None and status.open_run is None
        assert self.mode(laptop, code) is self.mode(self.central, code) is plan.mode is status.mode
        for brigada in (self.central, laptop):
            self.check_views(brigada)
        for brigada in (self.central, *(lap.brigada for lap in self.laptops.values())):
            negative = [r for r in brigada.views.store("stock").all_rows() if r.on_hand < 0]
            assert not negative, negative
        # Only shared records conflict: what a site holds under its lease changes on one side.
        conflicts = self.central.views.store("sync_conflicts").all_rows()
        leased = [(c.record, c.reference) for c in conflicts if c.record not in SHARED_RECORDS]
        assert not leased, f"conflicts on data a site holds under its lease: {leased}"

    def check_merged_once(self, code: str, crossing: SyncCrossing) -> list[str]:
        """Every event the laptop recorded at its site is on central once; returns those left for
        the next sync: recorded on a rebuilt store before its start of mission completed (a sync
        that crashed after the swap), which that sync's rerun does not push."""
        laptop = self.laptops[code].brigada
        identity = laptop.core.require_identity()
        on_central = Counter(e.context.event_id for _position, e in self.events(self.central))
        recorded_here = [
            (position, e)
            for position, e in self.events(laptop)
            if e.context.site == code and e.originator_id != STORE_IDENTITY_ID
        ]
        deferred = [
            e
            for position, e in recorded_here
            if crossing is SyncCrossing.START_OF_MISSION and position > identity.slice_end
        ]
        assert all(on_central[e.context.event_id] == 0 for e in deferred)
        wrong = [
            (type(e).__qualname__, on_central[e.context.event_id])
            for _position, e in recorded_here
            if on_central[e.context.event_id] != 1 and e not in deferred
        ]
        assert not wrong, f"{code}'s events on central not exactly once: {wrong}"
        return [type(e).__qualname__ for e in deferred]

    @staticmethod
    def events(brigada: Brigada) -> Iterator[tuple[int, Any]]:
        app = brigada.app
        position = 0
        while True:
            page = app.recorder.select_notifications(position, 500, inclusive_of_start=False)
            if not page:
                return
            for notification in page:
                yield notification.id, app.mapper.to_domain_event(notification)
            position = page[-1].id

    @staticmethod
    def check_views(brigada: Brigada) -> None:
        rebuilt = ProjectionRunner(brigada.app, MemoryViews(), all_projections(brigada.app))
        rebuilt.catch_up()
        for name in rebuilt.names():
            assert rows(brigada.views.store(name)) == rows(rebuilt.store(name)), f"view {name}"


@pytest.fixture(scope="module")
def missions(tmp_path_factory: pytest.TempPathFactory) -> type[SyncMissions]:
    """The state machine, with the stores set up once (a sync and a few dozen commands)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(adapters.bootstrap, "Argon2Hasher", QuickArgon2Hasher)
        template = build_template(tmp_path_factory.mktemp("sync-template"))
    return type("Missions", (SyncMissions,), {"template": template})


@pytest.mark.slow
def test_random_missions_with_crashes_converge(missions: type[SyncMissions]) -> None:
    run_state_machine_as_test(missions, settings=settings(stateful_step_count=10, deadline=None))

"""Random missions of two laptops against one central store, each sync over HTTPS through
`brigada serve`'s own app (run by uvicorn in a thread of this process, so that central's side holds
the histories' clock), some syncs interrupted by a simulated crash at a named point.

It starts from central (stocked, patient CEN-1 registered there, surgeries enabled for no site),
BRG01's laptop on mission with work of its own not yet synchronized, and OTHER's laptop
provisioned and on site. The rules are what operators do: clinical and inventory work on a laptop
on mission (and the same work refused on one on site), corrections of the patient shared with
central on every side, central moving stock to and from a site's field warehouse (refused while
that site is on mission), logins, syncs of either laptop (some twice in a row), and syncs that
crash at one of ``application.faults.POINTS``: the process dies there, so every store the
laptop's sync opened is closed, and the laptop's store is opened again from its URL (always when
the crash came at or after the swap, where the old object may be closed or no longer the store in
place). A later sync finishes what a crashed one left. And what an attacker holding either laptop
does: one forgery of tests/sync/forgery.py at a time, written through the laptop's own core, and,
once the laptop's own copy of its parameters was forged, the surgeries its use cases then allow.

After every step, the lease holds: central and a laptop are never both allowed to move the site's
stock. After every completed sync:

- central holds every event the laptop recorded at its site exactly once (by event id), except
  the forged ones, those central holds in quarantine, and those recorded on a rebuilt store before
  its start-of-mission sync was rerun, which the next sync pushes (and a second sync of any other
  kind would move nothing: one run at once merges nothing else and holds nothing new);
- no quarantined event reaches an aggregate or a view: no forged or held event is in central's log
  or in its activity log (but as its Quarantine.Held record); every forged event pushed is held,
  once; nothing else is held but later events of a record whose forgery is held; and the sync
  says how many it held;
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
from uuid import UUID

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from adapters.bootstrap import open_brigada
from adapters.sync.store_io import StoreRebuilds
from adapters.system import FixedClock, Host
from application import faults
from application.brigada import Brigada, all_projections
from application.context import Actor
from application.projection_runner import ProjectionRunner
from application.sync.laptop import MirrorBroken
from domain.base import context_of
from domain.clinical.patient import NothingToCorrect, Patient
from domain.security.user import User, user_id
from domain.sites import site_policy
from domain.sites.site import Site, SiteAction, SiteMode, site_id
from domain.sites.site_policy import OperationRefused
from domain.store_identity import STORE_IDENTITY_ID
from domain.sync.sync import SyncCrossing
from projections.base import InMemoryRowStore, Projection, ViewRows
from projections.sync.sync import QuarantineRow
from tests.support import forgery
from tests.support.given_when_then import NOW
from tests.support.hashing import QuickArgon2Hasher
from tests.support.inventory import (
    ACETAMINOPHEN,
    CENTRAL_WAREHOUSE,
    FIELD,
    FIELD_2,
    NURSE,
    NURSE_PASSWORD,
    OTHER_FIELD,
    stocked_central,
    template_stores,
    transfer,
)
from tests.support.security import head, log_in, only_denials_since
from tests.support.serve import over_http, serving_in_thread
from tests.support.sites import JOSE

OTHER_FIELD_2 = "OTHER-BODEGA"
# Each history's stores in memory where the system has it: a rebuild creates a store (a few dozen
# tables, each created in its own transaction) and that is most of a history's time.
FAST_DIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
SHARED_RECORDS = ("Patient", "User")  # what central and every site may change
SHARED = "CEN-1"  # JOSE, registered on central: every laptop's slice holds it
CENTRAL = "CEN"
# Central never enables it for a site (no other rule uses it): a laptop does it only once its own
# copy of its parameters was forged, and central holds what it did.
NOT_ENABLED = SiteAction.SURGERIES


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

    @property
    def tls(self) -> Path:  # central's certificate, which every laptop pins
        return self.folder / "tls"


def build_template(folder: Path) -> Template:
    with template_stores() as open_store, contextlib.ExitStack() as serving:
        central_url = f"sqlite:///{folder / 'central.db'}"
        central, admin = stocked_central(open_store, central_url)
        url = serving.enter_context(
            serving_in_thread(central_url, folder / "tls", lambda u: open_store(u, create=False))
        )
        certificate = (folder / "tls" / "central.crt").read_text()
        for code in SITES:
            central.sites.change_parameters(admin, code, {"disable": [NOT_ENABLED.value]})
        second = {"code": OTHER_FIELD_2, "name": "Otra bodega", "site": "OTHER"}
        central.inventory.create_warehouse(admin, second)
        central.patients.register(admin, JOSE)
        for target, amounts in ((FIELD, (("A1", 30), ("B2", 50))), (OTHER_FIELD, (("A1", 20), ("B2", 20)))):
            for lot, quantity in amounts:
                transfer(central, admin, CENTRAL_WAREHOUSE, target, ACETAMINOPHEN, lot, quantity)
        laptops = {}
        for code, setup in SITES.items():
            laptops[code] = open_store(f"sqlite:///{folder / setup.file}")
            central.sites.provision(
                admin, code, laptops[code], setup.file, central_url=url, central_certificate=certificate
            )
        ana = log_in(laptops["OTHER"], NURSE, NURSE_PASSWORD)  # pushed at OTHER's start of mission
        brg01 = start_a_mission(
            laptops["BRG01"], f"sqlite:///{folder / SITES['BRG01'].file}", url, open_store
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


def start_a_mission(laptop: Brigada, url: str, server: str, open_store: Callable[..., Brigada]) -> Brigada:
    ana = log_in(laptop, NURSE, NURSE_PASSWORD)
    stores = StoreRebuilds(laptop, url, lambda u, create: open_store(u, create=create))
    central = over_http(laptop, NURSE, server)
    try:
        outcome = laptop.sync.run(ana, central, stores)
    finally:
        central.close()
    assert outcome.laptop is not None and outcome.plan.new_mode is SiteMode.ON_MISSION
    return outcome.laptop


def prescribe_and_dispense(laptop: Brigada, ana: Actor, visit: str, warehouse: str, units: int) -> None:
    data: dict[str, Any] = {"item": ACETAMINOPHEN, "dose": "500 mg", "route": "oral"}
    data |= {"frequency": "cada 8 horas", "days": 5, "quantity": units}
    prescription = laptop.orders.prescribe(ana, visit, data).number
    dispensing = {"item": ACETAMINOPHEN, "quantity": units, "warehouse": warehouse}
    laptop.pharmacy.dispense(ana, "prescription", prescription, dispensing)


def stamped_correction(laptop: Brigada, user: str, site: str, filed: str) -> list[str]:
    """forgery.stamped_as_admin_at_site and stamped_as_central_admin on either laptop: a correction
    of the shared patient stamped ``user``@``site``, filed in ``filed``'s chain (the laptop's own,
    so its sync pushes it), to a municipality the patient does not have (forgery.py's 05001 is
    JOSE's own, and a correction that changes nothing records nothing)."""
    record = laptop.core.existing(Patient, UUID(laptop.patients.row(SHARED).patient_id))
    municipality = next(m for m in MUNICIPALITIES if m != record.details.municipality)
    with forgery.filed_under(filed), laptop.core.acting_as(user, site=site):
        record.correct(laptop.core.clock.today(), municipality=municipality)
        ids = [context_of(e).event_id.hex for e in record.pending_events]
        laptop.core.save(record)
    return ids


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
    crashed: list[str] = field(default_factory=list)  # where its syncs crashed, until one completes


def may_move_field_stock(brigada: Brigada, code: str) -> bool:
    """The sites policy's answer (domain/sites/site_policy.decide) to moving ``code``'s field
    stock, from what ``brigada`` records of the site: central by the lease, a laptop by its copy."""
    site = brigada.core.get(Site, site_id(code))
    assert site is not None, code
    if brigada.core.require_identity().is_central:
        refusal = site_policy.decide(
            SiteAction.FIELD_TRANSFERS,
            on_central=True,
            mode=None,
            enabled=frozenset(),
            owner_site=code,
            owner_mode=site.lease_mode,
        )
    else:
        refusal = site_policy.decide(
            SiteAction.FIELD_TRANSFERS, on_central=False, mode=site.mode, enabled=site.enabled
        )
    return refusal is None


class SyncMissions(RuleBasedStateMachine):
    template: Template

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="brigada-sync-", dir=FAST_DIR))
        for name in ("central.db", *(s.file for s in SITES.values())):
            shutil.copyfile(self.template.folder / name, self.folder / name)
        self.clock = FixedClock(NOW)
        self.host = Host(computer="test-pc", ip_octet=7)
        central_url = f"sqlite:///{self.folder / 'central.db'}"
        self.central = self.open(central_url)
        self.serving = contextlib.ExitStack()  # central's sync service, on central's store
        self.server = self.serving.enter_context(serving_in_thread(central_url, self.template.tls, self.open))
        self.admin, self.ana = self.template.admin, self.template.ana
        self.laptops: dict[str, Laptop] = {}
        for code, setup in SITES.items():
            url = f"sqlite:///{self.folder / setup.file}"
            self.laptops[code] = Laptop(url, self.open(url))
            self.laptops[code].opened.append(self.laptops[code].brigada)
        self.documents = 80_000_000
        self.forgeries = 0  # numbers the forged users and sites, each new
        self.forged: dict[str, set[str]] = {code: set() for code in SITES}  # per laptop, event ids
        # What a laptop's own use cases recorded only because its copy of its parameters was forged.
        self.tainted: dict[str, set[str]] = {code: set() for code in SITES}
        self.pushed: set[str] = set()  # forged and tainted events a completed sync pushed
        self.held_by_site = dict.fromkeys(SITES, 0)  # rows in quarantine at the site's last sync

    def teardown(self) -> None:
        faults.arm(None)
        self.serving.close()
        self.central.close()
        for laptop in self.laptops.values():
            for brigada in laptop.opened:
                brigada.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------
    def open(self, url: str, create: bool = False) -> Brigada:
        return open_brigada(url, create=create, clock=self.clock, host=self.host, hasher=QuickArgon2Hasher())

    def opener(self, laptop: Laptop) -> Callable[[str, bool], Brigada]:
        def open_for_laptop(url: str, create: bool) -> Brigada:
            laptop.opened.append(self.open(url, create))
            return laptop.opened[-1]

        return open_for_laptop

    @contextlib.contextmanager
    def over_http(self, laptop: Brigada) -> Iterator[Any]:
        """The laptop's transport to central's service; central's views then take in what the
        service wrote (the histories read them on central)."""
        central = over_http(laptop, NURSE, self.server)
        try:
            yield central
        finally:
            central.close()
            self.central.views.catch_up()

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
        assert only_denials_since(laptop, before)  # the refused attempt's record only

    @rule(code=sites)
    def log_in_on_a_laptop(self, code: str) -> None:
        self.tick()
        log_in(self.laptops[code].brigada, NURSE, NURSE_PASSWORD)

    # -- an attacker holding a laptop (tests/sync/forgery.py) ------------------------------------
    @initialize(data=st.data(), code=sites)
    def an_attacker_starts_on_a_laptop(self, data: st.DataObject, code: str) -> None:
        """Every history starts with a forgery, so that most have a sync that pushes one."""
        self.forge(data, code)

    @rule(data=st.data(), code=sites)
    def forge_on_a_laptop(self, data: st.DataObject, code: str) -> None:
        self.forge(data, code)

    def forge(self, data: st.DataObject, code: str) -> None:
        """One event a site may not record, written through the laptop's own core and chained
        with its own key: its sync pushes it, and central must hold it."""
        self.tick()
        self.forgeries += 1
        offered = self.forgeries_for(code, self.laptops[code].brigada, self.forgeries)
        name = data.draw(st.sampled_from(sorted(offered)), label="forgery")
        ids = offered[name]()
        assert ids, f"{name} recorded nothing"
        self.forged[code].update(ids)

    @staticmethod
    def forgeries_for(code: str, laptop: Brigada, number: int) -> dict[str, Callable[[], list[str]]]:
        """The forgeries that record something on this laptop as it is now."""
        offered: dict[str, Callable[[], list[str]]] = {
            "forged_administrator": lambda: forgery.forged_administrator(laptop, f"intruso{number}"),
            "revoked_other_site": lambda: forgery.revoked_other_site(laptop, f"BRG{number + 1:02d}"),
        }
        if laptop.core.get(User, user_id("admin")) is None:  # once per store: it creates the user
            offered["replaced_admin_password"] = lambda: forgery.replaced_admin_password(laptop)
        record = laptop.core.get(Site, site_id(code))
        # On site only: a laptop that changes its own copy of central's site record on mission
        # can no longer follow central's record at the hand-back (application/sync.MirrorBroken,
        # tested below); on site, the start-of-mission rebuild gives it central's copy back.
        if record is not None and record.enabled != frozenset(SiteAction) and record.mode is SiteMode.ON_SITE:
            offered["re_enabled_parameters"] = lambda: forgery.re_enabled_parameters(laptop, code)
        if laptop.patients.queries.by_chart(SHARED) is not None:
            offered["stamped_as_admin_at_site"] = lambda: stamped_correction(laptop, "admin", code, code)
            offered["stamped_as_central_admin"] = lambda: stamped_correction(laptop, "admin", CENTRAL, code)
        return offered

    def allowed_by_forgery(self) -> list[str]:
        """Laptops on mission whose own copy of their parameters enables what central does not."""
        return [
            code
            for code in self.in_mode(SiteMode.ON_MISSION)
            if NOT_ENABLED in self.laptops[code].brigada.core.existing(Site, site_id(code)).enabled
        ]

    @precondition(lambda self: self.allowed_by_forgery())
    @rule(data=st.data())
    def link_a_surgery_the_forged_parameters_allow(self, data: st.DataObject) -> None:
        """The laptop's own use cases follow its forged parameters: a visit with a surgery linked.
        The visit and the surgery's number are the site's to record; the surgery is held."""
        self.tick()
        code = data.draw(st.sampled_from(self.allowed_by_forgery()), label="laptop")
        laptop = self.laptops[code].brigada
        before = head(laptop)
        number = laptop.encounters.open(self.ana, {"chart_number": SHARED, "kind": "outpatient"}).number
        laptop.encounters.set_diagnosis(self.ana, number, {"code": "I10X"})
        forgery.linked_surgery(laptop, self.ana, number)
        laptop.encounters.finalize(self.ana, number)
        (linked,) = [e for _p, e in self.events(laptop, before) if type(e).TOPIC == "brigada.Surgery.Linked"]
        self.tainted[code].add(linked.context.event_id.hex)

    # -- central's work -------------------------------------------------------------------------
    @rule(changes=corrections)
    def correct_the_shared_patient_on_central(self, changes: dict[str, str]) -> None:
        self.tick()
        with contextlib.suppress(NothingToCorrect):
            self.central.patients.correct(self.admin, SHARED, changes)

    @rule(code=sites, back=st.booleans(), lot=lots, quantity=st.integers(1, 30))
    def central_moves_field_stock(self, code: str, back: bool, lot: str, quantity: int) -> None:
        """To a site's field warehouse, or back to central's pharmacy: only while central holds the
        site's lease (on site, and no end-of-mission sync still handing it back)."""
        self.tick()
        source, target = CENTRAL_WAREHOUSE, SITES[code].pharmacy
        if back:
            source, target = target, source
        units = min(quantity, self.available(self.central, source).get(lot, 0))
        if not units:
            return
        if self.central.core.existing(Site, site_id(code)).lease_mode is SiteMode.ON_MISSION:
            before = head(self.central)
            with pytest.raises(OperationRefused):
                transfer(self.central, self.admin, source, target, ACETAMINOPHEN, lot, units)
            assert only_denials_since(self.central, before)
            return
        transfer(self.central, self.admin, source, target, ACETAMINOPHEN, lot, units)

    # -- syncs ----------------------------------------------------------------------------------
    @rule(code=sites, again=st.booleans())
    def sync(self, code: str, again: bool) -> None:
        """With ``again``, the laptop syncs a second time at once: that one pushes only what the
        first deferred, so it merges nothing else and holds nothing new (nothing at all when
        nothing was deferred)."""
        self.tick()
        deferred = self.completed(code, self.run_sync(code))
        if not again:
            return
        before = self.quarantine()
        self.tick()
        outcome = self.run_sync(code)
        self.completed(code, outcome)
        after = self.quarantine()
        new = {row.event_id for row in after} - {row.event_id for row in before}
        assert sum(outcome.merged.values()) == len(deferred), (
            f"a second sync of {code} merged {outcome.merged}, not only {deferred}"
        )
        assert len(after) - len(before) == outcome.quarantined == len(new), (len(after), len(before), outcome)
        assert new <= deferred.keys(), f"a second sync of {code} held {new}, not only {deferred}"

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
        laptop.crashed.append(point)
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
        with self.over_http(laptop.brigada) as central:
            outcome = laptop.brigada.sync.run(self.ana, central, stores)
        if outcome.laptop is not None:
            laptop.brigada = outcome.laptop
        return outcome

    def completed(self, code: str, outcome: Any) -> dict[str, str]:
        laptop = self.laptops[code]
        resumed_from, laptop.crashed = laptop.crashed, []
        # What the sync closed (the old store, the rebuilt one before the swap) is gone for good.
        laptop.opened = [b for b in laptop.opened if b is laptop.brigada] or [laptop.brigada]
        return self.check_converged(code, outcome, resumed_from)

    # -- at every step --------------------------------------------------------------------------
    @invariant()
    def one_side_at_a_time_may_move_a_sites_stock(self) -> None:
        """The mode is a lease (DESIGN.md §6): whatever syncs did or where they stopped, central
        and the laptop are never both allowed to move stock in the site's field warehouses."""
        for code, laptop in self.laptops.items():
            allowed = [
                side
                for side, brigada in (("central", self.central), ("laptop", laptop.brigada))
                if may_move_field_stock(brigada, code)
            ]
            assert len(allowed) < 2, f"central and {code}'s laptop may both move its field stock"

    # -- what a completed sync leaves -----------------------------------------------------------
    def check_converged(self, code: str, outcome: Any, resumed_from: list[str]) -> dict[str, str]:
        """Returns the events left for the next sync (see ``check_merged_once``)."""
        laptop = self.laptops[code].brigada
        on_central = [e for _position, e in self.events(self.central)]
        quarantine = self.quarantine()
        deferred = self.check_merged_once(code, outcome.plan.crossing, on_central, quarantine)
        # A crash after the swap leaves the rebuilt store in place: what is recorded there from
        # then on waits for the next sync, however many syncs crash meanwhile.
        assert not deferred or "after-swap" in resumed_from, deferred
        self.check_quarantine(code, outcome, resumed_from, deferred, on_central, quarantine)
        # Central's record of the site is authoritative: the laptop's copy follows it, whatever
        # was written into that copy on the laptop.
        mine, centrals = self.mode(laptop, code), self.mode(self.central, code)
        assert mine is centrals, f"{code}'s laptop holds itself in {mine.value}, central in {centrals.value}"
        with self.over_http(laptop) as central:
            plan, status, run = laptop.sync.preflight(self.ana, central)
        assert plan.total == len(deferred), f"a second sync of {code} would move {plan.pending}"
        assert run is None and (status.open_run is None or status.open_run.completed)
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
        return deferred

    def check_merged_once(
        self, code: str, crossing: SyncCrossing, central: list[Any], quarantine: list[QuarantineRow]
    ) -> dict[str, str]:
        """Every event the laptop recorded at its site is on central once, except those central
        holds in quarantine and the forged ones (``check_quarantine``); returns those left for the
        next sync (event id: kind): recorded on a rebuilt store before its start of mission
        completed (a sync that crashed after the swap), which that sync's rerun does not push."""
        laptop = self.laptops[code].brigada
        identity = laptop.core.require_identity()
        on_central = Counter(e.context.event_id.hex for e in central)
        forged = self.forged[code] | self.tainted[code]  # filed in the site's chain, whatever they say
        held = {row.event_id for row in quarantine if row.site == code}
        recorded_here = [
            (position, e)
            for position, e in self.events(laptop)
            if (e.context.site == code or e.context.event_id.hex in forged)
            and e.originator_id != STORE_IDENTITY_ID
        ]
        deferred = {
            e.context.event_id.hex: type(e).__qualname__
            for position, e in recorded_here
            if crossing is SyncCrossing.START_OF_MISSION and position > identity.slice_end
        }
        assert all(on_central[event_id] == 0 for event_id in deferred)
        wrong = [
            (type(e).__qualname__, on_central[event_id])
            for _position, e in recorded_here
            if (event_id := e.context.event_id.hex) not in deferred
            and event_id not in forged
            and event_id not in held
            and on_central[event_id] != 1
        ]
        assert not wrong, f"{code}'s events on central not exactly once: {wrong}"
        return deferred

    def check_quarantine(
        self,
        code: str,
        outcome: Any,
        resumed_from: list[str],
        deferred: dict[str, str],
        central: list[Any],
        quarantine: list[QuarantineRow],
    ) -> None:
        """No quarantined event reaches an aggregate or a view on central: no forged event and no
        held one is in central's log (every aggregate is read from it) nor in its activity log
        (every other view equals its rebuild from the log, ``check_views``), where a held event
        shows only as its own Quarantine.Held record. Every forged event a sync pushed is held,
        once, and nothing else is held but what depends on a held forgery."""
        # A completed sync pushed every forged event of the laptop but those it deferred.
        self.pushed |= (self.forged[code] | self.tainted[code]) - deferred.keys()
        forged = set().union(*self.forged.values(), *self.tainted.values())
        held = Counter(row.event_id for row in quarantine)
        assert all(n == 1 for n in held.values()), f"held more than once: {held}"
        stored = {e.context.event_id.hex for e in central}
        # An event id central already holds is the one case where a held event's id is on central.
        quarantined = {row.event_id for row in quarantine if row.rule != "event-id-reused"}
        assert not forged & stored, f"forged events on central: {forged & stored}"
        assert not quarantined & stored, f"quarantined events on central: {quarantined & stored}"
        activity = self.central.views.store("activity_log").all_rows()
        logged = (forged | quarantined) & {row.event_id for row in activity}
        assert not logged, f"forged or quarantined events in central's activity log: {logged}"
        held_records = [row for row in activity if row.action == "sync.quarantine"]
        assert len(held_records) == len(quarantine), "a held event without its Quarantine.Held record"
        missing = self.pushed - held.keys()
        assert not missing, f"forged events pushed and not held: {missing}"
        assert all(row.status == "held" for row in quarantine)
        # Legitimate work is held only behind a held forgery of the same record and site.
        forged_records = {(row.site, row.record_id) for row in quarantine if row.event_id in forged}
        unexplained = [
            (row.kind, row.rule)
            for row in quarantine
            if row.event_id not in forged
            and (row.rule != "depends-on-quarantine" or (row.site, row.record_id) not in forged_records)
        ]
        assert not unexplained, f"held without a forgery: {unexplained}"
        # What the sync says it held: every row it added (a crashed attempt may have added some).
        added = sum(1 for row in quarantine if row.site == code) - self.held_by_site[code]
        self.held_by_site[code] += added
        assert outcome.quarantined == added or (resumed_from and outcome.quarantined < added), (
            outcome.quarantined,
            added,
        )

    def quarantine(self) -> list[QuarantineRow]:
        """Central's quarantine view, every row (held, released or rejected)."""
        return self.central.views.store("sync_quarantine").all_rows()

    @staticmethod
    def events(brigada: Brigada, after: int = 0) -> Iterator[tuple[int, Any]]:
        app = brigada.app
        position = after
        while True:
            page = app.recorder.select_notifications(position, 500, inclusive_of_start=False)
            if not page:
                return
            for notification in page:
                yield notification.id, app.mapper.to_domain_event(notification)
            position = page[-1].id

    @staticmethod
    def check_views(brigada: Brigada) -> None:
        other_views = ViewRows(lambda view: rebuilt.store(view))
        rebuilt = ProjectionRunner(brigada.app, MemoryViews(), all_projections(other_views))
        rebuilt.catch_up()
        for name in rebuilt.names():
            assert rows(brigada.views.store(name)) == rows(rebuilt.store(name)), f"view {name}"


@pytest.fixture(scope="module")
def missions(tmp_path_factory: pytest.TempPathFactory) -> type[SyncMissions]:
    """The state machine, with the stores set up once (a sync and a few dozen commands)."""
    template = build_template(tmp_path_factory.mktemp("sync-template"))
    return type("Missions", (SyncMissions,), {"template": template})


@pytest.mark.store
@pytest.mark.slow
def test_random_missions_with_crashes_converge(missions: type[SyncMissions]) -> None:
    run_state_machine_as_test(missions, settings=settings(stateful_step_count=10, deadline=None))


@pytest.mark.store
@pytest.mark.slow
def test_a_laptop_that_forged_its_copy_of_the_site_record_on_mission_cannot_take_the_lease_back(
    missions: type[SyncMissions],
) -> None:
    """BRG01's laptop, on mission, has its own copy of its site record changed
    (forgery.re_enabled_parameters). Its end-of-mission push is judged by central (the forgery
    held), but the laptop can no longer mirror central's record: the hand-back stops with a clear
    refusal instead of diverging, central keeps the lease held (the run is not completed), so
    central does not move the site's stock while the laptop believes it is on mission."""
    state = missions()
    try:
        forged = forgery.re_enabled_parameters(state.laptops["BRG01"].brigada)
        with pytest.raises(MirrorBroken):
            state.run_sync("BRG01")
        state.central.views.catch_up()
        held = {row.event_id for row in state.central.views.store("sync_quarantine").all_rows()}
        assert set(forged) <= held
        site = state.central.core.existing(Site, site_id("BRG01"))
        assert site.lease_mode is SiteMode.ON_MISSION  # central still leaves the site's stock alone
        assert NOT_ENABLED not in site.enabled
    finally:
        state.teardown()

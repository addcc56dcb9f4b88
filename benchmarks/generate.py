"""Deterministic synthetic missions, driven through the application's own use cases.

    python benchmarks/generate.py mission --profile S|M|L --dir DIR [--seed N]
    python benchmarks/generate.py central --events N --store URL [--seed N]

**Missions** (profiles from shared/notes/colombia-domain.md §5): central is initialized, stocks its
warehouse (the profile's formulary, 1-3 lots per SKU), registers site BRG01 with a field warehouse,
creates the staff, transfers stock to the field warehouse, provisions the laptop's store and leases
the site's data (MSN). Then, on the laptop, each day, each patient is registered, given a payer
contract, seen (visit opened, a paragraph, 2-3 services, a diagnosis, 1-3 prescription lines,
finalized), the prescriptions are dispensed (FEFO) and the visit gets a service voucher; every
twentieth patient also gets a supply request that is dispensed, administered and partly returned.
Everything goes through the use cases (``brigada.patients.register``, ``encounters.open`` ...), with
a cheap password hasher (hashing is not what is measured). The data (patients, choices, times) comes
from seeded generators; aggregate and event ids are random UUIDs, as in production.

**Central** holding many sites' history: a template mission (``TEMPLATE`` profile) is run once on
a laptop; the events the laptop recorded for aggregates it created are then copied into a central
store once per site, with their ids, site code and dates rewritten deterministically (uuid5 of the
site and the template id; the mission moved along a year), through the recorder's
``insert_events`` in batches (hash chain included), until the central store holds ``--events``.
Views are not caught up: the caller rebuilds or catches up what it measures.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher as Argon2
from eventsourcing.persistence import StoredEvent

from adapters.bootstrap import open_brigada
from adapters.synthetic import EncounterFaker, PatientFaker
from adapters.system import Argon2Hasher, FixedClock, Host
from application.brigada import Brigada
from application.context import Actor
from demo.billing import CONTRACT, PAYER, payer_contract
from domain.base import context_of, uuid_of
from domain.security import menu
from domain.security.sections import Section
from domain.sites.site import SiteMode

PASSWORD = "benchmark-password-123"
SITE = "BRG01"
FIELD_WAREHOUSE = "BRG01-FARMACIA"
CENTRAL_WAREHOUSE = "CEN-FARMACIA"

MISSION_START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 07:00 in Colombia
WORKING_DAY = timedelta(hours=9)
# CUPS codes a mission bills: the consultation first, then the usual extras.
SERVICES = {
    "890201": "Consulta de primera vez por medicina general",
    "890301": "Consulta de control por medicina general",
    "990211": "Educación individual en salud",
    "993501": "Vacunación",
    "902210": "Hemograma",
    "907106": "Uroanálisis",
    "869500": "Sutura",
}
DOSES = [("500 mg", "cada 8 horas"), ("400 mg", "cada 12 horas"), ("250 mg", "cada 6 horas")]


@dataclass(frozen=True)
class Profile:
    """One mission's size: staff, patients a day, days, formulary (medicines) and supplies."""

    name: str
    staff: int
    patients_per_day: int
    days: int
    medicines: int
    supplies: int

    @property
    def patients(self) -> int:
        return self.patients_per_day * self.days


# colombia-domain.md §5: S 3 staff, 30-60 a day, 1-2 days, ~40 SKUs; M 10-15, 150-400, 2-5, ~100;
# L 35-200, 500-1,500, 2-7, ~150 (+~300 supplies). Each takes the middle of its ranges.
PROFILES = {
    "S": Profile("S", staff=3, patients_per_day=45, days=2, medicines=40, supplies=10),
    "M": Profile("M", staff=12, patients_per_day=250, days=3, medicines=100, supplies=20),
    "L": Profile("L", staff=60, patients_per_day=800, days=4, medicines=150, supplies=300),
}
# The template copied into the big central store: a small mission, so copies vary by site.
TEMPLATE = Profile("T", staff=3, patients_per_day=40, days=1, medicines=20, supplies=5)
TINY = Profile("Q", staff=2, patients_per_day=5, days=1, medicines=5, supplies=2)  # --quick runs


class CheapHasher(Argon2Hasher):
    """argon2id at its cheapest settings (as tests/security do): hashing is not benchmarked."""

    def __init__(self) -> None:
        self._argon2 = Argon2(time_cost=1, memory_cost=1024, parallelism=1)


def open_store(url: str, clock: FixedClock, computer: str, octet: int) -> Brigada:
    brigada = open_brigada(url, create=True, clock=clock, host=Host(computer, octet), hasher=CheapHasher())
    return brigada


def log_in(brigada: Brigada, username: str) -> Actor:
    actor, _ticket = brigada.auth.resume(brigada.auth.login(username, PASSWORD))
    return actor


@dataclass
class Formulary:
    medicines: list[str]
    supplies: list[str]

    @classmethod
    def of(cls, profile: Profile) -> Formulary:
        return cls(
            medicines=[f"{19900000 + n * 137}-{n % 9 + 1}" for n in range(profile.medicines)],
            supplies=[f"SUM-{n:04d}" for n in range(profile.supplies)],
        )

    def items(self) -> Iterator[dict[str, str]]:
        for n, code in enumerate(self.medicines):
            yield {
                "kind": "medicine",
                "code": code,
                "name": f"Medicamento {n:03d}",
                "form": "tableta",
                "concentration": f"{(n % 8 + 1) * 50} mg",
                "dispensing_unit": "tableta",
                "marketing_auth": f"INVIMA 2020M-{n:07d}",
            }
        for n, code in enumerate(self.supplies):
            yield {"kind": "supply", "code": code, "name": f"Insumo {n:03d}", "dispensing_unit": "unidad"}


@dataclass
class Mission:
    """A mission's stores, people and catalog, ready for the laptop's work (mode MSN)."""

    profile: Profile
    clock: FixedClock
    central: Brigada
    admin: Actor
    laptop: Brigada
    laptop_url: str
    staff: list[Actor]
    formulary: Formulary
    rng: random.Random
    patients: PatientFaker
    consultations: EncounterFaker
    done: int = 0  # patients seen so far

    def close(self) -> None:
        self.laptop.close()
        self.central.close()


def prepare(profile: Profile, central_url: str, laptop_url: str, seed: int = 2026) -> Mission:
    """Central set up and stocked, the laptop provisioned and on mission, the staff logged in."""
    clock = FixedClock(MISSION_START - timedelta(days=7))
    central = open_store(central_url, clock, "srv-central", 10)
    central.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
    admin = log_in(central, "admin")
    central.sites.register(admin, {"code": SITE, "name": "Brigada de salud", "warehouses": [FIELD_WAREHOUSE]})
    staff_names = [f"staff{n:03d}" for n in range(profile.staff)]
    for name in staff_names:
        central.users.create(admin, {"username": name, "full_name": f"Profesional {name[5:]}"}, PASSWORD)
        central.users.change_access(admin, name, grant=sorted(menu.EVERYTHING), revoke=[])  # as tests do
        central.users.change_sections(admin, name, allow=[s.value for s in Section], deny=[])
    formulary = Formulary.of(profile)
    stock(central, admin, profile, formulary, clock.today())
    laptop = open_store(laptop_url, clock, "laptop-brg01", 23)
    central.sites.provision(admin, SITE, laptop, laptop_url)
    central.sites.change_mode(admin, SITE, SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(central)
    clock.current = MISSION_START
    staff = [log_in(laptop, name) for name in staff_names]
    # A week after the set-up: someone confirms each store's date (domain/store_time.py).
    central.dates.confirm(admin, clock.today())
    laptop.dates.confirm(staff[0], clock.today())
    return Mission(
        profile=profile,
        clock=clock,
        central=central,
        admin=admin,
        laptop=laptop,
        laptop_url=laptop_url,
        staff=staff,
        formulary=formulary,
        rng=random.Random(seed),
        patients=PatientFaker(seed=seed, today=MISSION_START.date()),
        consultations=EncounterFaker(seed=seed),
    )


def stock(central: Brigada, admin: Actor, profile: Profile, formulary: Formulary, today: date) -> None:
    """Catalog, prices, purchases into central's warehouse (1-3 lots per SKU, fixed by the SKU's
    index), the field warehouse stocked by transfers while the site is INS."""
    for item in formulary.items():
        central.catalog.add_item(admin, item)
    for code, name in SERVICES.items():
        central.catalog.add_service(admin, {"code": code, "name": name})
    codes = [*SERVICES, *formulary.medicines, *formulary.supplies]
    for n, code in enumerate(codes):
        value = "35000" if code in SERVICES else str(100 + n * 10)
        price = {"payer_nit": PAYER, "contract": CONTRACT, "code": code, "unit_value": value}
        central.catalog.set_price(admin, price)
    central.inventory.create_warehouse(admin, {"code": CENTRAL_WAREHOUSE, "name": "Farmacia central"})
    central.inventory.create_warehouse(
        admin, {"code": FIELD_WAREHOUSE, "name": "Farmacia de brigada", "site": SITE}
    )
    # Enough for every patient's lines (at most 3 x 30 units) spread over the formulary.
    per_medicine = profile.patients * 3 * 30 // max(profile.medicines, 1) + 100
    for n, code in enumerate([*formulary.medicines, *formulary.supplies]):
        lots = n % 3 + 1
        units = (per_medicine if n < profile.medicines else 200) // lots + 50
        for lot in range(lots):
            receipt = {
                "warehouse": CENTRAL_WAREHOUSE,
                "item": code,
                "lot": f"L{n:04d}{lot}",
                "expiry": (today + timedelta(days=200 + 150 * lot + n % 50)).isoformat(),
                "quantity": units,
                "reference": "FAC-2026-001",
            }
            central.inventory.receive(admin, receipt)
            move = {"source": CENTRAL_WAREHOUSE, "target": FIELD_WAREHOUSE, "item": code}
            central.inventory.transfer(admin, {**move, "lot": receipt["lot"], "quantity": units})


Timer = Callable[[str, Callable[[], Any]], Any]


def untimed(_label: str, command: Callable[[], Any]) -> Any:
    return command()


def see_patient(mission: Mission, timed: Timer = untimed) -> None:
    """One patient's whole visit on the laptop, each step a use case (``timed`` wraps each)."""
    site, rng, n = mission.laptop, mission.rng, mission.done
    actor = mission.staff[n % len(mission.staff)]
    today = mission.clock.today()
    patient = timed("register patient", lambda: site.patients.register(actor, mission.patients.patient()))
    chart = patient.chart_number
    site.contracts.add(actor, chart, payer_contract(today, "EPS de la brigada"))
    reason, code, treatment = mission.consultations.consultation()
    ambulatory = n % 20 == 0 and bool(mission.formulary.supplies)  # these get a supply request
    opening = {"chart_number": chart, "reason": reason, **({"kind": "ambulatory"} if ambulatory else {})}
    admission = (
        site.admissions.admit(actor, {"chart_number": chart, "reason": reason}) if ambulatory else None
    )
    visit = timed("open encounter", lambda: site.encounters.open(actor, opening))
    paragraph = {"name": "TRATAMIENTO", "text": treatment}
    timed("add paragraph", lambda: site.encounters.add_paragraph(actor, visit.number, paragraph))
    extras = rng.sample(list(SERVICES)[1:], rng.randint(1, 2))  # 2-3 services in all
    for cups in ["890201", *extras]:
        site.encounters.add_service(actor, visit.number, {"cups": cups, "description": SERVICES[cups]})
    site.encounters.set_diagnosis(actor, visit.number, {"code": code})
    prescriptions = []
    for item in rng.sample(mission.formulary.medicines, rng.choice((1, 2, 2, 3))):
        dose, frequency = rng.choice(DOSES)
        line = {
            "item": item,
            "dose": dose,
            "route": "oral",
            "frequency": frequency,
            "days": rng.randint(3, 10),
            "quantity": rng.randint(6, 30),
        }
        prescriptions.append((site.orders.prescribe(actor, visit.number, line).number, item))
    if ambulatory:
        supplies(mission, actor, visit.number)
    site.encounters.finalize(actor, visit.number)
    if admission is not None:
        site.admissions.discharge(actor, admission.number, {"condition": "01"})
    for number, item in prescriptions:
        timed("dispense", lambda: site.pharmacy.dispense(actor, "prescription", number, {"item": item}))  # noqa: B023
    timed("issue voucher", lambda: site.vouchers.issue(actor, {"encounter": visit.number}))
    mission.done += 1
    mission.clock.advance(seconds=WORKING_DAY.total_seconds() / mission.profile.patients_per_day)


def supplies(mission: Mission, actor: Actor, visit: str) -> None:
    """A supply request: dispensed, administered, and what was not applied returned (5-15 %)."""
    site, rng = mission.laptop, mission.rng
    items = rng.sample(mission.formulary.supplies, min(2, len(mission.formulary.supplies)))
    picked = [(item, rng.randint(5, 10)) for item in items]
    lines = [{"item": item, "quantity": quantity} for item, quantity in picked]
    number = site.pharmacy.request(actor, visit, {"lines": lines}).number
    for item, quantity in picked:
        site.pharmacy.dispense(actor, "request", number, {"item": item})
        returned = max(1, round(quantity * rng.uniform(0.05, 0.15)))
        site.pharmacy.administer(actor, number, {"item": item, "quantity": quantity - returned})
        site.pharmacy.return_unused(actor, "request", number, {"item": item, "quantity": returned})


def run_mission(
    mission: Mission, patients: int | None = None, progress: bool = False, timed: Timer = untimed
) -> None:
    """Every day of the profile (or up to ``patients`` patients seen), from 07:00 each day."""
    profile = mission.profile
    total = profile.patients if patients is None else patients
    started = time.perf_counter()
    while mission.done < total:
        day = mission.done // profile.patients_per_day
        if mission.done % profile.patients_per_day == 0:
            mission.clock.current = MISSION_START + timedelta(days=day)
        see_patient(mission, timed)
        if progress and mission.done % 100 == 0:
            print(f"  {mission.done:>6} patients ({time.perf_counter() - started:.0f} s)", flush=True)


# -- the big central store -----------------------------------------------------------------------
def template_events(laptop: Brigada, site: str = SITE) -> list[StoredEvent]:
    """The events the laptop recorded for aggregates it created itself, in log order."""
    recorder = laptop.app.recorder
    kept: list[StoredEvent] = []
    created: set[uuid.UUID] = set()
    position = 0
    while True:
        page = recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
        if not page:
            return kept
        for notification in page:
            if context_of(laptop.app.mapper.to_domain_event(notification)).site != site:
                continue
            if notification.originator_version == 1:
                created.add(uuid_of(notification.originator_id))
            if uuid_of(notification.originator_id) in created:
                kept.append(
                    StoredEvent(
                        originator_id=notification.originator_id,
                        originator_version=notification.originator_version,
                        topic=notification.topic,
                        state=bytes(notification.state),
                    )
                )
        position = page[-1].id


class SiteCopier:
    """Rewrites the template's events for another site: ids (aggregate and event), the site code
    and the mission's dates, all in one regular-expression pass over each event's JSON."""

    def __init__(self, laptop: Brigada, events: list[StoredEvent], site: str = SITE) -> None:
        self.events = events
        self.site = site.encode()
        ids: set[str] = {uuid_of(e.originator_id).hex for e in events}
        dates: set[str] = set()
        for e in events:
            context = context_of(laptop.app.mapper.to_domain_event(e))
            ids.add(context.event_id.hex)
            dates.add(context.recorded_at.date().isoformat())
            dates.add(context.business_date.isoformat())
        self.ids = ids
        self.dates = sorted(dates)
        # Any id or date; those not in the template's table (central's) are left as they are.
        self.pattern = re.compile(
            rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
            rb"|\d{4}-\d\d-\d\d|" + re.escape(self.site)
        )

    def copy(self, number: int, day_offset: int) -> Iterator[StoredEvent]:
        code = f"S{number:04d}"
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"brigada-bench/{code}")
        table: dict[bytes, bytes] = {self.site: code.encode()}
        for hex_id in self.ids:
            new = uuid.uuid5(namespace, hex_id)
            table[hex_id.encode()] = new.hex.encode()
            table[str(uuid.UUID(hex_id)).encode()] = str(new).encode()
        for text in self.dates:
            shifted = date.fromisoformat(text) + timedelta(days=day_offset)
            table[text.encode()] = shifted.isoformat().encode()

        def swap(match: re.Match[bytes]) -> bytes:
            found = match.group(0)
            return table.get(found, found)  # central's ids and other dates stay as they are

        for e in self.events:
            yield StoredEvent(
                originator_id=uuid.uuid5(namespace, uuid_of(e.originator_id).hex),
                originator_version=e.originator_version,
                topic=e.topic,
                state=self.pattern.sub(swap, e.state),
            )


def build_central(
    url: str, events: int, seed: int = 2026, progress: bool = False, template: Profile = TEMPLATE
) -> Brigada:
    """A central store with at least ``events`` events: its own set-up plus copies of a template
    mission, one per site, the sites' missions spread over a year. Views are left behind."""
    with tempfile.TemporaryDirectory() as folder:
        mission = prepare(
            template, f"sqlite:///{folder}/t-central.db", f"sqlite:///{folder}/t-laptop.db", seed
        )
        run_mission(mission)
        stored = template_events(mission.laptop)
        copier = SiteCopier(mission.laptop, stored)
        mission.close()
    clock = FixedClock(MISSION_START + timedelta(days=370))
    central = open_store(url, clock, "srv-central", 10)
    central.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
    recorder = central.app.recorder
    sites = -(-max(events - (recorder.max_notification_id() or 0), 0) // len(stored))
    started = time.perf_counter()
    for number in range(1, sites + 1):
        batch = list(copier.copy(number, day_offset=(number * 365) // max(sites, 1) - 180))
        for start in range(0, len(batch), 5000):
            recorder.insert_events(batch[start : start + 5000])
        if progress and number % 20 == 0:
            head = recorder.max_notification_id()
            print(
                f"  {number:>4} sites, {head:>9,} events ({time.perf_counter() - started:.0f} s)", flush=True
            )
    return central


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    mission = commands.add_parser("mission", help="a whole mission: central and the laptop")
    mission.add_argument("--profile", choices=sorted(PROFILES), default="S")
    mission.add_argument("--dir", type=Path, required=True, help="folder for central.db and laptop.db")
    mission.add_argument("--seed", type=int, default=2026)
    central = commands.add_parser("central", help="a central store holding many sites' history")
    central.add_argument("--events", type=int, default=1_000_000)
    central.add_argument("--store", required=True, help="store URL (sqlite:///... or postgresql://...)")
    central.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.command == "mission":
        args.dir.mkdir(parents=True, exist_ok=True)
        profile = PROFILES[args.profile]
        made = prepare(
            profile, f"sqlite:///{args.dir}/central.db", f"sqlite:///{args.dir}/laptop.db", args.seed
        )
        run_mission(made, progress=True)
        head = made.laptop.views.head()
        made.close()
        print(f"mission {profile.name}: {profile.patients} patients, laptop log {head:,} events")
    else:
        built = build_central(args.store, args.events, args.seed, progress=True)
        head = built.views.head()
        built.close()
        print(f"central: {head:,} events")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

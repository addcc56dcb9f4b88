"""A small mission end to end: central and a site laptop in a fresh folder, `brigada serve`
between them, patients seen on the mission, the syncs, and central's invoices and activity log.

The mission tells itself through a ``Screen`` that the `brigada demo` command gives it: the texts
in the user's language and the tables the other commands show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from adapters.bootstrap import open_brigada, sync_laptop
from adapters.sync.serve_process import ServeProcess, start_serve
from application.brigada import Brigada
from application.context import Actor
from application.sync.laptop import SyncOutcome, SyncProgress
from demo import billing, inventory
from domain.clinical.agenda import as_time, minutes
from domain.errors import N_, DomainError
from domain.security.sections import Section
from domain.sync.sync import EncountersOpen

DEMO_PASSWORD = "mision-rio-magdalena-2026"
DEMO_SITE = "BRG01"
DEMO_WAREHOUSE = "BRG01-FARMACIA"
COORDINATOR_MENUS = [
    "patient",
    "agenda",
    "appointment",
    "admission",
    "encounter",
    "passwd",
    "site.mode",
    "sync",
    # orders, pharmacy and inventory
    "catalog",
    "warehouse",
    "inventory",
    "prescription",
    "order",
    "diagnostic",
    "surgery",
    "pharmacy",
    # service vouchers
    "voucher",
]


class Screen(Protocol):
    """Where the mission is told, in the user's language."""

    language: str

    def gettext(self, message: str) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int) -> str: ...
    def say(self, text: str) -> None: ...
    def reason(self, error: DomainError) -> str: ...
    def patients(self, title: str, rows: list[Any]) -> None: ...
    def agenda(self, view: Any) -> None: ...
    def visits(self, title: str, rows: list[Any]) -> None: ...
    def stock(self, lines: list[Any]) -> None: ...
    def activity(self, rows: list[Any]) -> None: ...
    def synced(self, run: Callable[[SyncProgress], SyncOutcome]) -> SyncOutcome:
        """Run a sync with its progress on the screen, then its report."""
        ...


def tell(screen: Screen, message: str, **params: Any) -> None:
    screen.say(screen.gettext(message).format(**params))


def run(screen: Screen, folder: Path, patients: int, seed: int) -> None:
    """Central's store and `brigada serve` in ``folder`` (which must exist, empty), then the mission."""
    central_url = f"sqlite:///{folder / 'central.db'}"
    tell(screen, N_("1. Central server: {store}"), store=central_url)
    central = open_brigada(central_url, create=True)
    central.setup.initialize("central", "CEN", "admin", "Administrador", DEMO_PASSWORD)
    server = start_serve(central_url, folder / "tls", language=screen.language)
    tell(
        screen,
        N_("1b. brigada serve runs for the laptops at {url} (a self-signed certificate in {folder})"),
        url=server.url,
        folder=folder / "tls",
    )
    try:
        mission(screen, folder, patients, seed, central, server)
    finally:
        server.stop()


def mission(
    screen: Screen, folder: Path, patients: int, seed: int, central: Brigada, server: ServeProcess
) -> None:
    """The mission, with central's store open here and `brigada serve` answering the laptop."""
    site_url = f"sqlite:///{folder / f'{DEMO_SITE.lower()}.db'}"
    site, actor = provision_the_laptop(screen, central, server, site_url)
    site = run_sync(screen, site, site_url, actor).laptop

    last_visit, vouchers = mission_day(screen, site, actor, patients, seed)
    today = site.core.clock.today()
    # -- the end-of-mission sync: refused while a visit is open, then done --
    tell(screen, N_("8. End of mission: a first sync attempt"))
    try:
        run_sync(screen, site, site_url, actor)
    except EncountersOpen as refused:
        tell(screen, N_("   Refused: {reason}"), reason=screen.reason(refused))
    site.encounters.finalize(actor, last_visit)
    vouchers.append(site.vouchers.issue(actor, {"encounter": last_visit}).number)
    tell(screen, N_("   Visit {visit} finalized and its voucher issued; the sync again:"), visit=last_visit)
    run_sync(screen, site, site_url, actor)
    site.auth.logout(actor)
    back_at_central(screen, central, len(vouchers), today)
    central.close()
    site.close()
    tell(
        screen,
        N_("Done. Try: brigada --store {store} login coordinador (password: {password})"),
        store=site_url,
        password=DEMO_PASSWORD,
    )


def provision_the_laptop(
    screen: Screen, central: Brigada, server: ServeProcess, site_url: str
) -> tuple[Brigada, Actor]:
    """Central registers the site and its coordinator, stocks and prices, provisions the laptop;
    the coordinator logs in on it."""
    admin, _admin_ticket = central.auth.resume(central.auth.login("admin", DEMO_PASSWORD))
    tell(
        screen,
        N_("2. Site {site} registered on central, with field warehouse {warehouse}"),
        site=DEMO_SITE,
        warehouse=DEMO_WAREHOUSE,
    )
    central.sites.register(
        admin, {"code": DEMO_SITE, "name": "Brigada río Magdalena", "warehouses": [DEMO_WAREHOUSE]}
    )
    central.users.create(
        admin, {"username": "coordinador", "full_name": "Coordinación de brigada"}, DEMO_PASSWORD
    )
    central.users.change_access(admin, "coordinador", grant=COORDINATOR_MENUS, revoke=[])
    central.users.change_sections(admin, "coordinador", allow=[s.value for s in Section], deny=[])
    # -- orders, pharmacy and inventory: the field warehouse is stocked while the site is INS --
    sent = inventory.stock_the_site(central, admin, DEMO_SITE, DEMO_WAREHOUSE, central.core.clock.today())
    tell(
        screen,
        N_("2b. Central: catalog, prices, purchases into {central}; {n} units sent by lot to {warehouse}"),
        central=inventory.CENTRAL_WAREHOUSE,
        n=sent,
        warehouse=DEMO_WAREHOUSE,
    )
    billing.price_the_rest(central, admin)  # prices go in the laptop's slice
    tell(
        screen,
        N_("3. Laptop of site {site} provisioned from central: {store}"),
        site=DEMO_SITE,
        store=site_url,
    )
    site = open_brigada(site_url, create=True)
    central.sites.provision(
        admin, DEMO_SITE, site, site_url, central_url=server.url, central_certificate=server.certificate
    )
    extra = {"source": inventory.CENTRAL_WAREHOUSE, "target": DEMO_WAREHOUSE, "quantity": 40}
    central.inventory.transfer(admin, {**extra, "item": inventory.ACETAMINOPHEN, "lot": "AC2511"})
    tell(
        screen,
        N_("3b. The laptop is at home (INS): central transfers 40 more units to {warehouse}"),
        warehouse=DEMO_WAREHOUSE,
    )
    central.auth.logout(admin)
    tell(
        screen,
        N_(
            "4. Login as coordinador on the laptop; start-of-mission sync "
            "(the laptop is rebuilt from central)"
        ),
    )
    actor, _ticket = site.auth.resume(site.auth.login("coordinador", DEMO_PASSWORD))
    return site, actor


def mission_day(
    screen: Screen, site: Brigada, actor: Actor, patients: int, seed: int
) -> tuple[str, list[str]]:
    """Patients registered, booked and seen, the pharmacy's day and the vouchers; returns the
    day's last visit (still open) and the vouchers issued."""
    from adapters.synthetic import EncounterFaker, PatientFaker  # faker: the demo extra

    screen.say(
        screen.ngettext("5. Registering {n} patient", "5. Registering {n} patients", patients).format(
            n=patients
        )
    )
    faker = PatientFaker(seed=seed, today=site.core.clock.today())
    rows = [site.patients.register(actor, faker.patient()) for _i in range(patients)]
    screen.patients(screen.gettext(N_("Patients registered at {site}")).format(site=DEMO_SITE), rows)
    # -- agenda and appointments (clinical issue, items 1-3) --
    booked = book_the_day(site, actor, [row.chart_number for row in rows])
    tell(
        screen,
        N_("6. The coordinator's agenda for today: {n} appointments booked and confirmed"),
        n=len(booked),
    )
    screen.agenda(site.agendas.show(actor, "coordinador", site.core.clock.today()))
    tell(screen, N_("7. A mission day: each patient is seen, with a report, a service and a diagnosis"))
    consultations = EncounterFaker(seed=seed)
    prescriptions = []
    last_visit = ""
    for index, row in enumerate(rows):
        reason, code, treatment = consultations.consultation()
        visit = site.encounters.open(actor, {"chart_number": row.chart_number, "reason": reason})
        site.encounters.add_paragraph(actor, visit.number, {"name": "TRATAMIENTO", "text": treatment})
        site.encounters.add_service(
            actor, visit.number, {"cups": "890201", "description": "Consulta general"}
        )
        site.encounters.set_diagnosis(actor, visit.number, {"code": code})
        prescribed = inventory.prescribe(site, actor, visit.number, index)
        prescriptions += [prescribed] if prescribed else []
        last_visit = visit.number
        if index < len(rows) - 1:  # the day's last visit is still open when the sync is tried
            site.encounters.finalize(actor, visit.number)
    screen.visits(screen.gettext(N_("Visits at {site}")).format(site=DEMO_SITE), site.encounters.diary(actor))
    # -- the pharmacy's day --
    dispensed = inventory.dispense_prescriptions(site, actor, prescriptions)
    chain = inventory.ambulatory_chain(site, actor, rows[0].chart_number)
    tell(
        screen,
        N_(
            "7b. Pharmacy: {n} prescriptions dispensed ({units} units, earliest expiry first); request "
            "{request} of ambulatory visit {visit} dispensed, administered, and what was not applied returned"
        ),
        n=len(prescriptions),
        units=dispensed,
        request=chain["request"],
        visit=chain["visit"],
    )
    screen.stock(site.inventory.stock(actor))
    # -- service vouchers on the laptop --
    today = site.core.clock.today()
    vouchers = billing.vouchers_on_mission(site, actor, [row.chart_number for row in rows], today)
    tell(
        screen,
        N_("7c. Payer contracts assigned; {n} service vouchers issued on the laptop"),
        n=len(vouchers),
    )
    return last_visit, vouchers


def back_at_central(screen: Screen, central: Brigada, merged: int, today: Any) -> None:
    """Central: invoices from the merged vouchers, and the activity log."""
    admin, _admin_ticket = central.auth.resume(central.auth.login("admin", DEMO_PASSWORD))
    invoices = billing.invoice_on_central(central, admin, DEMO_SITE, today)
    screen.say(
        screen.ngettext(
            "9. Central: the {n} voucher merged from the laptop becomes invoice {first}",
            "9. Central: the {n} vouchers merged from the laptop become invoices {first} to {last}",
            merged,
        ).format(n=merged, first=invoices[0] if invoices else "-", last=invoices[-1] if invoices else "-")
    )
    found = central.audit.search(admin, {"site": DEMO_SITE, "action": "visit.finalize"}, page_size=5)
    tell(screen, N_("10. Activity log on central: visits finalized at {site} (newest first)"), site=DEMO_SITE)
    screen.activity(found.rows)
    central.auth.logout(admin)


def run_sync(screen: Screen, site: Brigada, site_url: str, actor: Actor) -> SyncOutcome:
    """`brigada sync` on the laptop: over HTTPS to `brigada serve`, as provisioning recorded it."""
    outcome = screen.synced(lambda progress: sync_laptop(site, site_url, actor, progress))
    outcome.laptop = outcome.laptop or site
    return outcome


def book_the_day(site: Brigada, actor: Actor, charts: list[str]) -> list[str]:
    """Plan the coordinator's day from 07:00 in 15-minute slots, as many as the patients (up to
    17:00), and book and confirm one appointment per patient while slots last; returns the
    appointment numbers."""
    today = site.core.clock.today()
    end = as_time(minutes("07:00") + 15 * min(max(len(charts), 1), 40))
    plan = {"professional": "coordinador", "day": today, "start": "07:00", "end": end, "slot_minutes": 15}
    slots = [slot.time for slot in site.agendas.plan(actor, plan).slots]
    numbers = []
    for chart, time in zip(charts, slots, strict=False):
        booking = {"professional": "coordinador", "day": today, "time": time, "chart_number": chart}
        numbers.append(site.agendas.confirm(actor, site.agendas.book(actor, booking).number).number)
    return numbers

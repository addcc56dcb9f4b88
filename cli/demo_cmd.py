"""brigada demo: central and site stores in a fresh folder, a login, patients registered."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import click

from adapters.bootstrap import central_for, open_brigada
from adapters.sync.serve_process import ServeProcess, start_serve
from adapters.sync.store_io import StoreRebuilds
from application.brigada import Brigada
from application.context import Actor
from application.sync.laptop import SyncOutcome
from cli import demo_billing, demo_inventory
from cli.audit.audit_cmd import HEADINGS, display
from cli.base import Command
from cli.clinical.agenda_cmd import show_agenda
from cli.clinical.encounter_cmd import ROW_COLUMNS as VISIT_COLUMNS
from cli.clinical.encounter_cmd import displayed
from cli.clinical.patient_cmd import COLUMNS
from cli.env import Env, pass_env, render
from cli.i18n import N_, _, language, ngettext
from cli.pharmacy.inventory_cmd import stock_table
from cli.sync.sync_cmd import Display, report
from domain.clinical.agenda import as_time, minutes
from domain.security.sections import Section
from domain.sync.sync import EncountersOpen

DEMO_PASSWORD = "mision-rio-magdalena-2026"
DEMO_SITE = "BRG01"
DEMO_WAREHOUSE = "BRG01-FARMACIA"


@click.command("demo", cls=Command, help=N_("Run a small mission end to end in a fresh folder."))
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help=N_("Folder for the demo stores (default: a new temporary one)."),
)
@click.option(
    "--patients",
    default=10,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help=N_("Patients to register."),
)
@click.option("--seed", default=2026, show_default=True, help=N_("Seed for the synthetic data."))
@pass_env
def demo(env: Env, folder: Path | None, patients: int, seed: int) -> None:
    if importlib.util.find_spec("faker") is None:  # before anything is made
        raise click.ClickException(_("the demo needs its extra: pip install 'brigada[demo]'"))
    folder = folder or Path(tempfile.mkdtemp(prefix="brigada-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise click.UsageError(
            _("{folder} is not empty: the demo needs a fresh folder").format(folder=folder)
        )
    central_url = f"sqlite:///{folder / 'central.db'}"

    env.say(_("1. Central server: {store}").format(store=central_url))
    central = open_brigada(central_url, create=True)
    central.setup.initialize("central", "CEN", "admin", "Administrador", DEMO_PASSWORD)
    server = start_serve(central_url, folder / "tls", language=language())
    env.say(
        _("1b. brigada serve runs for the laptops at {url} (a self-signed certificate in {folder})").format(
            url=server.url, folder=folder / "tls"
        )
    )
    try:
        mission(env, folder, patients, seed, central, server)
    finally:
        server.stop()


def mission(env: Env, folder: Path, patients: int, seed: int, central: Brigada, server: ServeProcess) -> None:
    """The mission, with central's store open here and `brigada serve` answering the laptop."""
    from adapters.synthetic import EncounterFaker, PatientFaker  # faker: the demo extra

    site_url = f"sqlite:///{folder / f'{DEMO_SITE.lower()}.db'}"
    admin, _admin_ticket = central.auth.resume(central.auth.login("admin", DEMO_PASSWORD))

    env.say(
        _("2. Site {site} registered on central, with field warehouse {warehouse}").format(
            site=DEMO_SITE, warehouse=DEMO_WAREHOUSE
        )
    )
    central.sites.register(
        admin, {"code": DEMO_SITE, "name": "Brigada río Magdalena", "warehouses": [DEMO_WAREHOUSE]}
    )
    central.users.create(
        admin, {"username": "coordinador", "full_name": "Coordinación de brigada"}, DEMO_PASSWORD
    )
    central.users.change_access(
        admin,
        "coordinador",
        grant=[
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
        ],
        revoke=[],
    )
    central.users.change_sections(admin, "coordinador", allow=[s.value for s in Section], deny=[])
    # -- orders, pharmacy and inventory: the field warehouse is stocked while the site is INS --
    sent = demo_inventory.stock_the_site(
        central, admin, DEMO_SITE, DEMO_WAREHOUSE, central.core.clock.today()
    )
    env.say(
        _(
            "2b. Central: catalog, prices, purchases into {central}; {n} units sent by lot to {warehouse}"
        ).format(central=demo_inventory.CENTRAL_WAREHOUSE, n=sent, warehouse=DEMO_WAREHOUSE)
    )

    demo_billing.price_the_rest(central, admin)  # prices go in the laptop's slice
    env.say(
        _("3. Laptop of site {site} provisioned from central: {store}").format(site=DEMO_SITE, store=site_url)
    )
    site = open_brigada(site_url, create=True)
    central.sites.provision(
        admin, DEMO_SITE, site, site_url, central_url=server.url, central_certificate=server.certificate
    )
    extra = {"source": demo_inventory.CENTRAL_WAREHOUSE, "target": DEMO_WAREHOUSE, "quantity": 40}
    central.inventory.transfer(admin, {**extra, "item": demo_inventory.ACETAMINOPHEN, "lot": "AC2511"})
    env.say(
        _("3b. The laptop is at home (INS): central transfers 40 more units to {warehouse}").format(
            warehouse=DEMO_WAREHOUSE
        )
    )
    central.auth.logout(admin)

    env.say(
        _("4. Login as coordinador on the laptop; start-of-mission sync (the laptop is rebuilt from central)")
    )
    actor, _ticket = site.auth.resume(site.auth.login("coordinador", DEMO_PASSWORD))
    site = run_sync(env, site, site_url, actor).laptop

    env.say(
        ngettext("5. Registering {n} patient", "5. Registering {n} patients", patients).format(n=patients)
    )
    faker = PatientFaker(seed=seed, today=site.core.clock.today())
    rows = [site.patients.register(actor, faker.patient()) for _i in range(patients)]
    env.table(
        _("Patients registered at {site}").format(site=DEMO_SITE),
        [(f, _(h)) for f, h in COLUMNS],
        rows,
    )
    # -- agenda and appointments (clinical issue, items 1-3) --
    booked = book_the_day(site, actor, [row.chart_number for row in rows])
    env.say(
        _("6. The coordinator's agenda for today: {n} appointments booked and confirmed").format(
            n=len(booked)
        )
    )
    show_agenda(env, site.agendas.show(actor, "coordinador", site.core.clock.today()), as_json=False)
    env.say(_("7. A mission day: each patient is seen, with a report, a service and a diagnosis"))
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
        prescribed = demo_inventory.prescribe(site, actor, visit.number, index)
        prescriptions += [prescribed] if prescribed else []
        last_visit = visit.number
        if index < len(rows) - 1:  # the day's last visit is still open when the sync is tried
            site.encounters.finalize(actor, visit.number)
    visits = site.encounters.diary(actor)
    env.table(
        _("Visits at {site}").format(site=DEMO_SITE),
        [(f, _(h)) for f, h in VISIT_COLUMNS],
        [displayed(v) for v in visits],
    )
    # -- the pharmacy's day --
    dispensed = demo_inventory.dispense_prescriptions(site, actor, prescriptions)
    chain = demo_inventory.ambulatory_chain(site, actor, rows[0].chart_number)
    env.say(
        _(
            "7b. Pharmacy: {n} prescriptions dispensed ({units} units, earliest expiry first); request "
            "{request} of ambulatory visit {visit} dispensed, administered, and what was not applied returned"
        ).format(n=len(prescriptions), units=dispensed, request=chain["request"], visit=chain["visit"])
    )
    stock_table(env, site.inventory.stock(actor), as_json=False)
    # -- service vouchers on the laptop --
    today = site.core.clock.today()
    vouchers = demo_billing.vouchers_on_mission(site, actor, [row.chart_number for row in rows], today)
    env.say(
        _("7c. Payer contracts assigned; {n} service vouchers issued on the laptop").format(n=len(vouchers))
    )
    # -- the end-of-mission sync: refused while a visit is open, then done --
    env.say(_("8. End of mission: a first sync attempt"))
    try:
        run_sync(env, site, site_url, actor)
    except EncountersOpen as refused:
        env.say(_("   Refused: {reason}").format(reason=render(refused.template, refused.params)))
    site.encounters.finalize(actor, last_visit)
    vouchers.append(site.vouchers.issue(actor, {"encounter": last_visit}).number)
    env.say(_("   Visit {visit} finalized and its voucher issued; the sync again:").format(visit=last_visit))
    run_sync(env, site, site_url, actor)
    site.auth.logout(actor)
    # -- central: invoices from the merged vouchers, and the activity log --
    admin, _admin_ticket = central.auth.resume(central.auth.login("admin", DEMO_PASSWORD))
    invoices = demo_billing.invoice_on_central(central, admin, DEMO_SITE, today)
    env.say(
        ngettext(
            "9. Central: the {n} voucher merged from the laptop becomes invoice {first}",
            "9. Central: the {n} vouchers merged from the laptop become invoices {first} to {last}",
            len(vouchers),
        ).format(
            n=len(vouchers), first=invoices[0] if invoices else "-", last=invoices[-1] if invoices else "-"
        )
    )
    found = central.audit.search(admin, {"site": DEMO_SITE, "action": "visit.finalize"}, page_size=5)
    env.say(
        _("10. Activity log on central: visits finalized at {site} (newest first)").format(site=DEMO_SITE)
    )
    env.table(_("Activity log"), [(f, _(h)) for f, h in HEADINGS], [display(r) for r in found.rows])
    central.auth.logout(admin)
    central.close()
    site.close()
    env.say(
        _("Done. Try: brigada --store {store} login coordinador (password: {password})").format(
            store=site_url, password=DEMO_PASSWORD
        )
    )


def run_sync(env: Env, site: Brigada, site_url: str, actor: Actor) -> SyncOutcome:
    """`brigada sync` on the laptop: over HTTPS to `brigada serve`, as provisioning recorded it."""
    display = Display(env, quiet=False)
    stores = StoreRebuilds(site, site_url, lambda url, create: open_brigada(url, create=create))
    central = central_for(site, actor.username)
    try:
        outcome = site.sync.run(actor, central, stores, display)
    finally:
        display.stop()
        central.close()
    report(display, outcome)
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


def register(cli: click.Group) -> None:
    cli.add_command(demo)

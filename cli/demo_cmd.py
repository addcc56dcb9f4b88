"""brigada demo: central and site stores in a fresh folder, a login, patients registered."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from adapters.bootstrap import open_brigada
from adapters.synthetic import EncounterFaker, PatientFaker
from application.brigada import Brigada
from application.context import Actor
from cli import demo_billing, demo_inventory
from cli.agenda_cmd import show_agenda
from cli.base import Command
from cli.encounter_cmd import ROW_COLUMNS as VISIT_COLUMNS
from cli.encounter_cmd import displayed
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.inventory_cmd import stock_table
from cli.patient_cmd import COLUMNS
from domain.agenda import as_time, minutes
from domain.sections import Section
from domain.site import SiteMode

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
    folder = folder or Path(tempfile.mkdtemp(prefix="brigada-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise click.UsageError(
            _("{folder} is not empty: the demo needs a fresh folder").format(folder=folder)
        )
    central_url = f"sqlite:///{folder / 'central.db'}"
    site_url = f"sqlite:///{folder / f'{DEMO_SITE.lower()}.db'}"

    env.say(_("1. Central server: {store}").format(store=central_url))
    central = open_brigada(central_url, create=True)
    central.setup.initialize("central", "CEN", "admin", "Administrador", DEMO_PASSWORD)
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
            "encounter",
            "passwd",
            "site.mode",
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
    central.sites.provision(admin, DEMO_SITE, site, site_url)

    env.say(_("4. Mission starts: central leases the site's data (mode MSN), the laptop records it"))
    central.sites.set_mode(admin, DEMO_SITE, SiteMode.ON_MISSION)
    site.sites.receive_site_record(central)
    central.auth.logout(admin)
    central.close()

    env.say(_("5. Login as coordinador on the laptop"))
    actor, _ticket = site.auth.resume(site.auth.login("coordinador", DEMO_PASSWORD))

    env.say(_("6. Registering {n} patients").format(n=patients))
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
        _("6b. The coordinator's agenda for today: {n} appointments booked and confirmed").format(
            n=len(booked)
        )
    )
    show_agenda(env, site.agendas.show(actor, "coordinador", site.core.clock.today()), as_json=False)
    env.say(_("7. A mission day: each patient is seen, with a report, a service and a diagnosis"))
    consultations = EncounterFaker(seed=seed)
    prescriptions = []
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
    # -- service vouchers on the laptop, invoices on central --
    today = site.core.clock.today()
    vouchers = demo_billing.vouchers_on_mission(site, actor, [row.chart_number for row in rows], today)
    env.say(
        _("7c. Payer contracts assigned; {n} service vouchers issued on the laptop").format(n=len(vouchers))
    )
    site.auth.logout(actor)
    central = open_brigada(central_url)
    admin, _admin_ticket = central.auth.resume(central.auth.login("admin", DEMO_PASSWORD))
    invoices = demo_billing.invoice_on_central(central, admin, site, DEMO_SITE, today)
    env.say(
        _("8. Central: the vouchers copied from the laptop become invoices {first} to {last}").format(
            first=invoices[0] if invoices else "-", last=invoices[-1] if invoices else "-"
        )
    )
    central.auth.logout(admin)
    central.close()
    site.close()
    env.say(
        _("Done. Try: brigada --store {store} login coordinador (password: {password})").format(
            store=site_url, password=DEMO_PASSWORD
        )
    )


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

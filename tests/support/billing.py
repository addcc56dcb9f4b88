"""Billing stores: a central store with a catalog, a price list, a patient with a payer
contract, finalized visits, and site BRG01's laptop on mission."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from application.brigada import Brigada
from application.context import Actor
from application.replication import copy_aggregates
from domain.security import menu
from domain.sites.site import SiteMode
from projections.pharmacy.orders import DIAGNOSTIC, PRESCRIPTION, REQUEST, SERVICE_ORDER, SURGERY
from tests.support.security import ADMIN_PASSWORD, ANA_PASSWORD, log_in
from tests.support.sites import JOSE, set_site_mode

OpenStore = Callable[..., Brigada]
ORDER_KINDS = (PRESCRIPTION, SERVICE_ORDER, DIAGNOSTIC, SURGERY, REQUEST)
PAYER = "900123456"
CONTRACT = "EVT-2026"
CONSULTATION = "890201"
HEMOGRAM = "902210"
UNPRICED = "869500"
APPENDECTOMY = "470100"
PRICES = {CONSULTATION: "35000", HEMOGRAM: "12500.50", APPENDECTOMY: "850000"}
CONTRACT_DATA: dict[str, Any] = {
    "payer_nit": PAYER,
    "payer_name": "EPS Río",
    "contract_number": CONTRACT,
    "regime": "subsidiado",
    "coverage_status": "04",
    "payment_model": "evento",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
}


def billing_central(open_store: OpenStore, url: str) -> tuple[Brigada, Actor]:
    """Central with four CUPS services, prices for all but UNPRICED under the contract, site BRG01."""
    central = open_store(url)
    central.setup.initialize("central", "CEN", "admin", "Administrador", ADMIN_PASSWORD)
    admin = log_in(central, "admin", ADMIN_PASSWORD)
    for code, name in (
        (CONSULTATION, "Consulta general"),
        (HEMOGRAM, "Hemograma"),
        (UNPRICED, "Sutura"),
        (APPENDECTOMY, "Apendicectomía"),
    ):
        central.catalog.add_service(admin, {"code": code, "name": name})
    for code, value in PRICES.items():
        central.catalog.set_price(
            admin, {"payer_nit": PAYER, "contract": CONTRACT, "code": code, "unit_value": value}
        )
    central.sites.register(admin, {"code": "BRG01", "name": "Brigada", "warehouses": ["BRG01-FARMACIA"]})
    return central, admin


def insured_patient(brigada: Brigada, actor: Actor, details: dict[str, Any] | None = None) -> str:
    chart = brigada.patients.register(actor, details or JOSE).chart_number
    brigada.contracts.add(actor, chart, CONTRACT_DATA)
    return chart


def finalized_visit(
    brigada: Brigada,
    actor: Actor,
    chart: str,
    services: tuple[tuple[str, int], ...] = ((CONSULTATION, 1),),
    surgeries: tuple[str, ...] = (),
) -> str:
    """A visit with these services and surgeries (CUPS, done today by ``actor``), finalized."""
    number = brigada.encounters.open(actor, {"chart_number": chart}).number
    for code, quantity in services:
        brigada.encounters.add_service(actor, number, {"cups": code, "quantity": quantity})
    for code in surgeries:
        brigada.orders.link_surgery(
            actor, number, {"cups": code, "date": "2026-03-01", "surgeon": actor.username}
        )
    brigada.encounters.set_diagnosis(actor, number, {"code": "I10X"})
    brigada.encounters.set_diagnosis(actor, number, {"code": "E119", "role": "related"})
    brigada.encounters.finalize(actor, number)
    return number


def add_series(brigada: Brigada, admin: Actor, prefix: str = "FE", first: int = 1, last: int = 5000) -> None:
    brigada.invoicing.add_series(
        admin,
        {
            "prefix": prefix,
            "first": first,
            "last": last,
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
        },
    )


def comments(brigada: Brigada, action: str) -> list[str]:
    """The activity log's comments for an action, oldest first."""
    rows = brigada.views.store("activity_log").find(order_by="position", action=action)
    return [row.comment for row in rows]


def laptop_on_mission(
    central: Brigada, admin: Actor, open_store: OpenStore, folder: Path
) -> tuple[Brigada, Actor]:
    """Site BRG01's laptop, provisioned from central and on mission, with ana (every option)
    logged in there."""
    central.users.create(admin, {"username": "ana", "full_name": "Ana"}, ANA_PASSWORD)
    central.users.change_access(admin, "ana", grant=sorted(menu.EVERYTHING), revoke=[])
    central.users.change_sections(admin, "ana", ["visit", "services", "history"], [])
    laptop = open_store(f"sqlite:///{folder}/brg01.db")
    central.sites.provision(admin, "BRG01", laptop, "brg01")
    set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(central)
    return laptop, log_in(laptop, "ana", ANA_PASSWORD)


def back_on_site(central: Brigada, admin: Actor, laptop: Brigada, visit: str) -> None:
    """The site's visit and its orders reach central as the end-of-mission sync brings them; the
    site is back on site (INS), so central may voucher it."""
    row = laptop.encounters.encounters.by_number(visit)
    assert row is not None
    orders = [UUID(o.order_id) for kind in ORDER_KINDS for o in laptop.orders.queries.listing(kind, visit)]
    copy_aggregates(laptop.app, central.app, [UUID(row.encounter_id), *orders])
    set_site_mode(central, admin, "BRG01", SiteMode.ON_SITE)
    central.views.catch_up()

"""Helpers for the billing tests: a central store with a catalog, a price list, a patient with a
payer contract, and finalized visits (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from security_support import ADMIN_PASSWORD, log_in
from sites_support import JOSE, MARIA

from application.brigada import Brigada
from application.context import Actor

__all__ = ["ADMIN_PASSWORD", "JOSE", "MARIA", "log_in"]

OpenStore = Callable[..., Brigada]
PAYER = "900123456"
CONTRACT = "EVT-2026"
CONSULTATION = "890201"
HEMOGRAM = "902210"
UNPRICED = "869500"
PRICES = {CONSULTATION: "35000", HEMOGRAM: "12500.50"}
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
    """Central with three CUPS services, prices for two under the contract, site BRG01."""
    central = open_store(url)
    central.setup.initialize("central", "CEN", "admin", "Administrador", ADMIN_PASSWORD)
    admin = log_in(central, "admin", ADMIN_PASSWORD)
    for code, name in ((CONSULTATION, "Consulta general"), (HEMOGRAM, "Hemograma"), (UNPRICED, "Sutura")):
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
    brigada: Brigada, actor: Actor, chart: str, services: tuple[tuple[str, int], ...] = ((CONSULTATION, 1),)
) -> str:
    number = brigada.encounters.open(actor, {"chart_number": chart}).number
    for code, quantity in services:
        brigada.encounters.add_service(actor, number, {"cups": code, "quantity": quantity})
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

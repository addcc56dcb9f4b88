"""The demo's billing steps: prices, patients' payer contracts and vouchers on the laptop during
the mission, and central's invoices afterwards."""

from __future__ import annotations

from datetime import date

from application.brigada import Brigada
from application.context import Actor
from demo.inventory import IBUPROFEN, IV_SET, SALINE

PAYER, CONTRACT = "900123456", "BRG-2026"  # the price list demo.inventory starts
MORE_PRICES = ((IBUPROFEN, "300"), (SALINE, "8500"), (IV_SET, "4200"))


def price_the_rest(central: Brigada, admin: Actor) -> None:
    """Prices for what demo.inventory leaves unpriced; the laptop receives them at provisioning."""
    for code, value in MORE_PRICES:
        central.catalog.set_price(
            admin, {"payer_nit": PAYER, "contract": CONTRACT, "code": code, "unit_value": value}
        )


def payer_contract(today: date, payer_name: str) -> dict[str, object]:
    """The demo payer's contract ("evento", subsidized) for this calendar year."""
    return {
        "payer_nit": PAYER,
        "payer_name": payer_name,
        "contract_number": CONTRACT,
        "regime": "subsidiado",
        "coverage_status": "04",
        "payment_model": "evento",
        "valid_from": today.replace(month=1, day=1),
        "valid_to": today.replace(month=12, day=31),
    }


def vouchers_on_mission(site: Brigada, actor: Actor, charts: list[str], today: date) -> list[str]:
    """On the laptop (MSN): each patient gets the payer contract, then every finalized visit its
    voucher. Returns the voucher numbers."""
    for chart in charts:
        site.contracts.add(actor, chart, payer_contract(today, "EPS Río Magdalena"))
    finalized = [v for v in site.encounters.diary(actor) if v.state == "finalized"]
    return [site.vouchers.issue(actor, {"encounter": v.number}).number for v in reversed(finalized)]


def invoice_on_central(central: Brigada, admin: Actor, site_code: str, today: date) -> list[str]:
    """After the end-of-mission sync (the site is INS again, its vouchers merged): invoices from a
    numbering series valid this year. Returns the invoice numbers."""
    central.invoicing.add_series(
        admin,
        {
            "prefix": "FE",
            "first": 1,
            "last": 5000,
            "valid_from": today.replace(month=1, day=1),
            "valid_to": today.replace(month=12, day=31),
        },
    )
    return [row.number for row in central.invoicing.from_vouchers(admin, {"site": site_code})]

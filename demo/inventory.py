"""The demo's pharmacy and inventory: central stocks the site's field warehouse before the mission
(catalog, purchases, transfers while the site is INS); on the mission the pharmacy dispenses the
day's prescriptions (FEFO) and one ambulatory patient goes through request, dispensing, nursing
administration and the return of what was not applied."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from application.brigada import Brigada
from application.context import Actor

CENTRAL_WAREHOUSE = "CEN-FARMACIA"
ACETAMINOPHEN, AMOXICILLIN, IBUPROFEN = "19943528-1", "20001234-2", "19911543-3"
SALINE, IV_SET = "SSN-500", "EQV-01"
CONSULTATION = "890201"
CATALOG: list[dict[str, str]] = [
    {
        "kind": "medicine",
        "code": ACETAMINOPHEN,
        "name": "Acetaminofén",
        "form": "tableta",
        "concentration": "500 mg",
        "dispensing_unit": "tableta",
        "marketing_auth": "INVIMA 2015M-0016097",
    },
    {
        "kind": "medicine",
        "code": AMOXICILLIN,
        "name": "Amoxicilina",
        "form": "cápsula",
        "concentration": "500 mg",
        "dispensing_unit": "cápsula",
        "marketing_auth": "INVIMA 2019M-0012345",
    },
    {
        "kind": "medicine",
        "code": IBUPROFEN,
        "name": "Ibuprofeno",
        "form": "tableta",
        "concentration": "400 mg",
        "dispensing_unit": "tableta",
        "marketing_auth": "INVIMA 2016M-0004567",
    },
    {"kind": "supply", "code": SALINE, "name": "Solución salina 0,9 % 500 mL", "dispensing_unit": "bolsa"},
    {"kind": "supply", "code": IV_SET, "name": "Equipo de venoclisis", "dispensing_unit": "unidad"},
]
# (item, lot, days until expiry, units bought, units sent to the field warehouse)
LOTS = [
    (ACETAMINOPHEN, "AC2407", 150, 300, 60),  # expires first: FEFO dispenses it first
    (ACETAMINOPHEN, "AC2511", 600, 500, 100),
    (AMOXICILLIN, "AM2502", 400, 200, 60),
    (IBUPROFEN, "IB2503", 300, 200, 40),
    (SALINE, "SS2501", 700, 100, 20),
    (IV_SET, "EQ2412", 900, 100, 10),
]
PRESCRIPTIONS = [  # (item, dose, frequency, days, quantity), one per patient in turn
    (ACETAMINOPHEN, "500 mg", "cada 8 horas", 5, 15),
    (AMOXICILLIN, "500 mg", "cada 8 horas", 7, 21),
    (IBUPROFEN, "400 mg", "cada 12 horas", 3, 6),
]


def stock_the_site(central: Brigada, admin: Actor, site: str, field_warehouse: str, today: date) -> int:
    """Catalog, prices, purchases into central's warehouse, the site's field warehouse and the
    transfers into it (the site is INS). Returns the units transferred."""
    for entry in CATALOG:
        central.catalog.add_item(admin, entry)
    central.catalog.add_service(
        admin, {"code": CONSULTATION, "name": "Consulta de primera vez por medicina general"}
    )
    for code, value in ((CONSULTATION, "35000"), (ACETAMINOPHEN, "120"), (AMOXICILLIN, "450")):
        price = {"payer_nit": "900123456", "contract": "BRG-2026", "code": code, "unit_value": value}
        central.catalog.set_price(admin, price)
    central.inventory.create_warehouse(admin, {"code": CENTRAL_WAREHOUSE, "name": "Farmacia central"})
    central.inventory.create_warehouse(
        admin, {"code": field_warehouse, "name": "Farmacia de brigada", "site": site}
    )
    sent = 0
    for item, lot, days, bought, moved in LOTS:
        expiry = (today + timedelta(days=days)).isoformat()
        receipt = {
            "warehouse": CENTRAL_WAREHOUSE,
            "item": item,
            "lot": lot,
            "expiry": expiry,
            "quantity": bought,
        }
        central.inventory.receive(admin, {**receipt, "reference": "FAC-2026-001"})
        move = {
            "source": CENTRAL_WAREHOUSE,
            "target": field_warehouse,
            "item": item,
            "lot": lot,
            "quantity": moved,
        }
        central.inventory.transfer(admin, move)
        sent += moved
    return sent


def prescribe(site: Brigada, actor: Actor, visit: str, index: int) -> str | None:
    """Every other patient leaves with a prescription."""
    if index % 2:
        return None
    item, dose, frequency, days, quantity = PRESCRIPTIONS[(index // 2) % len(PRESCRIPTIONS)]
    data = {
        "item": item,
        "dose": dose,
        "route": "oral",
        "frequency": frequency,
        "days": days,
        "quantity": quantity,
    }
    return site.orders.prescribe(actor, visit, data).number


def dispense_prescriptions(site: Brigada, actor: Actor, numbers: list[str]) -> int:
    """The pharmacy dispenses each prescription in full, earliest-expiry lot first."""
    dispensed = 0
    for number in numbers:
        item = site.orders.show_prescription(actor, number).item
        result = site.pharmacy.dispense(actor, "prescription", number, {"item": item})
        dispensed += result.status.dispensed
    return dispensed


def ambulatory_chain(site: Brigada, actor: Actor, chart: str) -> dict[str, Any]:
    """An ambulatory patient: admitted, the request, the pharmacy's dispensing, nursing's
    administration, the return of what was not applied; then the visit is finalized and the
    patient discharged home."""
    admission = site.admissions.admit(
        actor, {"chart_number": chart, "kind": "ambulatory", "reason": "Deshidratación"}
    )
    visit = site.encounters.open(
        actor, {"chart_number": chart, "kind": "ambulatory", "reason": "Deshidratación"}
    )
    lines = [
        {"item": SALINE, "quantity": 3},
        {"item": IV_SET, "quantity": 1},
        {"item": ACETAMINOPHEN, "quantity": 4},
    ]
    number = site.pharmacy.request(actor, visit.number, {"lines": lines}).number
    for line in lines:
        site.pharmacy.dispense(actor, "request", number, {"item": line["item"]})
    site.pharmacy.administer(actor, number, {"item": SALINE, "quantity": 2})
    site.pharmacy.administer(actor, number, {"item": IV_SET, "quantity": 1})
    site.pharmacy.administer(actor, number, {"item": ACETAMINOPHEN, "quantity": 3})
    site.pharmacy.return_unused(actor, "request", number, {"item": SALINE, "quantity": 1})
    site.pharmacy.return_unused(actor, "request", number, {"item": ACETAMINOPHEN, "quantity": 1})
    site.encounters.set_diagnosis(actor, visit.number, {"code": "E86X"})
    site.encounters.finalize(actor, visit.number)
    site.admissions.discharge(actor, admission.number, {"condition": "01"})
    return {"visit": visit.number, "request": number}

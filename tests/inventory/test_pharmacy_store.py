"""The medication chain and the orders on a visit, on a laptop on mission (and on central): what
each command records, every refusal naming its rule with nothing written, and an activity log
that carries identifiers only."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from application.errors import UserNotFound
from application.replication import copy_aggregates
from domain.errors import InvalidValue
from domain.sites.site import SiteMode
from tests.support.inventory import (
    ACETAMINOPHEN,
    AMOXICILLIN,
    CHEST_XRAY,
    CONSULTATION,
    FIELD,
    HEMOGRAM,
    SALINE,
    SUTURE,
    Mission,
    on_hand,
    refused,
)
from tests.support.security import head

RESULT_TEXT = "Hemoglobina 13.2 g/dL, leucocitos normales"
DOSE, FREQUENCY = "500 mg", "cada 8 horas"


def prescribe(mission: Mission, visit: str, item: str = ACETAMINOPHEN, quantity: int = 40) -> str:
    data = {
        "item": item,
        "dose": DOSE,
        "route": "oral",
        "frequency": FREQUENCY,
        "days": 5,
        "quantity": quantity,
    }
    return mission.laptop.orders.prescribe(mission.ana, visit, data).number


def test_a_prescription_is_dispensed_fefo_across_lots_and_the_views_follow(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    number = prescribe(mission, mission.visit(), quantity=40)
    result = laptop.pharmacy.dispense(ana, "prescription", number, {"item": ACETAMINOPHEN})  # all that is due
    assert [(m.lot, m.quantity) for m in result.movements] == [("A1", 30), ("B2", 10)]  # A1 expires first
    assert (result.status.dispensed, result.status.pending) == (40, 0)
    assert on_hand(laptop, ana, FIELD, ACETAMINOPHEN) == {"B2": 40}
    [row] = laptop.pharmacy.listing(ana, "prescription")
    assert (row.number, row.dispensed, row.state) == (number, 40, "dispensed")
    kardex = laptop.inventory.kardex(ana, ACETAMINOPHEN)
    assert [(k.lot, k.movement, k.quantity, k.balance, k.reference) for k in kardex][-2:] == [
        ("A1", "dispense", -30, 50, f"FORM {number}"),
        ("B2", "dispense", -10, 40, f"FORM {number}"),
    ]
    view = laptop.orders.show_prescription(ana, number)
    assert (view.dose, view.frequency, view.days, view.dispensed) == (DOSE, FREQUENCY, 5, 40)
    refused(
        laptop,
        lambda: laptop.pharmacy.dispense(ana, "prescription", number, {"item": ACETAMINOPHEN, "quantity": 1}),
        f"{number}: 0 of {ACETAMINOPHEN} left to dispense (ordered 40, dispensed 40); 1 asked",
    )


def test_dispensing_more_than_in_stock_says_how_much_there_is_and_writes_nothing(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    number = prescribe(mission, mission.visit(), quantity=100)
    refused(
        laptop,
        lambda: laptop.pharmacy.dispense(
            ana, "prescription", number, {"item": ACETAMINOPHEN, "quantity": 81}
        ),
        f"{FIELD} has 80 of {ACETAMINOPHEN} in lots not expired; 81 asked",
    )
    refused(
        laptop,
        lambda: laptop.pharmacy.dispense(
            ana, "prescription", number, {"item": ACETAMINOPHEN, "quantity": 31, "lot": "A1"}
        ),
        f"{FIELD} has 30 of {ACETAMINOPHEN} in lot A1; 31 asked",
    )
    assert on_hand(laptop, ana, FIELD, ACETAMINOPHEN) == {"A1": 30, "B2": 50}


def test_an_expired_lot_is_blocked_naming_its_date_and_fefo_skips_it(mission: Mission, clock: object) -> None:
    laptop, ana = mission.laptop, mission.ana
    number = prescribe(mission, mission.visit(), quantity=10)
    clock.advance(days=310)  # type: ignore[attr-defined]  # 2027-01-05: lot A1 expired on 2026-12-31
    laptop.dates.confirm(ana, clock.today())  # type: ignore[attr-defined]  # months later: confirmed
    refused(
        laptop,
        lambda: laptop.pharmacy.dispense(ana, "prescription", number, {"item": ACETAMINOPHEN, "lot": "A1"}),
        f"lot A1 of {ACETAMINOPHEN} expired on 2026-12-31: it cannot be dispensed",
    )
    result = laptop.pharmacy.dispense(ana, "prescription", number, {"item": ACETAMINOPHEN})
    assert [(m.lot, m.quantity) for m in result.movements] == [("B2", 10)]
    stock = laptop.inventory.stock(ana, FIELD, ACETAMINOPHEN)
    assert [(s.lot, s.expired) for s in stock] == [("A1", True), ("B2", False)]


def test_the_ambulatory_chain_request_dispense_administer_return(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    visit = mission.visit("ambulatory")
    lines = [{"item": SALINE, "quantity": 4}, {"item": AMOXICILLIN, "quantity": 6}]
    request = laptop.pharmacy.request(ana, visit, {"lines": lines})
    assert (request.code, request.quantity, request.state) == (f"{AMOXICILLIN} {SALINE}", 10, "pending")
    number = request.number

    laptop.pharmacy.dispense(ana, "request", number, {"item": SALINE})
    laptop.pharmacy.dispense(ana, "request", number, {"item": AMOXICILLIN, "quantity": 2})
    given = laptop.pharmacy.administer(ana, number, {"item": SALINE, "quantity": 3})
    assert (given.status.administered, given.status.in_hand) == (3, 1)
    refused(
        laptop,
        lambda: laptop.pharmacy.administer(ana, number, {"item": SALINE, "quantity": 2}),
        f"{number}: 1 of {SALINE} from lot S1 dispensed and not yet administered or returned; 2 asked",
    )
    back = laptop.pharmacy.return_unused(ana, "request", number, {"item": SALINE, "quantity": 1})
    assert (back.movements[0].lot, back.status.returned, back.status.in_hand) == ("S1", 1, 0)
    refused(
        laptop,
        lambda: laptop.pharmacy.return_unused(ana, "request", number, {"item": SALINE, "quantity": 1}),
        f"{number}: no {SALINE} dispensed is waiting to be administered or returned",
    )
    assert on_hand(laptop, ana, FIELD, SALINE) == {"S1": 7}  # 10 - 4 dispensed + 1 returned
    status = {s.item: s for s in laptop.pharmacy.show(ana, "request", number)}
    assert (status[SALINE].dispensed, status[SALINE].administered, status[SALINE].returned) == (4, 3, 1)
    assert (status[AMOXICILLIN].dispensed, status[AMOXICILLIN].pending) == (2, 4)
    [row] = laptop.pharmacy.listing(ana, "request", visit)
    assert (row.dispensed, row.administered, row.returned, row.state) == (6, 3, 1, "partial")


def test_a_request_is_for_an_ambulatory_visit_and_its_items_are_stocked(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    outpatient = mission.visit()
    refused(
        laptop,
        lambda: laptop.pharmacy.request(ana, outpatient, {"lines": [{"item": SALINE, "quantity": 1}]}),
        f"visit {outpatient} is not an ambulatory hospitalization: "
        "requesting medicines and supplies is not possible",
    )
    ambulatory = mission.visit("ambulatory")
    refused(
        laptop,
        lambda: laptop.pharmacy.request(ana, ambulatory, {"lines": [{"item": CONSULTATION, "quantity": 1}]}),
        f"{CONSULTATION} is a service: it is not stocked, prescribed or dispensed",
    )


def test_orders_on_a_deleted_visit_are_refused(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    visit = mission.visit()
    laptop.encounters.delete(ana, visit)
    refused(
        laptop,
        lambda: prescribe(mission, visit),
        f"visit {visit} is deleted: prescribing is not possible",
    )
    refused(
        laptop,
        lambda: laptop.orders.order_service(ana, visit, {"cups": HEMOGRAM}),
        f"visit {visit} is deleted: ordering is not possible",
    )


def test_service_orders_diagnostic_services_and_surgeries_on_a_visit(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    visit = mission.visit()
    order = laptop.orders.order_service(ana, visit, {"cups": HEMOGRAM, "quantity": 2})
    assert (order.number, order.code, order.quantity, order.state) == ("BRG01-1", HEMOGRAM, 2, "ordered")
    study = laptop.orders.request_diagnostic(ana, visit, {"cups": CHEST_XRAY})
    assert laptop.orders.record_result(ana, study.number, RESULT_TEXT).state == "resulted"
    refused(
        laptop,
        lambda: laptop.orders.record_result(ana, study.number, "otra"),
        f"diagnostic service {study.number} already has its result (recorded on 2026-03-01)",
    )
    shown = laptop.orders.show_diagnostic(ana, study.number)
    assert (shown.result, shown.name) == (RESULT_TEXT, "Radiografía de tórax")
    surgery = laptop.orders.link_surgery(ana, visit, {"cups": SUTURE, "date": "2026-03-01", "surgeon": "ana"})
    assert (surgery.code, surgery.visit_number) == (SUTURE, visit)
    before = head(laptop)
    with pytest.raises(UserNotFound):
        laptop.orders.link_surgery(ana, visit, {"cups": SUTURE, "date": "2026-03-01", "surgeon": "nadie"})
    with pytest.raises(InvalidValue):
        laptop.orders.order_service(ana, visit, {"cups": "12345"})
    assert head(laptop) == before
    assert [r.number for r in laptop.orders.listing(ana, "service-order", visit)] == ["BRG01-1"]


def test_the_activity_log_names_the_chain_with_identifiers_and_never_clinical_text(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    visit = mission.visit("ambulatory")
    number = prescribe(mission, visit, quantity=5)
    laptop.pharmacy.dispense(ana, "prescription", number, {"item": ACETAMINOPHEN})
    study = laptop.orders.request_diagnostic(ana, visit, {"cups": CHEST_XRAY})
    laptop.orders.record_result(ana, study.number, RESULT_TEXT)
    laptop.orders.show_diagnostic(ana, study.number)
    rows = laptop.views.store("activity_log").all_rows()
    comments = {row.action: row.comment for row in rows}
    assert (
        comments["prescription.create"]
        == f"FORM={number} HIST=CEN-1 VISITA={visit} ITEM={ACETAMINOPHEN} CANT=5"
    )
    assert comments["prescription.dispense"] == (
        f"FORM={number} HIST=CEN-1 VISITA={visit} ITEM={ACETAMINOPHEN} BODEGA={FIELD} LOTE=A1 CANT=5"
    )
    assert (
        comments["inventory.dispense"] == f"BODEGA={FIELD} ITEM={ACETAMINOPHEN} LOTE=A1 CANT=5 FORM={number}"
    )
    assert comments["diagnostic.result"] == f"AYD={study.number} HIST=CEN-1 VISITA={visit}"
    assert comments["diagnostic.view"] == f"AYD={study.number} HIST=CEN-1 VISITA={visit}"
    logged = json.dumps([row.__dict__ for row in rows], ensure_ascii=False)
    for clinical in (RESULT_TEXT, DOSE, FREQUENCY):
        assert clinical not in logged


ONLY_TRANSFERS = (
    "Central may only transfer medicines and supplies to and from BRG01-FARMACIA, a field warehouse of "
    "site BRG01 (not: Pharmacy dispensing)"
)


def test_central_may_not_touch_a_field_warehouse_or_the_sites_visits_while_on_mission(
    mission: Mission,
) -> None:
    central, admin = mission.central, mission.admin
    visit = central.encounters.open(admin, {"chart_number": "CEN-1"}).number
    data = {
        "item": ACETAMINOPHEN,
        "dose": DOSE,
        "route": "oral",
        "frequency": FREQUENCY,
        "days": 1,
        "quantity": 2,
    }
    number = central.orders.prescribe(admin, visit, data).number
    refused(
        central,
        lambda: central.pharmacy.dispense(
            admin, "prescription", number, {"item": ACETAMINOPHEN, "warehouse": FIELD}
        ),
        ONLY_TRANSFERS,
    )
    result = central.pharmacy.dispense(admin, "prescription", number, {"item": ACETAMINOPHEN})
    # Central's only ordinary warehouse serves by default, A1 (earliest expiry) first.
    assert [(m.warehouse, m.lot, m.quantity) for m in result.movements] == [("CEN-FARMACIA", "A1", 2)]

    # A visit of the site's, as a sync would bring it: central orders on it only once the site is back.
    laptop_visit = mission.visit()
    row = mission.laptop.encounters.encounters.by_number(laptop_visit)
    assert row is not None
    copy_aggregates(mission.laptop.app, central.app, [UUID(row.encounter_id)])
    central.views.catch_up()
    refused(
        central,
        lambda: central.orders.prescribe(admin, laptop_visit, data),
        "Site BRG01 is on mission (MSN): central cannot change its data until it syncs",
    )
    mission.set_mode(SiteMode.ON_SITE)
    assert central.orders.prescribe(admin, laptop_visit, data).visit_number == laptop_visit
    # On site (INS) too, central only transfers to and from the field warehouse (seed 000).
    refused(
        central,
        lambda: central.pharmacy.dispense(
            admin, "prescription", number, {"item": ACETAMINOPHEN, "warehouse": FIELD}
        ),
        ONLY_TRANSFERS,
    )

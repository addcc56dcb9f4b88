"""Given / when / then for the orders hanging from a visit: prescriptions, supply requests and
their medication chain, service orders, diagnostic services and surgeries (domain only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import uuid4

import pytest

from domain.clinical.encounter import Encounter, EncounterClosed, EncounterKind
from domain.context import recording
from domain.errors import InvalidValue
from domain.pharmacy.catalog import CatalogItem, ItemKind, NotStocked
from domain.pharmacy.clinical_order import NotAmbulatory, VisitRef, visit_of
from domain.pharmacy.diagnostic_service import DiagnosticService, ResultAlreadyRecorded
from domain.pharmacy.dispensing import dispense, return_unused
from domain.pharmacy.medication_ledger import (
    LotNotDispensed,
    MoreThanInHand,
    MoreThanPending,
    NothingInHand,
    NotOrdered,
)
from domain.pharmacy.prescription import Prescription, Route
from domain.pharmacy.service_order import ServiceOrder
from domain.pharmacy.stock_lot import LotExpired, StockLot, StockSource
from domain.pharmacy.supply_request import SupplyRequest
from domain.pharmacy.surgery import Surgery
from domain.security.locks import LockSettings
from tests.support.given_when_then import context, events_of, given, replayed, when
from tests.support.inventory import ACETAMINOPHEN, AMOXICILLIN, SALINE

TODAY = date(2026, 3, 1)
VISIT = VisitRef(uuid4(), "BRG01-7", uuid4(), "CEN-1")


def item(code: str, kind: ItemKind = ItemKind.MEDICINE) -> CatalogItem:
    with recording(context()):
        return CatalogItem.add(kind, code, code, "tableta", "500 mg", "unidad")


def service(code: str = "902210") -> CatalogItem:
    with recording(context()):
        return CatalogItem.add(ItemKind.SERVICE, code, "Hemograma")


def stock(code: str, lot: str = "A1", on_hand: int = 100, expiry: date = date(2026, 12, 31)) -> StockLot:
    def make() -> StockLot:
        return StockLot(warehouse="BRG01-FARMACIA", item=code, lot=lot, expiry=expiry)

    return given(make, lambda s: s.receive(on_hand, StockSource.TRANSFER, "TRA CEN-1"))


def prescription(quantity: int = 20) -> Prescription:
    medicine = item(ACETAMINOPHEN)
    return given(
        lambda: Prescription.prescribe(
            "BRG01-1", VISIT, medicine, "500 mg", Route.ORAL, "cada 8 horas", 5, quantity, "ana"
        )
    )


def request(**lines: int) -> SupplyRequest:
    wanted = [
        (item(code, ItemKind.SUPPLY if code == SALINE else ItemKind.MEDICINE), q) for code, q in lines.items()
    ]
    return given(lambda: SupplyRequest.request("BRG01-3", VISIT, wanted, "ana"))


def dispensed(
    order: Prescription | SupplyRequest, *plan: tuple[StockLot, int]
) -> Sequence[Prescription.Dispensed | SupplyRequest.Dispensed]:
    with recording(context()):
        dispense(order, list(plan), TODAY)
    if isinstance(order, Prescription):
        return events_of(Prescription.Dispensed, order.collect_events())
    return events_of(SupplyRequest.Dispensed, order.collect_events())


# -- prescriptions ------------------------------------------------------------------------------
def test_a_prescription_names_the_item_dose_route_frequency_duration_and_quantity() -> None:
    medicine = item(ACETAMINOPHEN)
    with recording(context()):
        made = Prescription.prescribe(
            "BRG01-1", VISIT, medicine, "500 mg", Route.ORAL, "cada 8 horas", 5, 15, "ana"
        )
    [prescribed] = made.collect_events()
    assert isinstance(prescribed, Prescription.Prescribed)
    assert (prescribed.item, prescribed.dose, prescribed.route, prescribed.frequency) == (
        ACETAMINOPHEN,
        "500 mg",
        Route.ORAL,
        "cada 8 horas",
    )
    assert (prescribed.duration_days, prescribed.quantity, prescribed.visit_number) == (5, 15, "BRG01-7")
    assert made.reference == "FORM BRG01-1"
    assert replayed([prescribed]).ledger.pending(ACETAMINOPHEN) == 15


def test_a_service_cannot_be_prescribed_and_durations_are_bounded() -> None:
    with recording(context()), pytest.raises(NotStocked):
        Prescription.prescribe("BRG01-1", VISIT, service(), "1", Route.ORAL, "una vez", 1, 1, "ana")
    with recording(context()), pytest.raises(InvalidValue) as refused:
        Prescription.prescribe(
            "BRG01-1", VISIT, item(ACETAMINOPHEN), "1", Route.ORAL, "una vez", 366, 1, "ana"
        )
    assert refused.value.field == "days"


def test_dispensing_a_prescription_records_each_lot_and_decrements_it() -> None:
    order, first, second = prescription(20), stock(ACETAMINOPHEN, "A1", 12), stock(ACETAMINOPHEN, "B2", 50)
    events = dispensed(order, (first, 12), (second, 8))
    assert [(e.lot, e.quantity) for e in events] == [("A1", 12), ("B2", 8)]
    lots = events_of(StockLot.Dispensed, [*first.collect_events(), *second.collect_events()])
    assert [e.reference for e in lots] == ["FORM BRG01-1"] * 2
    assert (first.on_hand, second.on_hand, order.ledger.pending(ACETAMINOPHEN)) == (0, 42, 0)


def test_no_more_than_prescribed_minus_already_dispensed() -> None:
    order, lot = prescription(20), stock(ACETAMINOPHEN)
    dispensed(order, (lot, 15))
    lot.collect_events()
    with recording(context()), pytest.raises(MoreThanPending) as refused:
        dispense(order, [(lot, 6)], TODAY)
    assert (
        str(refused.value)
        == f"BRG01-1: 5 of {ACETAMINOPHEN} left to dispense (ordered 20, dispensed 15); 6 asked"
    )
    assert order.collect_events() == [] and lot.collect_events() == [] and lot.on_hand == 85


def test_an_item_not_on_the_order_is_not_dispensed() -> None:
    order, lot = prescription(), stock(AMOXICILLIN)
    with recording(context()), pytest.raises(NotOrdered) as refused:
        dispense(order, [(lot, 1)], TODAY)
    assert str(refused.value) == f"BRG01-1 does not include {AMOXICILLIN}"


def test_an_expired_lot_is_never_dispensed_even_when_named() -> None:
    order, expired = prescription(), stock(ACETAMINOPHEN, "Z0", 10, date(2026, 2, 1))
    with recording(context()), pytest.raises(LotExpired):
        dispense(order, [(expired, 1)], TODAY)
    assert order.collect_events() == [] and expired.on_hand == 10


# -- supply requests and the medication chain ---------------------------------------------------
def test_a_request_has_lines_of_medicines_and_supplies() -> None:
    made = request(**{SALINE: 3, AMOXICILLIN: 6})
    assert made.lines == {SALINE: 3, AMOXICILLIN: 6}
    with recording(context()), pytest.raises(InvalidValue):
        SupplyRequest.request("BRG01-4", VISIT, [], "ana")
    twice = [(item(SALINE, ItemKind.SUPPLY), 1), (item(SALINE, ItemKind.SUPPLY), 2)]
    with recording(context()), pytest.raises(InvalidValue):
        SupplyRequest.request("BRG01-4", VISIT, twice, "ana")


def test_dispense_administer_and_return_what_was_not_applied_to_its_lot() -> None:
    order, lot = request(**{SALINE: 5}), stock(SALINE, "S1", 10)
    dispensed(order, (lot, 5))
    tally = order.ledger.in_hand(SALINE, None)
    [administered] = when(order, lambda o: o.administer(tally, 3, lot.expiry, TODAY))
    assert (administered.lot, administered.quantity) == ("S1", 3)
    with recording(context()):
        return_unused(order, order.ledger.in_hand(SALINE, "s1"), lot, 2)
    [returned] = events_of(SupplyRequest.Returned, order.collect_events())
    [back] = events_of(StockLot.Returned, lot.collect_events()[-1:])
    assert (returned.warehouse, returned.lot, returned.quantity) == ("BRG01-FARMACIA", "S1", 2)
    assert (back.quantity, back.reference, lot.on_hand) == (2, "SOL BRG01-3", 7)
    [final] = order.ledger.of_item(SALINE)
    assert (final.dispensed, final.administered, final.returned, final.in_hand) == (5, 3, 2, 0)


def test_nursing_administers_no_more_than_dispensed_and_not_yet_administered() -> None:
    order, lot = request(**{SALINE: 5}), stock(SALINE)
    with pytest.raises(NothingInHand):
        order.ledger.in_hand(SALINE, None)
    dispensed(order, (lot, 4))
    tally = order.ledger.in_hand(SALINE, None)
    when(order, lambda o: o.administer(tally, 3, lot.expiry, TODAY))
    tally = order.ledger.in_hand(SALINE, None)
    with recording(context()), pytest.raises(MoreThanInHand) as refused:
        order.administer(tally, 2, lot.expiry, TODAY)
    assert str(refused.value) == (
        f"BRG01-3: 1 of {SALINE} from lot A1 dispensed and not yet administered or returned; 2 asked"
    )
    with recording(context()), pytest.raises(MoreThanInHand):
        order.return_unused(tally, 2)
    with pytest.raises(LotNotDispensed):
        order.ledger.in_hand(SALINE, "B2")


def test_nothing_is_administered_from_an_expired_lot() -> None:
    order, lot = request(**{SALINE: 2}), stock(SALINE, expiry=TODAY)
    dispensed(order, (lot, 2))
    with recording(context()), pytest.raises(LotExpired) as refused:
        order.administer(order.ledger.in_hand(SALINE, None), 1, lot.expiry, date(2026, 3, 2))
    assert "it cannot be administered" in str(refused.value)


def test_with_two_lots_in_hand_the_lot_must_be_named() -> None:
    order, first, second = request(**{SALINE: 4}), stock(SALINE, "S1", 2), stock(SALINE, "S2", 10)
    dispensed(order, (first, 2), (second, 2))
    with pytest.raises(InvalidValue) as refused:
        order.ledger.in_hand(SALINE, None)
    assert str(refused.value) == f"{SALINE} of BRG01-3 came from lots S1, S2: name one"
    assert order.ledger.in_hand(SALINE, "S2").lot == "S2"


def test_a_rebuilt_request_has_the_same_tallies() -> None:
    order, lot = request(**{SALINE: 5, AMOXICILLIN: 1}), stock(SALINE)
    with recording(context()):
        made = SupplyRequest.request("BRG01-9", VISIT, [(item(SALINE, ItemKind.SUPPLY), 5)], "ana")
        dispense(made, [(lot, 5)], TODAY)
        made.administer(made.ledger.in_hand(SALINE, None), 4, lot.expiry, TODAY)
        made.return_unused(made.ledger.in_hand(SALINE, None), 1)
    rebuilt = replayed(made.collect_events())
    assert rebuilt.ledger.lots == made.ledger.lots
    assert order.ledger.pending(AMOXICILLIN) == 1


# -- service orders, diagnostic services, surgeries, the visit ----------------------------------
def test_a_service_order_is_a_cups_service_of_the_catalog() -> None:
    with recording(context()):
        ordered = ServiceOrder.order("BRG01-1", VISIT, service("890201"), 2, "ana")
        with pytest.raises(InvalidValue):
            ServiceOrder.order("BRG01-2", VISIT, item(ACETAMINOPHEN), 1, "ana")
        with pytest.raises(InvalidValue):
            ServiceOrder.order("BRG01-2", VISIT, service("890201"), 0, "ana")
    [event] = events_of(ServiceOrder.Ordered, ordered.collect_events())
    assert (event.cups_code, event.quantity, event.chart_number) == ("890201", 2, "CEN-1")


def test_a_diagnostic_service_is_requested_then_its_result_recorded_once() -> None:
    study = given(lambda: DiagnosticService.request("BRG01-1", VISIT, service(), "ana"))
    assert study.state == "requested"
    [recorded] = when(study, lambda s: s.record_result("Hemoglobina 13.2 g/dL", TODAY))
    assert (recorded.text, recorded.recorded_on, study.state) == ("Hemoglobina 13.2 g/dL", TODAY, "resulted")
    with pytest.raises(ResultAlreadyRecorded):
        study.record_result("otra", TODAY)
    fresh = given(lambda: DiagnosticService.request("BRG01-2", VISIT, service(), "ana"))
    with pytest.raises(InvalidValue):
        fresh.record_result("   ", TODAY)


def test_a_surgery_is_linked_with_its_procedure_date_and_surgeon() -> None:
    with recording(context()):
        linked = Surgery.link("BRG01-1", VISIT, TODAY, service("869500"), TODAY, "beto", TODAY)
        for when_done in (date(2026, 2, 28), date(2026, 3, 2)):  # before the visit, in the future
            with pytest.raises(InvalidValue):
                Surgery.link("BRG01-2", VISIT, TODAY, service("869500"), when_done, "beto", TODAY)
    [event] = events_of(Surgery.Linked, linked.collect_events())
    assert (event.cups_code, event.performed_on, event.surgeon) == ("869500", TODAY, "beto")


def visit(kind: EncounterKind = EncounterKind.OUTPATIENT) -> Encounter:
    return given(lambda: Encounter("BRG01-7", uuid4(), "CEN-1", kind, TODAY, "ana", {}, None, None))


def test_orders_hang_from_a_visit_that_is_not_deleted() -> None:
    outpatient = visit()
    assert visit_of(outpatient, "prescribing").visit_number == "BRG01-7"
    with pytest.raises(NotAmbulatory) as refused:
        visit_of(outpatient, "requesting medicines and supplies", ambulatory_only=True)
    assert str(refused.value) == (
        "visit BRG01-7 is not an ambulatory hospitalization: "
        "requesting medicines and supplies is not possible"
    )
    assert visit_of(visit(EncounterKind.AMBULATORY), "x", ambulatory_only=True).chart_number == "CEN-1"
    when(outpatient, lambda e: e.delete(TODAY, LockSettings(), exempt=True))
    with pytest.raises(EncounterClosed) as closed:
        visit_of(outpatient, "prescribing")
    assert str(closed.value) == "visit BRG01-7 is deleted: prescribing is not possible"

"""Given / when / then for what a visit puts on its voucher (domain/billing/voucher_lines.py):
which RIPS array each line goes to, and what of the pharmacy chain is billed."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from hypothesis import given as for_all
from hypothesis import strategies as st

from domain.billing.service_voucher import LineKind, WantedLine, price_lines
from domain.billing.voucher_lines import (
    CONSULTATION_PREFIX,
    dispensed_lines,
    dispensed_net_of_returns,
    item_line,
    ordered_line,
    service_kind,
    service_lines,
)
from domain.clinical.encounter import Encounter, EncounterKind
from domain.pharmacy.catalog import CatalogItem, ItemKind
from domain.pharmacy.clinical_order import VisitRef
from domain.pharmacy.dispensing import dispense, return_unused
from domain.pharmacy.prescription import Prescription, Route
from domain.pharmacy.stock_lot import StockLot, StockSource
from domain.pharmacy.supply_request import SupplyRequest
from tests.support.given_when_then import TODAY, given, recorded

VISIT = VisitRef(uuid.uuid4(), "BRG01-7", uuid.uuid4(), "CEN-1")
CATALOG_NAMES = {"890201": "Consulta de primera vez", "902210": "Hemograma"}


def catalog_item(code: str, kind: ItemKind) -> CatalogItem:
    if kind is ItemKind.MEDICINE:
        return recorded(lambda: CatalogItem.add(kind, code, "Acetaminofén", "tableta", "500 mg", "tableta"))
    return recorded(lambda: CatalogItem.add(kind, code, "Solución salina", dispensing_unit="bolsa"))


ACETAMINOPHEN = catalog_item("19943528-1", ItemKind.MEDICINE)
SALINE = catalog_item("SSN-500", ItemKind.SUPPLY)
CATALOG = {item.code: item for item in (ACETAMINOPHEN, SALINE)}


def visit(*services: tuple[str, int, str], removed: tuple[str, ...] = ()) -> Encounter:
    def make() -> Encounter:
        made = Encounter(
            number="BRG01-7",
            patient_id=VISIT.patient_id,
            chart_number="CEN-1",
            kind=EncounterKind.AMBULATORY,
            visit_date=TODAY,
            professional="ana",
            visit_data={},
            appointment=None,
            admission=None,
        )
        for code, quantity, description in services:
            made.add_service(code, quantity, description)
        for line_id in removed:
            made.remove_service(line_id)
        return made

    return given(make)


def lot(code: str) -> StockLot:
    return given(
        lambda: StockLot(warehouse="BRG01-FARMACIA", item=code, lot="A1", expiry=date(2026, 12, 31)),
        lambda s: s.receive(100, StockSource.TRANSFER, "TRA CEN-1"),
    )


def prescription_dispensed(dispensed: int, returned: int) -> Prescription:
    """A prescription of 20 acetaminophen tablets, ``dispensed`` of them, ``returned`` back."""
    order = given(
        lambda: Prescription.prescribe(
            "BRG01-1", VISIT, ACETAMINOPHEN, "500 mg", Route.ORAL, "cada 8 horas", 5, 20, "ana"
        )
    )
    stock = lot(ACETAMINOPHEN.code)
    if dispensed:
        recorded(lambda: dispense(order, [(stock, dispensed)], TODAY))
    if returned:
        tally = order.ledger.in_hand(ACETAMINOPHEN.code, None)
        recorded(lambda: return_unused(order, tally, stock, returned))
    return order


# -- the visit's services --------------------------------------------------------------------------
def test_a_consultation_code_goes_to_consultations_and_any_other_service_to_procedures() -> None:
    lines = service_lines(visit(("890201", 1, "Consulta"), ("902210", 2, "")), CATALOG_NAMES.__getitem__)

    assert [(line.kind, line.code, line.quantity) for line in lines] == [
        (LineKind.CONSULTATION, "890201", 1),
        (LineKind.PROCEDURE, "902210", 2),
    ]


def test_a_service_recorded_without_a_description_takes_the_catalogs_name() -> None:
    [described, named] = service_lines(
        visit(("890201", 1, "Control"), ("902210", 1, "")), CATALOG_NAMES.__getitem__
    )

    assert (described.description, named.description) == ("Control", "Hemograma")


def test_a_service_removed_from_the_visit_is_not_on_its_voucher() -> None:
    lines = service_lines(
        visit(("890201", 1, "Consulta"), ("902210", 1, "Hemograma"), removed=("S1",)),
        CATALOG_NAMES.__getitem__,
    )

    assert [line.code for line in lines] == ["902210"]


@for_all(st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_a_service_is_a_consultation_exactly_when_its_cups_code_is_in_chapter_890(code: str) -> None:
    expected = LineKind.CONSULTATION if code[:3] == CONSULTATION_PREFIX else LineKind.PROCEDURE
    assert service_kind(code) is expected


# -- orders ----------------------------------------------------------------------------------------
def test_an_order_is_billed_as_a_procedure_at_least_once() -> None:
    assert ordered_line("902210", "Hemograma", 0) == WantedLine(
        LineKind.PROCEDURE, "902210", "Hemograma", 1, {}
    )
    assert ordered_line("902210", "Hemograma", 3).quantity == 3


# -- the pharmacy chain ----------------------------------------------------------------------------
def test_a_medicine_is_billed_for_what_was_dispensed_less_what_came_back() -> None:
    order = prescription_dispensed(dispensed=12, returned=5)

    [line] = dispensed_lines([order], CATALOG.__getitem__)

    assert line == WantedLine(
        LineKind.MEDICINE,
        ACETAMINOPHEN.code,
        "Acetaminofén",
        7,
        {"form": "tableta", "concentration": "500 mg", "unit": "tableta"},
    )


def test_what_came_back_whole_or_was_never_dispensed_is_not_billed() -> None:
    assert dispensed_net_of_returns(prescription_dispensed(dispensed=4, returned=4)) == {}
    assert dispensed_net_of_returns(prescription_dispensed(dispensed=0, returned=0)) == {}


def test_a_supply_goes_to_other_services_and_items_follow_their_orders() -> None:
    request = given(lambda: SupplyRequest.request("BRG01-3", VISIT, [(SALINE, 3), (ACETAMINOPHEN, 2)], "ana"))
    saline, tablets = lot(SALINE.code), lot(ACETAMINOPHEN.code)
    recorded(lambda: dispense(request, [(saline, 3)], TODAY))
    recorded(lambda: dispense(request, [(tablets, 2)], TODAY))
    prescribed = prescription_dispensed(dispensed=1, returned=0)

    lines = dispensed_lines([request, prescribed], CATALOG.__getitem__)

    assert [(line.kind, line.code, line.quantity) for line in lines] == [
        (LineKind.MEDICINE, ACETAMINOPHEN.code, 2),  # within an order, by item code
        (LineKind.OTHER, SALINE.code, 3),
        (LineKind.MEDICINE, ACETAMINOPHEN.code, 1),
    ]
    assert item_line(SALINE, 3).details == {"form": "", "concentration": "", "unit": "bolsa"}


@for_all(st.integers(0, 20), st.data())
def test_the_billed_quantity_is_always_dispensed_less_returned_and_never_zero_or_less(
    dispensed: int, data: st.DataObject
) -> None:
    returned = data.draw(st.integers(0, dispensed))
    net = dispensed_net_of_returns(prescription_dispensed(dispensed, returned))

    assert net == ({ACETAMINOPHEN.code: dispensed - returned} if dispensed > returned else {})


# -- priced --------------------------------------------------------------------------------------
WANTED = st.builds(
    WantedLine,
    st.sampled_from(LineKind),
    st.sampled_from(["890201", "902210", "869500", ACETAMINOPHEN.code]),
    st.just("x"),
    st.integers(1, 999),
    st.just({}),
)
PRICES = st.dictionaries(
    st.sampled_from(["890201", "902210", ACETAMINOPHEN.code]),
    st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
)


@for_all(st.lists(WANTED, max_size=12), PRICES)
def test_each_priced_line_is_its_tariff_times_its_quantity_and_an_unpriced_one_is_worth_nothing(
    wanted: list[WantedLine], prices: dict[str, Decimal]
) -> None:
    lines = price_lines(wanted, prices)

    assert [(line.kind, line.code, line.quantity) for line in lines] == [
        (w.kind, w.code, w.quantity) for w in wanted
    ]
    for line in lines:
        assert line.priced is (line.code in prices)
        assert line.total == (prices[line.code] * line.quantity if line.priced else Decimal(0))

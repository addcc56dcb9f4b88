"""Given / when / then for what dispensing takes when the pharmacist does not say: how many units
(all that is left) and from which warehouse (the only one that may serve, or the only one of those
holding the item) — domain/pharmacy/dispensing.py."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.pharmacy.catalog import CatalogItem, ItemKind
from domain.pharmacy.clinical_order import VisitRef
from domain.pharmacy.dispensing import default_quantity, default_warehouse, dispense
from domain.pharmacy.medication_ledger import MoreThanPending
from domain.pharmacy.prescription import Prescription, Route
from domain.pharmacy.stock_lot import StockLot, StockSource
from tests.support.given_when_then import TODAY, given, recorded, when

VISIT = VisitRef(uuid4(), "BRG01-7", uuid4(), "CEN-1")
MEDICINE = recorded(
    lambda: CatalogItem.add(ItemKind.MEDICINE, "19943528-1", "Acetaminofén", "tableta", "", "u")
)


def prescribed(quantity: int, dispensed: int = 0) -> Prescription:
    order = given(
        lambda: Prescription.prescribe(
            "BRG01-1", VISIT, MEDICINE, "1", Route.ORAL, "cada 8 horas", 5, quantity, "ana"
        )
    )
    if dispensed:
        recorded(lambda: dispense(order, [(stock(), dispensed)], TODAY))
        order.collect_events()
    return order


def stock() -> StockLot:
    return given(
        lambda: StockLot(warehouse="BRG01-FARMACIA", item=MEDICINE.code, lot="A1", expiry=date(2026, 12, 31)),
        lambda s: s.receive(500, StockSource.TRANSFER, "TRA CEN-1"),
    )


# -- how many --------------------------------------------------------------------------------------
def test_without_a_quantity_all_that_is_left_to_dispense_is_dispensed() -> None:
    order = prescribed(20, dispensed=8)

    quantity = default_quantity(order.ledger, MEDICINE.code, None)
    events = when(order, lambda o: dispense(o, [(stock(), quantity)], TODAY))

    assert quantity == 12
    assert [(type(e), e.quantity) for e in events] == [(Prescription.Dispensed, 12)]
    assert order.ledger.pending(MEDICINE.code) == 0


def test_a_quantity_asked_for_is_taken_as_it_is() -> None:
    assert default_quantity(prescribed(20).ledger, MEDICINE.code, 3) == 3


def test_an_item_already_served_defaults_to_one_unit_which_is_refused_as_more_than_pending() -> None:
    order = prescribed(5, dispensed=5)

    quantity = default_quantity(order.ledger, MEDICINE.code, None)

    assert quantity == 1
    with pytest.raises(MoreThanPending):
        when(order, lambda o: dispense(o, [(stock(), quantity)], TODAY))


@for_all(st.integers(1, 50), st.data())
def test_the_default_quantity_is_what_is_pending_and_never_less_than_one(
    ordered: int, data: st.DataObject
) -> None:
    dispensed = data.draw(st.integers(0, ordered))
    order = prescribed(ordered, dispensed)

    assert default_quantity(order.ledger, MEDICINE.code, None) == max(ordered - dispensed, 1)


# -- from where ------------------------------------------------------------------------------------
def test_the_only_warehouse_that_may_serve_is_taken_whatever_it_holds() -> None:
    assert default_warehouse(["BRG01-FARMACIA"], holding=set()) == "BRG01-FARMACIA"


def test_of_several_warehouses_the_only_one_holding_the_item_is_taken() -> None:
    own = ["BRG01-FARMACIA", "BRG01-URGENCIAS"]

    assert default_warehouse(own, holding={"BRG01-URGENCIAS", "CEN-FARMACIA"}) == "BRG01-URGENCIAS"


def test_several_warehouses_holding_the_item_must_be_named_and_the_refusal_lists_them() -> None:
    own = ["BRG01-FARMACIA", "BRG01-URGENCIAS", "BRG01-BODEGA"]

    with pytest.raises(InvalidValue) as refused:
        default_warehouse(own, holding={"BRG01-FARMACIA", "BRG01-URGENCIAS"})

    assert refused.value.params["choices"] == "BRG01-FARMACIA, BRG01-URGENCIAS"


def test_several_warehouses_none_holding_the_item_are_all_offered() -> None:
    with pytest.raises(InvalidValue) as refused:
        default_warehouse(["BRG01-FARMACIA", "BRG01-URGENCIAS"], holding=set())

    assert refused.value.params["choices"] == "BRG01-FARMACIA, BRG01-URGENCIAS"


def test_with_no_warehouse_that_may_serve_here_one_must_be_named() -> None:
    with pytest.raises(InvalidValue):
        default_warehouse([], holding={"CEN-FARMACIA"})


@for_all(
    st.lists(st.sampled_from(["W1", "W2", "W3", "W4"]), unique=True, max_size=4),
    st.sets(st.sampled_from(["W1", "W2", "W3", "W4", "X9"])),
)
def test_a_warehouse_chosen_by_default_is_always_one_that_may_serve_here(
    own: list[str], holding: set[str]
) -> None:
    try:
        chosen = default_warehouse(own, holding)
    except InvalidValue:
        assert len(own) != 1 and len([w for w in own if w in holding]) != 1
    else:
        assert chosen in own
        assert len(own) == 1 or chosen in holding

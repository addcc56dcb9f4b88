"""Given / when / then for the stock aggregates: catalog items, price lists, warehouses and stock
lots, FEFO and transfers (domain only, no store)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.context import recording
from domain.errors import DomainError, InvalidValue
from domain.pharmacy.catalog import CatalogItem, ItemKind, NotStocked, catalog_id
from domain.pharmacy.price_list import PriceList
from domain.pharmacy.stock_lot import (
    InsufficientStock,
    InsufficientUsableStock,
    LotExpired,
    StockLot,
    StockSource,
    fefo_plan,
    lot_id,
    transfer,
)
from domain.pharmacy.warehouse import FieldWarehouseEntry, NotListedOnSite, Warehouse, WarehouseKind
from domain.sites.site import SiteAction
from domain.sites.site_policy import OperationRefused
from tests.support.given_when_then import context, events_of, given, replayed, when
from tests.support.inventory import ACETAMINOPHEN

TODAY = date(2026, 3, 1)


def lot(
    code: str = "A1", expiry: date = date(2026, 12, 31), on_hand: int = 0, warehouse: str = "CEN"
) -> StockLot:
    def make() -> StockLot:
        return StockLot(warehouse=warehouse, item=ACETAMINOPHEN, lot=code, expiry=expiry)

    steps = [lambda s: s.receive(on_hand, StockSource.PURCHASE, "FAC-1")] if on_hand else []
    return given(make, *steps)


# -- catalog ------------------------------------------------------------------------------------
def test_a_medicine_is_added_with_its_cum_form_unit_and_invima_registration() -> None:
    with recording(context()):
        item = CatalogItem.add(
            ItemKind.MEDICINE, " 19943528-1 ", "Acetaminofén", "tableta", "500 mg", "tableta", "INVIMA X"
        )
    [added] = item.collect_events()
    assert isinstance(added, CatalogItem.Added)
    assert (added.code, added.kind, added.form, added.dispensing_unit) == (
        ACETAMINOPHEN,
        ItemKind.MEDICINE,
        "tableta",
        "tableta",
    )
    assert item.id == catalog_id(ItemKind.SUPPLY, ACETAMINOPHEN)  # medicines and supplies share codes
    assert item.id != catalog_id(ItemKind.SERVICE, ACETAMINOPHEN)


@pytest.mark.parametrize(
    ("kind", "code", "field"),
    [
        (ItemKind.MEDICINE, "ACETAMINOFEN", "code"),  # a CUM is expediente-consecutivo
        (ItemKind.SERVICE, "89020", "code"),  # a CUPS code has 6 digits
        (ItemKind.SUPPLY, "x", "code"),
    ],
)
def test_codes_follow_their_system(kind: ItemKind, code: str, field: str) -> None:
    with recording(context()), pytest.raises(InvalidValue) as refused:
        CatalogItem.add(kind, code, "Nombre", "tableta", "", "tableta")
    assert refused.value.field == field


def test_a_medicine_needs_its_form_and_dispensing_unit() -> None:
    with recording(context()), pytest.raises(InvalidValue) as refused:
        CatalogItem.add(ItemKind.MEDICINE, ACETAMINOPHEN, "Acetaminofén", "", "500 mg", "tableta")
    assert refused.value.field == "form"


def test_a_service_is_not_stocked() -> None:
    service = given(lambda: CatalogItem.add(ItemKind.SERVICE, "890201", "Consulta"))
    assert (service.dispensing_unit, service.marketing_auth) == ("", "")
    with pytest.raises(NotStocked):
        service.require_stocked()


def test_a_price_list_records_a_price_once_and_changes_it() -> None:
    prices = given(lambda: PriceList(payer_nit="900123456", contract="C-1"))
    [set_] = when(prices, lambda p: p.set_price("890201", Decimal("35000.00")))
    assert (set_.code, set_.unit_value) == ("890201", Decimal("35000.00"))
    assert when(prices, lambda p: p.set_price("890201", Decimal("35000"))) == []  # the same price: nothing
    assert len(when(prices, lambda p: p.set_price("890201", Decimal("36000")))) == 1
    with pytest.raises(InvalidValue):
        prices.set_price("890201", Decimal("-1"))
    with pytest.raises(InvalidValue):
        prices.set_price("890201", Decimal("0.001"))


# -- warehouses ---------------------------------------------------------------------------------
def test_a_field_warehouse_must_be_listed_on_its_sites_record() -> None:
    with recording(context()):
        with pytest.raises(NotListedOnSite) as refused:
            Warehouse.create("BRG01-BODEGA", "Bodega", "BRG01", ["BRG01-FARMACIA"])
        field = Warehouse.create("BRG01-FARMACIA", "Farmacia", "BRG01", ["BRG01-FARMACIA"])
        ordinary = Warehouse.create("CEN", "Central", None, None)
    assert "site BRG01 does not list field warehouse BRG01-BODEGA" in str(refused.value)
    assert (field.kind, field.site, ordinary.kind, ordinary.site) == (
        WarehouseKind.FIELD,
        "BRG01",
        WarehouseKind.ORDINARY,
        None,
    )


def test_entries_go_into_ordinary_warehouses_only() -> None:
    with recording(context()):
        field = Warehouse.create("BRG01-FARMACIA", "Farmacia", "BRG01", ["BRG01-FARMACIA"])
        ordinary = Warehouse.create("CEN", "Central", None, None)
    ordinary.require_entry()
    with pytest.raises(FieldWarehouseEntry) as refused:
        field.require_entry()
    assert str(refused.value) == (
        "BRG01-FARMACIA is a field warehouse of site BRG01: "
        "it receives stock by transfer only, never by an entry"
    )


def test_on_a_laptop_stock_moves_only_in_the_sites_own_field_warehouses() -> None:
    with recording(context()):
        own = Warehouse.create("BRG01-FARMACIA", "Farmacia", "BRG01", ["BRG01-FARMACIA"])
        other = Warehouse.create("OTHER-FARMACIA", "Otra", "OTHER", ["OTHER-FARMACIA"])
        ordinary = Warehouse.create("CEN", "Central", None, None)
    own.require_movable_on(on_central=False, site="BRG01")
    for warehouse in (ordinary, other, own):
        warehouse.require_movable_on(on_central=True, site="CEN")
    for warehouse in (ordinary, other):
        with pytest.raises(OperationRefused) as refused:
            warehouse.require_movable_on(on_central=False, site="BRG01")
        assert str(refused.value) == (
            "A disconnected environment may never do this: inventory movements in warehouses not marked "
            f"disconnected ({warehouse.code} is not a field warehouse of site BRG01)"
        )


@pytest.mark.parametrize("operation", [SiteAction.DISPENSING, SiteAction.RETURNS])
def test_central_only_transfers_with_a_field_warehouse(operation: SiteAction) -> None:
    """Given a field warehouse of BRG01 and an ordinary one, when central dispenses or takes a
    return there, then only the ordinary warehouse allows it; a transfer is allowed in both."""
    with recording(context()):
        field = Warehouse.create("BRG01-FARMACIA", "Farmacia", "BRG01", ["BRG01-FARMACIA"])
        ordinary = Warehouse.create("CEN", "Central", None, None)
    ordinary.require_movable_on(on_central=True, site="CEN", operation=operation)
    field.require_movable_on(on_central=True, site="CEN", operation=SiteAction.FIELD_TRANSFERS)
    with pytest.raises(OperationRefused) as refused:
        field.require_movable_on(on_central=True, site="CEN", operation=operation)
    assert str(refused.value).startswith(
        "Central may only transfer medicines and supplies to and from BRG01-FARMACIA, a field warehouse "
        "of site BRG01 (not: "
    )


# -- stock lots ---------------------------------------------------------------------------------
def test_a_lot_is_opened_and_receives_a_purchase() -> None:
    with recording(context()):
        opened = StockLot(warehouse="CEN", item=ACETAMINOPHEN, lot="A1", expiry=date(2026, 12, 31))
        opened.receive(100, StockSource.PURCHASE, "FAC-1")
    events = opened.collect_events()
    assert [type(e) for e in events] == [StockLot.Opened, StockLot.Received]
    assert opened.id == lot_id("cen", ACETAMINOPHEN, "a1")
    assert (opened.on_hand, opened.purchased) == (100, 100)
    assert replayed(events).on_hand == 100


def test_sending_more_than_on_hand_is_refused_with_how_much_there_is() -> None:
    stocked = lot(on_hand=10)
    with pytest.raises(InsufficientStock) as refused:
        stocked.send(11, "TRA CEN-1")
    assert str(refused.value) == f"CEN has 10 of {ACETAMINOPHEN} in lot A1; 11 asked"
    assert stocked.collect_events() == [] and stocked.on_hand == 10


def test_an_expired_lot_is_blocked_for_dispensing_naming_its_date() -> None:
    expired = lot(expiry=date(2026, 2, 28), on_hand=10)
    with pytest.raises(LotExpired) as refused:
        expired.dispense(1, "FORM BRG01-1", TODAY)
    assert str(refused.value) == f"lot A1 of {ACETAMINOPHEN} expired on 2026-02-28: it cannot be dispensed"
    lasts_today = lot(expiry=TODAY, on_hand=10)
    [dispensed] = when(lasts_today, lambda s: s.dispense(4, "FORM BRG01-1", TODAY))
    assert (dispensed.quantity, dispensed.reference, lasts_today.on_hand) == (4, "FORM BRG01-1", 6)


def test_a_receipt_naming_another_expiry_for_the_lot_is_refused() -> None:
    stocked = lot(on_hand=10)
    with pytest.raises(InvalidValue) as refused:
        stocked.require_expiry(date(2027, 1, 1))
    assert str(refused.value) == f"lot A1 of {ACETAMINOPHEN} expires on 2026-12-31"


@pytest.mark.parametrize("quantity", [0, -3, 1_000_001])
def test_quantities_are_whole_positive_dispensing_units(quantity: int) -> None:
    stocked = lot(on_hand=10)
    for command in (
        lambda: stocked.receive(quantity, StockSource.PURCHASE, ""),
        lambda: stocked.send(quantity, ""),
        lambda: stocked.dispense(quantity, "", TODAY),
        lambda: stocked.take_back(quantity, ""),
    ):
        with pytest.raises(InvalidValue):
            command()


def test_a_transfer_sends_from_one_lot_and_receives_into_the_same_lot_elsewhere() -> None:
    source = lot(on_hand=50)
    target = given(
        lambda: StockLot(warehouse="BRG01-FARMACIA", item=ACETAMINOPHEN, lot="A1", expiry=source.expiry)
    )
    with recording(context()):
        transfer(source, target, 30, "TRA CEN-1", TODAY, into_field=True)
    [sent] = events_of(StockLot.Sent, source.collect_events())
    [received] = events_of(StockLot.Received, target.collect_events())
    assert (sent.quantity, sent.reference) == (30, "TRA CEN-1")
    assert (received.quantity, received.source, received.reference) == (30, StockSource.TRANSFER, "TRA CEN-1")
    assert (source.on_hand, source.transferred_out, target.on_hand, target.transferred_in) == (20, 30, 30, 30)


def test_an_expired_lot_is_not_sent_to_a_field_warehouse_but_may_come_back() -> None:
    expired = lot(expiry=date(2026, 1, 31), on_hand=5)
    field = given(
        lambda: StockLot(warehouse="BRG01-FARMACIA", item=ACETAMINOPHEN, lot="A1", expiry=expired.expiry)
    )
    with recording(context()), pytest.raises(LotExpired):
        transfer(expired, field, 5, "TRA CEN-1", TODAY, into_field=True)
    with recording(context()), pytest.raises(InvalidValue):
        transfer(expired, expired, 5, "TRA CEN-1", TODAY, into_field=False)


def test_fefo_takes_the_earliest_expiry_not_expired_first_and_splits_across_lots() -> None:
    late, early, expired, empty = (
        lot("B2", date(2027, 6, 30), 200),
        lot("A1", date(2026, 12, 31), 100),
        lot("Z0", date(2026, 1, 31), 500),
        lot("C3", date(2026, 6, 30)),
    )
    plan = fefo_plan("CEN", ACETAMINOPHEN, [late, early, expired, empty], 120, TODAY)
    assert [(chosen.lot, quantity) for chosen, quantity in plan] == [("A1", 100), ("B2", 20)]
    assert [(c.lot, q) for c, q in fefo_plan("CEN", ACETAMINOPHEN, [late, early], 10, TODAY)] == [("A1", 10)]
    with pytest.raises(InsufficientUsableStock) as refused:
        fefo_plan("CEN", ACETAMINOPHEN, [late, early, expired], 301, TODAY)
    assert str(refused.value) == f"CEN has 300 of {ACETAMINOPHEN} in lots not expired; 301 asked"
    with pytest.raises(DomainError):
        fefo_plan("CEN", ACETAMINOPHEN, [], 1, TODAY)


def test_a_returned_unit_goes_back_on_hand() -> None:
    stocked = lot(on_hand=10)
    with recording(context()):
        stocked.dispense(4, "SOL BRG01-1", TODAY)
        stocked.take_back(1, "SOL BRG01-1")
    assert [type(e) for e in stocked.collect_events()] == [StockLot.Dispensed, StockLot.Returned]
    assert (stocked.on_hand, stocked.dispensed, stocked.returned) == (7, 4, 1)
    assert (
        stocked.purchased
        + stocked.transferred_in
        - stocked.transferred_out
        - stocked.dispensed
        + stocked.returned
        == 7
    )

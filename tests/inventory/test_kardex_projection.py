"""The kardex's read side without a database: one row per movement, keyed by log position, the
lot's warehouse, item, code and expiry learnt from its opening or read from the stock view."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.context import recording
from domain.pharmacy.stock_lot import StockLot, StockSource
from projections.base import InMemoryViews
from projections.pharmacy.kardex import KardexProjection, KardexRow
from projections.pharmacy.stock import StockProjection
from tests.support.given_when_then import context
from tests.support.inventory import ACETAMINOPHEN

EXPIRY = date(2026, 12, 31)


def opened_and_received() -> tuple[list[Any], list[Any]]:
    """A lot's opening, then a purchase of 30 and a dispensing of 4 in a later command."""
    with recording(context()):
        lot = StockLot(warehouse="CEN-FARMACIA", item=ACETAMINOPHEN, lot="A1", expiry=EXPIRY)
        opened = lot.collect_events()
        lot.receive(30, StockSource.PURCHASE, "FAC-1")
        lot.dispense(4, "FORM CEN-7", date(2026, 3, 1))
    return list(opened), list(lot.collect_events())


def fold(kardex: KardexProjection, events: list[Any], start: int) -> list[KardexRow]:
    rows = [kardex.apply_at(None, event, position) for position, event in enumerate(events, start)]
    return [row for row in rows if row is not None]


def test_a_movement_row_names_the_lot_its_opening_described() -> None:
    opened, moved = opened_and_received()
    rows = fold(KardexProjection(), opened + moved, start=1)
    assert [
        (r.position, r.warehouse, r.lot, r.expiry, r.movement, r.quantity, r.reference) for r in rows
    ] == [
        (2, "CEN-FARMACIA", "A1", EXPIRY, "purchase", 30, "FAC-1"),
        (3, "CEN-FARMACIA", "A1", EXPIRY, "dispense", -4, "FORM CEN-7"),
    ]


def test_a_kardex_that_did_not_see_the_opening_reads_the_lot_from_the_stock_view() -> None:
    opened, moved = opened_and_received()
    stock = InMemoryViews([StockProjection()], opened)
    rows = fold(KardexProjection(stock), moved, start=2)
    assert [(r.warehouse, r.item, r.lot, r.expiry) for r in rows] == [
        ("CEN-FARMACIA", ACETAMINOPHEN, "A1", EXPIRY)
    ] * 2


def test_a_lot_nobody_knows_is_shown_as_unknown() -> None:
    _opened, moved = opened_and_received()
    rows = fold(KardexProjection(InMemoryViews([StockProjection()])), moved, start=2)
    assert {(r.warehouse, r.item, r.lot, r.expiry) for r in rows} == {("?", "?", "?", date.min)}


def test_the_kardex_is_keyed_by_log_position_only() -> None:
    _opened, moved = opened_and_received()
    kardex = KardexProjection()
    assert kardex.key_at(moved[0], 41) == (41,)
    with pytest.raises(TypeError, match="log position"):
        kardex.key(moved[0])

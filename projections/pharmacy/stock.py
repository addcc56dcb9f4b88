"""Stock on hand: one row per lot (warehouse, item, lot) with its expiry and the tallies that make
up its balance (received + transferred in - transferred out - dispensed + returned)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from domain.pharmacy.stock_lot import StockLot, StockSource
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class StockRow:
    lot_id: str
    warehouse: str
    item: str
    lot: str
    expiry: date
    on_hand: int
    purchased: int
    transferred_in: int
    transferred_out: int
    dispensed: int
    returned: int
    updated_at: str


# movement event -> (tally it adds to, sign on the balance)
MOVEMENTS: dict[type, tuple[str, int]] = {
    StockLot.Sent: ("transferred_out", -1),
    StockLot.Dispensed: ("dispensed", -1),
    StockLot.Returned: ("returned", 1),
}


def movement_of(event: Any) -> tuple[str, int]:
    """The tally a lot's event adds to and its sign: ("purchased", 1), ("dispensed", -1)..."""
    if isinstance(event, StockLot.Received):
        return ("purchased" if event.source is StockSource.PURCHASE else "transferred_in", 1)
    return MOVEMENTS[type(event)]


class StockProjection(ByAggregate):
    name = "stock"
    version = 1
    topics = (
        StockLot.Opened.TOPIC,
        StockLot.Received.TOPIC,
        StockLot.Sent.TOPIC,
        StockLot.Dispensed.TOPIC,
        StockLot.Returned.TOPIC,
    )
    row_type = StockRow
    key_fields = ("lot_id",)
    indexes = (("warehouse", "item"), ("item", "expiry"))

    def apply(self, row: StockRow | None, event: Any) -> StockRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, StockLot.Opened):
            return StockRow(
                event.originator_id.hex,
                event.warehouse,
                event.item,
                event.lot,
                event.expiry,
                0,
                0,
                0,
                0,
                0,
                0,
                stamp,
            )
        if row is None:
            return None
        tally, sign = movement_of(event)
        return replace(
            row,
            on_hand=row.on_hand + sign * event.quantity,
            updated_at=stamp,
            **{tally: getattr(row, tally) + event.quantity},
        )


class StockQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def lots(
        self, warehouse: str | None = None, item: str | None = None, with_stock: bool = False
    ) -> list[StockRow]:
        """Lots by warehouse, item and expiry (earliest first)."""
        equals = {k: v for k, v in (("warehouse", warehouse), ("item", item)) if v}
        rows = self.rows.select(Query(equals=equals))
        rows.sort(key=lambda r: (r.warehouse, r.item, r.expiry, r.lot))
        return [r for r in rows if r.on_hand > 0] if with_stock else rows

    def in_warehouses(self, warehouses: list[str]) -> list[StockRow]:
        return [row for code in warehouses for row in self.lots(warehouse=code)]

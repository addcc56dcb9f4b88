"""The kardex: every stock movement, one row per event in log order, with its lot, signed
quantity and reference. The running balance per warehouse and item is summed when read (a
movement's balance is the sum of the movements before it), so a rebuilt kardex can never
disagree with an incremental one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.pharmacy.stock_lot import StockLot
from projections.base import ByLogPosition, OtherViews, Query, RowStore
from projections.pharmacy.stock import StockProjection, StockRow, movement_of

# Movement names in the kardex (stable codes; the CLI shows them translated).
KIND = {
    "purchased": "purchase",
    "transferred_in": "transfer-in",
    "transferred_out": "transfer-out",
    "dispensed": "dispense",
    "returned": "return",
}


@dataclass(frozen=True)
class KardexRow:
    position: int
    lot_id: str
    warehouse: str
    item: str
    lot: str
    expiry: date
    movement: str  # purchase | transfer-in | transfer-out | dispense | return
    quantity: int  # signed: + in, - out
    reference: str
    business_date: date
    recorded_at: str
    user: str


@dataclass(frozen=True)
class KardexLine:
    """A kardex row with the balance of its warehouse and item after it."""

    position: int
    business_date: date
    warehouse: str
    item: str
    lot: str
    expiry: date
    movement: str
    quantity: int
    balance: int
    reference: str
    user: str


class KardexProjection(ByLogPosition):
    name = "kardex"
    version = 2  # 2: the position is the table's key order (SQLite's rowid)
    topics = StockProjection.topics
    row_type = KardexRow
    indexes = (("item", "warehouse", "position"), ("warehouse", "position"))

    def __init__(self, views: OtherViews | None = None) -> None:
        # A lot's warehouse, item, code and expiry never change: learnt from its Opened event, or
        # read from the stock view when that event was folded by another process.
        self.views = views
        self.lots: dict[UUID, tuple[str, str, str, date]] = {}

    def row_at(self, event: Any, position: int) -> KardexRow | None:
        if isinstance(event, StockLot.Opened):
            self.lots[event.originator_id] = (event.warehouse, event.item, event.lot, event.expiry)
            return None
        warehouse, item, lot, expiry = self._lot(event.originator_id)
        tally, sign = movement_of(event)
        return KardexRow(
            position=position,
            lot_id=event.originator_id.hex,
            warehouse=warehouse,
            item=item,
            lot=lot,
            expiry=expiry,
            movement=KIND[tally],
            quantity=sign * event.quantity,
            reference=event.reference,
            business_date=event.context.business_date,
            recorded_at=event.context.recorded_at.isoformat(),
            user=event.context.user,
        )

    def _lot(self, lot_id: UUID) -> tuple[str, str, str, date]:
        if lot_id not in self.lots and self.views is not None:
            found: StockRow | None = self.views.find_one(StockProjection.name, lot_id=lot_id.hex)
            if found is not None:
                self.lots[lot_id] = (found.warehouse, found.item, found.lot, found.expiry)
        return self.lots.get(lot_id, ("?", "?", "?", date.min))


class KardexQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def kardex(self, item: str, warehouse: str | None = None) -> list[KardexLine]:
        """Every movement of the item (in one warehouse, or each warehouse's own running
        balance), oldest first."""
        equals = {"item": item, **({"warehouse": warehouse} if warehouse else {})}
        balances: dict[str, int] = {}
        lines = []
        for row in self.rows.select(Query(equals=equals, order_by="position")):
            balances[row.warehouse] = balances.get(row.warehouse, 0) + row.quantity
            lines.append(
                KardexLine(
                    row.position,
                    row.business_date,
                    row.warehouse,
                    row.item,
                    row.lot,
                    row.expiry,
                    row.movement,
                    row.quantity,
                    balances[row.warehouse],
                    row.reference,
                    row.user,
                )
            )
        return lines

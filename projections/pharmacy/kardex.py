"""The kardex: every stock movement, one row per event in log order, with its lot, signed
quantity and reference. The running balance per warehouse and item is summed when read (a
movement's balance is the sum of the movements before it), so a rebuilt kardex can never
disagree with an incremental one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from domain.pharmacy.stock_lot import StockLot
from projections.base import Key, Projection, Query, RowStore
from projections.pharmacy.stock import movement_of

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


class LotDirectory(Protocol):
    def attributes(self, aggregate_id: UUID, names: list[str]) -> dict[str, str] | None: ...


LOT_FIELDS = ["warehouse", "item", "lot", "expiry"]


class KardexProjection(Projection):
    name = "kardex"
    version = 2  # 2: the position is the table's key order (SQLite's rowid)
    topics = (
        StockLot.Opened.TOPIC,
        StockLot.Received.TOPIC,
        StockLot.Sent.TOPIC,
        StockLot.Dispensed.TOPIC,
        StockLot.Returned.TOPIC,
    )
    row_type = KardexRow
    key_fields = ("position",)
    appends = True
    indexes = (("item", "warehouse", "position"), ("warehouse", "position"))

    def __init__(self, directory: LotDirectory | None = None) -> None:
        # A lot's warehouse, item, code and expiry never change: learnt from its Opened event, or
        # read from the lot itself when that event was processed by another process.
        self.directory = directory
        self.lots: dict[UUID, tuple[str, str, str, date]] = {}

    def key(self, event: Any) -> Key:
        raise TypeError("the kardex is keyed by log position: use key_at")

    def key_at(self, event: Any, position: int) -> Key:
        return (position,)

    def apply(self, row: KardexRow | None, event: Any) -> KardexRow | None:
        raise TypeError("the kardex needs the log position: use apply_at")

    def apply_at(self, row: KardexRow | None, event: Any, position: int) -> KardexRow | None:
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
        if lot_id not in self.lots and self.directory is not None:
            found = self.directory.attributes(lot_id, LOT_FIELDS)
            if found is not None:
                self.lots[lot_id] = (
                    found["warehouse"],
                    found["item"],
                    found["lot"],
                    date.fromisoformat(found["expiry"]),
                )
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

"""Pharmacy movements that touch an order and stock lots at once: dispensing (the order's line
and the lots, FEFO unless a lot is named) and returns (back to the lot the units came from). The
application saves the order and the lots together, so the tallies and the stock never disagree."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from domain.pharmacy.medication_ledger import LotTally, MedicationLedger
from domain.pharmacy.stock_lot import StockLot, check_quantity


class MedicationOrder(Protocol):
    """A prescription or a supply request."""

    number: str
    ledger: MedicationLedger

    @property
    def reference(self) -> str: ...

    def dispense(self, item: str, warehouse: str, lot: str, quantity: int) -> None: ...

    def return_unused(self, tally: LotTally, quantity: int) -> None: ...


def dispense(order: MedicationOrder, plan: list[tuple[StockLot, int]], today: date) -> int:
    """Dispense the plan's (lot, quantity) pairs for the order; returns the units dispensed.
    The order's pending quantity is checked first, then each lot's expiry and stock; a refusal
    leaves everything unsaved (the caller saves only when this returns)."""
    if not plan:
        return 0
    item = plan[0][0].item
    total = sum(quantity for _lot, quantity in plan)
    check_quantity(total)
    order.ledger.check_dispense(item, total)
    for lot, quantity in plan:
        lot.dispense(quantity, order.reference, today)
        order.dispense(lot.item, lot.warehouse, lot.lot, quantity)
    return total


def return_unused(order: MedicationOrder, tally: LotTally, lot: StockLot, quantity: int) -> None:
    """What was not applied goes back to the lot it came from."""
    order.return_unused(tally, quantity)
    lot.take_back(quantity, order.reference)

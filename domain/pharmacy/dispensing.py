"""Pharmacy movements that touch an order and stock lots at once: dispensing (the order's line
and the lots, FEFO unless a lot is named) and returns (back to the lot the units came from). The
application saves the order and the lots together, so the tallies and the stock never disagree."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Protocol

from domain.errors import N_, InvalidValue
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


def default_quantity(ledger: MedicationLedger, item: str, wanted: int | None) -> int:
    """The quantity to dispense: the one asked for, else all that is left of the item (at least
    one, so that dispensing an item already served is refused as more than pending)."""
    return wanted or max(ledger.pending(item), 1)


def default_warehouse(own: list[str], holding: Collection[str]) -> str:
    """The warehouse to dispense from when none is named: the only one that may serve here
    (``own``), or, of several, the only one with the item in stock (``holding``)."""
    if len(own) > 1:
        own = [w for w in own if w in holding] or own
    if len(own) != 1:
        raise InvalidValue(
            "warehouse", N_("name the warehouse to dispense from: {choices}"), choices=", ".join(own)
        )
    return own[0]


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

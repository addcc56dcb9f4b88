"""Stock of one lot of one item in one warehouse, in dispensing units (notes/colombia-domain.md §6).

Each (warehouse, item, lot) is its own small aggregate with a deterministic id, so a dispensing
loads one lot, never a whole warehouse; the application snapshots long lots (see BrigadaApplication),
so loading stays flat however many movements a lot has had. Every movement names its reference
(the transfer, request or prescription number, or the purchase document).

The per-lot identity always holds: received + transferred in - transferred out - dispensed
+ returned = on hand, and on hand is never negative.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue

MAX_QUANTITY = 1_000_000


class StockSource(Enum):
    PURCHASE = "purchase"
    TRANSFER = "transfer"


STOCK_ENUMS: tuple[type[Enum], ...] = (StockSource,)


class InsufficientStock(DomainError):
    template = N_("{warehouse} has {available} of {item} in lot {lot}; {quantity} asked")


class InsufficientUsableStock(DomainError):
    template = N_("{warehouse} has {available} of {item} in lots not expired; {quantity} asked")


class LotExpired(DomainError):
    template = N_("lot {lot} of {item} expired on {expiry}: it cannot be {what}")


def check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidValue("quantity", N_("must be between 1 and {max}"), max=MAX_QUANTITY)


class StockLot(BrigadaAggregate):
    TOPIC = "brigada.StockLot"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.StockLot.Event"

    class Opened(BrigadaAggregate.Created):
        TOPIC = "brigada.StockLot.Opened"
        warehouse: str
        item: str
        lot: str
        expiry: date

    class Received(Event):
        TOPIC = "brigada.StockLot.Received"
        quantity: int
        source: StockSource
        reference: str

    class Sent(Event):
        TOPIC = "brigada.StockLot.Sent"
        quantity: int
        reference: str

    class Dispensed(Event):
        TOPIC = "brigada.StockLot.Dispensed"
        quantity: int
        reference: str

    class Returned(Event):
        TOPIC = "brigada.StockLot.Returned"
        quantity: int
        reference: str

    @staticmethod
    def create_id(warehouse: str, item: str, lot: str) -> UUID:
        return lot_id(warehouse, item, lot)

    @event(Opened)
    def __init__(self, warehouse: str, item: str, lot: str, expiry: date) -> None:
        self.warehouse = warehouse
        self.item = item
        self.lot = lot
        self.expiry = expiry
        self.on_hand = 0
        self.purchased = 0
        self.transferred_in = 0
        self.transferred_out = 0
        self.dispensed = 0
        self.returned = 0

    def expired(self, today: date) -> bool:
        """A lot may be used through its expiry date, not after."""
        return self.expiry < today

    def require_expiry(self, expiry: date) -> None:
        """A lot has one expiry date: a receipt that names another is a typing error."""
        if expiry != self.expiry:
            raise InvalidValue(
                "expiry",
                N_("lot {lot} of {item} expires on {expiry}"),
                lot=self.lot,
                item=self.item,
                expiry=self.expiry.isoformat(),
            )

    def _require_on_hand(self, quantity: int) -> None:
        check_quantity(quantity)
        if quantity > self.on_hand:
            raise InsufficientStock(
                warehouse=self.warehouse,
                available=self.on_hand,
                item=self.item,
                lot=self.lot,
                quantity=quantity,
            )

    def require_usable(self, today: date, what: str) -> None:
        if self.expired(today):
            raise LotExpired(lot=self.lot, item=self.item, expiry=self.expiry.isoformat(), what=what)

    # -- movements ------------------------------------------------------------------------------
    def receive(self, quantity: int, source: StockSource, reference: str) -> None:
        check_quantity(quantity)
        self._receive(quantity=quantity, source=source, reference=reference)

    @event(Received)
    def _receive(self, quantity: int, source: StockSource, reference: str) -> None:
        self.on_hand += quantity
        if source is StockSource.PURCHASE:
            self.purchased += quantity
        else:
            self.transferred_in += quantity

    def send(self, quantity: int, reference: str) -> None:
        self._require_on_hand(quantity)
        self._send(quantity=quantity, reference=reference)

    @event(Sent)
    def _send(self, quantity: int, reference: str) -> None:
        self.on_hand -= quantity
        self.transferred_out += quantity

    def dispense(self, quantity: int, reference: str, today: date) -> None:
        """Expired lots are blocked; more than on hand is refused with how much there is."""
        self.require_usable(today, N_("dispensed"))
        self._require_on_hand(quantity)
        self._dispense(quantity=quantity, reference=reference)

    @event(Dispensed)
    def _dispense(self, quantity: int, reference: str) -> None:
        self.on_hand -= quantity
        self.dispensed += quantity

    def take_back(self, quantity: int, reference: str) -> None:
        """A return of what was dispensed from this lot and not applied (checked by the order)."""
        check_quantity(quantity)
        self._take_back(quantity=quantity, reference=reference)

    @event(Returned)
    def _take_back(self, quantity: int, reference: str) -> None:
        self.on_hand += quantity
        self.returned += quantity


def transfer(
    source: StockLot, target: StockLot, quantity: int, reference: str, today: date, into_field: bool
) -> None:
    """Send from one lot and receive into the same lot of another warehouse (saved together).
    An expired lot is not sent to a field warehouse: the mission could not use it."""
    if source.warehouse == target.warehouse:
        raise InvalidValue("to", N_("a transfer needs two different warehouses"))
    if into_field:
        source.require_usable(today, N_("sent to a field warehouse"))
    source.send(quantity, reference)
    target.receive(quantity, StockSource.TRANSFER, reference)


def fefo_plan(
    warehouse: str, item: str, lots: list[StockLot], quantity: int, today: date
) -> list[tuple[StockLot, int]]:
    """First expired, first out: take from the item's lots in the warehouse that are not
    expired, earliest expiry first, as many as needed."""
    check_quantity(quantity)
    usable = sorted(
        (lot for lot in lots if lot.on_hand > 0 and not lot.expired(today)),
        key=lambda lot: (lot.expiry, lot.lot),
    )
    available = sum(lot.on_hand for lot in usable)
    if available < quantity:
        raise InsufficientUsableStock(warehouse=warehouse, available=available, item=item, quantity=quantity)
    plan, missing = [], quantity
    for lot in usable:
        take = min(lot.on_hand, missing)
        plan.append((lot, take))
        missing -= take
        if not missing:
            break
    return plan


def lot_id(warehouse: str, item: str, lot: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:lot:{warehouse.upper()}:{item.upper()}:{lot.upper()}")

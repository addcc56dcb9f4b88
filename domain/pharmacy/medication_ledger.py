"""The medication chain's tallies (notes/colombia-domain.md §6): what an order (a supply request
or a prescription) asked for, and per item and lot what the pharmacy dispensed, nursing
administered and was returned. Prescription and SupplyRequest each hold one and check their
commands against it, so the chain's rules live here, once:

- dispensed ≤ requested (per item);
- administered + returned ≤ dispensed (per lot): nothing is applied or returned twice;
- a return goes back to the lot it came from.

Billing takes the net quantity: dispensed - returned (or administered, for what nursing applies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from domain.errors import N_, DomainError, InvalidValue, NotFound
from domain.pharmacy.stock_lot import check_quantity


class NotOrdered(NotFound):
    template = N_("{number} does not include {item}")


class MoreThanPending(DomainError):
    template = N_(
        "{number}: {pending} of {item} left to dispense (ordered {ordered}, dispensed {dispensed}); "
        "{quantity} asked"
    )


class MoreThanInHand(DomainError):
    template = N_(
        "{number}: {in_hand} of {item} from lot {lot} dispensed and not yet administered or returned; "
        "{quantity} asked"
    )


class NothingInHand(DomainError):
    template = N_("{number}: no {item} dispensed is waiting to be administered or returned")


class LotNotDispensed(NotFound):
    template = N_("{number}: no {item} was dispensed from lot {lot}")


@dataclass(frozen=True)
class LotTally:
    item: str
    warehouse: str
    lot: str
    dispensed: int = 0
    administered: int = 0
    returned: int = 0

    @property
    def in_hand(self) -> int:
        """Dispensed and neither administered nor returned yet."""
        return self.dispensed - self.administered - self.returned


class MedicationLedger:
    def __init__(self, number: str, requested: dict[str, int]) -> None:
        self.number = number
        self.requested = dict(requested)
        self.lots: dict[str, LotTally] = {}

    @staticmethod
    def key(item: str, warehouse: str, lot: str) -> str:
        return f"{item}|{warehouse}|{lot}"

    def of_item(self, item: str) -> list[LotTally]:
        return [tally for tally in self.lots.values() if tally.item == item]

    def total(self, item: str, what: str) -> int:
        return sum(getattr(tally, what) for tally in self.of_item(item))

    def pending(self, item: str) -> int:
        return self.requested.get(item, 0) - self.total(item, "dispensed")

    # -- checks (the aggregates call them before triggering an event) ---------------------------
    def require_item(self, item: str) -> None:
        if item not in self.requested:
            raise NotOrdered(number=self.number, item=item)

    def check_dispense(self, item: str, quantity: int) -> None:
        self.require_item(item)
        if quantity > self.pending(item):
            raise MoreThanPending(
                number=self.number,
                pending=self.pending(item),
                item=item,
                ordered=self.requested[item],
                dispensed=self.total(item, "dispensed"),
                quantity=quantity,
            )

    def in_hand(self, item: str, lot: str | None) -> LotTally:
        """The lot an administration or a return draws on: the one named, or the only one of the
        item still in hand."""
        self.require_item(item)
        tallies = self.of_item(item)
        if lot is not None:
            named = [t for t in tallies if t.lot == lot.strip().upper()]
            if not named:
                raise LotNotDispensed(number=self.number, item=item, lot=lot)
            return max(named, key=lambda t: t.in_hand)
        holding = [t for t in tallies if t.in_hand > 0]
        if not holding:
            raise NothingInHand(number=self.number, item=item)
        if len(holding) > 1:
            raise InvalidValue(
                "lot",
                N_("{item} of {number} came from lots {lots}: name one"),
                item=item,
                number=self.number,
                lots=", ".join(sorted(t.lot for t in holding)),
            )
        return holding[0]

    def check_in_hand(self, tally: LotTally, quantity: int) -> None:
        if quantity > tally.in_hand:
            raise MoreThanInHand(
                number=self.number, in_hand=tally.in_hand, item=tally.item, lot=tally.lot, quantity=quantity
            )

    # -- what the events record (no checks: they run again on every replay) ---------------------
    def record(self, what: str, item: str, warehouse: str, lot: str, quantity: int) -> None:
        key = self.key(item, warehouse, lot)
        tally = self.lots.get(key) or LotTally(item, warehouse, lot)
        self.lots[key] = replace(tally, **{what: getattr(tally, what) + quantity})


class LedgerCommands:
    """The medication chain's commands an order holding a ledger (a prescription, a supply request)
    shares: the checks, once. A mixin placed before ``BrigadaAggregate``: each aggregate keeps its
    own events and the ``_dispense`` and ``_return`` methods that record them."""

    SERIES: ClassVar[str]
    number: str
    ledger: MedicationLedger
    _dispense: Callable[..., None]
    _return: Callable[..., None]

    @property
    def reference(self) -> str:
        """How the stock lots' movements name the order ("FORM BRG01-1")."""
        return f"{self.SERIES} {self.number}"

    def dispense(self, item: str, warehouse: str, lot: str, quantity: int) -> None:
        self.ledger.check_dispense(item, quantity)
        self._dispense(item=item, warehouse=warehouse, lot=lot, quantity=quantity)

    def return_unused(self, tally: LotTally, quantity: int) -> None:
        check_quantity(quantity)
        self.ledger.check_in_hand(tally, quantity)
        self._return(item=tally.item, warehouse=tally.warehouse, lot=tally.lot, quantity=quantity)

"""A request of medicines and supplies for a patient in ambulatory hospitalization (seed 000:
"solicitud de medicamentos e insumos para aplicar a paciente"): lines of item and quantity. The
pharmacy dispenses it, nursing administers what was dispensed, and what was not applied is
returned to the lot it came from. The ledger keeps the tallies; billing takes the net."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, InvalidValue
from domain.pharmacy.catalog import CatalogItem
from domain.pharmacy.clinical_order import OrderOnVisit, VisitRef
from domain.pharmacy.medication_ledger import LedgerCommands, LotTally, MedicationLedger
from domain.pharmacy.stock_lot import LotExpired, check_quantity

SERIES = "SOL"
MAX_LINES = 30


class SupplyRequest(OrderOnVisit, LedgerCommands, BrigadaAggregate):
    TOPIC = "brigada.SupplyRequest"
    SERIES = SERIES

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.SupplyRequest.Event"

    class Requested(BrigadaAggregate.Created):
        TOPIC = "brigada.SupplyRequest.Requested"
        number: str
        encounter_id: UUID
        visit_number: str
        patient_id: UUID
        chart_number: str
        lines: dict[str, int]  # item code -> quantity, in dispensing units
        requested_by: str

    class Dispensed(Event):
        TOPIC = "brigada.SupplyRequest.Dispensed"
        item: str
        warehouse: str
        lot: str
        quantity: int

    class Administered(Event):
        TOPIC = "brigada.SupplyRequest.Administered"
        item: str
        warehouse: str
        lot: str
        quantity: int

    class Returned(Event):
        TOPIC = "brigada.SupplyRequest.Returned"
        item: str
        warehouse: str
        lot: str
        quantity: int

    @event(Requested)
    def __init__(
        self,
        number: str,
        encounter_id: UUID,
        visit_number: str,
        patient_id: UUID,
        chart_number: str,
        lines: dict[str, int],
        requested_by: str,
    ) -> None:
        self._on_visit(number, encounter_id, visit_number, patient_id, chart_number)
        self.lines = dict(lines)
        self.requested_by = requested_by
        self.ledger = MedicationLedger(number, lines)

    @classmethod
    def request(
        cls, number: str, visit: VisitRef, lines: list[tuple[CatalogItem, int]], requested_by: str
    ) -> SupplyRequest:
        if not 1 <= len(lines) <= MAX_LINES:
            raise InvalidValue("line", N_("a request has 1 to {max} lines"), max=MAX_LINES)
        codes = [item.code for item, _quantity in lines]
        if len(set(codes)) != len(codes):
            raise InvalidValue("line", N_("each item goes on one line"))
        for item, quantity in lines:
            item.require_stocked()
            check_quantity(quantity)
        return cls(
            number=number,
            **visit.as_fields(),
            lines={item.code: quantity for item, quantity in lines},
            requested_by=requested_by,
        )

    # -- the medication chain -------------------------------------------------------------------
    @event(Dispensed)
    def _dispense(self, item: str, warehouse: str, lot: str, quantity: int) -> None:
        self.ledger.record("dispensed", item, warehouse, lot, quantity)

    def administer(self, tally: LotTally, quantity: int, expiry: date, today: date) -> None:
        """Nursing applies what was dispensed and is still in hand, never from an expired lot."""
        check_quantity(quantity)
        self.ledger.check_in_hand(tally, quantity)
        if expiry < today:
            raise LotExpired(
                lot=tally.lot, item=tally.item, expiry=expiry.isoformat(), what=N_("administered")
            )
        self._administer(item=tally.item, warehouse=tally.warehouse, lot=tally.lot, quantity=quantity)

    @event(Administered)
    def _administer(self, item: str, warehouse: str, lot: str, quantity: int) -> None:
        self.ledger.record("administered", item, warehouse, lot, quantity)

    @event(Returned)
    def _return(self, item: str, warehouse: str, lot: str, quantity: int) -> None:
        self.ledger.record("returned", item, warehouse, lot, quantity)

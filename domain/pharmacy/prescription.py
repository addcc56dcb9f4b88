"""A prescription ("formulación"): one medicine or supply for the patient of a visit, with dose,
route, frequency, duration and the quantity to dispense. The pharmacy dispenses it (FEFO, see
domain/pharmacy/dispensing.py) and takes back what is returned; its ledger keeps the tallies per lot."""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, InvalidValue
from domain.pharmacy.catalog import CatalogItem
from domain.pharmacy.clinical_order import OrderOnVisit, VisitRef
from domain.pharmacy.medication_ledger import LedgerCommands, MedicationLedger
from domain.pharmacy.stock_lot import check_quantity

SERIES = "FORM"
MAX_DAYS = 365


class Route(Enum):
    """Route of administration."""

    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    INTRAVENOUS = "intravenous"
    INTRAMUSCULAR = "intramuscular"
    SUBCUTANEOUS = "subcutaneous"
    TOPICAL = "topical"
    INHALED = "inhaled"
    NASAL = "nasal"
    OPHTHALMIC = "ophthalmic"
    OTIC = "otic"
    RECTAL = "rectal"
    VAGINAL = "vaginal"
    TRANSDERMAL = "transdermal"


PRESCRIPTION_ENUMS: tuple[type[Enum], ...] = (Route,)


class Prescription(OrderOnVisit, LedgerCommands, BrigadaAggregate):
    TOPIC = "brigada.Prescription"
    SERIES = SERIES

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Prescription.Event"

    class Prescribed(BrigadaAggregate.Created):
        TOPIC = "brigada.Prescription.Prescribed"
        number: str
        encounter_id: UUID
        visit_number: str
        patient_id: UUID
        chart_number: str
        item: str
        dose: str
        route: Route
        frequency: str
        duration_days: int
        quantity: int
        prescriber: str

    class Dispensed(Event):
        TOPIC = "brigada.Prescription.Dispensed"
        item: str
        warehouse: str
        lot: str
        quantity: int

    class Returned(Event):
        TOPIC = "brigada.Prescription.Returned"
        item: str
        warehouse: str
        lot: str
        quantity: int

    @event(Prescribed)
    def __init__(
        self,
        number: str,
        encounter_id: UUID,
        visit_number: str,
        patient_id: UUID,
        chart_number: str,
        item: str,
        dose: str,
        route: Route,
        frequency: str,
        duration_days: int,
        quantity: int,
        prescriber: str,
    ) -> None:
        self._on_visit(number, encounter_id, visit_number, patient_id, chart_number)
        self.item = item
        self.dose = dose
        self.route = route
        self.frequency = frequency
        self.duration_days = duration_days
        self.quantity = quantity
        self.prescriber = prescriber
        self.ledger = MedicationLedger(number, {item: quantity})

    @classmethod
    def prescribe(
        cls,
        number: str,
        visit: VisitRef,
        item: CatalogItem,
        dose: str,
        route: Route,
        frequency: str,
        duration_days: int,
        quantity: int,
        prescriber: str,
    ) -> Prescription:
        item.require_stocked()
        check_quantity(quantity)
        if not 1 <= duration_days <= MAX_DAYS:
            raise InvalidValue("days", N_("must be between 1 and {max}"), max=MAX_DAYS)
        return cls(
            number=number,
            **visit.as_fields(),
            item=item.code,
            dose=dose,
            route=route,
            frequency=frequency,
            duration_days=duration_days,
            quantity=quantity,
            prescriber=prescriber,
        )

    # -- the medication chain: LedgerCommands checks; domain/pharmacy/dispensing.py drives it with the lots --
    @event(Dispensed)
    def _dispense(self, item: str, warehouse: str, lot: str, quantity: int) -> None:
        self.ledger.record("dispensed", item, warehouse, lot, quantity)

    @event(Returned)
    def _return(self, item: str, warehouse: str, lot: str, quantity: int) -> None:
        self.ledger.record("returned", item, warehouse, lot, quantity)

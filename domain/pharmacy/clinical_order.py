"""What every order hanging from an encounter shares: the visit it belongs to, checked when the
order is made, and an id derived from its number.

Prescriptions, service orders, diagnostic services, surgeries and supply requests are aggregates
of their own that name their encounter, so an encounter stays small however much is ordered on it.
Each takes its number from its own series at the site (FORM, ORD, AYD, CIR, SOL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.clinical.encounter import Encounter, EncounterClosed, EncounterKind
from domain.errors import N_, DomainError


class NotAmbulatory(DomainError):
    template = N_("visit {number} is not an ambulatory hospitalization: {what} is not possible")


class VisitFields(TypedDict):
    encounter_id: UUID
    visit_number: str
    patient_id: UUID
    chart_number: str


@dataclass(frozen=True)
class VisitRef:
    encounter_id: UUID
    visit_number: str
    patient_id: UUID
    chart_number: str

    def as_fields(self) -> VisitFields:
        return {
            "encounter_id": self.encounter_id,
            "visit_number": self.visit_number,
            "patient_id": self.patient_id,
            "chart_number": self.chart_number,
        }


def visit_of(
    encounter: Encounter, what: str, ambulatory_only: bool = False, open_only: bool = False
) -> VisitRef:
    """The visit an order is made on: it must not be deleted (``what`` names the order, a msgid).
    ``open_only``: a finalized visit takes no new orders of this kind either (prescriptions,
    service orders and diagnostic services are part of the care event the visit closed)."""
    if encounter.deleted:
        raise EncounterClosed(number=encounter.number, state=N_("deleted"), what=what)
    if open_only and encounter.finalized_on is not None:
        raise EncounterClosed(number=encounter.number, state=N_("finalized"), what=what)
    if ambulatory_only and encounter.kind is not EncounterKind.AMBULATORY:
        raise NotAmbulatory(number=encounter.number, what=what)
    return VisitRef(encounter.id, encounter.number, encounter.patient_id, encounter.chart_number)


class OrderOnVisit:
    """What the aggregate of every order on a visit shares: its id follows from its number in its
    series, and its creation names the visit (the fields of ``VisitRef``, as its Created event
    carries them). A mixin placed before ``BrigadaAggregate``: the events stay each aggregate's."""

    SERIES: ClassVar[str]
    number: str
    encounter_id: UUID
    visit_number: str
    patient_id: UUID
    chart_number: str

    @classmethod
    def create_id(cls, number: str) -> UUID:
        return order_id(cls.SERIES, number)

    def _on_visit(
        self, number: str, encounter_id: UUID, visit_number: str, patient_id: UUID, chart_number: str
    ) -> None:
        """Called by the aggregate's creation (so also on every rebuild): assignments only."""
        self.number = number
        self.encounter_id = encounter_id
        self.visit_number = visit_number
        self.patient_id = patient_id
        self.chart_number = chart_number


def order_id(series: str, number: str) -> UUID:
    """Numbers are unique per series across sites (site prefix), so the id follows from them."""
    return uuid5(NAMESPACE_URL, f"brigada:order:{series}:{number.strip().upper()}")

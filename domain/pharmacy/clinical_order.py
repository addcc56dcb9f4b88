"""What every order hanging from an encounter shares: the visit it belongs to, checked when the
order is made, and an id derived from its number.

Prescriptions, service orders, diagnostic services, surgeries and supply requests are aggregates
of their own that name their encounter, so an encounter stays small however much is ordered on it.
Each takes its number from its own series at the site (FORM, ORD, AYD, CIR, SOL).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.clinical.encounter import Encounter, EncounterClosed, EncounterKind
from domain.errors import N_, DomainError


class NotAmbulatory(DomainError):
    template = N_("visit {number} is not an ambulatory hospitalization: {what} is not possible")


@dataclass(frozen=True)
class VisitRef:
    encounter_id: UUID
    visit_number: str
    patient_id: UUID
    chart_number: str

    def as_fields(self) -> dict[str, object]:
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


def order_id(series: str, number: str) -> UUID:
    """Numbers are unique per series across sites (site prefix), so the id follows from them."""
    return uuid5(NAMESPACE_URL, f"brigada:order:{series}:{number.strip().upper()}")

"""A surgery linked to a care event (seed 000: "asociación de cirugías a eventos de atención"):
the procedure (CUPS), the date it was done and the surgeon. Scheduling surgeries is not part of
it: a surgery dated after today is a booking, which the sites policy calls surgical scheduling
(never on a disconnected site, and not built on central yet)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, InvalidValue
from domain.pharmacy.catalog import CatalogItem
from domain.pharmacy.clinical_order import OrderOnVisit, VisitRef
from domain.pharmacy.service_order import require_service
from domain.sites.site import SiteAction
from domain.sites.site_policy import Forbidden, Operation

SERIES = "CIR"


def operation_for(performed_on: date, today: date) -> Operation:
    """The sites-policy rule a surgery dated ``performed_on`` falls under."""
    return Forbidden.SURGICAL_SCHEDULING if performed_on > today else SiteAction.SURGERIES


class Surgery(OrderOnVisit, BrigadaAggregate):
    TOPIC = "brigada.Surgery"
    SERIES = SERIES

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Surgery.Event"

    class Linked(BrigadaAggregate.Created):
        TOPIC = "brigada.Surgery.Linked"
        number: str
        encounter_id: UUID
        visit_number: str
        patient_id: UUID
        chart_number: str
        cups_code: str
        performed_on: date
        surgeon: str

    @event(Linked)
    def __init__(
        self,
        number: str,
        encounter_id: UUID,
        visit_number: str,
        patient_id: UUID,
        chart_number: str,
        cups_code: str,
        performed_on: date,
        surgeon: str,
    ) -> None:
        self._on_visit(number, encounter_id, visit_number, patient_id, chart_number)
        self.cups_code = cups_code
        self.performed_on = performed_on
        self.surgeon = surgeon

    @classmethod
    def link(
        cls,
        number: str,
        visit: VisitRef,
        visit_date: date,
        procedure: CatalogItem,
        performed_on: date,
        surgeon: str,
        today: date,
    ) -> Surgery:
        """Done on the visit's day or later, and not in the future."""
        require_service(procedure)
        if not visit_date <= performed_on <= today:
            raise InvalidValue(
                "date",
                N_("must be between the visit's date {visit_date} and today {today}"),
                visit_date=visit_date.isoformat(),
                today=today.isoformat(),
            )
        return cls(
            number=number,
            **visit.as_fields(),
            cups_code=procedure.code,
            performed_on=performed_on,
            surgeon=surgeon,
        )

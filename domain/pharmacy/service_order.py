"""A service order ("orden de servicio"): a CUPS service or procedure, and how many, ordered on a
visit for its patient."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, InvalidValue
from domain.pharmacy.catalog import CatalogItem, ItemKind
from domain.pharmacy.clinical_order import OrderOnVisit, VisitRef

SERIES = "ORD"
MAX_QUANTITY = 999


def require_service(item: CatalogItem) -> None:
    if item.kind is not ItemKind.SERVICE:
        raise InvalidValue("cups", N_("{code} is not a service or procedure of the catalog"), code=item.code)


class ServiceOrder(OrderOnVisit, BrigadaAggregate):
    TOPIC = "brigada.ServiceOrder"
    SERIES = SERIES

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.ServiceOrder.Event"

    class Ordered(BrigadaAggregate.Created):
        TOPIC = "brigada.ServiceOrder.Ordered"
        number: str
        encounter_id: UUID
        visit_number: str
        patient_id: UUID
        chart_number: str
        cups_code: str
        quantity: int
        ordered_by: str

    @event(Ordered)
    def __init__(
        self,
        number: str,
        encounter_id: UUID,
        visit_number: str,
        patient_id: UUID,
        chart_number: str,
        cups_code: str,
        quantity: int,
        ordered_by: str,
    ) -> None:
        self._on_visit(number, encounter_id, visit_number, patient_id, chart_number)
        self.cups_code = cups_code
        self.quantity = quantity
        self.ordered_by = ordered_by

    @classmethod
    def order(
        cls, number: str, visit: VisitRef, service: CatalogItem, quantity: int, ordered_by: str
    ) -> ServiceOrder:
        require_service(service)
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidValue("quantity", N_("must be between 1 and {max}"), max=MAX_QUANTITY)
        return cls(
            number=number,
            **visit.as_fields(),
            cups_code=service.code,
            quantity=quantity,
            ordered_by=ordered_by,
        )

"""An on-demand diagnostic service ("ayuda diagnóstica"): a CUPS study requested on a visit, then
its result recorded once. The result is clinical text: it never enters the activity log."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue
from domain.pharmacy.catalog import CatalogItem
from domain.pharmacy.clinical_order import OrderOnVisit, VisitRef
from domain.pharmacy.service_order import require_service
from domain.sites.site import SiteAction
from domain.sites.site_policy import Forbidden, Operation

SERIES = "AYD"
MAX_RESULT = 20_000
# CUPS (Res. 2641 of 2024 and the tabular lists before it) codes a procedure in 6 digits whose
# first two are its chapter; chapter 90 is "laboratorio clínico" (901 microbiology, 902
# hematology, e.g. 902210 hemograma, 903 clinical chemistry, 904 hormones, 906 immunology, 907
# urine and stool, 908 molecular biology). Imaging (87, 88), anatomic pathology (898) and other
# diagnostic procedures fall outside it. Point-of-care tests coded in chapter 90 (903883
# glucometría) are laboratory too: the seed forbids "laboratorio clínico" on a laptop as a whole.
CLINICAL_LABORATORY_CHAPTER = "90"


def is_clinical_laboratory(cups_code: str) -> bool:
    return cups_code.startswith(CLINICAL_LABORATORY_CHAPTER)


def operation_for(cups_code: str) -> Operation:
    """The sites-policy rule requesting this study falls under."""
    if is_clinical_laboratory(cups_code):
        return Forbidden.CLINICAL_LABORATORY
    return SiteAction.DIAGNOSTIC_SERVICES


class ResultAlreadyRecorded(DomainError):
    template = N_("diagnostic service {number} already has its result (recorded on {recorded_on})")


class DiagnosticService(OrderOnVisit, BrigadaAggregate):
    TOPIC = "brigada.DiagnosticService"
    SERIES = SERIES

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.DiagnosticService.Event"

    class Requested(BrigadaAggregate.Created):
        TOPIC = "brigada.DiagnosticService.Requested"
        number: str
        encounter_id: UUID
        visit_number: str
        patient_id: UUID
        chart_number: str
        cups_code: str
        requested_by: str

    class ResultRecorded(Event):
        TOPIC = "brigada.DiagnosticService.ResultRecorded"
        text: str
        recorded_on: date

    @event(Requested)
    def __init__(
        self,
        number: str,
        encounter_id: UUID,
        visit_number: str,
        patient_id: UUID,
        chart_number: str,
        cups_code: str,
        requested_by: str,
    ) -> None:
        self._on_visit(number, encounter_id, visit_number, patient_id, chart_number)
        self.cups_code = cups_code
        self.requested_by = requested_by
        self.result: str | None = None
        self.recorded_on: date | None = None
        self.recorded_by: str | None = None

    @classmethod
    def request(
        cls, number: str, visit: VisitRef, service: CatalogItem, requested_by: str
    ) -> DiagnosticService:
        require_service(service)
        return cls(number=number, **visit.as_fields(), cups_code=service.code, requested_by=requested_by)

    def record_result(self, text: str, today: date) -> None:
        if self.recorded_on is not None:
            raise ResultAlreadyRecorded(number=self.number, recorded_on=self.recorded_on.isoformat())
        if not text.strip() or len(text) > MAX_RESULT:
            raise InvalidValue("text", N_("must have 1 to {max} characters"), max=MAX_RESULT)
        self._record_result(text=text, recorded_on=today)

    @event(ResultRecorded)
    def _record_result(self, text: str, recorded_on: date) -> None:
        self.result = text
        self.recorded_on = recorded_on

    @property
    def state(self) -> str:
        return "resulted" if self.recorded_on else "requested"

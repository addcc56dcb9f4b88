"""An encounter: the seed's "visita", a consultation or an ambulatory-hospitalization care event.

Its sections follow the visit screen of seed 004: visit data, report paragraphs, services,
observations, documents, forms (printed, not stored), clinical history (CIE-10 diagnoses). A
finalized encounter keeps its visit data, services and diagnoses (they feed vouchers and RIPS);
paragraphs and documents may still be added as addenda. Deleting is a void: the events stay.
Time-based locks (domain/security/locks.py) are checked here with the date the application passes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.clinical.cie10 import known_code, rips_form
from domain.errors import N_, DomainError, InvalidValue, NotFound
from domain.security.locks import LockRule, LockSettings


class EncounterKind(Enum):
    OUTPATIENT = "outpatient"  # consulta externa
    AMBULATORY = "ambulatory"  # hospitalización ambulatoria


class DiagnosisRole(Enum):
    PRINCIPAL = "principal"
    RELATED = "related"


class DiagnosisType(Enum):
    """RIPSTipoDiagnosticoPrincipalVersion2."""

    IMPRESSION = "01"
    CONFIRMED_NEW = "02"
    CONFIRMED_REPEAT = "03"


ENCOUNTER_ENUMS = (EncounterKind, DiagnosisRole, DiagnosisType)

MAX_RELATED = 3
VISIT_DATA_FIELDS = ("modality", "purpose", "cause", "reason")


class EncounterClosed(DomainError):
    template = N_("visit {number} is {state}: {what} is not possible")


class NeedsPrincipalDiagnosis(DomainError):
    template = N_("visit {number} cannot be finalized without a principal diagnosis")


class ItemNotFound(NotFound):
    template = N_("visit {number} has no {kind} {item}")


@dataclass(frozen=True)
class Paragraph:
    paragraph_id: str
    name: str
    text: str
    created_on: date
    deleted: bool = False


@dataclass(frozen=True)
class ServiceLine:
    line_id: str
    cups_code: str
    quantity: int
    description: str
    removed: bool = False


@dataclass(frozen=True)
class DocumentRef:
    document_id: UUID
    filename: str
    media_type: str
    sha256: str
    size: int
    attached_on: date
    deleted: bool = False


@dataclass(frozen=True)
class Diagnosis:
    code: str
    role: DiagnosisRole
    type: DiagnosisType


def check_cie10(code: str, role: DiagnosisRole) -> str:
    """The code in the catalog, as RIPS writes it; an external cause is never the principal."""
    code = known_code(code)
    if role is DiagnosisRole.PRINCIPAL and "V01" <= code[:3] <= "Y98":
        raise InvalidValue(
            "code",
            N_("{code} is an external cause (V01-Y98): it cannot be the principal diagnosis"),
            code=code,
        )
    return code


class Encounter(BrigadaAggregate):
    TOPIC = "brigada.Encounter"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Encounter.Event"

    class Opened(BrigadaAggregate.Created):
        TOPIC = "brigada.Encounter.Opened"
        number: str
        patient_id: UUID
        chart_number: str
        kind: EncounterKind
        visit_date: date
        professional: str
        visit_data: dict[str, str]
        appointment: str | None
        admission: str | None

    class VisitDataChanged(Event):
        TOPIC = "brigada.Encounter.VisitDataChanged"
        changes: dict[str, str]

    class ParagraphAdded(Event):
        TOPIC = "brigada.Encounter.ParagraphAdded"
        paragraph_id: str
        name: str
        text: str
        created_on: date

    class ParagraphChanged(Event):
        TOPIC = "brigada.Encounter.ParagraphChanged"
        paragraph_id: str
        text: str

    class ParagraphDeleted(Event):
        TOPIC = "brigada.Encounter.ParagraphDeleted"
        paragraph_id: str
        name: str  # kept in the event: the activity log names the paragraph deleted

    class ServiceAdded(Event):
        TOPIC = "brigada.Encounter.ServiceAdded"
        line_id: str
        cups_code: str
        quantity: int
        description: str

    class ServiceRemoved(Event):
        TOPIC = "brigada.Encounter.ServiceRemoved"
        line_id: str

    class ObservationsChanged(Event):
        TOPIC = "brigada.Encounter.ObservationsChanged"
        text: str

    class DocumentAttached(Event):
        TOPIC = "brigada.Encounter.DocumentAttached"
        document_id: UUID
        filename: str
        media_type: str
        sha256: str
        size: int
        attached_on: date

    class DocumentDeleted(Event):
        TOPIC = "brigada.Encounter.DocumentDeleted"
        document_id: UUID

    class DiagnosisSet(Event):
        TOPIC = "brigada.Encounter.DiagnosisSet"
        code: str
        role: DiagnosisRole
        type: DiagnosisType

    class DiagnosisRemoved(Event):
        TOPIC = "brigada.Encounter.DiagnosisRemoved"
        code: str

    class Finalized(Event):
        TOPIC = "brigada.Encounter.Finalized"
        finalized_on: date

    class Deleted(Event):
        TOPIC = "brigada.Encounter.Deleted"

    class Reassigned(Event):
        """The patient's chart was merged into another ("Historia - Rectificar")."""

        TOPIC = "brigada.Encounter.Reassigned"
        patient_id: UUID
        chart_number: str

    @event(Opened)
    def __init__(
        self,
        number: str,
        patient_id: UUID,
        chart_number: str,
        kind: EncounterKind,
        visit_date: date,
        professional: str,
        visit_data: dict[str, str],
        appointment: str | None,
        admission: str | None,
    ) -> None:
        self.number = number
        self.patient_id = patient_id
        self.chart_number = chart_number
        self.kind = kind
        self.visit_date = visit_date
        self.professional = professional
        self.visit_data = dict(visit_data)
        self.appointment = appointment
        self.admission = admission
        self.paragraphs: dict[str, Paragraph] = {}
        self.services: dict[str, ServiceLine] = {}
        self.observations = ""
        self.documents: dict[UUID, DocumentRef] = {}
        self.diagnoses: dict[str, Diagnosis] = {}
        self.finalized_on: date | None = None
        self.deleted = False

    # -- guards ---------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return "deleted" if self.deleted else "finalized" if self.finalized_on else "open"

    def _require_not_deleted(self, what: str) -> None:
        if self.deleted:
            raise EncounterClosed(number=self.number, state=N_("deleted"), what=what)

    def _require_open(self, what: str) -> None:
        self._require_not_deleted(what)
        if self.finalized_on is not None:
            raise EncounterClosed(number=self.number, state=N_("finalized"), what=what)

    def paragraph(self, paragraph_id: str) -> Paragraph:
        found = self.paragraphs.get(paragraph_id.upper())
        if found is None or found.deleted:
            raise ItemNotFound(number=self.number, kind=N_("paragraph"), item=paragraph_id)
        return found

    @property
    def principal(self) -> Diagnosis | None:
        return next((d for d in self.diagnoses.values() if d.role is DiagnosisRole.PRINCIPAL), None)

    # -- visit data -----------------------------------------------------------------------------
    def change_visit_data(
        self, changes: dict[str, str], today: date, locks: LockSettings, exempt: bool
    ) -> bool:
        self._require_open(N_("changing the visit data"))
        locks.require_open(LockRule.CHANGE_VISIT_DATA, self.visit_date, today, exempt)
        changed = {k: v for k, v in changes.items() if self.visit_data.get(k) != v}
        if not changed:
            return False
        self._change_visit_data(changes=changed)
        return True

    @event(VisitDataChanged)
    def _change_visit_data(self, changes: dict[str, str]) -> None:
        self.visit_data.update(changes)

    # -- report paragraphs ----------------------------------------------------------------------
    def add_paragraph(self, name: str, text: str, today: date) -> str:
        """Adding is always allowed, even after finalizing (an addendum) or past the locks."""
        self._require_not_deleted(N_("adding a paragraph"))
        paragraph_id = f"P{len(self.paragraphs) + 1}"
        self._add_paragraph(paragraph_id=paragraph_id, name=name.strip().upper(), text=text, created_on=today)
        return paragraph_id

    @event(ParagraphAdded)
    def _add_paragraph(self, paragraph_id: str, name: str, text: str, created_on: date) -> None:
        self.paragraphs[paragraph_id] = Paragraph(paragraph_id, name, text, created_on)

    def change_paragraph(
        self, paragraph_id: str, text: str, today: date, locks: LockSettings, exempt: bool
    ) -> bool:
        self._require_not_deleted(N_("changing a paragraph"))
        paragraph = self.paragraph(paragraph_id)
        locks.require_open(LockRule.CHANGE_PARAGRAPH, paragraph.created_on, today, exempt)
        if paragraph.text == text:
            return False
        self._change_paragraph(paragraph_id=paragraph.paragraph_id, text=text)
        return True

    @event(ParagraphChanged)
    def _change_paragraph(self, paragraph_id: str, text: str) -> None:
        self.paragraphs[paragraph_id] = replace(self.paragraphs[paragraph_id], text=text)

    def delete_paragraph(
        self, paragraph_id: str, today: date, locks: LockSettings, exempt: bool
    ) -> Paragraph:
        self._require_not_deleted(N_("deleting a paragraph"))
        paragraph = self.paragraph(paragraph_id)
        locks.require_open(LockRule.CHANGE_PARAGRAPH, paragraph.created_on, today, exempt)
        self._delete_paragraph(paragraph_id=paragraph.paragraph_id, name=paragraph.name)
        return paragraph

    @event(ParagraphDeleted)
    def _delete_paragraph(self, paragraph_id: str, name: str) -> None:
        self.paragraphs[paragraph_id] = replace(self.paragraphs[paragraph_id], deleted=True)

    # -- services -------------------------------------------------------------------------------
    def add_service(self, cups_code: str, quantity: int, description: str) -> str:
        self._require_open(N_("adding a service"))
        if not re.fullmatch(r"[0-9]{6}", cups_code):
            raise InvalidValue("cups", N_("{code} is not a CUPS code (6 digits)"), code=cups_code)
        if not 1 <= quantity <= 999:
            raise InvalidValue("quantity", N_("must be between 1 and 999"))
        line_id = f"S{len(self.services) + 1}"
        self._add_service(line_id=line_id, cups_code=cups_code, quantity=quantity, description=description)
        return line_id

    @event(ServiceAdded)
    def _add_service(self, line_id: str, cups_code: str, quantity: int, description: str) -> None:
        self.services[line_id] = ServiceLine(line_id, cups_code, quantity, description)

    def remove_service(self, line_id: str) -> None:
        self._require_open(N_("removing a service"))
        line = self.services.get(line_id.upper())
        if line is None or line.removed:
            raise ItemNotFound(number=self.number, kind=N_("service"), item=line_id)
        self._remove_service(line_id=line.line_id)

    @event(ServiceRemoved)
    def _remove_service(self, line_id: str) -> None:
        self.services[line_id] = replace(self.services[line_id], removed=True)

    # -- observations ---------------------------------------------------------------------------
    def change_observations(self, text: str, today: date, locks: LockSettings, exempt: bool) -> bool:
        self._require_not_deleted(N_("changing the observations"))
        locks.require_open(LockRule.CHANGE_OBSERVATIONS, self.visit_date, today, exempt)
        if text == self.observations:
            return False
        self._change_observations(text=text)
        return True

    @event(ObservationsChanged)
    def _change_observations(self, text: str) -> None:
        self.observations = text

    # -- documents ------------------------------------------------------------------------------
    def attach_document(
        self, document_id: UUID, filename: str, media_type: str, sha256: str, size: int, today: date
    ) -> None:
        """Attaching is always allowed (the content is its own aggregate, see StoredDocument)."""
        self._require_not_deleted(N_("attaching a document"))
        self._attach_document(
            document_id=document_id,
            filename=filename,
            media_type=media_type,
            sha256=sha256,
            size=size,
            attached_on=today,
        )

    @event(DocumentAttached)
    def _attach_document(
        self, document_id: UUID, filename: str, media_type: str, sha256: str, size: int, attached_on: date
    ) -> None:
        self.documents[document_id] = DocumentRef(
            document_id, filename, media_type, sha256, size, attached_on
        )

    def document(self, document_id: UUID) -> DocumentRef:
        found = self.documents.get(document_id)
        if found is None or found.deleted:
            raise ItemNotFound(number=self.number, kind=N_("document"), item=str(document_id))
        return found

    def delete_document(
        self, document_id: UUID, today: date, locks: LockSettings, exempt: bool
    ) -> DocumentRef:
        self._require_not_deleted(N_("deleting a document"))
        document = self.document(document_id)
        locks.require_open(LockRule.DELETE_DOCUMENT, document.attached_on, today, exempt)
        self._delete_document(document_id=document_id)
        return document

    @event(DocumentDeleted)
    def _delete_document(self, document_id: UUID) -> None:
        self.documents[document_id] = replace(self.documents[document_id], deleted=True)

    # -- clinical history -----------------------------------------------------------------------
    def set_diagnosis(self, code: str, role: DiagnosisRole, kind: DiagnosisType) -> str:
        """A principal replaces the previous principal; related ones are at most three."""
        self._require_open(N_("changing the diagnoses"))
        code = check_cie10(code, role)
        principal = self.principal
        if role is DiagnosisRole.RELATED:
            if principal is not None and principal.code == code:
                raise InvalidValue("code", N_("{code} is already the principal diagnosis"), code=code)
            related = [
                d for d in self.diagnoses.values() if d.role is DiagnosisRole.RELATED and d.code != code
            ]
            if len(related) >= MAX_RELATED:
                raise InvalidValue("code", N_("a visit has at most {n} related diagnoses"), n=MAX_RELATED)
        self._set_diagnosis(code=code, role=role, type=kind)
        return code

    @event(DiagnosisSet)
    def _set_diagnosis(self, code: str, role: DiagnosisRole, type: DiagnosisType) -> None:
        if role is DiagnosisRole.PRINCIPAL:
            self.diagnoses = {
                k: d for k, d in self.diagnoses.items() if d.role is not DiagnosisRole.PRINCIPAL
            }
        self.diagnoses[code] = Diagnosis(code, role, type)

    def remove_diagnosis(self, code: str) -> None:
        self._require_open(N_("changing the diagnoses"))
        code = rips_form(code)
        if code not in self.diagnoses:
            raise ItemNotFound(number=self.number, kind=N_("diagnosis"), item=code)
        self._remove_diagnosis(code=code)

    @event(DiagnosisRemoved)
    def _remove_diagnosis(self, code: str) -> None:
        self.diagnoses.pop(code, None)

    # -- closing --------------------------------------------------------------------------------
    def finalize(self, today: date) -> None:
        self._require_open(N_("finalizing"))
        if self.principal is None:
            raise NeedsPrincipalDiagnosis(number=self.number)
        self._finalize(finalized_on=today)

    @event(Finalized)
    def _finalize(self, finalized_on: date) -> None:
        self.finalized_on = finalized_on

    def delete(self, today: date, locks: LockSettings, exempt: bool) -> None:
        self._require_not_deleted(N_("deleting the visit"))
        locks.require_open(LockRule.DELETE_VISIT, self.visit_date, today, exempt)
        self._delete()

    @event(Deleted)
    def _delete(self) -> None:
        self.deleted = True

    def reassign(self, patient_id: UUID, chart_number: str) -> None:
        if patient_id != self.patient_id:
            self._reassign(patient_id=patient_id, chart_number=chart_number)

    @event(Reassigned)
    def _reassign(self, patient_id: UUID, chart_number: str) -> None:
        self.patient_id = patient_id
        self.chart_number = chart_number

    def locks_in_force(self, today: date, locks: LockSettings, exempt: bool) -> list[LockRule]:
        """The visit-level locks that apply now (paragraph and document locks are per item)."""
        visit_rules = (LockRule.DELETE_VISIT, LockRule.CHANGE_VISIT_DATA, LockRule.CHANGE_OBSERVATIONS)
        return [rule for rule in visit_rules if locks.is_locked(rule, self.visit_date, today, exempt)]


class StoredDocument(BrigadaAggregate):
    """A document's content, kept in the store (base64) with its SHA-256, apart from the
    encounter so that loading an encounter never loads its files."""

    TOPIC = "brigada.StoredDocument"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.StoredDocument.Event"

    class Stored(BrigadaAggregate.Created):
        TOPIC = "brigada.StoredDocument.Stored"
        encounter_id: UUID
        content_b64: str
        sha256: str

    @event(Stored)
    def __init__(self, encounter_id: UUID, content_b64: str, sha256: str) -> None:
        self.encounter_id = encounter_id
        self.content_b64 = content_b64
        self.sha256 = sha256


def visit_data(values: dict[str, Any]) -> dict[str, str]:
    return {k: str(values[k]) for k in VISIT_DATA_FIELDS if values.get(k) is not None}

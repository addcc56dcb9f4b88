"""Encounters (the seed's "visitas"): opening, the eight sections, finalizing, deleting, and the
audited outputs (report, clinical history, paragraphs, forms)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from pydantic import Field

from application.clinical.admissions import AdmissionNotFound
from application.context import Actor
from application.core import Core
from application.errors import PatientNotFound
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import ClinicalText, Command, parse, safe_text
from domain.access_log import (
    DOCUMENT_VIEW,
    FORM_PRINT,
    HISTORY_PRINT,
    HISTORY_TAB,
    HISTORY_VIEW,
    PARAGRAPH_PRINT,
    PARAGRAPH_VIEW,
    REPORT_PRINT,
    REPORT_TAB,
    REPORT_VIEW,
    REPORT_ZIP,
)
from domain.clinical.admission import CARE_OPERATIONS, AdmissionFacts, AdmissionKind, care_admission
from domain.clinical.cie10 import name_of, with_name
from domain.clinical.encounter import (
    DiagnosisRole,
    DiagnosisType,
    Encounter,
    EncounterKind,
    StoredDocument,
    visit_data,
)
from domain.clinical.patient import ChartMerged, Patient
from domain.errors import N_, InvalidValue, NotFound
from domain.numbering import NumberSeries, series_id
from domain.security.locks import LOCK_POLICY_ID, LockPolicy, LockRule, LockSettings
from domain.security.sections import Section
from domain.sites.site import SiteAction
from domain.sites.site_policy import Always
from projections.clinical.admissions import AdmissionQueries
from projections.clinical.encounters import EncounterQueries, EncounterRow
from projections.clinical.patients import PatientQueries

T = TypeVar("T")
REPORT_NAME = "IMPRESO BASICO"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
FORMS: dict[str, str] = {
    "JUSTIFICANTE DE ASISTENCIA A CONSULTA": (
        "Se hace constar que {patient}, identificado(a) con {document}, asistió a consulta el día "
        "{date} en la sede {site}, atendido(a) por {professional} (visita {visit})."
    ),
    "CONSTANCIA DE ATENCION EN BRIGADA": (
        "{patient} ({document}), historia {chart}, recibió atención en la jornada de salud de la sede "
        "{site} el {date}. Visita {visit}."
    ),
}
HISTORY_VIEWS = ("DIAGNOSTICOS", "VISITAS")


class EncounterNotFound(NotFound):
    template = N_("no visit with number {number}")


class UnknownForm(NotFound):
    template = N_("no form named {name}; forms: {forms}")


class UnknownHistoryView(NotFound):
    template = N_("no clinical history view named {name}; views: {views}")


class OpenEncounter(Command):
    chart_number: str = Field(min_length=1)
    kind: EncounterKind = EncounterKind.OUTPATIENT
    modality: str = Field("04", pattern=r"^0[1-9]$", description=N_("a RIPS care modality, 01 to 09"))
    purpose: str = Field("16", pattern=r"^[1-4][0-9]$", description=N_("a RIPS purpose code, 11 to 44"))
    cause: str = Field("38", pattern=r"^[2-4][0-9]$", description=N_("a RIPS external cause code, 21 to 48"))
    reason: str = Field("", max_length=500)
    appointment: str | None = None
    admission: str | None = None


class VisitDataChanges(Command):
    modality: str | None = Field(None, pattern=r"^0[1-9]$", description=N_("a RIPS care modality, 01 to 09"))
    purpose: str | None = Field(
        None, pattern=r"^[1-4][0-9]$", description=N_("a RIPS purpose code, 11 to 44")
    )
    cause: str | None = Field(
        None, pattern=r"^[2-4][0-9]$", description=N_("a RIPS external cause code, 21 to 48")
    )
    reason: str | None = Field(None, max_length=500)


class NewParagraph(Command):
    name: str = Field(
        pattern=r"^[A-Za-zÁÉÍÓÚÑáéíóúñ0-9 _-]{1,40}$", description=N_("1 to 40 letters, digits or spaces")
    )
    text: ClinicalText = Field(min_length=1, max_length=20_000)


class NewService(Command):
    cups: str = Field(pattern=r"^[0-9]{6}$", description=N_("a CUPS code of 6 digits"))
    quantity: int = Field(1, ge=1, le=999)
    description: str = Field("", max_length=200)


class NewDiagnosis(Command):
    code: str = Field(min_length=3, max_length=6)
    role: DiagnosisRole = DiagnosisRole.PRINCIPAL
    type: DiagnosisType = DiagnosisType.CONFIRMED_NEW


@dataclass(frozen=True)
class ItemView:
    item_id: str
    label: str
    detail: str
    on: str
    locked: bool


@dataclass(frozen=True)
class EncounterView:
    """What ``encounter show`` prints: only the sections the user may see (None = hidden)."""

    number: str
    chart_number: str
    patient_name: str
    kind: str
    visit_date: str
    professional: str
    state: str
    visit_data: dict[str, str] | None
    paragraphs: list[ItemView] | None
    services: list[ItemView] | None
    observations: str | None
    documents: list[ItemView] | None
    diagnoses: list[ItemView] | None
    locks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PrintedDocument:
    """A report, history view, paragraph or form, ready to be shown or written to a file."""

    title: str
    header: list[tuple[str, str]]
    body: list[tuple[str, str]]
    file_stem: str


# Shows or writes an output; the access is recorded only once it returns (issue 17: a print
# that failed is not logged as printed).
Deliver = Callable[[PrintedDocument], None]


class Encounters:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        patients: PatientQueries,
        encounters: EncounterQueries,
        admissions: AdmissionQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.patients = patients
        self.encounters = encounters
        self.admissions = admissions

    # -- helpers --------------------------------------------------------------------------------
    def lock_settings(self) -> LockSettings:
        policy = self.core.get(LockPolicy, LOCK_POLICY_ID)
        return policy.settings if policy is not None else LockSettings()

    def _row(self, number: str) -> EncounterRow:
        row = self.encounters.by_number(number)
        if row is None:
            raise EncounterNotFound(number=number)
        return row

    def _load(self, number: str) -> Encounter:
        encounter = self.core.get(Encounter, UUID(self._row(number).encounter_id))
        if encounter is None:
            raise EncounterNotFound(number=number)
        return encounter

    def _write(
        self, actor: Actor, option: str, section: Section, number: str
    ) -> tuple[Encounter, date, LockSettings]:
        """The common start of a change: menu option, section, sites policy, then the encounter."""
        self.access.require(actor, option)
        self.access.require_section(actor, section)
        encounter = self._load(number)
        self.operations.require(actor, SiteAction.CARE, owner_site=self._row(number).site)
        return encounter, self.core.effective_today(), self.lock_settings()

    def _apply(self, actor: Actor, encounter: Encounter, change: Callable[[], T]) -> T:
        """Run a change on the encounter inside the actor's recording context, then save what it
        recorded (a change that changes nothing records nothing)."""
        with self.core.acting_as(actor.username):
            result = change()
            if encounter.pending_events:
                self.core.save(encounter)
        return result

    def _fields(self, encounter: Encounter, **extra: str) -> dict[str, str]:
        return {"HIST": encounter.chart_number, "VISITA": encounter.number, **extra}

    # -- opening --------------------------------------------------------------------------------
    def open(self, actor: Actor, data: dict[str, Any]) -> EncounterRow:
        """Open a consultation or an ambulatory-hospitalization encounter for a patient."""
        self.access.require(actor, "encounter.open")
        self.access.require_section(actor, Section.VISIT)
        cmd = parse(OpenEncounter, data)
        self.operations.require(actor, SiteAction.CARE)
        patient_row = self.patients.by_chart(cmd.chart_number.strip().upper())
        if patient_row is None:
            raise PatientNotFound(chart_number=cmd.chart_number)
        if patient_row.merged_into:  # a merged chart takes no new visits: its kept chart does
            raise ChartMerged(chart_number=patient_row.chart_number, kept_chart=patient_row.merged_into)
        site = self.core.require_identity().site_code
        patient_id = UUID(patient_row.patient_id)
        named = self._admission(cmd.admission, patient_id, site)
        if named is not None:  # care under an emergency or inpatient admission: central only
            self.operations.require(actor, CARE_OPERATIONS[named.kind])
        ambulatory = cmd.kind is EncounterKind.AMBULATORY
        admission = care_admission(ambulatory, patient_id, patient_row.chart_number, site, named)
        today = self.core.effective_today()
        with self.core.acting_as(actor.username):
            series = self.core.get(NumberSeries, series_id(site, "VISITA"))
            series = series or NumberSeries(site=site, series="VISITA")
            encounter = Encounter(
                number=series.take(),
                patient_id=patient_id,
                chart_number=patient_row.chart_number,
                kind=cmd.kind,
                visit_date=today,
                professional=actor.username,
                visit_data=visit_data(cmd.model_dump()),
                appointment=cmd.appointment,
                admission=admission.number if admission else None,
            )
            self.core.save(series, encounter)
        return self._row(encounter.number)

    def _admission(self, number: str | None, patient_id: UUID, site: str) -> AdmissionFacts | None:
        """The admission named (it must exist), or the patient's open ambulatory admission here."""
        if number is None:
            rows = [
                r
                for r in self.admissions.open_for_patient(patient_id)
                if r.site == site and r.kind == AdmissionKind.AMBULATORY.value
            ]
            row = rows[0] if rows else None
        else:
            row = self.admissions.by_number(number)
            if row is None:
                raise AdmissionNotFound(number=number.strip().upper())
        if row is None:
            return None
        return AdmissionFacts(
            row.number, UUID(row.patient_id), row.site, AdmissionKind(row.kind), row.state == "open"
        )

    # -- sections -------------------------------------------------------------------------------
    def change_visit_data(self, actor: Actor, number: str, data: dict[str, Any]) -> EncounterRow:
        encounter, today, locks = self._write(actor, "encounter.visit", Section.VISIT, number)
        changes = parse(VisitDataChanges, data).model_dump(exclude_none=True)
        self._apply(
            actor,
            encounter,
            lambda: encounter.change_visit_data(visit_data(changes), today, locks, actor.is_admin),
        )
        return self._row(number)

    def add_paragraph(self, actor: Actor, number: str, data: dict[str, Any]) -> str:
        encounter, today, _locks = self._write(actor, "encounter.paragraph", Section.REPORT, number)
        cmd = parse(NewParagraph, data)
        return self._apply(actor, encounter, lambda: encounter.add_paragraph(cmd.name, cmd.text, today))

    def change_paragraph(self, actor: Actor, number: str, paragraph_id: str, text: str) -> None:
        encounter, today, locks = self._write(actor, "encounter.paragraph", Section.REPORT, number)
        cmd = parse(NewParagraph, {"name": "X", "text": text})
        self._apply(
            actor,
            encounter,
            lambda: encounter.change_paragraph(paragraph_id, cmd.text, today, locks, actor.is_admin),
        )

    def delete_paragraph(self, actor: Actor, number: str, paragraph_id: str) -> None:
        """Recorded as the seed's "Párrafo - Borrar" with HIST, VISITA and PAR."""
        encounter, today, locks = self._write(actor, "encounter.paragraph", Section.REPORT, number)
        self._apply(
            actor, encounter, lambda: encounter.delete_paragraph(paragraph_id, today, locks, actor.is_admin)
        )

    def add_service(self, actor: Actor, number: str, data: dict[str, Any]) -> str:
        encounter, _today, _locks = self._write(actor, "encounter.service", Section.SERVICES, number)
        cmd = parse(NewService, data)
        return self._apply(
            actor, encounter, lambda: encounter.add_service(cmd.cups, cmd.quantity, cmd.description)
        )

    def remove_service(self, actor: Actor, number: str, line_id: str) -> None:
        encounter, _today, _locks = self._write(actor, "encounter.service", Section.SERVICES, number)
        self._apply(actor, encounter, lambda: encounter.remove_service(line_id))

    def set_observations(self, actor: Actor, number: str, text: str) -> None:
        encounter, today, locks = self._write(actor, "encounter.observations", Section.OBSERVATIONS, number)
        text = safe_text("text", text, line_breaks=True)
        if len(text) > 20_000:
            raise InvalidValue("text", N_("must have at most {max_length} characters"), max_length=20_000)
        self._apply(
            actor, encounter, lambda: encounter.change_observations(text, today, locks, actor.is_admin)
        )

    def attach_document(
        self, actor: Actor, number: str, filename: str, content: bytes, media_type: str
    ) -> str:
        """Keep the file in the store with its SHA-256 (adding is always allowed)."""
        encounter, today, _locks = self._write(actor, "encounter.document", Section.DOCUMENTS, number)
        filename = safe_text("file", filename)
        if not content:
            raise InvalidValue("file", N_("the file is empty"))
        if len(content) > MAX_DOCUMENT_BYTES:
            raise InvalidValue(
                "file", N_("files up to {mb} MB can be attached"), mb=MAX_DOCUMENT_BYTES // 2**20
            )
        digest = hashlib.sha256(content).hexdigest()
        with self.core.acting_as(actor.username):
            stored = StoredDocument(
                encounter_id=encounter.id,
                content_b64=base64.b64encode(content).decode("ascii"),
                sha256=digest,
            )
            encounter.attach_document(stored.id, filename, media_type, digest, len(content), today)
            self.core.save(stored, encounter)
        return str(stored.id)

    def delete_document(self, actor: Actor, number: str, document_id: str) -> None:
        encounter, today, locks = self._write(actor, "encounter.document", Section.DOCUMENTS, number)
        wanted = self._document_id(document_id, encounter)
        self._apply(actor, encounter, lambda: encounter.delete_document(wanted, today, locks, actor.is_admin))

    def document_content(
        self, actor: Actor, number: str, document_id: str, deliver: Callable[[str, bytes], None]
    ) -> tuple[str, bytes]:
        """A document's file name and bytes (checked against its SHA-256), handed to ``deliver``;
        the read is recorded once it returns."""
        self.access.require(actor, "encounter.show")
        self.access.require_section(actor, Section.DOCUMENTS)
        encounter = self._load(number)
        reference = encounter.document(self._document_id(document_id, encounter))
        stored = self.core.get(StoredDocument, reference.document_id)
        content = base64.b64decode(stored.content_b64) if stored else b""
        if hashlib.sha256(content).hexdigest() != reference.sha256:
            raise InvalidValue("document", N_("the stored content does not match its SHA-256"))
        deliver(reference.filename, content)
        self.core.record_access(
            actor.username, DOCUMENT_VIEW, self._fields(encounter, DOC=reference.filename)
        )
        return reference.filename, content

    def set_diagnosis(self, actor: Actor, number: str, data: dict[str, Any]) -> str:
        encounter, _today, _locks = self._write(actor, "encounter.diagnosis", Section.HISTORY, number)
        cmd = parse(NewDiagnosis, data)
        return self._apply(actor, encounter, lambda: encounter.set_diagnosis(cmd.code, cmd.role, cmd.type))

    def remove_diagnosis(self, actor: Actor, number: str, code: str) -> None:
        encounter, _today, _locks = self._write(actor, "encounter.diagnosis", Section.HISTORY, number)
        self._apply(actor, encounter, lambda: encounter.remove_diagnosis(code))

    def finalize(self, actor: Actor, number: str) -> EncounterRow:
        encounter, today, _locks = self._write(actor, "encounter.finalize", Section.VISIT, number)
        self._apply(actor, encounter, lambda: encounter.finalize(today))
        return self._row(number)

    def delete(self, actor: Actor, number: str) -> EncounterRow:
        """A void, recorded as the seed's "Visita - Borrar"; the events stay."""
        encounter, today, locks = self._write(actor, "encounter.delete", Section.VISIT, number)
        self._apply(actor, encounter, lambda: encounter.delete(today, locks, actor.is_admin))
        return self._row(number)

    @staticmethod
    def _document_id(document_id: str, encounter: Encounter) -> UUID:
        wanted = document_id.strip().lower().replace("-", "")
        matches = [d for d in encounter.documents if d.hex.startswith(wanted)] if len(wanted) >= 6 else []
        if len(matches) != 1:
            raise NotFound(
                N_("visit {number} has no {kind} {item}"),
                number=encounter.number,
                kind=N_("document"),
                item=document_id,
            )
        return matches[0]

    # -- reading --------------------------------------------------------------------------------
    def diary(
        self, actor: Actor, day: str | None = None, professional: str | None = None
    ) -> list[EncounterRow]:
        """The visit diary (section "Diario de visitas")."""
        self.access.require(actor, "encounter.list")
        self.access.require_section(actor, Section.DIARY)
        self.operations.require(actor, Always.READ)
        return visible_rows(self.encounters.diary(day, professional), self.access.sections_of(actor))

    def show(self, actor: Actor, number: str) -> EncounterView:
        """The visit with the sections the user may see; showing the report or the clinical
        history records the seed's "Pestaña" actions."""
        self.access.require(actor, "encounter.show")
        self.access.require_section(actor, Section.VISIT)
        encounter = self._load(number)
        allowed = self.access.sections_of(actor)
        today, locks = self.core.effective_today(), self.lock_settings()
        exempt = actor.is_admin
        patient = self.core.get(Patient, encounter.patient_id)
        view = EncounterView(
            number=encounter.number,
            chart_number=encounter.chart_number,
            patient_name=patient_name(patient),
            kind=encounter.kind.value,
            visit_date=encounter.visit_date.isoformat(),
            professional=encounter.professional,
            state=encounter.state,
            visit_data=dict(encounter.visit_data) if Section.VISIT in allowed else None,
            paragraphs=[
                ItemView(
                    p.paragraph_id,
                    p.name,
                    p.text,
                    p.created_on.isoformat(),
                    locks.is_locked(LockRule.CHANGE_PARAGRAPH, p.created_on, today, exempt),
                )
                for p in encounter.paragraphs.values()
                if not p.deleted
            ]
            if Section.REPORT in allowed
            else None,
            services=[
                ItemView(s.line_id, s.cups_code, f"{s.quantity} {s.description}".strip(), "", False)
                for s in encounter.services.values()
                if not s.removed
            ]
            if Section.SERVICES in allowed
            else None,
            observations=encounter.observations if Section.OBSERVATIONS in allowed else None,
            documents=[
                ItemView(
                    d.document_id.hex[:8],
                    d.filename,
                    f"{d.media_type} {d.size} B sha256:{d.sha256[:12]}",
                    d.attached_on.isoformat(),
                    locks.is_locked(LockRule.DELETE_DOCUMENT, d.attached_on, today, exempt),
                )
                for d in encounter.documents.values()
                if not d.deleted
            ]
            if Section.DOCUMENTS in allowed
            else None,
            diagnoses=[
                ItemView(d.code, name_of(d.code) or "", f"{d.role.value} {d.type.value}", "", False)
                for d in encounter.diagnoses.values()
            ]
            if Section.HISTORY in allowed
            else None,
            locks=[rule.value for rule in encounter.locks_in_force(today, locks, exempt)],
        )
        if view.paragraphs is not None:
            self.core.record_access(actor.username, REPORT_TAB, self._fields(encounter))
        if view.diagnoses is not None:
            self.core.record_access(actor.username, HISTORY_TAB, self._fields(encounter, HC="DIAGNOSTICOS"))
        return view

    # -- outputs (each recorded with the seed's action and comment) -----------------------------
    def report(self, actor: Actor, number: str, how: str, deliver: Deliver) -> PrintedDocument:
        """The medical report ("IMPRESO BASICO"): ``how`` is view, print or zip."""
        self.access.require(actor, "encounter.report")
        self.access.require_section(actor, Section.REPORT)
        if how == "zip":
            self.access.require_section(actor, Section.DOCUMENTS)
        encounter = self._load(number)
        body = [(p.name, p.text) for p in encounter.paragraphs.values() if not p.deleted]
        document = PrintedDocument(
            title=REPORT_NAME,
            header=self._header(encounter),
            body=body,
            file_stem=f"informe-{encounter.number}",
        )
        action = {"view": REPORT_VIEW, "print": REPORT_PRINT, "zip": REPORT_ZIP}[how]
        deliver(document)
        self.core.record_access(actor.username, action, self._fields(encounter, INF=REPORT_NAME))
        return document

    def documents_of(self, actor: Actor, number: str) -> list[tuple[str, bytes]]:
        """Every live document of the visit, for the report zip (its access is the zip's)."""
        self.access.require_section(actor, Section.DOCUMENTS)
        encounter = self._load(number)
        files = []
        for reference in encounter.documents.values():
            if reference.deleted:
                continue
            stored = self.core.get(StoredDocument, reference.document_id)
            files.append((reference.filename, base64.b64decode(stored.content_b64) if stored else b""))
        return files

    def history(
        self, actor: Actor, number: str, view_name: str, how: str, deliver: Deliver
    ) -> PrintedDocument:
        """A named clinical-history view of the visit's patient: DIAGNOSTICOS or VISITAS."""
        self.access.require(actor, "encounter.history")
        self.access.require_section(actor, Section.HISTORY)
        name = view_name.strip().upper()
        if name not in HISTORY_VIEWS:
            raise UnknownHistoryView(name=view_name, views=", ".join(HISTORY_VIEWS))
        encounter = self._load(number)
        body: list[tuple[str, str]] = []
        for row in self.encounters.by_patient(encounter.patient_id):
            if row.state == "deleted":
                continue
            if name == "VISITAS":
                principal = with_name(row.principal_diagnosis)
                body.append((row.number, f"{row.visit_date} {row.kind} {row.professional} {principal}"))
                continue
            other = self.core.get(Encounter, UUID(row.encounter_id))
            for diagnosis in other.diagnoses.values() if other else ():
                body.append(
                    (
                        f"{row.visit_date} {row.number}",
                        f"{with_name(diagnosis.code)} ({diagnosis.role.value} {diagnosis.type.value})",
                    )
                )
        action = HISTORY_VIEW if how == "view" else HISTORY_PRINT
        document = PrintedDocument(
            name, self._header(encounter), body, f"historia-{encounter.number}-{name.lower()}"
        )
        deliver(document)
        self.core.record_access(actor.username, action, self._fields(encounter, HC=name))
        return document

    def paragraph(
        self, actor: Actor, number: str, paragraph_id: str, how: str, deliver: Deliver
    ) -> PrintedDocument:
        self.access.require(actor, "encounter.report")
        self.access.require_section(actor, Section.REPORT)
        encounter = self._load(number)
        paragraph = encounter.paragraph(paragraph_id)
        action = PARAGRAPH_VIEW if how == "view" else PARAGRAPH_PRINT
        document = PrintedDocument(
            paragraph.name,
            self._header(encounter),
            [(paragraph.name, paragraph.text)],
            f"parrafo-{encounter.number}-{paragraph.paragraph_id}",
        )
        deliver(document)
        self.core.record_access(actor.username, action, self._fields(encounter, PAR=paragraph.name))
        return document

    def form(self, actor: Actor, number: str, form_name: str, deliver: Deliver) -> PrintedDocument:
        self.access.require(actor, "encounter.form")
        self.access.require_section(actor, Section.FORMS)
        name = form_name.strip().upper()
        if name not in FORMS:
            raise UnknownForm(name=form_name, forms="; ".join(FORMS))
        encounter = self._load(number)
        patient = self.core.get(Patient, encounter.patient_id)
        details = patient.details if patient else None
        text = FORMS[name].format(
            patient=patient_name(patient),
            document=f"{details.document_type.value} {details.document_number}" if details else "",
            date=encounter.visit_date.isoformat(),
            site=self._row(number).site,
            professional=encounter.professional,
            visit=encounter.number,
            chart=encounter.chart_number,
        )
        stem = f"formulario-{encounter.number}"
        document = PrintedDocument(name, self._header(encounter), [("", text)], stem)
        deliver(document)
        self.core.record_access(actor.username, FORM_PRINT, self._fields(encounter, FORM=name))
        return document

    def _header(self, encounter: Encounter) -> list[tuple[str, str]]:
        patient = self.core.get(Patient, encounter.patient_id)
        return [
            ("HIST", encounter.chart_number),
            ("VISITA", encounter.number),
            ("PACIENTE", patient_name(patient)),
            ("FECHA", encounter.visit_date.isoformat()),
            ("PROFESIONAL", encounter.professional),
        ]


def visible_rows(rows: list[EncounterRow], allowed: frozenset[Section]) -> list[EncounterRow]:
    """The rows as a reader holding the ``allowed`` sections may see them: a principal diagnosis
    is clinical history data (the HISTORY section, as in ``Encounters.show``), so it is blanked
    for readers without that section. Every list and chart of visits, and their JSON, reads its
    rows through here."""
    if Section.HISTORY in allowed:
        return rows
    return [replace(row, principal_diagnosis="") for row in rows]


def patient_name(patient: Patient | None) -> str:
    if patient is None:
        return "?"
    d = patient.details
    return " ".join(p for p in (d.first_name, d.middle_name, d.first_surname, d.second_surname) if p)

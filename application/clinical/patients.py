"""Registering, correcting and finding patients."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from application.context import Actor
from application.core import Core
from application.errors import DuplicateDocument, PatientNotFound
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.access_log import PATIENT_SEARCH, PATIENT_VIEW
from domain.clinical.patient import ChartMerged, Patient, PatientDetails
from domain.errors import N_
from domain.numbering import NumberSeries, series_id
from domain.sites.site import SiteAction
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone
from projections.clinical.patients import PatientQueries, PatientRow

NAME = r"^[^\d\W_]+(?:[ '\-.][^\d\W_]+)*\.?$"
NAME_HINT = N_("letters only (spaces, hyphens and apostrophes between words)")
DOCUMENT_HINT = N_("4 to 20 letters or digits")
MUNICIPALITY_HINT = N_("the 5-digit DIVIPOLA code of a municipality")


class PatientFields(Command):
    document_type: DocumentType
    document_number: str = Field(pattern=r"^[A-Za-z0-9]{4,20}$", description=DOCUMENT_HINT)
    first_name: str = Field(max_length=60, pattern=NAME, description=NAME_HINT)
    middle_name: str = Field("", max_length=60, pattern=f"^$|{NAME}", description=NAME_HINT)
    first_surname: str = Field(max_length=60, pattern=NAME, description=NAME_HINT)
    second_surname: str = Field("", max_length=60, pattern=f"^$|{NAME}", description=NAME_HINT)
    birth_date: date
    sex: Sex
    municipality: str = Field(pattern=r"^\d{5}$", description=MUNICIPALITY_HINT)
    zone: Zone
    coverage_status: CoverageStatus


class CorrectionFields(Command):
    document_type: DocumentType | None = None
    document_number: str | None = Field(None, pattern=r"^[A-Za-z0-9]{4,20}$", description=DOCUMENT_HINT)
    first_name: str | None = Field(None, max_length=60, pattern=NAME, description=NAME_HINT)
    middle_name: str | None = Field(None, max_length=60, pattern=f"^$|{NAME}", description=NAME_HINT)
    first_surname: str | None = Field(None, max_length=60, pattern=NAME, description=NAME_HINT)
    second_surname: str | None = Field(None, max_length=60, pattern=f"^$|{NAME}", description=NAME_HINT)
    birth_date: date | None = None
    sex: Sex | None = None
    municipality: str | None = Field(None, pattern=r"^\d{5}$", description=MUNICIPALITY_HINT)
    zone: Zone | None = None
    coverage_status: CoverageStatus | None = None


class Patients:
    def __init__(
        self,
        core: Core,
        queries: PatientQueries,
        access: Access | None = None,
        operations: Operations | None = None,
    ) -> None:
        self.core = core
        self.queries = queries
        self.access = access or Access(core)
        self.operations = operations or Operations(core)

    def register(self, actor: Actor, data: dict[str, Any]) -> PatientRow:
        """Register a patient; the chart number (HIST) is taken from this site's series."""
        self.access.require(actor, "patient.register")
        self.operations.require(actor, SiteAction.PATIENTS)
        details = PatientDetails(**parse(PatientFields, data).model_dump())
        self._refuse_duplicate(details.document_type, details.document_number)
        site = self.core.require_identity().site_code
        with self.core.acting_as(actor.username):
            series = self.core.get(NumberSeries, series_id(site, "HIST"))
            series = series or NumberSeries(site=site, series="HIST")
            chart_number = series.take()
            patient = Patient.register(chart_number, details, today=self.core.clock.today())
            self.core.save(series, patient)
        return self.row(chart_number)

    def correct(self, actor: Actor, chart_number: str, data: dict[str, Any]) -> PatientRow:
        """Correct recorded details: a new event; the old values stay in the history."""
        self.access.require(actor, "patient.correct")
        self.operations.require(actor, SiteAction.PATIENTS)
        changes = parse(CorrectionFields, data).model_dump(exclude_none=True)
        patient = self.load(chart_number)
        new_type = changes.get("document_type", patient.details.document_type)
        new_number = changes.get("document_number", patient.details.document_number)
        if (new_type, new_number) != (
            patient.details.document_type,
            patient.details.document_number,
        ):
            self._refuse_duplicate(new_type, new_number)
        with self.core.acting_as(actor.username):
            patient.correct(self.core.clock.today(), **changes)
            self.core.save(patient)
        return self.row(chart_number)

    def show(self, actor: Actor, chart_number: str) -> PatientRow:
        """A patient's record; the view is recorded in the activity log."""
        self.access.require(actor, "patient.show")
        row = self.row(chart_number)
        self.core.record_access(actor.username, PATIENT_VIEW, {"HIST": row.chart_number})
        return row

    def search(self, actor: Actor, text: str, limit: int = 50) -> list[PatientRow]:
        """Patients by document or name; recorded with the number found (not the words typed)."""
        self.access.require(actor, "patient.search")
        rows = self.queries.search(text, limit=limit)
        self.core.record_access(actor.username, PATIENT_SEARCH, {"RESULTADOS": str(len(rows))})
        return rows

    def row(self, chart_number: str) -> PatientRow:
        """The chart's row in the patient list, or PatientNotFound."""
        row = self.queries.by_chart(chart_number.strip().upper())
        if row is None:
            raise PatientNotFound(chart_number=chart_number)
        return row

    def current(self, chart_number: str) -> PatientRow:
        """The chart's row, refused (ChartMerged) when it was merged into another chart."""
        row = self.row(chart_number)
        if row.merged_into:
            raise ChartMerged(chart_number=row.chart_number, kept_chart=row.merged_into)
        return row

    def load(self, chart_number: str) -> Patient:
        """The chart's aggregate, or PatientNotFound."""
        patient = self.core.get(Patient, UUID(self.row(chart_number).patient_id))
        if patient is None:  # the view lists it, so the store has it
            raise PatientNotFound(chart_number=chart_number)
        return patient

    def _refuse_duplicate(self, document_type: DocumentType, document_number: str) -> None:
        for row in self.queries.by_document(document_type.value, document_number):
            if row.site == self.core.require_identity().site_code:
                raise DuplicateDocument(
                    document_type=document_type.value,
                    document_number=document_number,
                    chart_number=row.chart_number,
                )

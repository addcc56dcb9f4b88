"""Registering, correcting and finding patients."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from application.context import Actor
from application.core import Core
from application.errors import DuplicateDocument, PatientNotFound
from application.validation import Command, parse
from domain.errors import N_
from domain.numbering import NumberSeries, series_id
from domain.patient import Patient, PatientDetails
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone
from projections.patients import PatientQueries, PatientRow

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
    document_number: str | None = Field(
        None, pattern=r"^[A-Za-z0-9]{4,20}$", description=DOCUMENT_HINT
    )
    first_name: str | None = Field(None, max_length=60, pattern=NAME, description=NAME_HINT)
    middle_name: str | None = Field(
        None, max_length=60, pattern=f"^$|{NAME}", description=NAME_HINT
    )
    first_surname: str | None = Field(None, max_length=60, pattern=NAME, description=NAME_HINT)
    second_surname: str | None = Field(
        None, max_length=60, pattern=f"^$|{NAME}", description=NAME_HINT
    )
    birth_date: date | None = None
    sex: Sex | None = None
    municipality: str | None = Field(None, pattern=r"^\d{5}$", description=MUNICIPALITY_HINT)
    zone: Zone | None = None
    coverage_status: CoverageStatus | None = None


class Patients:
    def __init__(self, core: Core, queries: PatientQueries) -> None:
        self.core = core
        self.queries = queries

    def register(self, actor: Actor, data: dict[str, Any]) -> PatientRow:
        """Register a patient; the chart number (HIST) is taken from this site's series."""
        details = PatientDetails(**parse(PatientFields, data).model_dump())
        self._refuse_duplicate(details.document_type, details.document_number)
        site = self.core.require_identity().site_code
        with self.core.acting_as(actor.username):
            series = self.core.get(NumberSeries, series_id(site, "HIST"))
            series = series or NumberSeries(site=site, series="HIST")
            chart_number = series.take()
            patient = Patient.register(chart_number, details, today=self.core.clock.today())
            self.core.save(series, patient)
        return self.show(actor, chart_number)

    def correct(self, actor: Actor, chart_number: str, data: dict[str, Any]) -> PatientRow:
        """Correct recorded details: a new event; the old values stay in the history."""
        changes = parse(CorrectionFields, data).model_dump(exclude_none=True)
        patient = self._load(chart_number)
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
        return self.show(actor, chart_number)

    def show(self, actor: Actor, chart_number: str) -> PatientRow:
        return self._row(chart_number)

    def search(self, actor: Actor, text: str, limit: int = 50) -> list[PatientRow]:
        return self.queries.search(text, limit=limit)

    def _row(self, chart_number: str) -> PatientRow:
        row = self.queries.by_chart(chart_number.strip().upper())
        if row is None:
            raise PatientNotFound(chart_number=chart_number)
        return row

    def _load(self, chart_number: str) -> Patient:
        patient = self.core.get(Patient, UUID(self._row(chart_number).patient_id))
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

"""The patient record (the seed's "historia"), identified across sites by its chart number HIST."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue
from domain.vocabulary import (
    DEPARTMENT_CODES,
    DOCUMENT_AGE_RANGES,
    DOCUMENT_AGE_RULE,
    NUMERIC_DOCUMENTS,
    CoverageStatus,
    DocumentType,
    Sex,
    Zone,
)


@dataclass(frozen=True)
class PatientDetails:
    """What the registration desk records. Names come in four parts, as RIPS and the FEV need."""

    document_type: DocumentType
    document_number: str
    first_name: str
    middle_name: str
    first_surname: str
    second_surname: str
    birth_date: date
    sex: Sex
    municipality: str
    zone: Zone
    coverage_status: CoverageStatus

    def check(self, today: date) -> None:
        """Rules tying fields together or to the date; each field's shape is checked on input."""
        if self.birth_date > today:
            raise InvalidValue("birth_date", N_("the birth date cannot be in the future"))
        if self.document_type in NUMERIC_DOCUMENTS and not self.document_number.isdigit():
            raise InvalidValue(
                "document_number",
                N_("a {document_type} number has digits only"),
                document_type=self.document_type.value,
            )
        if self.municipality[:2] not in DEPARTMENT_CODES:
            raise InvalidValue(
                "municipality",
                N_("{code} is not a DIVIPOLA municipality code (unknown department {dept})"),
                code=self.municipality,
                dept=self.municipality[:2],
            )
        age = age_on(self.birth_date, today)
        low, high = DOCUMENT_AGE_RANGES.get(self.document_type, (0, 200))
        if not low <= age <= high:
            raise InvalidValue(
                "document_type",
                DOCUMENT_AGE_RULE,
                document_type=self.document_type.value,
                low=low,
                high=high,
                age=age,
            )

    def changed(self, **changes: Any) -> dict[str, Any]:
        """The subset of ``changes`` that differs from these details."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown patient fields: {sorted(unknown)}")
        return {k: v for k, v in changes.items() if getattr(self, k) != v}

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def age_on(birth_date: date, today: date) -> int:
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class NothingToCorrect(DomainError):
    template = N_("nothing to correct: the values given are the ones recorded")


class Patient(BrigadaAggregate):
    TOPIC = "brigada.Patient"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Patient.Event"

    class Registered(BrigadaAggregate.Created):
        TOPIC = "brigada.Patient.Registered"
        chart_number: str
        details: dict[str, Any]

    class Corrected(Event):
        TOPIC = "brigada.Patient.Corrected"
        changes: dict[str, Any]

    @event(Registered)
    def __init__(self, chart_number: str, details: dict[str, Any]) -> None:
        self.chart_number = chart_number
        self.details = PatientDetails(**details)

    @classmethod
    def register(cls, chart_number: str, details: PatientDetails, today: date) -> Patient:
        details.check(today)
        return cls(chart_number=chart_number, details=details.as_dict())

    def correct(self, today: date, **changes: Any) -> None:
        changed = self.details.changed(**changes)
        if not changed:
            raise NothingToCorrect()
        PatientDetails(**{**self.details.as_dict(), **changed}).check(today)
        self._correct(changes=changed)

    @event(Corrected)
    def _correct(self, changes: dict[str, Any]) -> None:
        self.details = PatientDetails(**{**self.details.as_dict(), **changes})

    @property
    def patient_id(self) -> UUID:
        return self.id

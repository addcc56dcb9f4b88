"""What the read-side tests share: José's details and views folded in memory that count lookups."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from domain.clinical.patient import PatientDetails
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone
from projections.base import InMemoryViews
from projections.clinical.patients import PatientsProjection
from projections.security.users import UsersProjection

JOSE = PatientDetails(
    document_type=DocumentType.CC,
    document_number="43123456",
    first_name="José",
    middle_name="",
    first_surname="Peña",
    second_surname="Ramírez",
    birth_date=date(1975, 8, 20),
    sex=Sex.MALE,
    municipality="05001",
    zone=Zone.URBAN,
    coverage_status=CoverageStatus.SUBSIDIZED,
)


def details(**overrides: Any) -> PatientDetails:
    """José's details with some fields changed."""
    return replace(JOSE, **overrides)


class CountingViews(InMemoryViews):
    """The views the activity log reads names from (patients, users), folded in memory from the
    events that came before the log's slice; counts what the log asks of them."""

    def __init__(self, *events: Any) -> None:
        super().__init__([PatientsProjection(), UsersProjection()], events)
        self.asked: list[str] = []

    def find_one(self, view: str, **equals: Any) -> Any | None:
        self.asked.append(view)
        return super().find_one(view, **equals)

"""Admissions: one row each, for lookups by number, a patient's open admission, and the list."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from domain.clinical.admission import Admission
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class AdmissionRow:
    admission_id: str
    number: str
    patient_id: str
    chart_number: str
    site: str
    kind: str
    admitted_on: date
    state: str  # open | discharged
    discharged_on: date | None
    condition: str
    admitted_at: str
    updated_at: str


class AdmissionsProjection(ByAggregate):
    name = "admissions"
    version = 1
    topics = (Admission.Admitted.TOPIC, Admission.Discharged.TOPIC)
    row_type = AdmissionRow
    key_fields = ("admission_id",)
    indexes = (("number",), ("patient_id", "state"), ("state", "admitted_on"))

    def apply(self, row: AdmissionRow | None, event: Any) -> AdmissionRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, Admission.Admitted):
            return AdmissionRow(
                admission_id=event.originator_id.hex,
                number=event.number,
                patient_id=event.patient_id.hex,
                chart_number=event.chart_number,
                site=event.context.site,
                kind=event.kind.value,
                admitted_on=event.admitted_on,
                state="open",
                discharged_on=None,
                condition="",
                admitted_at=stamp,
                updated_at=stamp,
            )
        if row is None:
            return None
        return replace(
            row,
            state="discharged",
            discharged_on=event.discharged_on,
            condition=event.condition.value,
            updated_at=stamp,
        )


class AdmissionQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def by_number(self, number: str) -> AdmissionRow | None:
        return self.rows.find_one(number=number.strip().upper())

    def open_for_patient(self, patient_id: UUID) -> list[AdmissionRow]:
        return self.rows.find(patient_id=patient_id.hex, state="open", order_by="admitted_at")

    def open_at_site(self, site: str) -> list[AdmissionRow]:
        return self.rows.find(site=site, state="open", order_by="admitted_at")

    def by_patient(self, patient_id: UUID) -> list[AdmissionRow]:
        return self.rows.find(patient_id=patient_id.hex, order_by="admitted_at")

    def listing(self, only_open: bool = False, limit: int = 200) -> list[AdmissionRow]:
        """The newest first."""
        equals = {"state": "open"} if only_open else {}
        return self.rows.select(Query(equals=equals, order_by="admitted_at", descending=True, limit=limit))

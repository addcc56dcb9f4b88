"""The patient list: one row per chart, searchable by document and by name. A chart merged into
another stays listed (``merged_into`` names the kept chart) but is left out of searches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from domain.clinical.patient import Patient
from projections.base import ByAggregate, Query, RowStore, fold_text


@dataclass(frozen=True)
class PatientRow:
    patient_id: str
    chart_number: str
    site: str
    document_type: str
    document_number: str
    first_name: str
    middle_name: str
    first_surname: str
    second_surname: str
    full_name: str
    search_text: str
    birth_date: date
    sex: str
    municipality: str
    zone: str
    coverage_status: str
    registered_at: str
    updated_at: str
    version: int
    merged_into: str = ""  # the kept chart, once this one was merged into it


def _with_details(row: PatientRow, details: dict[str, Any], **extra: Any) -> PatientRow:
    values = {**row.__dict__, **{k: getattr(v, "value", v) for k, v in details.items()}, **extra}
    parts = (
        values["first_name"],
        values["middle_name"],
        values["first_surname"],
        values["second_surname"],
    )
    full_name = " ".join(p for p in parts if p)
    values["full_name"] = full_name
    values["search_text"] = fold_text(
        f"{full_name} {values['document_type']} {values['document_number']} {values['chart_number']}"
    )
    return PatientRow(**values)


class PatientsProjection(ByAggregate):
    name = "patients"
    version = 2
    topics = (
        Patient.Registered.TOPIC,
        Patient.Corrected.TOPIC,
        Patient.ContractAssigned.TOPIC,
        Patient.ContractEnded.TOPIC,
        Patient.MergedInto.TOPIC,
        Patient.Absorbed.TOPIC,
    )
    row_type = PatientRow
    key_fields = ("patient_id",)
    indexes = (("chart_number",), ("document_type", "document_number"), ("full_name",))

    def apply(self, row: PatientRow | None, event: Any) -> PatientRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, Patient.Registered):
            blank = PatientRow(
                patient_id=event.originator_id.hex,
                chart_number=event.chart_number,
                site=event.context.site,
                document_type="",
                document_number="",
                first_name="",
                middle_name="",
                first_surname="",
                second_surname="",
                full_name="",
                search_text="",
                birth_date=date.min,
                sex="",
                municipality="",
                zone="",
                coverage_status="",
                registered_at=stamp,
                updated_at=stamp,
                version=event.originator_version,
            )
            return _with_details(blank, event.details)
        if isinstance(event, Patient.Corrected) and row is not None:
            return _with_details(row, event.changes, updated_at=stamp, version=event.originator_version)
        if row is None:
            return None
        if isinstance(event, Patient.MergedInto):
            row = replace(row, merged_into=event.kept_chart)
        # Contracts and merges live on the aggregate; the row keeps its version and time current.
        return replace(row, updated_at=stamp, version=event.originator_version)


class PatientQueries:
    """How the application reads the patient list."""

    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def all(self) -> list[PatientRow]:
        return self.rows.find(order_by="chart_number")

    def by_chart(self, chart_number: str) -> PatientRow | None:
        return self.rows.find_one(chart_number=chart_number)

    def by_document(self, document_type: str, document_number: str) -> list[PatientRow]:
        """Charts with this document, merged ones left out."""
        return self.rows.find(
            document_type=document_type,
            document_number=document_number,
            merged_into="",
            order_by="chart_number",
        )

    def search(self, text: str, limit: int = 50) -> list[PatientRow]:
        """Charts whose name, document or number hold every word of ``text`` (not merged ones)."""
        fragments = fold_text(text).split()
        if not fragments:
            return []
        return self.rows.select(
            Query(
                equals={"merged_into": ""},
                contains={"search_text": fragments},
                order_by="full_name",
                limit=limit,
            )
        )

    def duplicates(self) -> list[list[PatientRow]]:
        """Groups of charts (not merged) sharing a document type and number, e.g. one patient
        registered at two sites. Reads the whole list: an occasional report on central."""
        groups: dict[tuple[str, str], list[PatientRow]] = {}
        for row in self.rows.find(merged_into="", order_by="chart_number"):
            groups.setdefault((row.document_type, row.document_number), []).append(row)
        return [rows for _document, rows in sorted(groups.items()) if len(rows) > 1]

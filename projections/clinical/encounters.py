"""The visit diary: one row per encounter, for lists, lookups by number, and the sync's check
that every encounter of a site is finalized."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from domain.clinical.encounter import DiagnosisRole, Encounter
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class EncounterRow:
    encounter_id: str
    number: str
    patient_id: str
    chart_number: str
    site: str
    kind: str
    visit_date: str  # ISO date
    professional: str
    state: str  # open | finalized | deleted
    principal_diagnosis: str
    finalized_on: str
    opened_at: str
    updated_at: str


class EncountersProjection(ByAggregate):
    name = "encounters"
    version = 1
    topics = (
        Encounter.Opened.TOPIC,
        Encounter.DiagnosisSet.TOPIC,
        Encounter.DiagnosisRemoved.TOPIC,
        Encounter.Finalized.TOPIC,
        Encounter.Deleted.TOPIC,
        Encounter.Reassigned.TOPIC,
    )
    row_type = EncounterRow
    key_fields = ("encounter_id",)
    indexes = (("number",), ("patient_id",), ("visit_date", "professional"), ("site", "state"))

    def apply(self, row: EncounterRow | None, event: Any) -> EncounterRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, Encounter.Opened):
            return EncounterRow(
                encounter_id=event.originator_id.hex,
                number=event.number,
                patient_id=event.patient_id.hex,
                chart_number=event.chart_number,
                site=event.context.site,
                kind=event.kind.value,
                visit_date=event.visit_date.isoformat(),
                professional=event.professional,
                state="open",
                principal_diagnosis="",
                finalized_on="",
                opened_at=stamp,
                updated_at=stamp,
            )
        if row is None:
            return None
        if isinstance(event, Encounter.DiagnosisSet) and event.role is DiagnosisRole.PRINCIPAL:
            row = replace(row, principal_diagnosis=event.code)
        elif isinstance(event, Encounter.DiagnosisRemoved) and event.code == row.principal_diagnosis:
            row = replace(row, principal_diagnosis="")
        elif isinstance(event, Encounter.Finalized):
            row = replace(row, state="finalized", finalized_on=event.finalized_on.isoformat())
        elif isinstance(event, Encounter.Deleted):
            row = replace(row, state="deleted")
        elif isinstance(event, Encounter.Reassigned):
            row = replace(row, patient_id=event.patient_id.hex, chart_number=event.chart_number)
        return replace(row, updated_at=stamp)


class EncounterQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def by_number(self, number: str) -> EncounterRow | None:
        return self.rows.find_one(number=number.strip().upper())

    def by_patient(self, patient_id: UUID) -> list[EncounterRow]:
        return self.rows.find(patient_id=patient_id.hex, order_by="opened_at")

    def open_at_site(self, site: str) -> list[EncounterRow]:
        """Encounters of a site that are neither finalized nor deleted (the sync refuses them)."""
        return self.rows.find(site=site, state="open", order_by="number")

    def diary(
        self, day: str | None = None, professional: str | None = None, limit: int = 200
    ) -> list[EncounterRow]:
        equals = {k: v for k, v in (("visit_date", day), ("professional", professional)) if v}
        return self.rows.select(Query(equals=equals, order_by="opened_at", descending=True, limit=limit))

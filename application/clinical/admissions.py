"""Admissions (seed 000): ambulatory hospitalization anywhere a site is authorized for it;
emergency and inpatient admissions on central only, refused on a laptop by the sites policy."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from application.clinical.patients import Patients
from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.access_log import ADMISSION_LIST
from domain.clinical.admission import ADMISSION_OPERATIONS, Admission, AdmissionKind, DischargeCondition
from domain.errors import N_, NotFound
from domain.numbering import NumberSeries, series_id
from projections.clinical.admissions import AdmissionQueries, AdmissionRow

SERIES = "ING"


class AdmissionNotFound(NotFound):
    template = N_("no admission with number {number}")


class AdmitPatient(Command):
    chart_number: str = Field(min_length=1, max_length=30)
    kind: AdmissionKind = AdmissionKind.AMBULATORY
    reason: str = Field("", max_length=500)


class DischargePatient(Command):
    condition: DischargeCondition


class Admissions:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        patients: Patients,
        queries: AdmissionQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.patients = patients
        self.queries = queries

    def _row(self, number: str) -> AdmissionRow:
        row = self.queries.by_number(number)
        if row is None:
            raise AdmissionNotFound(number=number)
        return row

    def admit(self, actor: Actor, data: dict[str, Any]) -> AdmissionRow:
        """Admit a patient (one open admission at a time); the number (ING) is this site's."""
        self.access.require(actor, "admission.admit")
        cmd = parse(AdmitPatient, data)
        self.operations.require(actor, ADMISSION_OPERATIONS[cmd.kind])
        patient = self.patients.current(cmd.chart_number)
        patient_id = UUID(patient.patient_id)
        open_now = [r.number for r in self.queries.open_for_patient(patient_id)]
        site = self.core.require_identity().site_code
        with self.core.acting_as(actor.username):
            series = self.core.get(NumberSeries, series_id(site, SERIES))
            series = series or NumberSeries(site=site, series=SERIES)
            admission = Admission.admit(
                series.take(),
                patient_id,
                patient.chart_number,
                cmd.kind,
                self.core.clock.today(),
                cmd.reason,
                open_now,
            )
            self.core.save(series, admission)
        return self._row(admission.number)

    def discharge(self, actor: Actor, number: str, data: dict[str, Any]) -> AdmissionRow:
        """Discharge with the RIPS condition and destination (01 home, 02 dead, 04 referred...)."""
        self.access.require(actor, "admission.discharge")
        cmd = parse(DischargePatient, data)
        row = self._row(number)
        self.operations.require(actor, ADMISSION_OPERATIONS[AdmissionKind(row.kind)], owner_site=row.site)
        admission = self.core.get(Admission, UUID(row.admission_id))
        if admission is None:  # the view lists it, so the store has it
            raise AdmissionNotFound(number=number)
        with self.core.acting_as(actor.username):
            admission.discharge(self.core.clock.today(), cmd.condition)
            self.core.save(admission)
        return self._row(row.number)

    def list(self, actor: Actor, only_open: bool = False, limit: int = 200) -> list[AdmissionRow]:
        """Admissions, newest first; recorded with the number listed."""
        self.access.require(actor, "admission.list")
        rows = self.queries.listing(only_open=only_open, limit=limit)
        self.core.record_access(actor.username, ADMISSION_LIST, {"RESULTADOS": str(len(rows))})
        return rows

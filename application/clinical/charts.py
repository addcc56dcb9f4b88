"""A patient's chart as a whole: the record with its contracts, the chart with its encounters,
appointments and admissions, duplicate charts, and merging them (the seed's "Historia -
Rectificar", central and administrators only)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.clinical.contracts import Contracts, ContractView
from application.clinical.encounters import EncounterNotFound, visible_rows
from application.clinical.patients import Patients
from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.sites.operations import Operations
from domain.access_log import PATIENT_DUPLICATES, PATIENT_VIEW
from domain.clinical.encounter import Encounter
from domain.clinical.patient import merge_charts
from domain.errors import N_
from domain.sites.site_policy import Forbidden
from projections.clinical.admissions import AdmissionQueries, AdmissionRow
from projections.clinical.agenda import AgendaQueries, PatientAppointment
from projections.clinical.encounters import EncounterQueries, EncounterRow
from projections.clinical.patients import PatientRow


@dataclass(frozen=True)
class PatientRecord:
    """What ``patient show`` prints: the patient and their payer contracts."""

    patient: PatientRow
    contracts: list[ContractView]


@dataclass(frozen=True)
class PatientChart:
    """The chart: the record, the charts merged into it, and its clinical history in order."""

    patient: PatientRow
    contracts: list[ContractView]
    absorbed: list[str]
    encounters: list[EncounterRow]
    appointments: list[PatientAppointment]
    admissions: list[AdmissionRow]


@dataclass(frozen=True)
class DuplicateGroup:
    document_type: str
    document_number: str
    charts: list[PatientRow]


@dataclass(frozen=True)
class MergeResult:
    kept: str
    removed: str
    encounters_moved: list[str]  # visit numbers


class Charts:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        patients: Patients,
        contracts: Contracts,
        encounters: EncounterQueries,
        agenda: AgendaQueries,
        admissions: AdmissionQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.patients = patients
        self.contracts = contracts
        self.encounters = encounters
        self.agenda = agenda
        self.admissions = admissions

    def record(self, actor: Actor, chart_number: str) -> PatientRecord:
        """A patient's record with their contracts (recorded as "Patient - View")."""
        row = self.patients.show(actor, chart_number)
        return PatientRecord(row, self.contracts.views(self.patients.load(row.chart_number)))

    def chart(self, actor: Actor, chart_number: str) -> PatientChart:
        """The chart with its encounters, appointments and admissions, those of the charts merged
        into it included (recorded as "Patient - View")."""
        self.access.require(actor, "patient.chart")
        row = self.patients.row(chart_number)
        patient = self.patients.load(row.chart_number)
        ids = [patient.id, *(UUID(self.patients.row(c).patient_id) for c in patient.absorbed)]
        chart = PatientChart(
            patient=row,
            contracts=self.contracts.views(patient),
            absorbed=list(patient.absorbed),
            encounters=visible_rows(self.encounters.by_patient(patient.id), self.access.sections_of(actor)),
            appointments=sorted(
                (a for i in ids for a in self.agenda.by_patient(i)), key=lambda a: (a.day, a.slot)
            ),
            admissions=sorted(
                (a for i in ids for a in self.admissions.by_patient(i)), key=lambda a: a.admitted_at
            ),
        )
        self.core.record_access(actor.username, PATIENT_VIEW, {"HIST": row.chart_number})
        return chart

    def duplicates(self, actor: Actor) -> list[DuplicateGroup]:
        """Charts sharing a document type and number (a patient registered at two sites)."""
        self.access.require(actor, "patient.duplicates")
        groups = [
            DuplicateGroup(rows[0].document_type, rows[0].document_number, rows)
            for rows in self.patients.queries.duplicates()
        ]
        self.core.record_access(actor.username, PATIENT_DUPLICATES, {"RESULTADOS": str(len(groups))})
        return groups

    def merge(self, actor: Actor, keep: str, remove: str) -> MergeResult:
        """Merge chart ``remove`` into chart ``keep`` in one save: the removed chart is marked merged
        (it refuses changes and leaves searches), the kept one records it ("Historia - Rectificar",
        HISTNEW / HISTOLD), and each encounter of the removed chart moves to the kept one."""
        self.access.require_central(actor, N_("merging charts"))
        self.access.require_admin(actor, N_("merge charts"))
        self.access.require(actor, "patient.merge")
        self.operations.require(actor, Forbidden.ADMINISTRATION)
        kept, removed = self.patients.load(keep), self.patients.load(remove)
        visits = self.encounters.by_patient(removed.id)
        for visit in visits:  # a site on mission holds its encounters until it syncs
            self.operations.require(actor, Forbidden.ADMINISTRATION, owner_site=visit.site)
        today = self.core.clock.today()
        open_items = [f"ING {r.number}" for r in self.admissions.open_for_patient(removed.id)]
        open_items += [f"CITA {n}" for n in self.agenda.active_for_patient(removed.id, from_day=today)]
        with self.core.acting_as(actor.username):
            merge_charts(kept, removed, open_items)
            moved: list[Encounter] = []
            for visit in visits:
                encounter = self.core.get(Encounter, UUID(visit.encounter_id))
                if encounter is None:  # the view lists it, so the store has it
                    raise EncounterNotFound(number=visit.number)
                encounter.reassign(kept.id, kept.chart_number)
                moved.append(encounter)
            self.core.save(removed, kept, *moved)
        return MergeResult(kept.chart_number, removed.chart_number, [v.number for v in visits])

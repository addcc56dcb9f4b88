"""The application as the CLI sees it: one object per store, its use cases as attributes."""

from __future__ import annotations

from application.access import Access
from application.admissions import Admissions
from application.agenda import Agendas
from application.app import BrigadaApplication
from application.audit import Audit, BackupWriter, ChainReader
from application.auth import Auth
from application.charts import Charts
from application.contracts import Contracts
from application.core import Core
from application.directory import StoreDirectory
from application.encounters import Encounters
from application.locks import Locks
from application.operations import Operations
from application.patients import Patients
from application.policy import Policies
from application.ports import Clock, HostInfo, PasswordBlocklist, PasswordHasher, ViewStorage
from application.projection_runner import ProjectionRunner
from application.read_models import ReadModels
from application.setup import Setup
from application.sites import Sites
from application.users import Users
from projections.activity_log import ActivityLogProjection
from projections.admissions import AdmissionQueries, AdmissionsProjection
from projections.agenda import AgendaDaysProjection, AgendaQueries, AppointmentsProjection
from projections.base import Projection
from projections.encounters import EncounterQueries, EncountersProjection
from projections.patients import PatientQueries, PatientsProjection
from projections.sites import SiteQueries, SitesProjection
from projections.users import UserQueries, UsersProjection


def all_projections(app: BrigadaApplication) -> list[Projection]:
    """Every view, in catch-up order."""
    return [
        PatientsProjection(),
        UsersProjection(),
        SitesProjection(),
        EncountersProjection(),
        AgendaDaysProjection(),
        AppointmentsProjection(),
        AdmissionsProjection(),
        ActivityLogProjection(StoreDirectory(app)),
    ]


class Brigada:
    def __init__(
        self,
        app: BrigadaApplication,
        storage: ViewStorage,
        clock: Clock,
        host: HostInfo,
        hasher: PasswordHasher,
        chain: ChainReader,
        backups: BackupWriter,
        blocklist: PasswordBlocklist | None = None,
    ) -> None:
        self.app = app
        self.storage = storage
        self.views = ProjectionRunner(app, storage, all_projections(app))
        self.core = Core(app, self.views, clock, host, hasher, blocklist)
        self.access = Access(self.core)
        self.policies = Policies(self.core, self.access)
        self.setup = Setup(self.core)
        self.auth = Auth(self.core, self.access, self.policies)
        self.operations = Operations(self.core)
        patients = PatientQueries(self.views.store("patients"))
        users = UserQueries(self.views.store("users"))
        self.patients = Patients(self.core, patients, self.access, self.operations)
        self.users = Users(self.core, self.access, self.policies, users)
        self.locks = Locks(self.core, self.access)
        self.encounters = Encounters(
            self.core,
            self.access,
            self.operations,
            patients,
            EncounterQueries(self.views.store("encounters")),
        )
        self.sites = Sites(
            self.core, self.access, self.operations, SiteQueries(self.views.store("sites")), patients, users
        )
        # Clinical: contracts, charts (duplicates, merge), agendas and appointments, admissions.
        agenda = AgendaQueries(self.views.store("agenda_days"), self.views.store("appointments"))
        admissions = AdmissionQueries(self.views.store("admissions"))
        self.contracts = Contracts(self.core, self.access, self.operations, self.patients)
        self.charts = Charts(
            self.core,
            self.access,
            self.operations,
            self.patients,
            self.contracts,
            EncounterQueries(self.views.store("encounters")),
            agenda,
            admissions,
        )
        self.agendas = Agendas(self.core, self.access, self.operations, self.patients, agenda)
        self.admissions = Admissions(self.core, self.access, self.operations, self.patients, admissions)
        self.read_models = ReadModels(self.views, self.access)
        self.audit = Audit(self.core, self.access, self.views.store("activity_log"), chain, backups)

    def close(self) -> None:
        self.app.close()
        self.storage.close()

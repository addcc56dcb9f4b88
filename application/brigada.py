"""The application as the CLI sees it: one object per store, its use cases as attributes."""

from __future__ import annotations

from application.app import BrigadaApplication
from application.auth import Auth
from application.core import Core
from application.patients import Patients
from application.ports import Clock, HostInfo, PasswordHasher, ViewStorage
from application.projection_runner import ProjectionRunner
from application.setup import Setup
from projections.patients import PatientQueries, PatientsProjection


def all_projections() -> list:
    return [PatientsProjection()]


class Brigada:
    def __init__(
        self,
        app: BrigadaApplication,
        storage: ViewStorage,
        clock: Clock,
        host: HostInfo,
        hasher: PasswordHasher,
    ) -> None:
        self.app = app
        self.storage = storage
        self.views = ProjectionRunner(app, storage, all_projections())
        self.core = Core(app, self.views, clock, host, hasher)
        self.setup = Setup(self.core)
        self.auth = Auth(self.core)
        self.patients = Patients(self.core, PatientQueries(self.views.store("patients")))

    def close(self) -> None:
        self.app.close()
        self.storage.close()

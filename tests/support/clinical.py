"""Clinical stores: site BRG01's laptop on mission with its coordinator, users, the activity
log and the events recorded since a log position, `patient register` options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from application.brigada import Brigada
from application.context import Actor
from domain.security.sections import Section
from domain.sites.site import SiteMode
from projections.audit.activity_log import ActivityRow
from tests.support.security import log_in
from tests.support.sites import JOSE, set_site_mode, start_central

OpenStore = Callable[..., Brigada]
COORDINATOR = "ana"
COORDINATOR_PASSWORD = "lluvia-sobre-el-rio-cauca"
# What a field coordinator works with, granted on central and copied to the laptop.
COORDINATOR_OPTIONS = ["patient", "agenda", "appointment", "admission", "passwd", "site.mode"]


def add_user(brigada: Brigada, admin: Actor, username: str, options: Sequence[str], password: str) -> Actor:
    """A non-administrator with these menu options, logged in on ``brigada``."""
    brigada.users.create(admin, {"username": username, "full_name": username.title()}, password)
    brigada.users.change_access(admin, username, grant=list(options), revoke=[])
    return log_in(brigada, username, password)


def activity(brigada: Brigada, admin: Actor, **criteria: Any) -> list[ActivityRow]:
    """Activity-log rows matching the criteria, oldest first."""
    return list(reversed(brigada.audit.export_rows(admin, criteria)))


def events_since(brigada: Brigada, position: int) -> list[Any]:
    """The domain events recorded after a log position, in order."""
    head = brigada.app.recorder.max_notification_id() or 0
    notifications = brigada.app.recorder.select_notifications(
        start=position, limit=head + 1, inclusive_of_start=False
    )
    return [brigada.app.mapper.to_domain_event(n) for n in notifications]


def head(brigada: Brigada) -> int:
    return brigada.app.recorder.max_notification_id() or 0


@dataclass
class Mission:
    """Central with site BRG01 registered, coordinator ana, patient JOSE (CEN-1); BRG01's laptop
    provisioned and on mission, ana logged in there."""

    central: Brigada
    admin: Actor
    laptop: Brigada
    laptop_url: str
    ana: Actor  # on the laptop

    def set_mode(self, mode: SiteMode) -> None:
        set_site_mode(self.central, self.admin, "BRG01", mode)
        self.laptop.sites.receive_site_record(self.central)

    def change_parameters(self, **changes: list[str]) -> None:
        self.central.sites.change_parameters(self.admin, "BRG01", changes)
        self.laptop.sites.receive_site_record(self.central)


def start_mission(
    open_store: OpenStore,
    central_url: str,
    tmp_path: Path,
    actions: Sequence[str] = (),
    options: Sequence[str] = (),
) -> Mission:
    """``options``: menu options ana gets besides COORDINATOR_OPTIONS (with every visit section)."""
    central, admin = start_central(open_store, central_url)
    site: dict[str, Any] = {
        "code": "BRG01",
        "name": "Brigada río Magdalena",
        "warehouses": ["BRG01-FARMACIA"],
    }
    if actions:
        site["actions"] = list(actions)
    central.sites.register(admin, site)
    central.users.create(admin, {"username": COORDINATOR, "full_name": "Ana"}, COORDINATOR_PASSWORD)
    central.users.change_access(admin, COORDINATOR, grant=[*COORDINATOR_OPTIONS, *options], revoke=[])
    central.users.change_sections(admin, COORDINATOR, [s.value for s in Section], [])
    central.patients.register(admin, JOSE)
    laptop_url = f"sqlite:///{tmp_path}/brg01.db"
    laptop = open_store(laptop_url)
    central.sites.provision(admin, "BRG01", laptop, "brg01.db")
    set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(central)
    ana = log_in(laptop, COORDINATOR, COORDINATOR_PASSWORD)
    return Mission(central, admin, laptop, laptop_url, ana)


def patient_options(details: dict[str, Any]) -> list[str]:
    """`patient register` options for a patient's details."""
    options = {
        "document_type": "--document-type",
        "document_number": "--document-number",
        "first_name": "--first-name",
        "first_surname": "--first-surname",
        "birth_date": "--birth-date",
        "sex": "--sex",
        "municipality": "--municipality",
        "zone": "--zone",
        "coverage_status": "--coverage",
    }
    return [arg for field, option in options.items() for arg in (option, str(details[field]))]

"""Helpers shared by the clinical tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from security_support import ADMIN_PASSWORD, computer_today, log_in
from sites_support import JOSE, MARIA, PEDRO, start_central

from application.brigada import Brigada
from application.context import Actor
from domain.context import EventContext, recording
from domain.security.sections import Section
from domain.sites.site import SiteMode
from projections.audit.activity_log import ActivityRow

__all__ = ["ADMIN_PASSWORD", "JOSE", "MARIA", "PEDRO", "log_in", "start_central"]

OpenStore = Callable[..., Brigada]
TODAY = date(2026, 3, 1)  # the business date of the tests' clock (tests/conftest.py START)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
COORDINATOR = "ana"
COORDINATOR_PASSWORD = "lluvia-sobre-el-rio-cauca"
# What a field coordinator works with, granted on central and copied to the laptop.
COORDINATOR_OPTIONS = ["patient", "agenda", "appointment", "admission", "passwd", "site.mode"]


def context(site: str = "CEN", on: date = TODAY) -> EventContext:
    """A recording context for domain tests (given / when / then without a store)."""
    return EventContext(uuid.uuid4(), site, "admin", "pc", 7, NOW, on)


def when(aggregate: Any, command: Callable[[Any], Any], site: str = "CEN") -> list[Any]:
    """Run a command on an aggregate; the new events it recorded (none when it raised)."""
    with recording(context(site)):
        command(aggregate)
    return list(aggregate.collect_events())


def given(make: Callable[[], Any], *then: Callable[[Any], Any]) -> Any:
    """An aggregate built by ``make`` and past commands, its events already collected."""
    with recording(context()):
        aggregate = make()
        for command in then:
            command(aggregate)
    aggregate.collect_events()
    return aggregate


def replayed(events: Sequence[Any]) -> Any:
    """The aggregate rebuilt from its events, as the store would."""
    rebuilt = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    return rebuilt


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
        self.central.sites.set_mode(self.admin, "BRG01", mode)
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
    central.sites.set_mode(admin, "BRG01", SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(central)
    ana = log_in(laptop, COORDINATOR, COORDINATOR_PASSWORD)
    return Mission(central, admin, laptop, laptop_url, ana)


class Terminal:
    """brigada commands on one store, in English, each checked for its exit code."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> Result:
        result = self.runner.invoke(cli_root(), ["--store", self.url, "--lang", "en", *args], input=input)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def log_in(self, username: str, password: str) -> None:
        self("login", username, "--password-stdin", input=f"{password}\n")

    def confirm_date(self) -> None:
        """The store was made on the tests' clock (2026-03-01), the CLI runs on the computer's:
        someone confirms the computer's date, as after a long gap (domain/store_time.py)."""
        self("date", "confirm", computer_today())


def cli_root() -> Any:
    from cli.main import cli

    return cli


def one_line(result: Result) -> str:
    """The single line a refused command writes on stderr."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


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

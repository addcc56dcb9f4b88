"""Refused attempts are recorded (issue 17): a denied menu option, a denied visit section, a time
lock and a sites-policy (mode) refusal each add one "Access - Denied" record by the user who tried,
naming what was tried and the rule, and nothing else; the command is still refused (exit 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.system import FixedClock
from application.brigada import Brigada
from application.context import Actor
from application.errors import AdministratorOnly, CentralOnly, SectionDenied
from cli.main import cli
from domain.access_log import ACCESS_DENIED, REPORT_PRINT, SITE_ACCESS_ACTIONS
from domain.security import menu
from domain.security.locks import Locked
from domain.security.sections import Section
from domain.sites.site import SiteMode
from domain.sites.site_policy import OperationRefused
from domain.sync.sync import ConflictKeep
from projections.audit.activity_log import action_label
from tests.support.cli import cli_log_in
from tests.support.clinical import start_mission
from tests.support.encounters import make_user_on, password_of, register_patient
from tests.support.output import unseen
from tests.support.security import ADMIN_PASSWORD, log_in

ACTION = "Access - Denied"


def head(brigada: Brigada) -> int:
    return brigada.app.recorder.max_notification_id() or 0


def added_since(brigada: Brigada, before: int) -> list[Any]:
    """The events recorded after log position ``before``."""
    found = brigada.app.recorder.select_notifications(start=before + 1, limit=100)
    return [brigada.app.mapper.to_domain_event(n) for n in found]


def only_a_denial(brigada: Brigada, before: int, username: str) -> dict[str, str]:
    """Exactly one event was added since ``before``: an access-denied record by ``username``."""
    [recorded] = added_since(brigada, before)
    assert (type(recorded).TOPIC, recorded.action) == ("brigada.Access.Recorded", ACCESS_DENIED)
    assert recorded.context.user == username
    return dict(recorded.fields)


def denied_rows(brigada: Brigada, admin: Actor) -> list[Any]:
    rows = brigada.audit.search(admin, {}, page_size=1000).rows
    return [r for r in rows if r.action == ACCESS_DENIED]


@pytest.fixture
def central(open_store: Any, tmp_path: Path) -> Brigada:
    brigada = open_store(f"sqlite:///{tmp_path}/central.db")
    brigada.setup.initialize("central", "CEN", "admin", "Administrador", ADMIN_PASSWORD)
    return brigada


@pytest.fixture
def admin(central: Brigada) -> Actor:
    return log_in(central, "admin", ADMIN_PASSWORD)


def test_a_denied_menu_option_tried_through_the_cli_is_recorded_once(
    central: Brigada, admin: Actor, tmp_path: Path
) -> None:
    make_user_on(central, admin, "ana", options=frozenset({"passwd"}))
    url = f"sqlite:///{tmp_path}/central.db"
    runner = CliRunner()
    cli_log_in(runner, url, "ana", password_of("ana"))
    before = head(central)

    result = runner.invoke(cli, ["--store", url, "--lang", "en", "patient", "search", "José"])

    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert only_a_denial(central, before, "ana") == {"OPCION": "patient.search"}
    [row] = denied_rows(central, admin)
    assert (row.user, row.comment) == ("ana", "OPCION=patient.search")


def test_a_denied_visit_section_is_recorded_naming_the_section(central: Brigada, admin: Actor) -> None:
    chart = register_patient(central, admin)
    number = central.encounters.open(admin, {"chart_number": chart, "reason": "Fiebre"}).number
    ana = make_user_on(central, admin, "ana", sections=frozenset(set(Section) - {Section.REPORT}))
    before = head(central)

    with pytest.raises(SectionDenied):
        central.encounters.report(ana, number, "view", unseen)

    assert only_a_denial(central, before, "ana") == {"SECCION": Section.REPORT.value}


def test_an_administrator_is_never_denied_and_nothing_is_recorded(central: Brigada, admin: Actor) -> None:
    before = head(central)
    central.access.require(admin, "patient.search")
    central.access.require_section(admin, Section.REPORT)
    assert head(central) == before


def test_a_time_lock_refusal_is_recorded_naming_the_rule(
    central: Brigada, admin: Actor, clock: FixedClock
) -> None:
    chart = register_patient(central, admin)
    ana = make_user_on(central, admin, "ana")
    central.locks.set(admin, {"change_observations": 1})
    number = central.encounters.open(ana, {"chart_number": chart, "reason": "Fiebre"}).number
    clock.advance(days=1)
    ana = log_in(central, "ana", password_of("ana"))
    before = head(central)

    with pytest.raises(Locked):
        central.encounters.set_observations(ana, number, "Otra")

    assert only_a_denial(central, before, "ana") == {"REGLA": "change_observations"}


def test_a_mode_refusal_on_a_laptop_is_recorded_and_may_be_pushed(open_store: Any, tmp_path: Path) -> None:
    mission = start_mission(open_store, f"sqlite:///{tmp_path}/central.db", tmp_path)
    mission.set_mode(SiteMode.ON_SITE)
    laptop = mission.laptop
    before = head(laptop)

    with pytest.raises(OperationRefused):
        laptop.patients.register(mission.ana, {"first_name": "María"})

    fields = only_a_denial(laptop, before, mission.ana.username)
    assert fields == {"OPERACION": "patients", "REGLA": "INS"}


def test_the_denied_code_is_a_sites_access_and_has_a_name() -> None:
    assert ACCESS_DENIED in SITE_ACCESS_ACTIONS
    assert action_label(ACCESS_DENIED) == ACTION
    assert menu.option("patient.search")  # the option the CLI test tries exists


def test_an_administrators_only_option_tried_by_another_user_is_recorded(
    central: Brigada, admin: Actor
) -> None:
    ana = make_user_on(central, admin, "ana")
    before = head(central)

    with pytest.raises(AdministratorOnly):
        central.audit.search(ana, {})

    assert only_a_denial(central, before, "ana") == {
        "REGLA": "admin-only",
        "ACCION": "open the activity log",
    }


def test_a_central_only_change_tried_on_a_laptop_is_recorded(open_store: Any, tmp_path: Path) -> None:
    mission = start_mission(open_store, f"sqlite:///{tmp_path}/central.db", tmp_path)
    before = head(mission.laptop)

    with pytest.raises(CentralOnly):
        mission.laptop.sync_central.resolve(mission.ana, "abcdef", ConflictKeep.SITE)

    fields = only_a_denial(mission.laptop, before, mission.ana.username)
    assert fields == {"REGLA": "central-only", "ACCION": "resolving sync conflicts"}


def test_a_print_that_could_not_be_written_is_not_recorded_as_printed(
    central: Brigada, admin: Actor, tmp_path: Path
) -> None:
    chart = register_patient(central, admin)
    number = central.encounters.open(admin, {"chart_number": chart, "reason": "Fiebre"}).number
    url = f"sqlite:///{tmp_path}/central.db"
    runner = CliRunner()
    cli_log_in(runner, url, "admin", ADMIN_PASSWORD)
    before = head(central)

    nowhere = tmp_path / "no-such-folder" / "informe.pdf"
    result = runner.invoke(
        cli, ["--store", url, "--lang", "en", "encounter", "report", "print", number, "--out", str(nowhere)]
    )

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["--out: cannot be written: No such file or directory"], (
        result.stderr
    )
    assert added_since(central, before) == []
    written = runner.invoke(
        cli, ["--store", url, "encounter", "report", "print", number, "--out", str(tmp_path / "informe.pdf")]
    )
    assert written.exit_code == 0, written.stderr
    [printed] = added_since(central, before)
    assert printed.action == REPORT_PRINT

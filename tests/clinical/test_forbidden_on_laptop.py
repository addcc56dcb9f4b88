"""Seed 000's "acciones no permitidas en el entorno desconectado", one test per rule: each tried
through the CLI on a laptop on mission, by a user holding every menu option and visit section,
refused naming the rule (exit 1), with nothing written to the laptop's store.

Two rules are tried where their setting lives: inventory movements in warehouses not marked
disconnected, and entries into field warehouses (tests/inventory, test_stock_domain.py,
test_inventory_store.py and test_inventory_cli.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import click
import pytest

from application.replication import copy_aggregates
from cli.exit_codes import Exit
from cli.main import cli
from domain.access_log import ACCESS_DENIED, Access
from domain.pharmacy import diagnostic_service, surgery
from domain.security import menu
from domain.sites.site import SiteAction
from domain.sites.site_policy import Forbidden
from tests.support.cli import Terminal, one_line
from tests.support.clinical import COORDINATOR, COORDINATOR_PASSWORD, Mission, OpenStore, head, start_mission

NEVER = "A disconnected environment may never do this: "
# A month ahead of the machine's clock (the CLI's) and of the tests' business dates.
NEXT_MONTH = (max(date.today(), date(2026, 3, 1)) + timedelta(days=30)).isoformat()


@pytest.fixture
def mission(open_store: OpenStore, tmp_path: Path) -> Mission:
    everything = sorted(o.id for o in menu.MENU if o.parent is None)
    return start_mission(open_store, f"sqlite:///{tmp_path}/central.db", tmp_path, options=everything)


@pytest.fixture
def laptop(mission: Mission) -> Terminal:
    run = Terminal(mission.laptop_url)
    run.log_in(COORDINATOR, COORDINATOR_PASSWORD)
    run.confirm_date()
    return run


def refused(mission: Mission, laptop: Terminal, *args: str) -> str:
    """Run a command that must be refused by a rule: its one line, nothing written but the
    refused attempt's access record (issue 17)."""
    before = head(mission.laptop)
    result = laptop(*args, code=Exit.REFUSED)
    assert head(mission.laptop) == before + 1
    [added] = mission.laptop.app.recorder.select_notifications(start=before + 1, limit=2)
    recorded = mission.laptop.app.mapper.to_domain_event(added)
    assert isinstance(recorded, Access.Recorded)
    assert (type(recorded).TOPIC, recorded.action) == ("brigada.Access.Recorded", ACCESS_DENIED)
    return one_line(result)


def visit(laptop: Terminal) -> str:
    return laptop.json("encounter", "open", "--patient", "CEN-1")["number"]


def central_admission(mission: Mission, kind: str) -> str:
    """An admission central made (emergency or inpatient), as a laptop could come to hold it."""
    central, admin = mission.central, mission.admin
    row = central.admissions.admit(admin, {"chart_number": "CEN-1", "kind": kind})
    central.admissions.discharge(admin, row.number, {"condition": "01"})
    copy_aggregates(central.app, mission.laptop.app, [UUID(row.admission_id)])
    mission.laptop.views.catch_up()
    return row.number


def test_administration(mission: Mission, laptop: Terminal) -> None:
    """Administrative options say they are central's (the administrator cannot even log in here)."""
    merge = ("patient", "merge", "--keep", "CEN-1", "--remove", "CEN-2")
    line = refused(mission, laptop, *merge)
    assert line == "merging charts is done on the central server, not on a site's laptop"
    create = ("user", "create", "pedro", "--full-name", "Pedro", "--password-stdin")
    line = refused(mission, laptop, *create)  # administrators only: recorded too
    assert line == "only an administrator can create users"


def test_configuration(mission: Mission, laptop: Terminal) -> None:
    line = refused(mission, laptop, "catalog", "service", "add", "890202", "--name", "Consulta")
    assert line == NEVER + "configuration and parameters"


@pytest.mark.parametrize(
    ("kind", "rule"),
    [("emergency", "emergency admissions"), ("inpatient", "non-ambulatory hospital admissions")],
)
def test_emergency_and_inpatient_admissions(mission: Mission, laptop: Terminal, kind: str, rule: str) -> None:
    assert (
        refused(mission, laptop, "admission", "admit", "--patient", "CEN-1", "--kind", kind) == NEVER + rule
    )


@pytest.mark.parametrize(
    ("kind", "rule"), [("emergency", "emergency care"), ("inpatient", "non-ambulatory hospital care")]
)
def test_emergency_and_inpatient_care(mission: Mission, laptop: Terminal, kind: str, rule: str) -> None:
    number = central_admission(mission, kind)
    for encounter_kind in ("ambulatory", "outpatient"):
        line = refused(
            mission, laptop, "encounter", "open", "--patient", "CEN-1", "--kind", encounter_kind,
            "--admission", number,
        )  # fmt: skip
        assert line == NEVER + rule


def test_invoicing(mission: Mission, laptop: Terminal) -> None:
    line = refused(mission, laptop, "invoice", "from-vouchers")
    assert line == NEVER + "invoicing (a laptop issues service vouchers only)"


def test_surgical_scheduling(mission: Mission, laptop: Terminal) -> None:
    number = visit(laptop)
    line = refused(
        mission, laptop, "surgery", "link", number, "--cups", "869500", "--date", NEXT_MONTH,
        "--surgeon", COORDINATOR,
    )  # fmt: skip
    assert line == NEVER + "surgical scheduling"


def test_clinical_laboratory(mission: Mission, laptop: Terminal) -> None:
    number = visit(laptop)
    line = refused(mission, laptop, "diagnostic", "request", number, "--cups", "902210")
    assert line == NEVER + "clinical laboratory"


def test_reports_of_other_sites(mission: Mission, laptop: Terminal) -> None:
    for command in (
        ("agenda", "show", "--professional", COORDINATOR, "--date", "2026-03-01", "--site", "CEN"),
        ("sync", "history", "--site", "BRG02"),
    ):
        assert refused(mission, laptop, *command) == NEVER + "reports of other sites"
    assert laptop.json("sync", "history", "--site", "brg01") == []  # its own site's: allowed


def test_receivables_and_objections_have_no_command() -> None:
    """ "Cartera y glosas" are not built: no command a laptop could run (README says so; any
    added later must require Forbidden.RECEIVABLES)."""
    names = set(cli.list_commands(click.Context(cli)))
    assert not names & {"receivable", "receivables", "objection", "objections", "cartera", "glosa"}


# -- the rules' own decisions -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cups", "laboratory"),
    [
        ("902210", True),  # hemograma
        ("903841", True),  # glucosa
        ("907106", True),  # uroanálisis
        ("871121", False),  # radiografía de tórax
        ("881302", False),  # ecografía de abdomen
        ("898101", False),  # anatomía patológica (chapter 89)
        ("890201", False),  # consulta
    ],
)
def test_clinical_laboratory_is_cups_chapter_90(cups: str, laboratory: bool) -> None:
    assert diagnostic_service.is_clinical_laboratory(cups) is laboratory
    expected = Forbidden.CLINICAL_LABORATORY if laboratory else SiteAction.DIAGNOSTIC_SERVICES
    assert diagnostic_service.operation_for(cups) is expected


def test_a_surgery_dated_after_today_is_scheduling() -> None:
    today = date(2026, 3, 1)
    assert surgery.operation_for(today, today) is SiteAction.SURGERIES
    assert surgery.operation_for(today - timedelta(days=3), today) is SiteAction.SURGERIES
    assert surgery.operation_for(today + timedelta(days=1), today) is Forbidden.SURGICAL_SCHEDULING

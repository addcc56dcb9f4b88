"""`brigada sync` end to end: the seed's screen (mode at the top, each step with its function and
count, "Sincronización finalizada exitosamente", the new mode), --dry-run, --json, history and
conflicts; and crash safety: the real CLI in a subprocess killed at each named point, then run
again, ends where an uninterrupted sync ends."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from application.faults import FAULT_EXIT, FAULT_VARIABLE
from application.sync.central import DirectCentral
from domain.base import context_of
from domain.sites.site import SiteMode
from domain.store_identity import STORE_IDENTITY_ID
from tests.support.cli import Terminal, one_line
from tests.support.forgery import forged_administrator, stamped_as_admin_at_site
from tests.support.hashing import QuickArgon2Hasher
from tests.support.inventory import NURSE, NURSE_PASSWORD
from tests.support.security import ADMIN_PASSWORD, log_in
from tests.support.serve import served_field
from tests.support.sites import JOSE, set_site_mode, site_row
from tests.support.sync import Field

Count = Any


def laptop_terminal(field: Field) -> Terminal:
    terminal = Terminal(field.laptop_url)
    terminal.log_in(NURSE, NURSE_PASSWORD)
    return terminal


@pytest.fixture
def field(open_store: Any, sqlite_url: str, tmp_path: Path) -> Iterator[Field]:
    """BRG01's laptop provisioned for a `brigada serve` on central, which is running."""
    with served_field(open_store, sqlite_url, tmp_path) as field:
        yield field


# Every step of the seed's screen, zeros included, named as the seed names the site's actions.
NOTHING_BUT_SECURITY = [
    "Patient management (creation, changes, contracts): 0 records",
    "Planning, booking and confirming appointments: 0 records",
    "Admissions to ambulatory hospitalization: 0 records",
    "Outpatient and ambulatory hospitalization care (finalized only): 0 records",
    "Prescribing medicines: 0 records",
    "Service orders: 0 records",
    "Transfers of medicines and supplies to field warehouses: 0 records",
    "Requests of medicines and supplies for patients: 0 records",
    "Pharmacy dispensing: 0 records",
    "Nursing administration of medicines and supplies: 0 records",
    "Returns of medicines and supplies not applied: 0 records",
    "On-demand diagnostic services: 0 records",
    "Surgeries linked to care events: 0 records",
    "Service vouchers: 0 records",
]


def mission_work(field: Field) -> str:
    """A finalized visit and a new patient on the laptop (on mission)."""
    nurse = field.nurse()
    number = field.laptop.encounters.open(nurse, {"chart_number": "CEN-1", "kind": "outpatient"}).number
    field.laptop.encounters.set_diagnosis(nurse, number, {"code": "I10X"})
    field.laptop.encounters.finalize(nurse, number)
    field.laptop.patients.register(nurse, {**JOSE, "document_number": "55512345"})
    return number


def test_sync_shows_the_mode_each_step_and_the_seed_message(field: Field, sqlite_url: str) -> None:
    laptop = laptop_terminal(field)
    field.laptop.close()

    started = laptop("sync")

    lines = started.stderr.strip().splitlines()
    assert lines[0] == "Operating mode: INS (on site)"
    assert lines[1] == "Start of mission for site BRG01: 1 record to synchronize"
    assert lines[2:17] == [*NOTHING_BUT_SECURITY, "Security and audit: 1 record (1 event)"]
    assert "Rebuilding this laptop's store from central: " in started.stderr
    assert lines[-2:] == ["Sync completed successfully", "New operating mode: MSN (on mission)"]
    assert laptop.json("site", "mode")["mode"] == "MSN"
    spanish = laptop("--lang", "es", "sync", "--dry-run")
    assert spanish.stderr.splitlines()[0] == "Modo de operación: MSN (en misión)"
    # The rebuilt store still tells central's administrator why they cannot log in there.
    admin = laptop("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n", code=1)
    assert one_line(admin) == "the administrator profile is disabled in disconnected environments"


def test_dry_run_counts_and_writes_nothing_then_json_reports_the_steps(
    field: Field, sqlite_url: str, count_events: Count
) -> None:
    field.sync()
    mission_work(field)
    laptop = laptop_terminal(field)
    field.laptop.close()
    before = (count_events(sqlite_url), count_events(field.laptop_url))

    plan = laptop.json("sync", "--dry-run")

    assert (count_events(sqlite_url), count_events(field.laptop_url)) == before
    steps = {s["function"]: (s["records"], s["events"]) for s in plan["steps"]}
    assert [s["function"] for s in plan["steps"]][:4] == [
        "patients",
        "appointments",
        "admissions",
        "encounters",
    ]
    assert len(steps) == 15 and steps["appointments"] == (0, 0)
    assert steps["patients"] == (1, 1) and steps["encounters"] == (1, 3)  # one visit: three events
    assert plan["total"] == sum(events for _records, events in steps.values())
    assert plan["total_records"] == sum(records for records, _events in steps.values())
    assert (plan["mode"], plan["new_mode"], plan["dry_run"]) == ("MSN", "INS", True)

    done = laptop.json("sync")

    assert done["merged"]["encounters"] == 3 and done["new_mode"] == "INS"
    assert done["total"] == plan["total"]
    history = laptop.json("sync", "history")
    assert [(h["crossing"], h["status"]) for h in history] == [
        ("end-of-mission", "completed"),
        ("start-of-mission", "completed"),
    ]


def test_a_sync_with_an_open_visit_is_refused_in_one_line(field: Field, sqlite_url: str) -> None:
    field.sync()
    nurse = field.nurse()
    field.laptop.encounters.open(nurse, {"chart_number": "CEN-1", "kind": "outpatient"})
    laptop = laptop_terminal(field)
    field.laptop.close()

    refused = laptop("sync", code=1)

    assert one_line(refused) == "encounters not finalized at BRG01: BRG01-1; finalize them before syncing"
    assert one_line(laptop("sync", "--central", sqlite_url, code=2)) == (
        "--central: central's https:// address (brigada serve), never a database URL"
    )


def test_a_sync_with_an_open_ambulatory_admission_is_refused_listing_it(field: Field) -> None:
    """An admission is a care event too: the patient is discharged before the mission ends."""
    field.sync()
    nurse = field.nurse()
    admitted = field.laptop.admissions.admit(nurse, {"chart_number": "CEN-1"}).number
    visit = field.laptop.encounters.open(nurse, {"chart_number": "CEN-1", "kind": "ambulatory"}).number
    field.laptop.encounters.set_diagnosis(nurse, visit, {"code": "E86X"})
    field.laptop.encounters.finalize(nurse, visit)
    laptop = laptop_terminal(field)
    field.laptop.close()

    refused = laptop("sync", code=1)

    assert one_line(refused) == (f"admissions still open at BRG01: {admitted}; discharge them before syncing")
    laptop.confirm_date()  # the laptop was set up on the tests' clock: months before the computer's
    laptop("admission", "discharge", admitted, "--condition", "01")
    assert laptop.json("sync")["new_mode"] == "INS"


def test_conflicts_are_listed_and_resolved_on_central(field: Field, sqlite_url: str) -> None:
    field.sync()
    nurse = field.nurse()
    field.laptop.patients.correct(nurse, "CEN-1", {"first_name": "Josué"})
    field.central.patients.correct(field.admin, "CEN-1", {"first_name": "José María"})
    laptop = laptop_terminal(field)
    field.laptop.close()
    done = laptop("sync")
    assert "1 change to shared records was re-applied on central; 1 sync conflict to review" in done.stderr
    field.central.close()
    central = Terminal(sqlite_url)
    central.log_in("admin", ADMIN_PASSWORD)
    central.confirm_date()

    (conflict,) = central.json("sync", "conflicts")

    assert (conflict["reference"], conflict["central_values"], conflict["site_values"]) == (
        "CEN-1",
        {"details.first_name": "José María"},
        {"details.first_name": "Josué"},
    )
    shown = central("sync", "conflicts").stdout
    assert "José María" in shown and "Josué" in shown
    resolved = central("sync", "conflicts", "--resolve", conflict["conflict_id"][:8], "--keep", "site")
    assert f"Sync conflict {conflict['conflict_id'][:8]} resolved: site's value kept" in resolved.stderr
    assert central.json("sync", "conflicts") == []
    assert central.json("patient", "show", "CEN-1")["first_name"] == "Josué"


def test_a_sync_with_held_events_says_so_exits_6_and_central_reviews_them(
    field: Field, sqlite_url: str
) -> None:
    field.sync()
    mission_work(field)
    forged = forged_administrator(field.laptop)
    stamped = stamped_as_admin_at_site(field.laptop)
    laptop = laptop_terminal(field)
    field.laptop.close()

    done = laptop("--lang", "es", "sync", code=6)

    lines = done.stderr.strip().splitlines()
    assert "Sincronización finalizada con 2 eventos en cuarentena" in lines
    assert "Sincronización finalizada exitosamente" not in done.stderr
    assert lines[-1] == "Nuevo modo de operación: INS (en sitio)"
    assert laptop.json("sync", "history")[0]["quarantined"] == 2
    field.central.close()
    central = Terminal(sqlite_url)
    central.log_in("admin", ADMIN_PASSWORD)
    central.confirm_date()

    listed = {row["event_id"]: row for row in central.json("sync", "quarantine")}

    assert (listed[forged[0]]["rule"], listed[stamped[0]]["rule"]) == ("not-a-site-event", "admin-on-site")
    table = central("sync", "quarantine").stdout
    assert "User.Created" in table and "a disconnected site may not record it (brigada.User.Created)" in table
    shown = central("sync", "quarantine", "--show", listed[forged[0]]["quarantine_id"][:8]).stdout
    assert any("password_hash" in line and "••••" in line for line in shown.splitlines())
    assert any("context.user" in line and "ana" in line for line in shown.splitlines())
    assert one_line(
        central("sync", "quarantine", "--reject", listed[forged[0]]["quarantine_id"][:8], code=2)
    ) == ("Invalid usage: --reject ID and --reason TEXT go together")
    rejected = central(
        "sync",
        "quarantine",
        "--reject",
        listed[forged[0]]["quarantine_id"][:8],
        "--reason",
        "forged on the laptop",
    )
    assert f"Event {listed[forged[0]]['quarantine_id'][:8]} rejected" in rejected.stderr
    central("sync", "quarantine", "--release", listed[stamped[0]]["quarantine_id"][:8])
    assert central.json("sync", "quarantine") == []
    decided = {row["event_id"]: row["status"] for row in central.json("sync", "quarantine", "--all")}
    assert decided == {forged[0]: "rejected", stamped[0]: "released"}
    assert central.json("patient", "show", "CEN-1")["municipality"] == "76001"
    found = central.json("audit", "search", "--site", "CEN", "--page-size", "1000")
    actions = {row["action"] for row in found["rows"]}
    assert {"sync.quarantine", "sync.quarantine-reject", "sync.quarantine-release"} <= actions
    nurse_on_central = Terminal(sqlite_url)
    nurse_on_central.log_in(NURSE, NURSE_PASSWORD)
    nurse_on_central.confirm_date()
    assert "administrator" in one_line(
        nurse_on_central("sync", "quarantine", "--release", "abcdef12", code=1)
    )


def test_the_end_of_mission_screen_shows_every_step_with_its_records_in_english_and_spanish(
    field: Field,
) -> None:
    """The seed's screen: each function with the records it moves (a visit is one record however
    many events it has), the events beside them, every step shown even with nothing to move."""
    field.sync()
    mission_work(field)
    laptop = laptop_terminal(field)
    field.laptop.close()

    english = laptop("sync", "--dry-run").stderr.strip().splitlines()
    spanish = laptop("--lang", "es", "sync").stderr.strip().splitlines()

    assert english[1:16] == ENGLISH_MISSION_STEPS
    assert spanish[1] == "Fin de misión de la sede BRG01: 5 registros por sincronizar"
    assert spanish[2:17] == SPANISH_MISSION_STEPS
    assert spanish[-2:] == [
        "Sincronización finalizada exitosamente",
        "Nuevo modo de operación: INS (en sitio)",
    ]


ENGLISH_MISSION_STEPS = [
    "Patient management (creation, changes, contracts): 1 record (1 event)",
    "Planning, booking and confirming appointments: 0 records",
    "Admissions to ambulatory hospitalization: 0 records",
    "Outpatient and ambulatory hospitalization care (finalized only): 1 record (3 events)",
    *NOTHING_BUT_SECURITY[4:],
    # the nurse (logins, and the sessions too old a login closed: domain/security/user.py), two numberings
    "Security and audit: 3 records (8 events)",
]
SPANISH_MISSION_STEPS = [
    "Gestión de pacientes (creación, modificación, asignación de contratos): 1 registro (1 evento)",
    "Planeación, agendamiento y confirmación de citas: 0 registros",
    "Admisión de pacientes en hospitalización ambulatoria: 0 registros",
    "Atención de pacientes en consulta externa y hospitalizaciones ambulatorias (solo finalizadas): "
    "1 registro (3 eventos)",
    "Formulación de medicamentos a pacientes: 0 registros",
    "Órdenes de servicio: 0 registros",
    "Traslados de medicamentos e insumos a bodegas de sedes desconectadas: 0 registros",
    "Solicitud de medicamentos e insumos para aplicar a paciente desde hospitalizaciones "
    "ambulatorias: 0 registros",
    "Entrega de medicamentos e insumos por parte de farmacia: 0 registros",
    "Aplicación de medicamentos e insumos por parte del personal asistencial desde "
    "hospitalizaciones ambulatorias: 0 registros",
    "Devolución de medicamentos e insumos no aplicados: 0 registros",
    "Servicios por demanda (ayudas diagnósticas): 0 registros",
    "Asociación de cirugías a eventos de atención: 0 registros",
    "Volantes de servicio: 0 registros",
    "Seguridad y auditoría: 3 registros (8 eventos)",
]


def test_a_sync_refused_for_an_open_visit_is_recorded_in_history_and_reaches_central(
    field: Field, sqlite_url: str, count_events: Count
) -> None:
    """Nothing moves, but the attempt and its reason are on record: one event on the laptop,
    listed by `sync history` (table, JSON, Spanish), pushed with the next sync and accepted by
    central's trust boundary (nothing in quarantine)."""
    field.sync()
    visit = field.laptop.encounters.open(
        field.nurse(), {"chart_number": "CEN-1", "kind": "outpatient"}
    ).number
    laptop = laptop_terminal(field)
    field.laptop.close()
    before = (count_events(sqlite_url), count_events(field.laptop_url))
    reason = f"encounters not finalized at BRG01: {visit}; finalize them before syncing"

    assert one_line(laptop("sync", code=1)) == reason

    assert (count_events(sqlite_url), count_events(field.laptop_url)) == (before[0], before[1] + 1)
    (refused, *_runs) = laptop.json("sync", "history")
    assert (refused["status"], refused["crossing"], refused["site"], refused["operator"]) == (
        "refused",
        "end-of-mission",
        "BRG01",
        NURSE,
    )
    assert (refused["reason"], refused["reason_params"]) == (reason, {"site": "BRG01", "visits": visit})
    table = laptop("sync", "history")
    assert "refused" in table.stdout and f"BRG01: {reason}" in table.stderr
    spanish = laptop("--lang", "es", "sync", "history")
    assert "rechazada" in spanish.stdout
    assert (
        f"BRG01: hay eventos de atención sin finalizar en BRG01: {visit}; finalícelos antes de sincronizar"
        in spanish.stderr
    )

    laptop.confirm_date()  # the laptop was set up on the tests' clock: months before the computer's
    laptop("encounter", "diagnosis", "add", visit, "--code", "I10X")
    laptop("encounter", "finalize", visit)
    done = laptop.json("sync")

    assert done["quarantined"] == 0 and done["new_mode"] == "INS"
    assert [(h["crossing"], h["status"]) for h in laptop.json("sync", "history")] == [
        ("end-of-mission", "completed"),
        ("end-of-mission", "refused"),
        ("start-of-mission", "completed"),
    ]
    field.central.close()
    central = Terminal(sqlite_url)
    central.log_in("admin", ADMIN_PASSWORD)
    central.confirm_date()
    assert central.json("sync", "quarantine") == []
    statuses = [h["status"] for h in central.json("sync", "history", "--site", "BRG01")]
    assert statuses == ["completed", "refused", "completed"]


def test_a_sync_refused_because_the_modes_disagree_is_recorded_and_pushed_on_site(
    field: Field, sqlite_url: str
) -> None:
    """On site (INS) too: the refusal is a record a laptop may make in any mode."""
    set_site_mode(field.central, field.admin, "BRG01", SiteMode.ON_MISSION)  # by hand, on central
    laptop = laptop_terminal(field)
    field.laptop.close()
    reason = "central holds site BRG01 in mode MSN, this laptop in INS: ask central to set it"

    assert one_line(laptop("sync", code=1)) == reason

    (refused,) = laptop.json("sync", "history")
    assert (refused["status"], refused["crossing"], refused["mode"], refused["reason"]) == (
        "refused",
        "start-of-mission",
        "INS",
        reason,
    )
    set_site_mode(field.central, field.admin, "BRG01", SiteMode.ON_SITE)
    assert laptop.json("sync")["quarantined"] == 0
    field.central.close()
    central = Terminal(sqlite_url)
    central.log_in("admin", ADMIN_PASSWORD)
    central.confirm_date()
    assert central.json("sync", "quarantine") == []
    refusals = [h for h in central.json("sync", "history", "--site", "BRG01") if h["status"] == "refused"]
    assert [h["reason"] for h in refusals] == [reason]


# -- crash safety ---------------------------------------------------------------------------------
END_POINTS = ["before-push", "mid-push", "after-push", "after-flip"]
START_POINTS = [*END_POINTS, "mid-rebuild", "before-swap", "after-swap"]


def brigada(
    store: str, *args: str, fault: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "BRIGADA_LANG": "en"}
    env.pop(FAULT_VARIABLE, None)
    if fault:
        env[FAULT_VARIABLE] = fault
    return subprocess.run(
        [str(Path(sys.executable).parent / "brigada"), "--store", store, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def converged(field: Field, central: str, crossing: str) -> None:
    """Where an uninterrupted sync ends: central and the laptop agree on the new mode, the run is
    complete, central holds every event of the laptop exactly once, and nothing is left to push."""
    from adapters.bootstrap import open_brigada

    new_mode = "INS" if crossing == "end-of-mission" else "MSN"
    laptop = open_brigada(field.laptop_url, hasher=QuickArgon2Hasher())
    hub = open_brigada(central, hasher=QuickArgon2Hasher())
    try:
        nurse_runs = [r for r in hub.sync.runs.history("BRG01") if r.crossing == crossing]
        assert [r.status for r in nurse_runs][:1] == ["completed"]
        assert site_row(hub, "BRG01").mode == new_mode
        assert site_row(laptop, "BRG01").mode == new_mode
        identity = laptop.core.require_identity()
        if crossing == "start-of-mission":
            assert identity.generation == nurse_runs[0].run_id
        central_ids = [
            context_of(hub.app.mapper.to_domain_event(n)).event_id.hex
            for n in hub.app.recorder.select_notifications(start=1, limit=100_000)
        ]
        for n in laptop.app.recorder.select_notifications(start=1, limit=100_000):
            context = context_of(laptop.app.mapper.to_domain_event(n))
            if context.site == "BRG01" and n.originator_id != STORE_IDENTITY_ID:
                assert central_ids.count(context.event_id.hex) == 1, n.topic
        assert hub.sync.runs.open_run("BRG01") is None
        nurse = log_in(laptop, NURSE, NURSE_PASSWORD)
        plan, _status, _run = laptop.sync.preflight(nurse, DirectCentral(hub.sync_central, NURSE))
        assert plan.total == 1  # the login just made
    finally:
        laptop.close()
        hub.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("crossing", "point"),
    [("start-of-mission", p) for p in START_POINTS] + [("end-of-mission", p) for p in END_POINTS],
)
def test_a_sync_killed_at_any_point_converges_when_run_again(
    crossing: str, point: str, field: Field, sqlite_url: str
) -> None:
    if crossing == "end-of-mission":
        field.sync()
        mission_work(field)
    field.laptop.close()
    field.central.close()
    login = brigada(field.laptop_url, "login", NURSE, "--password-stdin", stdin=f"{NURSE_PASSWORD}\n")
    assert login.returncode == 0, login.stderr

    killed = brigada(field.laptop_url, "sync", fault=point)
    assert killed.returncode == FAULT_EXIT, killed.stderr
    again = brigada(field.laptop_url, "sync")

    assert again.returncode == 0, again.stderr
    assert "Sync completed successfully" in again.stderr
    converged(field, sqlite_url, crossing)

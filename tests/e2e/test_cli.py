"""The command line end to end: click's runner for most commands, the installed script for two.

Every invocation names its store (``--store``); sessions go to the per-test $BRIGADA_HOME. Data
comes out on stdout, messages on stderr, and each failure is one line and an exit code
(DESIGN.md §7): 1 refused, 2 invalid input, 3 not found, 5 store unreachable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.support.installed import run_installed

pytestmark = pytest.mark.store

PASSWORD = "a-long-password-1234"
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/none"
JOSE = [
    "--document-type",
    "CC",
    "--document-number",
    "1032456789",
    "--first-name",
    "José",
    "--middle-name",
    "Luis",
    "--first-surname",
    "Peña",
    "--second-surname",
    "Ñáñez",
    "--birth-date",
    "1980-05-02",
    "--sex",
    "M",
    "--municipality",
    "05001",
    "--zone",
    "02",
    "--coverage",
    "04",
]
MARIA = [
    "--document-type",
    "TI",
    "--document-number",
    "1011223344",
    "--first-name",
    "María",
    "--first-surname",
    "Muñoz",
    "--birth-date",
    "2012-02-14",
    "--sex",
    "F",
    "--municipality",
    "52835",
    "--zone",
    "01",
    "--coverage",
    "01",
]

Brigada = Callable[..., Result]


@pytest.fixture
def brigada() -> Brigada:
    """``brigada(store, *args, input=...)``: one CLI invocation against ``store``."""
    runner = CliRunner()

    def invoke(store: str, *args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--store", store, *args], input=input)

    return invoke


def init_central(brigada: Brigada, store: str) -> None:
    result = brigada(store, "init", "--central", "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output


def log_in(brigada: Brigada, store: str, password: str = PASSWORD) -> Result:
    return brigada(store, "login", "admin", "--password-stdin", input=f"{password}\n")


@pytest.fixture
def logged_in(brigada: Brigada, sqlite_url: str) -> str:
    """An SQLite central store with the administrator logged in."""
    init_central(brigada, sqlite_url)
    assert log_in(brigada, sqlite_url).exit_code == 0
    return sqlite_url


def json_out(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_one_line_error(result: Result, code: int, starts_with: str = "") -> str:
    """The command failed with ``code``: one line on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith(starts_with), lines[0]
    return lines[0]


# -- a day at the registration desk -------------------------------------------------------------
def test_a_day_at_the_registration_desk(
    brigada: Brigada, store_url: str, session_files: Callable[[], list[Path]]
) -> None:
    result = brigada(store_url, "init", "--central", "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "CEN" in result.stderr
    assert result.stdout == ""

    result = log_in(brigada, store_url)
    assert result.exit_code == 0, result.output
    assert "admin" in result.stderr
    [session] = session_files()
    assert session.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in session.read_text()

    assert json_out(brigada(store_url, "whoami", "--json")) == {
        "user": "admin",
        "administrator": True,
        "site": "CEN",
        "role": "central",
        "store": store_url,
    }

    result = brigada(store_url, "patient", "register", *JOSE)
    assert result.exit_code == 0, result.output
    assert "CEN-1" in result.stderr  # "Patient registered with chart number CEN-1"
    assert "CEN-1" in result.stdout
    assert "José Luis Peña Ñáñez" in result.stdout
    maria = json_out(brigada(store_url, "patient", "register", *MARIA, "--json"))
    assert maria["chart_number"] == "CEN-2"

    shown = json_out(brigada(store_url, "patient", "show", "CEN-1", "--json"))
    assert {k: shown[k] for k in ("chart_number", "document_type", "document_number")} == {
        "chart_number": "CEN-1",
        "document_type": "CC",
        "document_number": "1032456789",
    }
    assert (shown["full_name"], shown["birth_date"], shown["sex"]) == (
        "José Luis Peña Ñáñez",
        "1980-05-02",
        "M",
    )
    assert (shown["municipality"], shown["zone"], shown["coverage_status"]) == ("05001", "02", "04")
    assert (shown["site"], shown["version"]) == ("CEN", 1)

    found = json_out(brigada(store_url, "patient", "search", "jose PENA", "--json"))
    assert [row["chart_number"] for row in found] == ["CEN-1"]
    result = brigada(store_url, "patient", "search", "muñoz")
    assert result.exit_code == 0, result.output
    assert "CEN-2" in result.stdout
    assert "CEN-1" not in result.stdout

    result = brigada(store_url, "patient", "correct", "CEN-2", "--middle-name", "Ángela", "--zone", "02")
    assert result.exit_code == 0, result.output
    corrected = json_out(brigada(store_url, "patient", "show", "cen-2", "--json"))
    assert (corrected["full_name"], corrected["zone"], corrected["version"]) == (
        "María Ángela Muñoz",
        "02",
        2,
    )

    views = {v["name"]: v for v in json_out(brigada(store_url, "projections", "status", "--json"))}
    patients = views["patients"]
    assert (patients["rows"], patients["lag"], patients["stale"]) == (2, 0, False)
    assert patients["position"] == patients["head"] > 0

    result = brigada(store_url, "projections", "rebuild", "patients")
    assert result.exit_code == 0, result.output
    assert "patients: 2" in result.stderr
    assert json_out(brigada(store_url, "patient", "show", "CEN-2", "--json")) == corrected
    every = brigada(store_url, "projections", "rebuild")  # all views, one pass over the log
    assert every.exit_code == 0, every.output
    assert "patients: 2 rows" in every.stderr and "users: 1 row from" in every.stderr
    spanish = brigada(store_url, "--lang", "es", "projections", "rebuild", "users")
    assert "users: 1 fila a partir de " in spanish.stderr  # one row, one "fila"
    assert json_out(brigada(store_url, "patient", "show", "CEN-2", "--json")) == corrected

    result = brigada(store_url, "logout")
    assert result.exit_code == 0, result.output
    assert session_files() == []
    assert_one_line_error(brigada(store_url, "whoami"), 1)


# -- refusals -----------------------------------------------------------------------------------
def test_a_wrong_password_is_refused_with_exit_1_and_no_session(
    brigada: Brigada, sqlite_url: str, session_files: Callable[[], list[Path]]
) -> None:
    init_central(brigada, sqlite_url)

    result = log_in(brigada, sqlite_url, password="a-long-password-9999")

    assert_one_line_error(result, 1, "Incorrect login")
    assert session_files() == []


def test_a_command_without_a_login_is_refused_with_exit_1(
    brigada: Brigada, sqlite_url: str, count_events: Callable[..., int]
) -> None:
    init_central(brigada, sqlite_url)
    before = count_events(sqlite_url)

    for command in (["whoami"], ["patient", "show", "CEN-1"], ["patient", "register", *JOSE]):
        assert_one_line_error(brigada(sqlite_url, *command), 1)

    assert count_events(sqlite_url) == before


BAD_INPUT = [
    ("--birth-date", "2099-01-01"),
    ("--birth-date", "02/05/1980"),
    ("--sex", "X"),
    ("--municipality", "123"),
    ("--document-number", "12AB5678"),
    ("--first-name", "J0sé"),
]


def test_bad_input_is_one_line_naming_the_option_with_exit_2_and_writes_nothing(
    brigada: Brigada, logged_in: str, count_events: Callable[..., int]
) -> None:
    """Issue 16: the error names the option the user typed, not the Python field."""
    before = count_events(logged_in)

    for option, value in BAD_INPUT:
        args = list(JOSE)
        args[args.index(option) + 1] = value
        result = brigada(logged_in, "patient", "register", *args)
        line = assert_one_line_error(result, 2, f"{option}: ")
        assert len(line) > len(f"{option}: ") + 5, line  # and says which rule

    assert count_events(logged_in) == before


def test_refusals_and_missing_things_have_their_exit_codes(
    brigada: Brigada, logged_in: str, count_events: Callable[..., int]
) -> None:
    assert brigada(logged_in, "patient", "register", *JOSE).exit_code == 0
    before = count_events(logged_in)

    assert_one_line_error(brigada(logged_in, "patient", "show", "CEN-404"), 3)
    assert_one_line_error(brigada(logged_in, "patient", "correct", "CEN-404", "--sex", "F"), 3)
    duplicate = brigada(logged_in, "patient", "register", *JOSE)
    assert "CEN-1" in assert_one_line_error(duplicate, 1)
    same = brigada(logged_in, "patient", "correct", "CEN-1", "--first-name", "José")
    assert_one_line_error(same, 1)
    bad = brigada(logged_in, "patient", "correct", "CEN-1", "--document-type", "TI")
    assert_one_line_error(bad, 2, "--document-type: ")
    assert_one_line_error(brigada(logged_in, "projections", "rebuild", "nonsense"), 2)

    assert count_events(logged_in) == before


def test_init_twice_is_refused_and_a_short_password_leaves_no_store(
    brigada: Brigada, sqlite_url: str, tmp_path: Path, count_events: Callable[..., int]
) -> None:
    short = brigada(sqlite_url, "init", "--central", "--password-stdin", input="short\n")
    assert_one_line_error(short, 2, "password: ")
    assert not (tmp_path / "store.db").exists()

    init_central(brigada, sqlite_url)
    again = brigada(sqlite_url, "init", "--central", "--password-stdin", input=f"{PASSWORD}\n")
    assert_one_line_error(again, 1)
    assert count_events(sqlite_url) == 2


def test_an_unreachable_or_missing_store_exits_with_5(brigada: Brigada, tmp_path: Path) -> None:
    assert_one_line_error(brigada(UNREACHABLE, "whoami"), 5)
    assert_one_line_error(brigada(UNREACHABLE, "login", "admin", "--password-stdin", input="x\n"), 5)
    missing = f"sqlite:///{tmp_path}/nowhere.db"
    assert_one_line_error(brigada(missing, "patient", "show", "CEN-1"), 5)
    assert not (tmp_path / "nowhere.db").exists()


def test_the_store_can_come_from_brigada_store(
    brigada: Brigada, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIGADA_STORE", UNREACHABLE)
    assert CliRunner().invoke(cli, ["whoami"]).exit_code == 5

    monkeypatch.setenv("BRIGADA_STORE", sqlite_url)
    result = CliRunner().invoke(cli, ["init", "--central", "--password-stdin"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert Path(sqlite_url.removeprefix("sqlite:///")).exists()


# -- language -----------------------------------------------------------------------------------
def test_spanish_messages_with_lang_es_or_brigada_lang(
    brigada: Brigada, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_central(brigada, sqlite_url)

    refused = log_in(brigada, sqlite_url, password="a-long-password-9999")
    assert assert_one_line_error(refused, 1) == "Incorrect login"
    spanish = brigada(
        sqlite_url, "--lang", "es", "login", "admin", "--password-stdin", input="wrong-password\n"
    )
    assert assert_one_line_error(spanish, 1) == "Login incorrecto"  # the seed's own phrase

    english_missing = assert_one_line_error(brigada(UNREACHABLE, "whoami"), 5)
    monkeypatch.setenv("BRIGADA_LANG", "es")
    spanish_missing = assert_one_line_error(brigada(UNREACHABLE, "whoami"), 5)
    assert spanish_missing != english_missing
    assert "127.0.0.1" in spanish_missing


# -- the installed script -----------------------------------------------------------------------
def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_installed(*args, env={**os.environ, "BRIGADA_LANG": "en"}, cwd=cwd, timeout=120)


def test_the_installed_script_shows_help(tmp_path: Path) -> None:
    done = run_script("--help", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "patient" in done.stdout
    assert "--store" in done.stdout


def test_the_installed_script_runs_the_demo(tmp_path: Path) -> None:
    folder = tmp_path / "demo"

    done = run_script("demo", "--dir", str(folder), "--patients", "3", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    numbers = set(re.findall(r"\bBRG01-\d+\b", done.stdout))  # charts, visits, appointments
    assert {"BRG01-1", "BRG01-2", "BRG01-3"} <= numbers
    assert (folder / "central.db").exists()
    assert (folder / "brg01.db").exists()

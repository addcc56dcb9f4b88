"""Issue 17, point 3: nothing leaks past a denied tab. A user denied the clinical history section
sees no diagnosis code in the visit diary, the patient's chart or a service voucher (table, JSON,
print); a user holding it sees them; a backup, which copies every patient's clinical text, is an
administrator's alone. End to end through click on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

import adapters.bootstrap
from adapters.system import FixedClock
from cli.main import cli
from domain.security import menu
from domain.security.sections import Section
from tests.support.billing import billing_central, finalized_visit, insured_patient
from tests.support.security import ADMIN_PASSWORD, PASSWORDS, log_in

CODES = ("I10X", "E119")  # the diagnoses finalized_visit sets
BACKUP_WARNING = "The copy holds every patient's clinical text: keep it as safe as the records themselves."


class Terminal:
    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> Result:
        result = self.runner.invoke(cli, ["--store", self.url, "--lang", "en", *args], input=input)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    def login(self, username: str, password: str) -> None:
        self("login", username, "--password-stdin", input=f"{password}\n")


@pytest.fixture
def store(
    open_store: Any, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Central with a finalized, vouchered visit (I10X principal, E119 related), a secretary
    denied the clinical history section and a doctor holding every section, both with every
    menu option but the backup; the store is closed for the CLI."""
    monkeypatch.setattr(adapters.bootstrap, "SystemClock", lambda: clock)
    url = f"sqlite:///{tmp_path}/central.db"
    brigada, admin = billing_central(open_store, url)
    chart = insured_patient(brigada, admin)
    visit = finalized_visit(brigada, admin, chart)
    voucher = brigada.vouchers.issue(admin, {"encounter": visit}).number
    for username, sections in (
        ("ana", set(Section) - {Section.HISTORY}),
        ("beto", set(Section)),
    ):
        brigada.users.create(
            admin, {"username": username, "full_name": username.title()}, PASSWORDS[username]
        )
        brigada.users.change_access(admin, username, sorted(menu.EVERYTHING), [])
        brigada.users.change_access(admin, username, [], ["backup"])
        brigada.users.change_sections(
            admin, username, [s.value for s in sections], [s.value for s in set(Section) - sections]
        )
        log_in(brigada, username, PASSWORDS[username])  # first login done; the CLI logs in again
    brigada.close()
    return {"url": url, "chart": chart, "visit": visit, "voucher": voucher, "day": clock.today().isoformat()}


def everything_shown(run: Terminal, store: dict[str, str], tmp_path: Path) -> str:
    """The diary, the chart and the voucher, as tables, JSON and a printed PDF, in one text."""
    outputs = [
        run("encounter", "list", "--date", store["day"]).stdout,
        run("encounter", "list", "--date", store["day"], "--json").stdout,
        run("patient", "chart", store["chart"]).stdout,
        run("patient", "chart", store["chart"], "--json").stdout,
        run("voucher", "show", store["voucher"]).stdout,
        run("voucher", "show", store["voucher"], "--json").stdout,
    ]
    pdf = tmp_path / "voucher.pdf"
    run("voucher", "print", store["voucher"], "--out", str(pdf))
    outputs.append(" ".join(page.extract_text() for page in PdfReader(pdf).pages))
    assert all(store["visit"] in text for text in outputs[:4])  # the visit is there, only its codes go
    return "\n".join(outputs)


def test_a_user_denied_the_clinical_history_sees_no_diagnosis_anywhere(
    store: dict[str, str], tmp_path: Path
) -> None:
    run = Terminal(store["url"])
    run.login("ana", PASSWORDS["ana"])
    shown = everything_shown(run, store, tmp_path)
    assert not [code for code in CODES if code in shown]
    (row,) = json.loads(run("encounter", "list", "--date", store["day"], "--json").stdout)
    assert row["principal_diagnosis"] == ""
    chart = json.loads(run("patient", "chart", store["chart"], "--json").stdout)
    assert [e["principal_diagnosis"] for e in chart["encounters"]] == [""]
    assert json.loads(run("voucher", "show", store["voucher"], "--json").stdout)["diagnoses"] == []


def test_a_user_denied_the_clinical_history_and_the_diary_gets_no_diary_and_no_diagnosis(
    store: dict[str, str], tmp_path: Path
) -> None:
    admin_run = Terminal(store["url"])
    admin_run.login("admin", ADMIN_PASSWORD)
    admin_run("user", "sections", "ana", "--deny", "diary")
    run = Terminal(store["url"])
    run.login("ana", PASSWORDS["ana"])
    refused = run("encounter", "list", "--date", store["day"], "--json", code=1)
    assert refused.stdout == ""
    chart = run("patient", "chart", store["chart"], "--json").stdout
    assert not [code for code in CODES if code in chart]


def test_a_user_holding_the_clinical_history_sees_the_diagnoses(
    store: dict[str, str], tmp_path: Path
) -> None:
    run = Terminal(store["url"])
    run.login("beto", PASSWORDS["beto"])
    shown = everything_shown(run, store, tmp_path)
    assert shown.count("I10X") >= 7  # every output: diary, chart, voucher, each table and JSON, the PDF
    assert "E119" in json.loads(run("voucher", "show", store["voucher"], "--json").stdout)["diagnoses"][1]


def test_backup_is_refused_to_a_non_administrator_even_with_the_option(
    store: dict[str, str], tmp_path: Path
) -> None:
    admin_run = Terminal(store["url"])
    admin_run.login("admin", ADMIN_PASSWORD)
    admin_run("user", "access", "beto", "--grant", "backup")
    run = Terminal(store["url"])
    run.login("beto", PASSWORDS["beto"])
    refused = run("backup", "--to", str(tmp_path / "copias"), code=1)
    assert refused.stderr.strip() == "only an administrator can make a backup of the store"
    assert not (tmp_path / "copias").exists()


def test_the_administrators_backup_says_what_the_copy_holds(store: dict[str, str], tmp_path: Path) -> None:
    run = Terminal(store["url"])
    run.login("admin", ADMIN_PASSWORD)
    result = run("backup", "--to", str(tmp_path / "copias"))
    (written,) = (tmp_path / "copias").iterdir()
    assert result.stderr.strip().splitlines() == [f"Backup written to {written}", BACKUP_WARNING]

"""`brigada audit search | verify` and `brigada backup`, end to end through the CLI (click's
CliRunner on the real entry point), on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from adapters.bootstrap import open_brigada
from adapters.system import Host
from cli.main import cli
from domain.access_log import PATIENT_VIEW
from projections.audit.activity_log import action_label
from tests.support.hashing import QuickArgon2Hasher

PASSWORD = "a-long-password-1234"
HEADERS = ["Date and time", "User", "Computer", "IP", "Site", "Action", "Comment"]
# Computer names a spreadsheet would run as formulas (OWASP "CSV injection").
FORMULA_COMPUTERS = ['=HYPERLINK("http://x.example","ver")', "+1+1", "-2+3", "@SUM(A1:A2)"]
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


class Brigada:
    """`brigada --store URL ...` through CliRunner (stdout and stderr apart)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli, ["--store", self.url, *args], input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result

    def rows(self, *criteria: str) -> list[dict[str, Any]]:
        found = json.loads(self.ok("audit", "search", "--json", "--page-size", "1000", *criteria).stdout)
        assert found["has_more"] is False
        return found["rows"]


def init_and_login(url: str, *init: str, user: str = "admin") -> Brigada:
    brigada = Brigada(url)
    brigada.ok("init", *init, "--password-stdin", input=f"{PASSWORD}\n")
    refused = brigada("login", user, "--password-stdin", input="not-the-password-123\n")
    assert refused.exit_code == 1 and refused.stderr.strip() == "Incorrect login"
    brigada.ok("login", user, "--password-stdin", input=f"{PASSWORD}\n")
    return brigada


@pytest.fixture
def central(store_url: str) -> Brigada:
    return init_and_login(store_url, "--central")


def record_views(url: str, computers: Sequence[str], charts: Sequence[str], ip: int = 100) -> None:
    """Chart views recorded through the application, as from other computers (for names the CLI
    cannot choose: the computer it runs on is this one)."""
    for number, computer in enumerate(computers):
        brigada = open_brigada(
            url, host=Host(computer=computer, ip_octet=ip + number), hasher=QuickArgon2Hasher()
        )
        try:
            for chart in charts:
                brigada.core.record_access("admin", PATIENT_VIEW, {"HIST": chart})
        finally:
            brigada.close()


def shown(iso: str) -> str:
    """How the CLI shows a stored UTC time: local time, to the second."""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")


# -- searching ----------------------------------------------------------------------------------
def test_search_shows_a_table_and_json_newest_first(central: Brigada) -> None:
    table = central.ok("audit", "search")
    assert "Activity log" in table.stdout
    for text in ("Store - Create", "User - Create", "Incorrect login", "Login", "SEDE=CEN"):
        assert text in table.stdout
    assert table.stderr.strip() == "Page 1: 4 rows; last page"

    rows = central.rows()
    assert [r["position"] for r in rows] == [4, 3, 2, 1]
    assert [r["action"] for r in rows] == ["login", "login.failed", "user.create", "store.create"]
    assert [r["user"] for r in rows] == ["admin", "admin", "sistema", "sistema"]
    assert [r["comment"] for r in rows] == ["", "", "USUARIO=admin", "SEDE=CEN"]
    assert all(r["site"] == "CEN" for r in rows)
    assert all(r["recorded_at"].endswith("+00:00") for r in rows)  # stored in UTC

    paged = json.loads(central.ok("audit", "search", "--json", "--page-size", "3").stdout)
    assert (len(paged["rows"]), paged["has_more"]) == (3, True)
    second = central.ok("audit", "search", "--page", "2", "--page-size", "3")
    assert second.stderr.strip() == "Page 2: 1 row; last page"
    first = central.ok("audit", "search", "--page-size", "3")
    assert first.stderr.strip() == "Page 1: 3 rows; more on page 2"


@pytest.mark.parametrize(
    ("lang", "action"),
    [
        ("en", "Login incorrecto"),
        ("en", "login.failed"),
        ("en", "incorrect LOGIN"),
        ("es", "Login incorrecto"),
        ("es", "login.failed"),
        ("es", "Incorrect login"),
    ],
)
def test_the_failed_login_is_found_by_its_seed_name_or_its_code(
    central: Brigada, lang: str, action: str
) -> None:
    result = central.ok("--lang", lang, "audit", "search", "--json", "--action", action)
    rows = json.loads(result.stdout)["rows"]
    assert [(r["position"], r["action"], r["user"]) for r in rows] == [(3, "login.failed", "admin")]


def test_the_table_speaks_the_seed_names_in_spanish(central: Brigada, tmp_path: Path) -> None:
    central.ok("backup", "--to", str(tmp_path / "copias"))
    table = central.ok("--lang", "es", "audit", "search").stdout
    for name in ("Login incorrecto", "Login", "Copia de seguridad", "Usuario - Crear"):
        assert name in table
    assert "Incorrect login" not in table


def test_each_criterion_on_the_command_line(central: Brigada) -> None:
    here = central.rows()[-1]  # the store was created on this computer
    other_ip = 100 if here["ip_octet"] != 100 else 101
    record_views(central.url, ["portatil-7"], ["CEN-61"], ip=other_ip)
    today = shown(central.rows()[0]["recorded_at"])[:10]

    def positions(*criteria: str) -> list[int]:
        return [r["position"] for r in central.rows(*criteria)]

    assert positions("--from", today, "--to", today) == [5, 4, 3, 2, 1]
    assert positions("--to", "2000-01-01") == []
    assert positions("--from", "2999-01-01") == []
    assert positions("--action", "Paciente - Ver") == [5]
    assert positions("--ip", str(other_ip)) == [5]
    if here["ip_octet"] is not None:  # None: this computer had no network route
        assert positions("--ip", str(here["ip_octet"])) == [4, 3, 2, 1]
    assert positions("--computer", "portatil-7") == [5]
    assert positions("--computer", here["computer"]) == [4, 3, 2, 1]
    assert positions("--user", "sistema") == [2, 1]
    assert positions("--site", "CEN") == [5, 4, 3, 2, 1]
    assert positions("--site", "BRG01") == []
    assert positions("--text", "USUARIO=") == [2]
    assert positions("--text", "HIST=", "--text", "CEN-61") == [5]
    assert positions("--text", "HIST=", "--text", "CEN-61", "--text", "61") == [5]
    assert positions("--text", "HIST=", "--text", "CEN-61", "--text", "62") == []
    assert positions("--user", "admin", "--action", "login", "--from", today, "--site", "CEN") == [4]


@pytest.mark.parametrize(
    "criteria",
    [
        ["--text", "a", "--text", "b", "--text", "c", "--text", "d"],
        ["--ip", "256"],
        ["--ip", "uno"],
        ["--from", "01/03/2026"],
        ["--action", "Borrar el disco"],
    ],
)
def test_bad_criteria_are_refused_as_invalid(central: Brigada, criteria: list[str]) -> None:
    result = central("audit", "search", *criteria)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


# -- exports ------------------------------------------------------------------------------------
def test_the_csv_export_has_the_rows_of_the_search_with_formulas_escaped(
    central: Brigada, tmp_path: Path
) -> None:
    record_views(central.url, FORMULA_COMPUTERS, ["CEN-1"])
    expected = central.rows()
    path = tmp_path / "registro.csv"
    result = central.ok("audit", "search", "--csv", str(path))
    assert result.stderr.strip() == f"{len(expected)} rows written to {path}"

    with path.open(newline="", encoding="utf-8-sig") as handle:
        header, *cells = list(csv.reader(handle, delimiter=";"))
    assert header == HEADERS
    assert len(cells) == len(expected) == 8
    for row, cell in zip(expected, cells, strict=True):
        computer = row["computer"]
        assert cell == [
            shown(row["recorded_at"]),
            row["user"],
            "'" + computer if computer in FORMULA_COMPUTERS else computer,
            "" if row["ip_octet"] is None else str(row["ip_octet"]),
            row["site"],
            action_label(row["action"]),
            row["comment"],
        ]
    escaped = {cell[2] for cell in cells if cell[2].startswith("'")}
    assert escaped == {"'" + c for c in FORMULA_COMPUTERS}
    assert not any(value.startswith(("=", "+", "-", "@")) for cell in cells for value in cell)


def test_a_csv_export_keeps_only_the_matches(central: Brigada, tmp_path: Path) -> None:
    path = tmp_path / "fallidos.csv"
    central.ok("audit", "search", "--action", "Login incorrecto", "--csv", str(path))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [(r["User"], r["Action"]) for r in rows] == [("admin", "Incorrect login")]


def test_the_pdf_export_is_a_pdf_with_every_row(central: Brigada, tmp_path: Path) -> None:
    charts = [f"CEN-{n}" for n in range(1, 41)]
    record_views(central.url, ["consultorio-2"], charts)
    expected = central.rows()
    assert len(expected) == 44
    path = tmp_path / "registro.pdf"
    result = central.ok("audit", "search", "--pdf", str(path))
    assert result.stderr.strip() == f"44 rows written to {path}"

    assert path.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(path)
    pages = len(reader.pages)
    assert pages >= 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.startswith("Activity log")
    assert "Criteria: all entries" in text
    for number in range(1, pages + 1):
        assert f"Page {number} of {pages}" in text
    squeezed = re.sub(r"\s+", "", text)
    for row in expected:
        assert re.sub(r"\s+", "", row["comment"]) in squeezed
    # One date and time per row (the "Printed" line has no seconds).
    assert len(DATE_TIME.findall(text)) == len(expected)
    for chart in charts:
        assert re.search(rf"HIST={chart}\b", text)


def test_the_pdf_names_the_criteria(central: Brigada, tmp_path: Path) -> None:
    path = tmp_path / "filtrado.pdf"
    central.ok("audit", "search", "--user", "sistema", "--text", "SEDE", "--pdf", str(path))
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert 'Criteria: User: sistema; Comment contains: "SEDE"' in text
    assert "SEDE=CEN" in text and "USUARIO=admin" not in text
    assert "Page 1 of 1" in text


def test_an_export_is_itself_recorded(central: Brigada, tmp_path: Path) -> None:
    csv_path, pdf_path = tmp_path / "a.csv", tmp_path / "b.pdf"
    central.ok("audit", "search", "--csv", str(csv_path))
    central.ok("audit", "search", "--user", "sistema", "--pdf", str(pdf_path))
    exports = central.rows("--action", "audit.export")
    assert [r["comment"] for r in exports] == [
        f"FORMATO=pdf ARCHIVO={pdf_path} FILAS=2 USR=sistema",
        f"FORMATO=csv ARCHIVO={csv_path} FILAS=4",
    ]
    assert all(json.loads(r["fields"])["FORMATO"] in ("csv", "pdf") for r in exports)
    # The file written does not list its own export.
    with csv_path.open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == 1 + 4
    assert "Activity log - Export" in central.ok("audit", "search", "--action", "audit.export").stdout


# -- verify -------------------------------------------------------------------------------------
def test_verify_passes_on_an_intact_store(central: Brigada) -> None:
    result = central.ok("audit", "verify")
    assert result.stderr.strip() == "Chain intact: 4 events checked"
    as_json = json.loads(central.ok("audit", "verify", "--json").stdout)
    assert as_json == {"checked": 5, "broken": None}
    assert [r["comment"] for r in central.rows("--action", "audit.verify")] == [
        "EVENTOS=5 RESULTADO=OK",
        "EVENTOS=4 RESULTADO=OK",
    ]


def test_verify_fails_with_one_line_naming_the_position_on_a_tampered_store(
    central: Brigada, raw_store: Any
) -> None:
    raw = raw_store(central.url)
    raw.lift_append_only()
    raw.replace_in_state(2, '"full_name":"Administrador"', '"full_name":"Otro"')
    result = central("audit", "verify")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["Chain broken at log position 2 (site CEN): an event was changed"]
    assert central.rows("--action", "audit.verify")[0]["comment"] == "EVENTOS=2 RESULTADO=ROTO@2"


def test_verify_names_a_deleted_event(central: Brigada, raw_store: Any) -> None:
    record_views(central.url, ["consultorio-2"], ["CEN-1", "CEN-2"])  # positions 5 and 6
    raw = raw_store(central.url)
    raw.lift_append_only()
    raw.delete_event(5)
    result = central("audit", "verify")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Chain broken at log position 5 ")
    assert result.stderr.strip().endswith("an event was deleted")


# -- backup -------------------------------------------------------------------------------------
def test_backup_writes_a_copy_and_is_recorded(
    central: Brigada, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = central.ok("backup", "--to", "=cmd")
    folder = tmp_path / "=cmd"
    (written,) = folder.iterdir()
    assert result.stderr.strip().splitlines() == [
        f"Backup written to {written}",
        "The copy holds every patient's clinical text: keep it as safe as the records themselves.",
    ]
    assert written.stat().st_size > 0
    newest = central.rows("--action", "Copia de seguridad")
    assert [r["comment"] for r in newest] == [f"CARPETA={folder}"]
    if central.url.startswith("sqlite"):
        copy = open_brigada(f"sqlite:///{written}", hasher=QuickArgon2Hasher())
        try:
            assert copy.app.recorder.max_notification_id() == 4
        finally:
            copy.close()
    else:
        assert written.read_bytes().startswith(b"PGDMP")


# -- administrators only ------------------------------------------------------------------------
def test_a_non_administrator_is_refused(store_url: str, tmp_path: Path) -> None:
    site = init_and_login(store_url, "--site", "BRG01", "--user", "coord", user="coord")
    whoami = json.loads(site.ok("whoami", "--json").stdout)
    assert whoami["administrator"] is False
    for command in (
        ["audit", "search"],
        ["audit", "search", "--json"],
        ["audit", "search", "--csv", str(tmp_path / "x.csv")],
        ["audit", "search", "--pdf", str(tmp_path / "x.pdf")],
        ["audit", "verify"],
    ):
        result = site(*command)
        assert result.exit_code == 1, command
        assert result.stderr.strip() == "only an administrator can open the activity log"
        assert result.stdout == ""
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.pdf").exists()


def test_commands_need_a_session(central: Brigada) -> None:
    central.ok("logout")
    for command in (["audit", "search"], ["audit", "verify"], ["backup", "--to", "x"]):
        assert central(*command).exit_code == 1


def test_a_login_under_an_unknown_name_keeps_the_name_tried_cut_and_cleaned(central: Brigada) -> None:
    """Issue 17: an administrator sees guessing: the name typed is in the comment, without
    control characters and cut to 30 characters (a password typed in the name box is not kept
    whole)."""
    for typed in ("root", "adm\x1b[2Jin", "x" * 80):
        refused = central("login", typed, "--password-stdin", input="whatever-it-is-1234\n")
        assert (refused.exit_code, refused.stderr.strip()) == (1, "Incorrect login")

    comments = [row["comment"] for row in central.rows("--action", "login.failed")]

    assert {"USUARIO=root", "USUARIO=adm[2Jin", f"USUARIO={'x' * 30}"} <= set(comments)

"""Searching and exporting the activity log as people use it (seed 004, "Registro de actividad"):
names in any case, the action picker, criteria refused in one line, a CSV a Spanish spreadsheet
opens, a PDF that prints Spanish and states its criteria. Through click, on real SQLite stores."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from adapters.audit.audit_io import spreadsheet_safe
from adapters.bootstrap import open_brigada
from adapters.pdf_text import latin1
from adapters.system import Host
from cli.main import cli
from domain.access_log import PATIENT_VIEW
from projections.audit.activity_log import all_action_codes
from tests.support.hashing import QuickArgon2Hasher

pytestmark = pytest.mark.store

PASSWORD = "a-long-password-1234"
SPANISH = "áéíóúñü¿¡ÁÉÍÓÚÑÜºª"


class Brigada:
    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> Result:
        result = self.runner.invoke(cli, ["--store", self.url, *args], input=input, catch_exceptions=False)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    def rows(self, *criteria: str) -> list[dict[str, Any]]:
        found = json.loads(self("audit", "search", "--json", "--page-size", "1000", *criteria).stdout)
        return found["rows"]


@pytest.fixture
def central(tmp_path: Path) -> Brigada:
    brigada = Brigada(f"sqlite:///{tmp_path / 'central.db'}")
    brigada("init", "--central", "--password-stdin", input=f"{PASSWORD}\n")
    brigada("login", "admin", "--password-stdin", input=f"{PASSWORD}\n")
    return brigada


def record_views(url: str, computers: Sequence[str], fields: dict[str, str]) -> None:
    """A chart view recorded from each computer (the CLI only runs on this one)."""
    for number, computer in enumerate(computers):
        brigada = open_brigada(
            url, host=Host(computer=computer, ip_octet=100 + number), hasher=QuickArgon2Hasher()
        )
        try:
            brigada.core.record_access("admin", PATIENT_VIEW, fields)
        finally:
            brigada.close()


# -- names in any case --------------------------------------------------------------------------
def test_the_user_matches_in_any_case(central: Brigada) -> None:
    admin = [r["position"] for r in central.rows("--user", "admin")]
    assert admin and [r["position"] for r in central.rows("--user", "ADMIN")] == admin
    assert [r["position"] for r in central.rows("--user", "Sistema")] == [2, 1]


def test_the_computer_matches_its_whole_name_in_any_case(central: Brigada) -> None:
    record_views(central.url, ["Portatil-7", "portatil-77", "PORTATIL-7"], {"HIST": "CEN-1"})
    for typed in ("portatil-7", "PORTATIL-7", "Portatil-7"):
        assert [r["computer"] for r in central.rows("--computer", typed)] == ["PORTATIL-7", "Portatil-7"]
    assert [r["computer"] for r in central.rows("--computer", "Portatil-77")] == ["portatil-77"]

    first = json.loads(
        central("audit", "search", "--json", "--computer", "portatil-7", "--page-size", "1").stdout
    )
    assert ([r["computer"] for r in first["rows"]], first["has_more"]) == (["PORTATIL-7"], True)
    second = json.loads(
        central(
            "audit", "search", "--json", "--computer", "portatil-7", "--page-size", "1", "--page", "2"
        ).stdout
    )
    assert ([r["computer"] for r in second["rows"]], second["has_more"]) == (["Portatil-7"], False)


# -- the action picker --------------------------------------------------------------------------
def test_actions_lists_every_action_name_for_the_picker(central: Brigada) -> None:
    listed = json.loads(central("--lang", "en", "audit", "actions", "--json").stdout)
    assert sorted(a["code"] for a in listed) == all_action_codes()
    assert {"code": "login.failed", "name": "Incorrect login"} in listed
    names = [a["name"] for a in listed]
    assert names == sorted(names, key=str.casefold)  # the seed lists them alphabetically

    spanish = central("--lang", "es", "audit", "actions").stdout
    assert "Login incorrecto" in spanish and "login.failed" in spanish
    # Each name listed is one --action takes.
    for action in listed:
        central("--lang", "en", "audit", "search", "--action", action["name"])
    assert [r["action"] for r in central.rows("--action", "Login")] == ["login"]


def test_actions_is_for_administrators(central: Brigada) -> None:
    central("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{PASSWORD}-ana\n")
    central("login", "ana", "--password-stdin", input=f"{PASSWORD}-ana\n")
    central("audit", "actions", code=1)


# -- criteria refused in one line, nothing written ----------------------------------------------
@pytest.mark.parametrize(
    ("criteria", "line"),
    [
        (
            ["--text", "a", "--text", "b", "--text", "c", "--text", "d"],
            "--text: search for at most 3 texts at once (4 given)",
        ),
        (["--text", "x" * 2000], "--text: a text to search for has at most 100 characters (one has 2000)"),
        (
            ["--text", "HIST", "--text", "é" * 101],
            "--text: a text to search for has at most 100 characters (one has 101)",
        ),
        (["--computer", "x" * 2000], "--computer: must have at most 100 characters"),
        (["--user", "x" * 2000], "--user: must have at most 100 characters"),
    ],
    ids=["fourth text", "2000 characters", "101 accented", "long computer", "long user"],
)
def test_a_fourth_or_too_long_text_is_one_line_exit_2_and_writes_nothing(
    central: Brigada, tmp_path: Path, criteria: list[str], line: str
) -> None:
    exports_before = central.rows("--action", "audit.export")
    for output in ([], ["--csv", str(tmp_path / "a.csv")], ["--pdf", str(tmp_path / "a.pdf")]):
        refused = central("--lang", "en", "audit", "search", *criteria, *output, code=2)
        assert refused.stderr.strip().splitlines() == [line]
        assert "Error" not in refused.stderr and refused.stdout == ""
    assert list(tmp_path.glob("a.*")) == []
    assert central.rows("--action", "audit.export") == exports_before


def test_three_texts_of_100_characters_are_accepted(central: Brigada) -> None:
    assert central.rows("--text", "a" * 100, "--text", "SEDE", "--text", "CEN") == []


# -- CSV for a Spanish spreadsheet --------------------------------------------------------------
def test_the_csv_is_utf8_with_a_bom_and_semicolons_by_default(central: Brigada, tmp_path: Path) -> None:
    record_views(central.url, ["consultorio-1"], {"HIST": "Peña-1", "NOTA": SPANISH})
    path = tmp_path / "registro.csv"
    central("--lang", "es", "audit", "search", "--csv", str(path))

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header, *rows = list(csv.reader(text.splitlines(), delimiter=";"))
    assert header[0] == "Fecha y hora" and "Acción" in header and len(header) == 7
    assert all(len(row) == 7 for row in rows)
    assert f"HIST=Peña-1 NOTA={SPANISH}" in [row[6] for row in rows]


@pytest.mark.parametrize(("separator", "delimiter"), [(",", ","), (";", ";"), ("tab", "\t")])
def test_the_csv_separator_is_chosen(
    central: Brigada, tmp_path: Path, separator: str, delimiter: str
) -> None:
    path = tmp_path / "registro.csv"
    central("--lang", "en", "audit", "search", "--csv", str(path), "--separator", separator)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header, *rows = list(csv.reader(handle, delimiter=delimiter))
    assert header == ["Date and time", "User", "Computer", "IP", "Site", "Action", "Comment"]
    assert rows and all(len(row) == 7 for row in rows)


def test_an_unknown_separator_is_refused(central: Brigada, tmp_path: Path) -> None:
    path = tmp_path / "registro.csv"
    central("audit", "search", "--csv", str(path), "--separator", "|", code=2)
    assert not path.exists()


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        " =1+1",  # a leading space
        "\u00a0=1+1",  # no-break space
        "\uff1d1+1",  # full-width =
        "\uff0b1",  # full-width +
        "\uff0d1",  # full-width -
        "\uff20SUM(A1)",  # full-width @
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
    ],
    ids=["=", "+", "-", "@", "space", "no-break space", "＝", "＋", "－", "＠", "tab", "CR", "LF"],
)
def test_a_cell_a_spreadsheet_could_run_is_escaped(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["HIST=61", "Peña", "1=1", "", "a b", "¿qué?", "¡ojo!"])
def test_an_ordinary_cell_is_left_alone(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell


def test_formula_computers_are_escaped_in_the_csv_file(central: Brigada, tmp_path: Path) -> None:
    computers = [" =1+1", "\u00a0=1+1", "\uff1dHYPERLINK()", "\uff20SUM(A1)", "\t=1", "\n=1", "\r=1"]
    record_views(central.url, computers, {"HIST": "CEN-1"})
    path = tmp_path / "registro.csv"
    central("audit", "search", "--csv", str(path))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        written = {row[2] for row in csv.reader(handle, delimiter=";")}
    assert {"'" + c for c in computers} <= written


# -- PDF: Spanish text and the criteria in words ------------------------------------------------
def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_pdf_prints_every_spanish_character(central: Brigada, tmp_path: Path) -> None:
    record_views(central.url, ["consultorio-1"], {"HIST": "Peña-1", "NOTA": SPANISH})
    path = tmp_path / "registro.pdf"
    central("--lang", "es", "audit", "search", "--text", "Peña", "--pdf", str(path))
    text = pdf_text(path)
    assert text.startswith("Registro de actividad")
    assert f"NOTA={SPANISH}" in text.replace("\n", "")
    assert "Acción" in text and "Página 1 de 1" in text


def test_latin1_keeps_every_spanish_character_and_plain_forms_of_the_rest() -> None:
    assert latin1(SPANISH + " ¿Qué año? ¡Sí!") == SPANISH + " ¿Qué año? ¡Sí!"
    assert latin1("“Niño” — 5 € … Erdős") == '"Niño" - 5 EUR ... Erdos'
    assert latin1("東") == "?"


def test_the_pdf_states_the_criteria_in_words(central: Brigada, tmp_path: Path) -> None:
    path = tmp_path / "filtrado.pdf"
    central(
        "--lang",
        "en",
        "audit",
        "search",
        "--from",
        "2020-01-01",
        "--action",
        "login.failed",
        "--user",
        "ADMIN",
        "--text",
        "x",
        "--text",
        "y",
        "--pdf",
        str(path),
    )
    text = pdf_text(path).replace("\n", " ")
    assert (
        'Criteria: From: 2020-01-01; Action: Incorrect login; User: ADMIN; Comment contains: "x", "y"' in text
    )

    spanish = tmp_path / "filtrado-es.pdf"
    central("--lang", "es", "audit", "search", "--action", "login.failed", "--pdf", str(spanish))
    assert "Criterios: Acción: Login incorrecto" in pdf_text(spanish)

"""`brigada encounter ...` and `brigada policy locks ...` end to end through click, on SQLite
stores, with the test clock in place of the system's: a visit through all its sections and
outputs, refusals in one line with their exit codes, and a provisioned laptop in INS and MSN."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

import adapters.bootstrap
from adapters.bootstrap import open_brigada
from adapters.system import FixedClock
from tests.support.cli import Terminal, one_line
from tests.support.clinical import patient_options
from tests.support.encounters import password_of
from tests.support.hashing import QuickArgon2Hasher
from tests.support.security import ADMIN_PASSWORD, central_address
from tests.support.sites import JOSE

pytestmark = pytest.mark.store

INS_RULE = "The environment is in INS mode (on site): only sync, queries and login are allowed here"
PATIENT_OPTIONS = patient_options(JOSE)
TREATMENT = "Reposo relativo y abundantes liquidos por cinco dias"
J069 = "J069 Infección aguda de las vías respiratorias superiores, no especificada"
I10X = "I10X Hipertensión esencial (primaria)"


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


@pytest.fixture(autouse=True)
def test_clock(monkeypatch: pytest.MonkeyPatch, clock: FixedClock) -> FixedClock:
    """Every store the CLI opens reads the test clock."""
    monkeypatch.setattr(adapters.bootstrap, "SystemClock", lambda: clock)
    return clock


@pytest.fixture
def central(tmp_path: Path) -> Terminal:
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run.log_in("admin", ADMIN_PASSWORD)
    return run


@pytest.fixture
def chart(central: Terminal) -> str:
    return str(central.json("patient", "register", *PATIENT_OPTIONS)["chart_number"])


def add_user(central: Terminal, username: str = "ana") -> None:
    """A doctor with the visit options and every section (not an administrator)."""
    central(
        "user",
        "create",
        username,
        "--full-name",
        "Ana",
        "--password-stdin",
        input=f"{password_of(username)}\n",
    )
    central("user", "access", username, "--grant", "encounter", "--grant", "policy", "--grant", "patient")
    sections = ["diary", "visit", "report", "services", "observations", "documents", "forms", "history"]
    central("user", "sections", username, *[arg for s in sections for arg in ("--allow", s)])


# -- a visit through every section and output ---------------------------------------------------
def test_a_visit_end_to_end(central: Terminal, chart: str, tmp_path: Path) -> None:
    opened = central("encounter", "open", "--patient", chart, "--reason", "Fiebre y tos")
    assert "Visit CEN-1 opened" in opened.stderr
    assert "CEN-1" in opened.stdout
    central("admission", "admit", "--patient", chart)
    second = central.json("encounter", "open", "--patient", chart, "--kind", "ambulatory")
    assert (second["number"], second["kind"], second["state"]) == ("CEN-2", "ambulatory", "open")

    # Report paragraphs.
    added = central("encounter", "paragraph", "add", "CEN-1", "--name", "TRATAMIENTO", "--text", "Reposo")
    assert "Paragraph P1 added" in added.stderr
    text_file = tmp_path / "plan.txt"
    text_file.write_text("Control en ocho dias", encoding="utf-8")
    central("encounter", "paragraph", "add", "CEN-1", "--name", "plan", "--text-file", str(text_file))
    central("encounter", "paragraph", "edit", "CEN-1", "p1", "--text", TREATMENT)
    viewed = central("encounter", "paragraph", "view", "CEN-1", "P1")
    assert "TRATAMIENTO" in viewed.stdout and TREATMENT in viewed.stdout
    printed = tmp_path / "parrafo.pdf"
    central("encounter", "paragraph", "print", "CEN-1", "P1", "--out", str(printed))
    assert TREATMENT in pdf_text(printed)
    assert "Paragraph P2 deleted" in central("encounter", "paragraph", "delete", "CEN-1", "P2").stderr

    # Services, observations, documents.
    service = central("encounter", "service", "add", "CEN-1", "--cups", "890201", "--quantity", "2")
    assert "Service line S1 added" in service.stderr
    assert "Observations saved" in central("encounter", "observations", "CEN-1", "--text", "Vive solo").stderr
    kept, dropped = tmp_path / "laboratorio.txt", tmp_path / "borrador.txt"
    kept.write_bytes(b"hemoglobina 13.2 g/dl\n\x00\xff binario")
    dropped.write_bytes(b"borrador")
    kept_id = central("encounter", "document", "attach", "CEN-1", str(kept)).stderr.split()[1]
    dropped_id = central("encounter", "document", "attach", "CEN-1", str(dropped)).stderr.split()[1]
    copy = tmp_path / "copia.bin"
    central("encounter", "document", "get", "CEN-1", kept_id, "--out", str(copy))
    assert copy.read_bytes() == kept.read_bytes()
    assert (
        f"Document {dropped_id} deleted"
        in central("encounter", "document", "delete", "CEN-1", dropped_id).stderr
    )

    # Clinical history: finalizing needs a principal diagnosis.
    refused = central("encounter", "finalize", "CEN-1", code=1)
    assert one_line(refused) == "visit CEN-1 cannot be finalized without a principal diagnosis"
    assert (
        f"Diagnosis {J069} recorded"
        in central("encounter", "diagnosis", "add", "CEN-1", "--code", "j06.9").stderr
    )
    related = central("encounter", "diagnosis", "add", "CEN-1", "--code", "I10", "--related", "--type", "03")
    assert f"Diagnosis {I10X} recorded" in related.stderr

    # Show, as text and as JSON.
    shown = central("encounter", "show", "CEN-1").stdout
    for expected in ("Visit CEN-1", "TRATAMIENTO", "890201", "Vive solo", "laboratorio.txt", "J069", "I10X"):
        assert expected in shown
    assert "Hipertensión esencial (primaria)" in shown
    assert "borrador.txt" not in shown and "PLAN" not in shown
    view = central.json("encounter", "show", "CEN-1")
    assert (view["number"], view["chart_number"], view["state"]) == ("CEN-1", chart, "open")
    assert view["visit_data"]["reason"] == "Fiebre y tos"
    assert [(p["item_id"], p["label"], p["detail"]) for p in view["paragraphs"]] == [
        ("P1", "TRATAMIENTO", TREATMENT)
    ]
    assert [(s["item_id"], s["label"]) for s in view["services"]] == [("S1", "890201")]
    assert view["observations"] == "Vive solo"
    assert [d["label"] for d in view["documents"]] == ["laboratorio.txt"]
    assert [(d["item_id"], d["label"], d["detail"]) for d in view["diagnoses"]] == [
        ("J069", J069.removeprefix("J069 "), "principal 02"),
        ("I10X", "Hipertensión esencial (primaria)", "related 03"),
    ]
    assert view["locks"] == []

    # The report: view, print, zip.
    report = central("encounter", "report", "view", "CEN-1").stdout
    assert "IMPRESO BASICO" in report and TREATMENT in report and "HIST: " + chart in report
    report_pdf = tmp_path / "informe.pdf"
    central("encounter", "report", "print", "CEN-1", "--out", str(report_pdf))
    assert "IMPRESO BASICO" in pdf_text(report_pdf) and TREATMENT in pdf_text(report_pdf)
    report_zip = tmp_path / "informe.zip"
    central("encounter", "report", "zip", "CEN-1", "--out", str(report_zip))
    with zipfile.ZipFile(report_zip) as archive:
        assert sorted(archive.namelist()) == ["informe-CEN-1.pdf", "laboratorio.txt"]
        assert archive.read("laboratorio.txt") == kept.read_bytes()
        inner = PdfReader(io.BytesIO(archive.read("informe-CEN-1.pdf")))
        assert TREATMENT in " ".join(" ".join(p.extract_text().split()) for p in inner.pages)

    # Clinical history views and a form.
    history = central("encounter", "history", "view", "CEN-1").stdout
    assert "DIAGNOSTICOS" in history and f"{J069} (principal 02)" in " ".join(history.split())
    visits = central("encounter", "history", "view", "CEN-1", "--name", "visitas").stdout
    assert "CEN-1" in visits and J069 in " ".join(visits.split())
    history_pdf = tmp_path / "historia.pdf"
    central("encounter", "history", "print", "CEN-1", "--out", str(history_pdf))
    assert f"{J069} (principal 02)" in pdf_text(history_pdf)
    assert f"{I10X} (related 03)" in pdf_text(history_pdf)
    form_pdf = tmp_path / "justificante.pdf"
    central("encounter", "form", "print", "CEN-1", "--out", str(form_pdf))
    form_text = pdf_text(form_pdf)
    assert "JUSTIFICANTE DE ASISTENCIA A CONSULTA" in form_text and JOSE["document_number"] in form_text

    # Finalizing: visit data, services and diagnoses are kept; addenda are still welcome.
    assert "Visit CEN-1 finalized" in central("encounter", "finalize", "CEN-1").stderr
    refused = central("encounter", "service", "add", "CEN-1", "--cups", "890202", code=1)
    assert one_line(refused) == "visit CEN-1 is finalized: adding a service is not possible"
    refused = central("encounter", "diagnosis", "add", "CEN-1", "--code", "J209", code=1)
    assert one_line(refused) == "visit CEN-1 is finalized: changing the diagnoses is not possible"
    assert refused.stdout == ""
    central("encounter", "paragraph", "add", "CEN-1", "--name", "ADDENDUM", "--text", "Resultado")
    assert central.json("encounter", "list")[0]["number"] == "CEN-2"
    assert [r["state"] for r in central.json("encounter", "list")] == ["open", "finalized"]

    # Deleting: a void.
    assert "Visit CEN-1 deleted" in central("encounter", "delete", "CEN-1", "--yes").stderr
    refused = central("encounter", "paragraph", "add", "CEN-1", "--name", "NOTA", "--text", "x", code=1)
    assert one_line(refused) == "visit CEN-1 is deleted: adding a paragraph is not possible"


# -- bad input, unknown things ------------------------------------------------------------------
BAD_INPUT = [
    (("service", "add", "CEN-1", "--cups", "12"), "--cups: must be a CUPS code of 6 digits"),
    (("service", "add", "CEN-1", "--cups", "890201", "--quantity", "0"), "--quantity: must be at least 1"),
    (
        ("service", "add", "CEN-1", "--cups", "890201", "--quantity", "1000"),
        "--quantity: must be at most 999",
    ),
    (("diagnosis", "add", "CEN-1", "--code", "1234"), "--code: "),
    (("diagnosis", "add", "CEN-1", "--code", "W199"), "--code: W199 is an external cause (V01-Y98)"),
    (("diagnosis", "add", "CEN-1", "--code", "J999"), "--code: J999 is not in the CIE-10 catalog"),
    (
        ("diagnosis", "add", "CEN-1", "--code", "U98.1", "--related"),
        "--code: U981 is not in the CIE-10 catalog",
    ),
    (
        ("diagnosis", "add", "CEN-1", "--code", "j06"),
        "--code: J06 is a CIE-10 category with subcategories: give one of them, J060 to J069",
    ),
    (("paragraph", "add", "CEN-1", "--name", "TRATAMIENTO/1", "--text", "x"), "--name: "),
    (("paragraph", "add", "CEN-1", "--name", "TRATAMIENTO", "--text", ""), "--text: "),
    (("visit", "CEN-1", "--modality", "99"), "--modality: must be a RIPS care modality, 01 to 09"),
    (("open", "--patient", "CEN-1", "--purpose", "5"), "--purpose: must be a RIPS purpose code, 11 to 44"),
]


def test_bad_input_exits_2_naming_the_field_and_records_nothing(
    central: Terminal, chart: str, count_events: Any
) -> None:
    central("encounter", "open", "--patient", chart)
    before = count_events(central.url)

    for args, start in BAD_INPUT:
        bad = central("encounter", *args, code=2)
        assert one_line(bad).startswith(start), (args, bad.stderr)

    assert count_events(central.url) == before


def test_a_code_missing_from_the_cie10_catalog_exits_2_in_spanish_and_writes_nothing(
    central: Terminal, chart: str, count_events: Any
) -> None:
    central("encounter", "open", "--patient", chart)
    before = count_events(central.url)

    refused = central.run_in("es", "encounter", "diagnosis", "add", "CEN-1", "--code", "J99.9", code=2)

    assert one_line(refused) == "--code: J999 no está en el catálogo CIE-10"
    refused = central.run_in("es", "encounter", "diagnosis", "add", "CEN-1", "--code", "E11", code=2)
    assert one_line(refused) == (
        "--code: E11 es una categoría CIE-10 con subcategorías: indique una de ellas, de E110 a E119"
    )
    assert count_events(central.url) == before
    assert central.json("encounter", "show", "CEN-1")["diagnoses"] == []

    # A code of the catalog is recorded, and the diary and the chart name it.
    recorded = central.run_in("es", "encounter", "diagnosis", "add", "CEN-1", "--code", "A09")
    assert "A09X Diarrea y gastroenteritis de presunto origen infeccioso" in recorded.stderr
    diary = " ".join(central.run_in("es", "encounter", "list").stdout.split())
    assert "A09X Diarrea y gastroenteritis de presunto origen infeccioso" in diary
    shown = " ".join(central.run_in("es", "patient", "chart", chart).stdout.split())
    assert "A09X Diarrea y gastroenteritis de presunto origen infeccioso" in shown
    assert central.json("encounter", "list")[0]["principal_diagnosis"] == "A09X"  # scripts get the code
    removed = central.run_in("es", "encounter", "diagnosis", "remove", "CEN-1", "a09")
    assert one_line(removed) == (
        "Diagnóstico A09X Diarrea y gastroenteritis de presunto origen infeccioso eliminado"
    )


UNKNOWN = [
    (("show", "CEN-99"), "no visit with number CEN-99"),
    (("finalize", "CEN-99"), "no visit with number CEN-99"),
    (("report", "view", "CEN-99"), "no visit with number CEN-99"),
    (("paragraph", "view", "CEN-1", "P7"), "visit CEN-1 has no paragraph P7"),
    (("document", "get", "CEN-1", "abcdef12"), "visit CEN-1 has no document abcdef12"),
    (("form", "print", "CEN-1", "--name", "RECETA"), "no form named RECETA; forms: "),
    (("history", "view", "CEN-1", "--name", "ALERGIAS"), "no clinical history view named ALERGIAS"),
    (("open", "--patient", "CEN-404"), "no patient with chart number CEN-404"),
]


def test_unknown_things_exit_3(central: Terminal, chart: str) -> None:
    central("encounter", "open", "--patient", chart)

    for args, start in UNKNOWN:
        unknown = central("encounter", *args, code=3)
        assert one_line(unknown).startswith(start), (args, unknown.stderr)


# -- locks --------------------------------------------------------------------------------------
def test_locks_are_set_by_the_administrator_and_refuse_a_late_change(
    central: Terminal, chart: str, test_clock: FixedClock
) -> None:
    assert central.json("policy", "locks", "show") == {
        "delete_visit": 0,
        "change_visit_data": 0,
        "change_paragraph": 0,
        "change_observations": 0,
        "delete_document": 0,
    }
    set_to = central.json("policy", "locks", "set", "--change-visit-data", "1", "--change-paragraph", "2")
    assert (set_to["change_visit_data"], set_to["change_paragraph"], set_to["delete_visit"]) == (1, 2, 0)
    central("policy", "locks", "set", "--delete-visit", "-1", code=2)
    assert "delete-visit" in central("policy", "locks", "show").stdout

    add_user(central)
    central.log_in("ana", password_of("ana"))
    refused = central("policy", "locks", "set", "--delete-visit", "5", code=1)
    assert one_line(refused) == "only an administrator can change the time-based locks"
    assert central.json("policy", "locks", "show")["change_paragraph"] == 2
    central("encounter", "open", "--patient", chart)
    central("encounter", "paragraph", "add", "CEN-1", "--name", "TRATAMIENTO", "--text", "Reposo")

    test_clock.advance(days=1)
    central.log_in("ana", password_of("ana"))
    locked = central("encounter", "visit", "CEN-1", "--reason", "Otra", code=1)
    assert one_line(locked) == (
        "locked: changing the visit data is not allowed 1 days after 2026-03-01 (rule: change_visit_data)"
    )
    central("encounter", "paragraph", "edit", "CEN-1", "P1", "--text", "Reposo absoluto")  # 1 day < 2
    central("encounter", "paragraph", "add", "CEN-1", "--name", "NOTA", "--text", "Addendum")
    shown = central("encounter", "show", "CEN-1")
    assert "🔒 Locks in force: changing the visit data" in shown.stderr
    assert central.json("encounter", "show", "CEN-1")["locks"] == ["change_visit_data"]

    test_clock.advance(days=1)
    central.log_in("ana", password_of("ana"))
    locked = central("encounter", "paragraph", "delete", "CEN-1", "P1", code=1)
    assert "rule: change_paragraph" in one_line(locked)
    paragraphs = central.json("encounter", "show", "CEN-1")["paragraphs"]
    assert [(p["item_id"], p["locked"]) for p in paragraphs] == [("P1", True), ("P2", False)]
    assert "🔒 P1" in central("encounter", "show", "CEN-1").stdout


# -- a provisioned laptop -----------------------------------------------------------------------
def test_a_laptop_opens_visits_only_on_mission_with_care_enabled(
    central: Terminal, chart: str, tmp_path: Path
) -> None:
    central("site", "register", "BRG01", "--name", "Uno", "--action", "patients", "--action", "care")
    central("site", "register", "BRG02", "--name", "Dos", "--action", "patients")
    add_user(central)
    laptop = Terminal(f"sqlite:///{tmp_path}/brg01.db")
    other = Terminal(f"sqlite:///{tmp_path}/brg02.db")
    central("site", "provision", "BRG01", "--to", laptop.url, *central_address(tmp_path))
    central("site", "provision", "BRG02", "--to", other.url, *central_address(tmp_path))
    laptop.log_in("ana", password_of("ana"))

    refused = laptop("encounter", "open", "--patient", chart, code=1)
    assert one_line(refused) == INS_RULE
    assert refused.stdout == ""

    central("site", "mode", "BRG01", "--set", "MSN")
    central("site", "mode", "BRG02", "--set", "MSN")
    mirror_site_record(central.url, laptop.url)
    mirror_site_record(central.url, other.url)
    opened = laptop("encounter", "open", "--patient", chart)
    assert "Visit BRG01-1 opened" in opened.stderr
    laptop("encounter", "diagnosis", "add", "BRG01-1", "--code", "J069")
    assert laptop.json("encounter", "finalize", "BRG01-1")["state"] == "finalized"
    assert laptop.json("encounter", "open", "--patient", chart)["number"] == "BRG01-2"

    other.log_in("ana", password_of("ana"))
    not_enabled = other("encounter", "open", "--patient", chart, code=1)
    assert one_line(not_enabled) == (
        "This site is not authorized for: Outpatient and ambulatory hospitalization care (finalized only)"
    )


def mirror_site_record(central_url: str, laptop_url: str) -> None:
    """What the sync will do for the mode: the laptop records central's newer site events."""
    central, laptop = (
        open_brigada(central_url, hasher=QuickArgon2Hasher()),
        open_brigada(laptop_url, hasher=QuickArgon2Hasher()),
    )
    try:
        assert laptop.sites.receive_site_record(central) == 1
    finally:
        laptop.close()
        central.close()

"""The CIE-10 catalog a diagnosis is checked against (domain/clinical/data/cie10.tsv, derived from
the `cie` 0.208 wheel): its file, the codes it accepts and refuses, the names shown beside a code,
and that it is read only when a command needs it."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.clinical.cie10 import CATALOG_FILE, CIE10, UPDATES_FILE, catalog, known_code, name_of, with_name
from domain.clinical.encounter import DiagnosisRole, DiagnosisType, Encounter, EncounterKind
from domain.context import EventContext, recording
from domain.errors import InvalidValue

ROOT = Path(__file__).resolve().parents[2]
WELL_FORMED = st.from_regex(r"\A[A-Z][0-9]{2}[0-9X]\Z")
CATALOG_CODES = st.sampled_from(sorted(catalog()))
DAY = date(2026, 3, 1)


def context() -> EventContext:
    at = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    return EventContext(uuid.uuid4(), "BRG01", "medico", "laptop-3", 42, at, DAY)


def open_visit() -> Encounter:
    return Encounter(
        number="BRG01-457",
        patient_id=uuid.uuid4(),
        chart_number="BRG01-61",
        kind=EncounterKind.OUTPATIENT,
        visit_date=DAY,
        professional="medico",
        visit_data={"modality": "04", "purpose": "16", "cause": "38", "reason": "Fiebre"},
        appointment=None,
        admission=None,
    )


def test_the_catalog_file_names_its_source_version_license_and_how_it_was_derived() -> None:
    lines = CATALOG_FILE.read_text(encoding="utf-8").splitlines()
    header = "\n".join(line for line in lines if line.startswith("#"))

    for expected in ("cie 0.208", "MIT", "cluster311/cie10", "icdcode.info", "scripts/cie10_from_wheel.py"):
        assert expected in header
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert f"# {len(rows)} codes." in header
    assert all(len(row) == 2 and CIE10.match(row[0]) and row[1].strip() == row[1] != "" for row in rows)
    codes = [code for code, _name in rows]
    assert codes == sorted(set(codes))


def test_the_who_updates_the_edition_lacks_are_accepted_with_their_spanish_names() -> None:
    lines = UPDATES_FILE.read_text(encoding="utf-8").splitlines()
    header = "\n".join(line for line in lines if line.startswith("#"))
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert "WHO ICD-10 updates" in header and f"# {len(rows)} codes." in header
    derived = CATALOG_FILE.read_text(encoding="utf-8")
    assert all(CIE10.match(code) and f"\n{code}\t" not in derived for code, _name in rows)

    assert known_code("U07.1") == "U071"
    assert with_name("A970") == "A970 Dengue sin signos de alarma"
    with pytest.raises(InvalidValue, match="subcategories"):
        known_code("A97")


def test_a_category_is_a_code_only_when_it_has_no_subcategories() -> None:
    codes = set(catalog())

    padded = {code[:3] for code in codes if code.endswith("X")}
    assert {"I10", "A09", "R51", "Y98"} <= padded
    assert not any(c[:3] in padded for c in codes if not c.endswith("X"))
    assert "J06X" not in codes and {"J060", "J069"} <= codes
    assert len(codes) > 12_000


def test_a_code_is_shown_with_its_spanish_name() -> None:
    assert with_name("J069") == "J069 Infección aguda de las vías respiratorias superiores, no especificada"
    assert with_name("I10X") == "I10X Hipertensión esencial (primaria)"
    assert name_of("J06X") is None
    # A code recorded before the catalog was checked is shown as it was recorded.
    assert with_name("U981") == "U981" and with_name("") == ""


@given(CATALOG_CODES)
def test_every_catalog_code_is_accepted_typed_with_a_dot_or_in_lower_case(code: str) -> None:
    typed = f"{code[:3]}.{code[3]}" if not code.endswith("X") else code[:3].lower()

    assert known_code(typed) == code


@given(CATALOG_CODES)
def test_every_catalog_code_may_be_a_related_diagnosis_and_outside_v01_y98_the_principal(code: str) -> None:
    with recording(context()):
        encounter = open_visit()
        encounter.set_diagnosis(code, DiagnosisRole.RELATED, DiagnosisType.IMPRESSION)
        assert encounter.diagnoses[code].role is DiagnosisRole.RELATED
        if not "V01" <= code[:3] <= "Y98":
            encounter.set_diagnosis(code, DiagnosisRole.PRINCIPAL, DiagnosisType.IMPRESSION)
            assert encounter.principal is not None and encounter.principal.code == code


@given(WELL_FORMED.filter(lambda code: code not in catalog()))
def test_every_well_formed_code_not_in_the_catalog_is_refused_naming_the_code_field(code: str) -> None:
    with recording(context()):
        encounter = open_visit()
        encounter.collect_events()
        with pytest.raises(InvalidValue) as refused:
            encounter.set_diagnosis(code, DiagnosisRole.RELATED, DiagnosisType.CONFIRMED_NEW)

    assert refused.value.field == "code"
    assert re.match(
        r"^[A-Z][0-9]{2}[0-9X]? is (not in the CIE-10 catalog|a CIE-10 category)", str(refused.value)
    )
    assert encounter.collect_events() == [] and encounter.diagnoses == {}


@pytest.mark.store  # starts a process
def test_the_catalog_is_read_on_first_use_not_when_the_cli_and_the_use_cases_are_imported() -> None:
    script = (
        "import cli.main, application.brigada, cli.clinical.encounter_cmd, cli.billing.voucher_cmd\n"
        "from domain.clinical import cie10\n"
        "assert cie10.catalog.cache_info().currsize == 0, 'read at import'\n"
        "assert cie10.name_of('I10X') == 'Hipertensión esencial (primaria)'\n"
        "assert cie10.catalog.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)

"""Hostile text: control, escape and invisible formatting characters are refused in every field
of every command, naming the field (clinical long text keeps its newlines and tabs); text is
stored NFC-normalized and a run of combining marks ("Zalgo") is refused; `encounter delete`
asks before it deletes."""

from __future__ import annotations

import importlib
import pkgutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import application
from application.clinical.encounters import NewParagraph
from application.clinical.patients import CorrectionFields
from application.validation import MAX_COMBINING_RUN, Command, parse, safe_text
from cli.exit_codes import Exit
from domain.errors import InvalidValue
from tests.support.cli import Terminal, one_line
from tests.support.clinical import patient_options
from tests.support.security import ADMIN_PASSWORD
from tests.support.sites import JOSE

ESC, NUL, BEL, RLO, CR = "\x1b", "\x00", "\x07", "\u202e", "\r"
CONTROL = "must not contain control or invisible characters (found {codepoint})"
ONE_LINE = "must be on one line, without tabs"
ZALGO = "must not stack more than 2 accents or marks on one letter"
DECOMPOSED_JOSE = "Jose\u0301"  # e + COMBINING ACUTE ACCENT, as some keyboards and pastes send it
ZALGO_NAME = "Ana\u0334\u0335\u0336"  # three overlays: NFC composes none of them into the a


def command_models() -> Iterator[type[Command]]:
    """Every command model of the application layer."""
    for module in pkgutil.walk_packages(application.__path__, "application."):
        importlib.import_module(module.name)
    pending = list(Command.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        yield model


EVERY_FIELD = sorted(
    ((model, name) for model in set(command_models()) for name in model.model_fields),
    key=lambda case: (case[0].__module__, case[0].__name__, case[1]),
)


def refusals(model: type[Command], data: dict[str, Any]) -> dict[str, str]:
    """Each refused field and the kind of its refusal."""
    try:
        model.model_validate(data)
    except ValidationError as error:
        return {str(e["loc"][0]): e["type"] for e in error.errors() if e["loc"]}
    return {}


# -- every field of every command ---------------------------------------------------------------
def test_every_command_model_is_found() -> None:
    names = {model.__name__ for model, _field in EVERY_FIELD}
    assert {"PatientFields", "NewParagraph", "NewUser", "RegisterSite", "NewWarehouse", "NewItem"} <= names


# ESC (ANSI sequences), NUL, BEL, the bidi override of "Trojan Source", a zero-width space, the C1
# controls DCS and CSI, and a lone surrogate (undecodable bytes in a command line).
HOSTILE = [f"a{ESC}[2Jb", f"a{NUL}b", f"a{BEL}b", f"a{RLO}b", "a\u200bb", "a\x90b", "a\x9bb", "a\ud800b"]


@pytest.mark.parametrize(("model", "field"), EVERY_FIELD, ids=lambda c: getattr(c, "__name__", c))
def test_every_field_of_every_command_refuses_control_and_invisible_characters(
    model: type[Command], field: str
) -> None:
    for hostile in HOSTILE:
        assert refusals(model, {field: hostile})[field] == "text_control", hostile
        assert refusals(model, {field: [hostile]})[field] == "text_control", hostile  # lists too


@pytest.mark.parametrize(("model", "field"), EVERY_FIELD, ids=lambda c: getattr(c, "__name__", c))
def test_a_line_break_is_refused_in_every_field_but_clinical_text(model: type[Command], field: str) -> None:
    clinical = (model, field) == (NewParagraph, "text")
    for broken in ("a\nb", "a\tb"):
        kind = refusals(model, {field: broken}).get(field)
        assert (kind is None) if clinical else (kind == "text_line_break"), broken
    # A lone carriage return rewrites the line on a terminal: not layout, even in clinical text.
    assert refusals(model, {field: f"a{CR}b"})[field] == ("text_control" if clinical else "text_line_break")


def test_the_refusal_names_the_field_and_the_character() -> None:
    with pytest.raises(InvalidValue) as refused:
        parse(CorrectionFields, {"first_name": f"Jos{ESC}]0;pwned{BEL}é"})
    assert (refused.value.field, refused.value.template) == ("first_name", CONTROL)
    assert refused.value.params == {"codepoint": "U+001B"}


# -- clinical long text ---------------------------------------------------------------------------
@given(st.lists(st.sampled_from(["Reposo", "relativo", " ", "\n", "\t", "ñ", "5 mg", "\r\n"]), min_size=1))
def test_clinical_text_keeps_its_lines_and_tabs(pieces: list[str]) -> None:
    text = "x" + "".join(pieces)
    kept = parse(NewParagraph, {"name": "Plan", "text": text}).text
    assert kept == text.replace("\r\n", "\n").strip()


@given(
    st.text(alphabet=st.characters(categories=("L", "Zs")), max_size=20),
    st.characters(categories=("Cc", "Cf"), exclude_characters="\n\t"),
)
def test_clinical_text_refuses_any_other_control_or_format_character(before: str, hostile: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse(NewParagraph, {"name": "Plan", "text": f"x{before}{hostile}y"})
    assert refused.value.field == "text"
    assert refused.value.template == CONTROL


def test_text_a_use_case_takes_without_a_command_model_follows_the_same_rule() -> None:
    assert safe_text("text", "Hemoglobina\t12\r\nNormal\n", line_breaks=True) == "Hemoglobina\t12\nNormal"
    with pytest.raises(InvalidValue) as refused:
        safe_text("reason", f"duplicado{RLO}")
    assert (refused.value.field, refused.value.params) == ("reason", {"codepoint": "U+202E"})


# -- names: NFC and combining marks --------------------------------------------------------------
def test_a_decomposed_name_is_stored_composed() -> None:
    stored = parse(CorrectionFields, {"first_name": DECOMPOSED_JOSE}).first_name
    assert stored == "José" == unicodedata.normalize("NFC", DECOMPOSED_JOSE)
    assert len(stored or "") == 4


def test_two_combining_marks_on_a_letter_pass_and_a_third_is_refused() -> None:
    # NFC leaves no mark on Spanish letters; a few orthographies keep one or two (Lithuanian i̇̀).
    assert MAX_COMBINING_RUN == 2
    assert parse(CorrectionFields, {"first_name": "Li\u0307\u0300na"}).first_name == "Li\u0307\u0300na"
    with pytest.raises(InvalidValue) as refused:
        parse(CorrectionFields, {"first_name": ZALGO_NAME})
    message = refused.value.template.format(**refused.value.params)
    assert (refused.value.field, message) == ("first_name", ZALGO)


# -- through the CLI: the option named, nothing written ------------------------------------------
@pytest.fixture
def central(tmp_path: Path) -> Terminal:
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run.log_in("admin", ADMIN_PASSWORD)
    run("patient", "register", *patient_options(JOSE))
    run("encounter", "open", "--patient", "CEN-1")
    return run


def register(first_name: str) -> list[str]:
    details = {**JOSE, "first_name": first_name, "document_number": "79111222"}
    return ["patient", "register", *patient_options(details)]


HOSTILE_COMMANDS: list[tuple[Callable[[str], list[str]], str]] = [
    (register, "--first-name"),
    (lambda v: ["patient", "correct", "CEN-1", "--first-surname", v], "--first-surname"),
    (lambda v: ["encounter", "open", "--patient", "CEN-1", "--reason", v], "--reason"),
    (lambda v: ["encounter", "paragraph", "add", "CEN-1", "--name", v, "--text", "Reposo"], "--name"),
    (lambda v: ["encounter", "paragraph", "add", "CEN-1", "--name", "Plan", "--text", v], "--text"),
    (lambda v: ["encounter", "observations", "CEN-1", "--text", v], "--text"),
    (lambda v: ["admission", "admit", "--patient", "CEN-1", "--reason", v], "--reason"),
    (lambda v: ["user", "create", "luis", "--full-name", v, "--password-stdin"], "--full-name"),
    (lambda v: ["site", "register", "BRG02", "--name", v], "--name"),
    (lambda v: ["warehouse", "create", "BOD-1", "--name", v], "--name"),
    (lambda v: ["catalog", "item", "add", "19900001-01", "--name", v], "--name"),
    (lambda v: ["catalog", "item", "add", "19900001-01", "--name", "Acetaminofén", "--unit", v], "--unit"),
]


HOSTILE_VALUES: list[tuple[str, str | None]] = [
    (f"Jos{ESC}[31mé", CONTROL.format(codepoint="U+001B")),
    (f"Jos{NUL}é", CONTROL.format(codepoint="U+0000")),
    (f"Jos{BEL}é", CONTROL.format(codepoint="U+0007")),
    (f"Jos{RLO}é", CONTROL.format(codepoint="U+202E")),
    (f"Jo{CR}sé", None),  # one-line fields: "on one line"; clinical text: U+000D
    (ZALGO_NAME, ZALGO),
]


# Each command with one hostile value (each value on two commands): a store per case is slow.
@pytest.mark.parametrize(
    ("command", "option", "hostile", "message"),
    [
        (command, option, *HOSTILE_VALUES[i % len(HOSTILE_VALUES)])
        for i, (command, option) in enumerate(HOSTILE_COMMANDS)
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("--") else "",
)
def test_the_cli_names_the_option_and_writes_nothing(
    central: Terminal,
    count_events: Callable[..., int],
    command: Callable[[str], list[str]],
    option: str,
    hostile: str,
    message: str | None,
) -> None:
    before = count_events(central.url)
    refused = central(*command(hostile), input="camina-lejos-por-la-vereda-verde-42\n", code=Exit.INVALID)
    if message is None:
        clinical = option == "--text"
        message = CONTROL.format(codepoint="U+000D") if clinical else ONE_LINE
    assert one_line(refused) == f"{option}: {message}"
    assert count_events(central.url) == before


def test_a_tab_or_newline_is_kept_in_a_paragraph_and_refused_in_its_name(
    central: Terminal, count_events: Callable[..., int]
) -> None:
    central("encounter", "paragraph", "add", "CEN-1", "--name", "Plan", "--text", "Reposo\n\tLíquidos")
    viewed = central("encounter", "paragraph", "view", "CEN-1", "P1").stdout
    assert "Reposo\n\tLíquidos" in viewed
    before = count_events(central.url)
    for name in ("Pl\tan", "Pl\nan"):
        refused = central("encounter", "paragraph", "add", "CEN-1", "--name", name, "--text", "x", code=2)
        assert one_line(refused) == f"--name: {ONE_LINE}"
    assert count_events(central.url) == before


def test_a_decomposed_name_typed_at_the_cli_is_stored_composed(central: Terminal) -> None:
    registered = central.json(*register(DECOMPOSED_JOSE))
    shown = central.json("patient", "show", registered["chart_number"])
    assert shown["first_name"] == "José"
    assert unicodedata.is_normalized("NFC", shown["first_name"])


# -- encounter delete asks first -----------------------------------------------------------------
@pytest.mark.parametrize("answer", ["n\n", "\n", None], ids=["no", "default", "no-terminal"])
def test_encounter_delete_not_confirmed_writes_nothing(
    central: Terminal, count_events: Callable[..., int], answer: str | None
) -> None:
    before = count_events(central.url)
    refused = central("encounter", "delete", "CEN-1", input=answer, code=Exit.REFUSED)
    assert "Delete visit CEN-1? [y/N]" in refused.stderr
    assert refused.stderr.strip().endswith("Cancelled.")
    assert count_events(central.url) == before
    assert central.json("encounter", "show", "CEN-1")["state"] == "open"


def test_encounter_delete_confirmed_or_with_yes_deletes(central: Terminal) -> None:
    confirmed = central("encounter", "delete", "CEN-1", input="y\n")
    assert "Visit CEN-1 deleted" in confirmed.stderr
    central("encounter", "open", "--patient", "CEN-1")
    without_asking = central("encounter", "delete", "CEN-2", "--yes")
    assert "[y/N]" not in without_asking.stderr
    assert central.json("encounter", "show", "CEN-2")["state"] == "deleted"


# -- what is typed is never sent back to the terminal to act on ----------------------------------
@pytest.mark.parametrize("typed", ["\x1b[2J\x1b[31mCEN-9", "CEN-\u202e9", "CEN\x07-9"])
def test_a_hostile_number_is_echoed_as_code_points_not_as_escapes(central: Terminal, typed: str) -> None:
    """A lookup value is never stored, but "not found" says it back: its control and invisible
    characters reach the terminal as <U+XXXX>, never as an escape sequence or a bidi override."""
    refused = central("patient", "show", typed, code=Exit.NOT_FOUND)
    line = one_line(refused)
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in line), repr(line)
    assert "<U+" in line
    asked = central("encounter", "delete", typed, input="n\n", code=Exit.REFUSED)
    assert "\x1b" not in asked.stderr and "\u202e" not in asked.stderr

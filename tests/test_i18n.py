"""The Spanish catalog covers every marked text, keeps its placeholders, and ships compiled.

Spanish is the default language, so a text missing from cli/locale/es/LC_MESSAGES/brigada.po
would show up in English. When these tests fail, run ``make i18n`` (scripts/i18n.sh), translate
what it lists, and run it again.
"""

from __future__ import annotations

import gettext
import io
import re
import string
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from cli import i18n

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
MESSAGES = i18n.LOCALE_DIR / "es" / "LC_MESSAGES"
PO = MESSAGES / f"{i18n.DOMAIN}.po"
MO = MESSAGES / f"{i18n.DOMAIN}.mo"
# The same keywords as scripts/i18n.sh (pybabel extract --no-default-keywords -k _ -k N_
# -k ngettext:1,2).
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
CONTEXT = "\x04"  # gettext's own separator: "context\x04msgid"
FIX = "run `make i18n`, translate what it lists in the .po, and run it again"


def extracted() -> dict[str, list[str]]:
    """Every msgid marked in the source (with its context, if any, before CONTEXT), with where
    it is marked."""
    with BABEL_CFG.open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(BABEL_CFG))
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        key = f"{context}{CONTEXT}{msgid}" if context else msgid
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def spanish(domain: str = i18n.DOMAIN) -> Catalog:
    with (MESSAGES / f"{domain}.po").open("rb") as po:
        return read_po(po, locale="es", domain=domain, abort_invalid=True)


def clicks_texts() -> set[str]:
    """Every text the installed click marks for gettext (what scripts/i18n.sh extracts)."""
    folder = Path(click.__file__).parent
    method_map = [("**.py", "python")]
    keywords = {"_": None, "ngettext": (1, 2)}
    return {
        message if isinstance(message, str) else message[0]
        for _f, _line, message, _comments, _context in extract_from_dir(folder, method_map, keywords=keywords)
    }


def placeholders(text: str) -> set[str]:
    """The {fields} of a str.format template, as written ({n}, {n:>3}, {x!r})."""
    fields = set()
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            conversion = f"!{conversion}" if conversion else ""
            spec = f":{spec}" if spec else ""
            fields.add(f"{{{name}{conversion}{spec}}}")
    return fields


@pytest.fixture
def restore_language() -> Iterator[None]:
    before = i18n.language()
    yield
    i18n.set_language(before)


def test_the_source_marks_texts() -> None:
    found = extracted()
    assert "Incorrect login" in found, "the extraction found nothing: check babel.cfg"
    assert len(found) > 50


def test_every_marked_text_has_a_spanish_translation() -> None:
    catalog = spanish()
    problems = []
    for key, where in sorted(extracted().items()):
        context, _sep, msgid = key.rpartition(CONTEXT)
        message = catalog.get(msgid, context or None)
        if message is None:
            state = "missing from the .po"
        elif message.fuzzy:
            state = "fuzzy"
        elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            state = "untranslated"
        else:
            continue
        problems.append(f"  {state}: {msgid!r} ({', '.join(where)})")
    assert not problems, f"{PO.relative_to(ROOT)}; {FIX}:\n" + "\n".join(problems)


def test_every_text_of_click_has_a_spanish_translation() -> None:
    """click's own texts ("Usage:", "Missing option", "Did you mean"...) come from a catalog
    extracted from the click installed here: a click with new texts fails here until
    `make i18n` extracts them and someone translates them."""
    catalog = spanish("click")
    problems = []
    for msgid in sorted(clicks_texts()):
        message = catalog.get(msgid)
        if message is None or message.fuzzy or not message.string:
            problems.append(f"  {msgid!r}")
        elif isinstance(message.string, tuple) and not all(message.string):
            problems.append(f"  {msgid!r} (a plural form)")
    assert not problems, f"click.po; {FIX}:\n" + "\n".join(problems)


def test_the_catalog_header_is_usable() -> None:
    catalog = spanish()
    assert not catalog.fuzzy, "the .po header is marked fuzzy: pybabel compile would skip it"
    assert str(catalog.locale) == "es"


def test_no_marked_text_is_an_identifier() -> None:
    """``_(labels["site"])`` extracts the key "site", not the label: translate the value instead."""
    suspicious = [
        f"  {msgid!r} ({', '.join(where)})"
        for msgid, where in sorted(extracted().items())
        if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", msgid.rpartition(CONTEXT)[2])
    ]
    assert not suspicious, "msgids that look like dictionary keys:\n" + "\n".join(suspicious)


@pytest.mark.parametrize("domain", [i18n.DOMAIN, "click"])
def test_translations_keep_the_placeholders_of_their_msgid(domain: str) -> None:
    problems = []
    for message in spanish(domain):
        if not message.id or not message.string or message.fuzzy:
            continue  # fuzzy entries are reported above and left out of the .mo
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else message.string
        # A plural's first form keeps the singular's fields, the others the plural's.
        sources = [msgid] if isinstance(message.id, str) else [message.id[0], *[message.id[1]] * 9]
        for text, source in zip(strings, sources, strict=False):
            try:
                expected = placeholders(source)
            except ValueError:
                continue  # not a format template: nothing to keep
            try:
                actual = placeholders(text)
            except ValueError as error:
                problems.append(f"  {msgid!r} -> {text!r}: not a valid template ({error})")
                continue
            if actual != expected:
                problems.append(f"  {msgid!r} -> {text!r}: has {sorted(actual)}, needs {sorted(expected)}")
    assert not problems, f"placeholders differ in {domain}.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("domain", [i18n.DOMAIN, "click"])
def test_the_shipped_mo_is_compiled_from_the_po(domain: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, spanish(domain))
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)
    MO = MESSAGES / f"{domain}.mo"
    assert MO.exists(), f"{MO.relative_to(ROOT)} is missing; {FIX}"
    with MO.open("rb") as mo:
        shipped = gettext.GNUTranslations(mo)
    # _catalog is the only way gettext lists its messages. The "" entry (the header) is left out:
    # it names the Babel version that compiled it.
    want = {k: v for k, v in expected._catalog.items() if k != ""}  # type: ignore[attr-defined]
    have = {k: v for k, v in shipped._catalog.items() if k != ""}  # type: ignore[attr-defined]
    stale = sorted(repr(k) for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    assert not stale, f"{MO.relative_to(ROOT)} is stale; {FIX}. Differs on:\n  " + "\n  ".join(stale)
    assert shipped.info().get("plural-forms") == expected.info().get("plural-forms")
    assert shipped.charset() == expected.charset()


def test_spanish_is_the_language_of_a_known_message(restore_language: None) -> None:
    i18n.set_language("es")
    assert i18n.language() == "es"
    assert i18n._("Incorrect login") == "Login incorrecto"
    assert i18n._("Patient registered with chart number {hist}").format(hist=7) == (
        "Paciente registrado con número de historia 7"
    )


def test_english_is_the_msgid(restore_language: None) -> None:
    i18n.set_language("en")
    assert i18n.language() == "en"
    assert i18n._("Incorrect login") == "Incorrect login"
    assert i18n._("Patient registered with chart number {hist}").format(hist=7) == (
        "Patient registered with chart number 7"
    )


def test_n_marks_without_translating(restore_language: None) -> None:
    i18n.set_language("es")
    assert i18n.N_("Incorrect login") == "Incorrect login"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "es"),
        ({"LANG": "C.UTF-8"}, "es"),
        ({"LANG": "POSIX"}, "es"),
        ({"LANG": "fr_FR.UTF-8"}, "es"),
        ({"LANG": "es_CO.UTF-8"}, "es"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8", "LC_MESSAGES": "en_GB"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, "es"),
        ({"LANGUAGE": "en:es", "LANG": "es_CO.UTF-8"}, "en"),
    ],
)
def test_the_locale_is_read_as_gettext_reads_it_and_anything_unknown_is_spanish(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: str
) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "BRIGADA_LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert i18n.choose_language(None) == expected
    assert i18n.choose_language("en") == "en"

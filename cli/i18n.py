"""gettext: Spanish by default, English available. Message ids are the English texts."""

from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "brigada"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("es", "en")
DEFAULT = "es"

_translation: gettext.NullTranslations = gettext.translation(
    DOMAIN, LOCALE_DIR, languages=[DEFAULT], fallback=True
)
_language = DEFAULT


def choose_language(option: str | None) -> str:
    """--lang, then BRIGADA_LANG, then the locale as gettext reads it, then Spanish."""
    for candidate in (option, os.environ.get("BRIGADA_LANG")):
        if candidate and candidate[:2].lower() in LANGUAGES:
            return candidate[:2].lower()
    return locale_language()


def locale_language() -> str:
    """The language of the locale, read as gettext does (the first of LANGUAGE, LC_ALL,
    LC_MESSAGES, LANG that is set). C, POSIX (most servers say C.UTF-8) and any language we do
    not speak are Spanish; an es_* locale need not be installed on the system."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            code = value.split(":")[0].split(".")[0].split("@")[0]
            spoken = code[:2].lower() in LANGUAGES and code not in ("C", "POSIX")
            return code[:2].lower() if spoken else DEFAULT
    return DEFAULT


def set_language(language: str) -> None:
    global _translation, _language
    _language = language if language in LANGUAGES else DEFAULT
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)


def language() -> str:
    return _language


def _(message: str) -> str:
    return _translation.gettext(message)


def N_(message: str) -> str:
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def localize_click() -> None:
    """Let click's own texts ("Usage:", "Missing option"...) come from our catalog.

    click calls the stdlib's global gettext, whose language comes from environment variables;
    pointing click's modules at our translation keeps --lang in charge. The texts are listed
    for extraction in cli/click_texts.py.
    """
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for module in (
        click.core,
        click.decorators,
        click.exceptions,
        click.formatting,
        click.parser,
        click.types,
    ):
        if hasattr(module, "_"):
            module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]

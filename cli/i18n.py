"""gettext: Spanish by default, English available. Message ids are the English texts."""

from __future__ import annotations

import gettext
import os
from pathlib import Path

import click.types

DOMAIN = "brigada"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("es", "en")
DEFAULT = "es"

_translation: gettext.NullTranslations = gettext.translation(
    DOMAIN, LOCALE_DIR, languages=[DEFAULT], fallback=True
)
_click_translation: gettext.NullTranslations = gettext.translation(
    "click", LOCALE_DIR, languages=[DEFAULT], fallback=True
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
    global _translation, _click_translation, _language
    _language = language if language in LANGUAGES else DEFAULT
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)
    _click_translation = gettext.translation("click", LOCALE_DIR, languages=[_language], fallback=True)


def language() -> str:
    return _language


def _(message: str) -> str:
    return _translation.gettext(message)


def N_(message: str) -> str:
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A word whose translation depends on what it describes: a voucher is "emitido", an
    invoice "emitida" (Spanish nouns have a gender, English states do not)."""
    return _translation.pgettext(context, message)


# Words click formats into its own messages ("{value!r} is not a valid {number_type}.") or hands
# to gettext at run time ("[required]"): no extractor sees them, so they are marked here.
CLICK_WORDS = frozenset(
    (
        N_("required"),
        N_("integer"),
        N_("float"),
        N_("integer range"),
        N_("float range"),
        N_("text"),
        N_("boolean"),
        N_("option"),
        N_("argument"),
        N_("parameter"),
    )
)


class _ClickText(str):
    """A click message in the chosen language whose .format() translates click's words too."""

    def format(self, *args: object, **kwargs: object) -> str:
        words = {k: _(v) if isinstance(v, str) and v in CLICK_WORDS else v for k, v in kwargs.items()}
        return str.format(self, *args, **words)


def click_gettext(message: str) -> str:
    """click's texts come from the catalog extracted from click itself (domain "click", made by
    scripts/i18n.sh); its run-time words from ours."""
    translated = _click_translation.gettext(message)
    if translated == message and message in CLICK_WORDS:
        translated = _(message)
    return _ClickText(translated)


def click_ngettext(singular: str, plural: str, n: int) -> str:
    return _ClickText(_click_translation.ngettext(singular, plural, n))


def help_text(text: str) -> str:
    """A help text marked in our code, or one of click's own (its --help and --version options)."""
    translated = _(text)
    return _click_translation.gettext(text) if translated == text else translated


def _path_word(path: click.types.Path) -> str:
    """The word click.Path names itself with (click/types.py), untranslated."""
    if path.file_okay and not path.dir_okay:
        return "file"
    if path.dir_okay and not path.file_okay:
        return "directory"
    return "path"


def localize_click() -> None:
    """Let click's own texts ("Usage:", "Missing option"...) follow --lang.

    click calls the stdlib's global gettext, whose language comes from environment variables;
    pointing click's modules at the click catalog in the chosen language keeps --lang in charge.
    """
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types

    for module in (
        click.core,
        click.decorators,
        click.exceptions,
        click.formatting,
        click.parser,
        click.termui,
        click.types,
    ):
        # click's modules import gettext's functions under these names; the module type knows
        # no such attributes.
        if hasattr(module, "_"):
            module._ = click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = click_ngettext  # type: ignore[attr-defined]
    made = click.core.Option.make_metavar

    def make_metavar(option: click.core.Option, ctx: click.core.Context) -> str:
        """An option's placeholder made from its type's name (TEXT, INTEGER) in the language."""
        metavar = made(option, ctx)
        name = option.type.name.upper()
        if option.metavar is None and metavar.startswith(name) and option.type.name in CLICK_WORDS:
            return _(option.type.name).upper() + metavar[len(name) :]
        if option.metavar is None and metavar.startswith(name) and isinstance(option.type, click.types.Path):
            # click.Path names itself once, in the language of the moment it is built (a command
            # module is imported when first used): named again in this one.
            return click_gettext(_path_word(option.type)).upper() + metavar[len(name) :]
        return metavar

    # A patched method: click types the attribute with Parameter, the base class, as the first argument.
    click.core.Option.make_metavar = make_metavar  # type: ignore[method-assign, assignment]

"""Text as the CLI shows it: messages rendered in the chosen language, and nothing a terminal
would act on. Light on purpose: every error message goes through here, even before a store is
opened."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from cli.i18n import _
from domain.errors import Message, Msgid


def visible(text: str) -> str:
    """Text as it may reach a terminal: a control or invisible character (an escape sequence
    typed as a chart number, a bidi override in an old record) shown as its code point, never
    sent to the terminal to act on. Line breaks and tabs stay."""
    if text.isprintable():
        return text
    return "".join(
        c if c in "\n\t" or unicodedata.category(c) not in HIDDEN else f"<U+{ord(c):04X}>" for c in text
    )


HIDDEN = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def render(template: str, params: Mapping[str, Any]) -> str:
    """A message in the chosen language. Text parameters are msgids or plain values; Message
    parameters (and lists of them, such as every rule a password breaks) are rendered too."""
    return _(template).format(**{k: _rendered(v) for k, v in params.items()})


def _rendered(value: Any) -> Any:
    if isinstance(value, Message):
        return render(value.template, value.params)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Message) for v in value):
        return "; ".join(render(v.template, v.params) for v in value)
    if isinstance(value, Msgid) and value:  # _("") would be the catalog's header
        return _(value)
    return value

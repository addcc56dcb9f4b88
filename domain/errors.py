"""Domain errors. Each carries a message template (an untranslated msgid) and its parameters.

The domain never translates: the CLI renders ``_(error.template).format(**error.params)``. Templates
are marked with ``N_`` so the gettext extractor finds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Msgid(str):
    """A text marked for translation. Only such parameters are translated when a message is shown:
    a user name that happens to equal a msgid ("no") is shown as typed."""

    __slots__ = ()


def N_(message: str) -> str:
    return Msgid(message)


@dataclass(frozen=True)
class Message:
    """An untranslated message for a person: a msgid template and its parameters.

    Used where one refusal names several rules (a password that breaks three of them) or where a
    use case returns warnings; the CLI renders ``_(template).format(**params)``.
    """

    template: str
    params: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """A rule refused the command (exit code 1)."""

    template = N_("refused by a rule")

    def __init__(self, template: str | None = None, **params: Any) -> None:
        if template is not None:
            self.template = template
        self.params = params
        super().__init__(self.template.format(**params))


class InvalidValue(DomainError):
    """An input value breaks a rule about its own shape or its relation to other inputs (exit 2)."""

    def __init__(self, field: str, template: str, **params: Any) -> None:
        self.field = field
        super().__init__(template, **params)


class NotFound(DomainError):
    """The thing named does not exist (exit code 3)."""


class Conflict(DomainError):
    """Someone else changed the same record at the same time (exit code 4)."""

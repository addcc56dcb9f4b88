"""Domain errors. Each carries a message template (an untranslated msgid) and its parameters.

The domain never translates: the CLI renders ``_(error.template).format(**error.params)``. Templates
are marked with ``N_`` so the gettext extractor finds them.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    return message


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

"""What every command shares: the store it talks to, the session, and how output is rendered."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from adapters.bootstrap import open_brigada
from adapters.config import resolve_store_url, session_dir
from adapters.security.sessions import SessionFiles
from application.brigada import Brigada
from application.context import Actor
from cli.i18n import _
from cli.text import visible


@dataclass
class Env:
    store_option: str | None = None
    _brigada: Brigada | None = field(default=None, init=False, repr=False)
    out: Console = field(
        default_factory=lambda: Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
    )
    err: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))

    @property
    def store_url(self) -> str:
        return resolve_store_url(self.store_option)

    @property
    def sessions(self) -> SessionFiles:
        return SessionFiles(session_dir())

    def brigada(self, *, create: bool = False) -> Brigada:
        if self._brigada is None:
            self._brigada = open_brigada(self.store_url, create=create)
        return self._brigada

    def actor(self) -> Actor:
        """The logged-in user; every command that touches clinical data starts here."""
        brigada = self.brigada()
        actor, ticket = brigada.auth.resume(self.sessions.load(self.store_url))
        self.sessions.save(self.store_url, ticket)
        return actor

    def replace_brigada(self, brigada: Brigada) -> None:
        """The store now in place (after a rebuild swapped it in)."""
        self._brigada = brigada

    def close(self) -> None:
        if self._brigada is not None:
            self._brigada.close()
            self._brigada = None

    # -- output ---------------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """A message for the operator (stderr): data stays alone on stdout."""
        self.err.print(visible(message), highlight=False, markup=False)

    def emit_json(self, data: Any) -> None:
        click.echo(json.dumps(plain(data), ensure_ascii=False, indent=2))

    def table(self, title: str, columns: Sequence[tuple[str, str]], rows: Iterable[Any]) -> None:
        """Rows (dataclasses or dicts) as a table; ``columns`` pairs a field with its heading."""
        table = Table(title=title, title_justify="left")
        for _field, heading in columns:
            table.add_column(heading)
        for row in rows:
            values = plain(row)
            table.add_row(*(cell(values.get(name)) for name, _heading in columns))
        self.out.print(table)

    def record(self, title: str, pairs: Sequence[tuple[str, Any]]) -> None:
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for label, value in pairs:
            table.add_row(label, cell(plain(value)))
        self.out.print(table)


def cell(value: Any) -> str:
    """A value as a table shows it: nothing for None, yes or no for a flag, never Python's
    None, True or False."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return visible(str(value))


def plain(value: Any) -> Any:
    """Dataclasses, enums, dates and UUIDs as JSON-ready values."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "hex") and type(value).__name__ == "UUID":
        return str(value)
    return value


def read_password(from_stdin: bool, prompt: str, confirm: bool = False) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm and _("Repeat"))


pass_env = click.make_pass_decorator(Env)

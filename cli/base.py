"""Click classes whose help is translated when shown, never stored translated: one process may
show help in Spanish and then in English."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from cli.i18n import _


@contextmanager
def _translated(command: click.Command) -> Iterator[None]:
    options = [p for p in command.params if isinstance(p, click.Option) and p.help]
    saved = (command.help, [p.help for p in options])
    try:
        command.help = _(command.help) if command.help else command.help
        for option in options:
            option.help = _(option.help) if option.help else option.help
        yield
    finally:
        command.help = saved[0]
        for option, original in zip(options, saved[1], strict=True):
            option.help = original


def _short_help(command: click.Command, limit: int) -> str:
    """The first line of the help, translated, cut at a word boundary to fit ``limit``."""
    text = _(command.short_help or (command.help or "").split("\n")[0]) if command.help else ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "..."


class Command(click.Command):
    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self):
            super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return _short_help(self, limit)


class Group(click.Group):
    command_class = Command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self):
            super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return _short_help(self, limit)


Group.group_class = Group


def group(help: str, **kwargs: Any) -> Any:
    return click.group(cls=Group, help=help, **kwargs)

"""Click classes whose help is translated when shown, not when imported."""

from __future__ import annotations

from typing import Any

import click

from cli.i18n import _


def _translate_params(command: click.Command) -> None:
    for param in command.params:
        if (
            isinstance(param, click.Option)
            and param.help
            and not getattr(param, "_translated", False)
        ):
            param.help = _(param.help)
            param._translated = True  # type: ignore[attr-defined]


class Command(click.Command):
    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _translate_params(self)
        if self.help:
            self.help = _(self.help)
        super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return _(self.short_help or (self.help or "").split("\n")[0])[:limit]


class Group(click.Group):
    command_class = Command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _translate_params(self)
        if self.help:
            self.help = _(self.help)
        super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return _(self.short_help or (self.help or "").split("\n")[0])[:limit]


Group.group_class = Group


def group(help: str, **kwargs: Any) -> Any:
    return click.group(cls=Group, help=help, **kwargs)

"""Click classes whose help is translated when shown, never stored translated: one process may
show help in Spanish and then in English."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from cli.i18n import N_, _, click_gettext, help_text
from domain.errors import InvalidValue


@contextmanager
def _translated(command: click.Command) -> Iterator[None]:
    options = [p for p in command.params if isinstance(p, click.Option) and p.help]
    saved = (command.help, [p.help for p in options])
    try:
        command.help = help_text(command.help) if command.help else command.help
        for option in options:
            option.help = help_text(option.help) if option.help else option.help
        yield
    finally:
        command.help = saved[0]
        for option, original in zip(options, saved[1], strict=True):
            option.help = original


def _short_help(command: click.Command, limit: int) -> str:
    """The first line of the help, translated, cut at a word boundary to fit ``limit``."""
    text = help_text(command.short_help or (command.help or "").split("\n")[0]) if command.help else ""
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "..."


OPTIONS_METAVAR = N_("[OPTIONS]")
SUBCOMMAND_METAVAR = N_("COMMAND [ARGS]...")


# Values typed at a prompt or read from stdin have no option to name: their field, in words.
PROMPTED_FIELDS = {"password": N_("password")}


def field_name(field: str) -> str:
    """The name an error gives the value it refuses: the option or argument as typed (set by
    ``as_typed``), or, for a prompted value, its name in the user's language."""
    return _(PROMPTED_FIELDS[field]) if field in PROMPTED_FIELDS else field


def as_typed(error: InvalidValue, command: click.Command) -> InvalidValue:
    """An invalid value named as the user typed it: the option (``--document-number``) or the
    argument (``USERNAME``) whose value broke the rule, not the field it fills."""
    head = error.field.split(".", 1)[0]
    for param in command.params:
        if param.name == head and not getattr(param, "hidden", False):
            typed = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
            error.field = typed + error.field[len(head) :]
            break
    return error


def help_option(option: click.Option | None) -> click.Option | None:
    """click builds a command's --help option once and keeps it, its help in the language of
    that moment: it is said again in the language of this one."""
    if option is not None:
        option.help = click_gettext("Show this message and exit.")
    return option


class Command(click.Command):
    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return help_option(super().get_help_option(ctx))

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self):
            super().format_help(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidValue as error:
            raise as_typed(error, self) from None

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [_(OPTIONS_METAVAR), *super().collect_usage_pieces(ctx)[1:]]

    def get_short_help_str(self, limit: int = 45) -> str:
        return _short_help(self, limit)


class Group(click.Group):
    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return help_option(super().get_help_option(ctx))

    command_class = Command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self):
            super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = click.Command.collect_usage_pieces(self, ctx)
        return [_(OPTIONS_METAVAR), *pieces[1:], _(SUBCOMMAND_METAVAR)]

    def get_short_help_str(self, limit: int = 45) -> str:
        return _short_help(self, limit)


Group.group_class = Group


@dataclass(frozen=True)
class Lazy:
    """A command of a lazy group: where it is (``"cli.module:attribute"``) and the first line of
    its help (a msgid, as the command's own help starts), so listing needs no import."""

    target: str
    short_help: str


class LazyGroup(Group):
    """A group whose commands are imported only when one is run or its help shown (click's
    LazyGroup pattern): a command needs only its own module, and ``--help`` none."""

    def __init__(self, *args: Any, lazy: Mapping[str, Lazy], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].target.split(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command), self.lazy[cmd_name].target
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from the table: no command imported to show its first line."""
        names = [n for n in self.list_commands(ctx) if n in self.commands or n in self.lazy]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, _cut(help_text(self.lazy[name].short_help), limit)))
        with formatter.section(click_gettext("Commands")):
            formatter.write_dl(rows)


def group(help: str, **kwargs: Any) -> Any:
    return click.group(cls=Group, help=help, **kwargs)


@contextmanager
def writing_to(option: str) -> Iterator[None]:
    """A file that cannot be written (a folder that does not exist, no permission, a full disk)
    refused in one line naming the option (exit 2), before anything is recorded as written."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InvalidValue(option, N_("cannot be written: {reason}"), reason=reason) from None

"""brigada access who: the users who can open a menu option (seed: "Administrador, Acceso a
Menú")."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.user_cmd import USER_COLUMNS, user_rows


@group(help=N_("Menu access seen by option (administrators)."))
def access() -> None:
    pass


@access.command("who", cls=Command, help=N_("List the users who can open a menu option."))
@click.argument("option")
@click.option("--json", "as_json", is_flag=True, help=N_("Output JSON."))
@pass_env
def who(env: Env, option: str, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().users.who(actor, option)
    if as_json:
        env.emit_json([{"username": r.username, "full_name": r.full_name} for r in rows])
        return
    env.table(
        _("Who can open {option}").format(option=option),
        [(f, _(h)) for f, h in USER_COLUMNS],
        user_rows(rows),
    )


def register(cli: click.Group) -> None:
    cli.add_command(access)

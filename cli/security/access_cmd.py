"""brigada access who | tree: menu access seen by option (seed: "Administrador, Acceso a Menú"):
the menu tree on one side, every user with a check mark for the chosen option on the other."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.security.user_cmd import DENIED, GRANTED, yes_no
from domain.security import menu


@group(help=N_("Menu access seen by option (administrators)."))
def access() -> None:
    pass


@access.command(
    "who",
    cls=Command,
    help=N_(
        "List every user with a mark for whether they can open a menu option; --grant and --revoke change it."
    ),
)
@click.argument("option")
@click.option(
    "--grant", multiple=True, metavar="USER", help=N_("Let USER open the option (and its sub-options).")
)
@click.option(
    "--revoke", multiple=True, metavar="USER", help=N_("Close the option and its sub-options to USER.")
)
@json_option
@pass_env
def who(env: Env, option: str, grant: tuple[str, ...], revoke: tuple[str, ...], as_json: bool) -> None:
    actor = env.actor()
    users = env.brigada().users
    users.who(actor, option)  # a non-administrator or an unknown option: refused before any change
    for username in (*grant, *revoke):
        users.show(actor, username)  # an unknown name: nobody's access changes
    for username in dict.fromkeys((*grant, *revoke)):  # the same use case as `user access --grant`
        users.change_access(
            actor, username, [option] if username in grant else [], [option] if username in revoke else []
        )
    holders = {row.username for row in users.who(actor, option)}
    rows = [(row, row.username in holders) for row in users.list_users(actor)]
    if as_json:
        env.emit_json(
            [
                {"username": r.username, "full_name": r.full_name, "is_admin": r.is_admin, "granted": can}
                for r, can in rows
            ]
        )
        return
    chosen = menu.option(option)
    env.table(
        _("Who can open {option} ({label})").format(option=chosen.id, label=_(chosen.label)),
        [("mark", ""), ("username", _("User")), ("full_name", _("Name")), ("is_admin", _("Administrator"))],
        [
            {
                "mark": GRANTED if can else DENIED,
                "username": r.username,
                "full_name": r.full_name,
                "is_admin": yes_no(r.is_admin),
            }
            for r, can in rows
        ],
    )


@access.command("tree", cls=Command, help=N_("Print the whole menu tree, each option under its parent."))
@json_option
@pass_env
def tree(env: Env, as_json: bool) -> None:
    actor = env.actor()
    options = env.brigada().access.menu_tree(actor)
    if as_json:
        env.emit_json(
            [{"option": o.id, "label": _(o.label), "parent": o.parent, "depth": o.depth} for o in options]
        )
        return
    env.table(
        _("Menu tree"),
        [("option", _("Option")), ("label", _("Menu"))],
        [{"option": "  " * o.depth + o.id, "label": _(o.label)} for o in options],
    )

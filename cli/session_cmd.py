"""brigada login / logout / whoami."""

from __future__ import annotations

import click

from cli.base import Command
from cli.env import Env, pass_env, read_password
from cli.i18n import N_, _
from domain.errors import DomainError


@click.command("login", cls=Command, help=N_("Open a session (15 minutes idle, 12 hours at most)."))
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help=N_("Read the password from standard input."))
@pass_env
def login(env: Env, username: str, password_stdin: bool) -> None:
    password = read_password(password_stdin, _("Password"))
    ticket = env.brigada().auth.login(username, password)
    env.sessions.save(env.store_url, ticket)
    env.say(_("Welcome, {user}.").format(user=ticket.username))


@click.command("logout", cls=Command, help=N_("Close the session."))
@pass_env
def logout(env: Env) -> None:
    ticket = env.sessions.load(env.store_url)
    if ticket is not None:
        try:
            actor = env.actor()
        except DomainError:  # an expired session has nothing left to close in the store
            actor = None
        if actor is not None:
            env.brigada().auth.logout(actor)
    env.sessions.delete(env.store_url)
    env.say(_("Session closed."))


@click.command("whoami", cls=Command, help=N_("Show who is logged in on this store."))
@click.option("--json", "as_json", is_flag=True, help=N_("Output JSON."))
@pass_env
def whoami(env: Env, as_json: bool) -> None:
    actor = env.actor()
    identity = env.brigada().core.require_identity()
    data = {
        "user": actor.username,
        "administrator": actor.is_admin,
        "site": identity.site_code,
        "role": identity.role.value,
        "store": env.store_url,
    }
    if as_json:
        env.emit_json(data)
        return
    env.record(
        _("Session"),
        [
            (_("User"), actor.username),
            (_("Administrator"), _("yes") if actor.is_admin else _("no")),
            (_("Site"), identity.site_code),
            (_("Store"), env.store_url),
        ],
    )


def register(cli: click.Group) -> None:
    for command in (login, logout, whoami):
        cli.add_command(command)

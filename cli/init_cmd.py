"""brigada init: create a store and its first user."""

from __future__ import annotations

import click

from adapters.store import StoreLocation, redacted
from application.setup import CENTRAL_CODE
from cli.base import Command
from cli.env import Env, pass_env, read_password
from cli.i18n import N_, _
from cli.options import password_stdin_option
from domain.errors import DomainError


@click.command("init", cls=Command, help=N_("Create a store: the central server's or a site's."))
@click.option("--central", "as_central", is_flag=True, help=N_("This store is the central server."))
@click.option("--site", "site_code", help=N_("This store is the laptop of site CODE."))
@click.option("--code", default=CENTRAL_CODE, show_default=True, help=N_("Central's own site code."))
@click.option("--user", "username", default="admin", show_default=True, help=N_("First user's login name."))
@click.option("--full-name", default="Administrador", show_default=True, help=N_("First user's full name."))
@password_stdin_option()
@pass_env
def init(
    env: Env,
    as_central: bool,
    site_code: str | None,
    code: str,
    username: str,
    full_name: str,
    password_stdin: bool,
) -> None:
    if as_central == bool(site_code):
        raise click.UsageError(_("give exactly one of --central or --site CODE"))
    password = read_password(password_stdin, _("Password for {user}").format(user=username), confirm=True)
    location = StoreLocation.parse(env.store_url)
    existed = location.exists()
    try:
        identity = env.brigada(create=True).setup.initialize(
            role="central" if as_central else "site",
            site_code=code if as_central else str(site_code),
            username=username,
            full_name=full_name,
            password=password,
        )
    except DomainError:
        env.close()
        if not existed:
            location.remove()  # a refused init leaves nothing behind
        raise
    kind = _("central server") if identity.is_central else _("site")
    env.say(
        _("Store created for {kind} {code} at {store}; first user: {user}").format(
            kind=kind, code=identity.site_code, store=redacted(env.store_url), user=username
        )
    )

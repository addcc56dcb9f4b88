"""brigada warehouse create | list."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import show_rows

COLUMNS = [
    ("code", N_("Code")),
    ("name", N_("Name")),
    ("kind", N_("Kind")),
    ("site", N_("Site")),
]
KIND_NAMES = {"kind": {"ordinary": N_("ordinary"), "field": N_("field warehouse")}}


@group(help=N_("Warehouses: ordinary ones on central, field warehouses of disconnected sites."))
def warehouse() -> None:
    pass


@warehouse.command(
    "create", cls=Command, help=N_("Create a warehouse (central); with --site, a field warehouse.")
)
@click.argument("code")
@click.option("--name", required=True, help=N_("The warehouse's name."))
@click.option("--site", help=N_("The disconnected site it belongs to (a field warehouse)."))
@json_option
@pass_env
def create(env: Env, code: str, name: str, site: str | None, as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().inventory.create_warehouse(actor, {"code": code, "name": name, "site": site})
    if not as_json:
        env.say(_("Warehouse {code} created").format(code=row.code))
    show_rows(env, _("Warehouses"), COLUMNS, [row], as_json, KIND_NAMES)


@warehouse.command("list", cls=Command, help=N_("List the warehouses."))
@json_option
@pass_env
def list_warehouses(env: Env, as_json: bool) -> None:
    actor = env.actor()
    show_rows(
        env, _("Warehouses"), COLUMNS, env.brigada().inventory.list_warehouses(actor), as_json, KIND_NAMES
    )

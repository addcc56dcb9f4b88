"""brigada surgery link | list."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import show_orders
from projections.pharmacy.orders import SURGERY


@group(help=N_("Surgeries linked to care events."))
def surgery() -> None:
    pass


@surgery.command("link", cls=Command, help=N_("Link a surgery (procedure, date, surgeon) to a visit."))
@click.argument("visit")
@click.option("--cups", required=True, help=N_("Procedure's CUPS code (6 digits)."))
@click.option("--date", "performed_on", required=True, help=N_("Date of the surgery (YYYY-MM-DD)."))
@click.option("--surgeon", required=True, help=N_("The surgeon's user name."))
@json_option
@pass_env
def link(env: Env, visit: str, cups: str, performed_on: str, surgeon: str, as_json: bool) -> None:
    actor = env.actor()
    data = {"cups": cups, "date": performed_on, "surgeon": surgeon}
    row = env.brigada().orders.link_surgery(actor, visit, data)
    if not as_json:
        env.say(
            _("Surgery {number} linked to visit {visit}").format(number=row.number, visit=row.visit_number)
        )
    show_orders(env, _("Surgeries"), [row], as_json)


@surgery.command("list", cls=Command, help=N_("List surgeries (of one visit)."))
@click.option("--visit", help=N_("Only this visit."))
@json_option
@pass_env
def list_surgeries(env: Env, visit: str | None, as_json: bool) -> None:
    actor = env.actor()
    show_orders(env, _("Surgeries"), env.brigada().orders.listing(actor, SURGERY, visit), as_json)

"""brigada order add | list (service orders)."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import show_orders
from projections.pharmacy.orders import SERVICE_ORDER


@group(help=N_("Service orders (CUPS) on a visit."))
def order() -> None:
    pass


@order.command("add", cls=Command, help=N_("Order a service or procedure on a visit."))
@click.argument("visit")
@click.option("--cups", required=True, help=N_("CUPS code (6 digits)."))
@click.option("--quantity", default=1, show_default=True, type=int, help=N_("How many."))
@json_option
@pass_env
def add(env: Env, visit: str, cups: str, quantity: int, as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().orders.order_service(actor, visit, {"cups": cups, "quantity": quantity})
    if not as_json:
        env.say(
            _("Service order {number} recorded on visit {visit}").format(
                number=row.number, visit=row.visit_number
            )
        )
    show_orders(env, _("Service orders"), [row], as_json)


@order.command("list", cls=Command, help=N_("List service orders (of one visit)."))
@click.option("--visit", help=N_("Only this visit."))
@json_option
@pass_env
def list_orders(env: Env, visit: str | None, as_json: bool) -> None:
    actor = env.actor()
    show_orders(env, _("Service orders"), env.brigada().orders.listing(actor, SERVICE_ORDER, visit), as_json)

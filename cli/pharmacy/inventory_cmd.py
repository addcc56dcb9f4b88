"""brigada inventory receive | transfer | stock | kardex."""

from __future__ import annotations

import click

from application.pharmacy.inventory import StockLine
from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import show_rows

STOCK_COLUMNS = [
    ("warehouse", N_("Warehouse")),
    ("item", N_("Item")),
    ("name", N_("Name")),
    ("lot", N_("Lot")),
    ("expiry", N_("Expiry")),
    ("on_hand", N_("On hand")),
]
KARDEX_COLUMNS = [
    ("business_date", N_("Date")),
    ("warehouse", N_("Warehouse")),
    ("lot", N_("Lot")),
    ("expiry", N_("Expiry")),
    ("movement", N_("Movement")),
    ("quantity", N_("Quantity")),
    ("balance", N_("Balance")),
    ("reference", N_("Reference")),
    ("user", N_("User")),
]
MOVEMENT_NAMES = {
    "purchase": N_("purchase entry"),
    "transfer-in": N_("transfer in"),
    "transfer-out": N_("transfer out"),
    "dispense": N_("dispensing"),
    "return": N_("return"),
}


def stock_table(env: Env, lines: list[StockLine], as_json: bool) -> None:
    shown = (
        lines
        if as_json
        else [
            {**line.__dict__, "expiry": f"{line.expiry}" + (" ⚠" if line.expired else "")} for line in lines
        ]
    )
    show_rows(env, _("Stock"), STOCK_COLUMNS, shown, as_json)


@group(help=N_("Inventory: entries, transfers by lot, stock and kardex."))
def inventory() -> None:
    pass


@inventory.command(
    "receive", cls=Command, help=N_("Receive a purchased lot into an ordinary warehouse (central).")
)
@click.option("--warehouse", required=True, help=N_("Warehouse code."))
@click.option("--item", required=True, help=N_("Item code (CUM or supply code)."))
@click.option("--lot", required=True, help=N_("Lot number."))
@click.option("--expiry", required=True, help=N_("Expiry date (YYYY-MM-DD)."))
@click.option("--quantity", required=True, type=int, help=N_("Quantity in dispensing units."))
@click.option("--reference", default="", help=N_("Purchase document (invoice or delivery note)."))
@json_option
@pass_env
def receive(env: Env, as_json: bool, **given: object) -> None:
    actor = env.actor()
    line = env.brigada().inventory.receive(actor, given)
    if not as_json:
        env.say(_("Received {quantity} of {item} lot {lot} into {warehouse}").format(**given))
    stock_table(env, [line], as_json)


@inventory.command("transfer", cls=Command, help=N_("Transfer units of a lot to another warehouse."))
@click.option("--from", "source", required=True, help=N_("Warehouse that sends."))
@click.option("--to", "target", required=True, help=N_("Warehouse that receives."))
@click.option("--item", required=True, help=N_("Item code (CUM or supply code)."))
@click.option("--lot", required=True, help=N_("Lot number."))
@click.option("--quantity", required=True, type=int, help=N_("Quantity in dispensing units."))
@json_option
@pass_env
def transfer(env: Env, as_json: bool, **given: object) -> None:
    actor = env.actor()
    number, sent_from, into = env.brigada().inventory.transfer(actor, given)
    if as_json:
        env.emit_json({"number": number, "from": sent_from, "to": into})
        return
    env.say(_("Transfer {number}: {quantity} of {item} lot {lot}").format(number=number, **given))
    stock_table(env, [sent_from, into], as_json)


@inventory.command("stock", cls=Command, help=N_("Stock by warehouse, item, lot and expiry."))
@click.option("--warehouse", help=N_("Only this warehouse."))
@click.option("--item", help=N_("Only this item."))
@json_option
@pass_env
def stock(env: Env, warehouse: str | None, item: str | None, as_json: bool) -> None:
    actor = env.actor()
    stock_table(env, env.brigada().inventory.stock(actor, warehouse, item), as_json)


@inventory.command("kardex", cls=Command, help=N_("Every movement of an item with its running balance."))
@click.argument("item")
@click.option("--warehouse", help=N_("Only this warehouse."))
@json_option
@pass_env
def kardex(env: Env, item: str, warehouse: str | None, as_json: bool) -> None:
    actor = env.actor()
    lines = env.brigada().inventory.kardex(actor, item, warehouse)
    shown = lines if as_json else [{**x.__dict__, "movement": _(MOVEMENT_NAMES[x.movement])} for x in lines]
    show_rows(env, _("Kardex of {item}").format(item=item.upper()), KARDEX_COLUMNS, shown, as_json)

"""brigada pharmacy request | dispense | administer | return | list | show: the medication chain."""

from __future__ import annotations

from typing import Any

import click

from application.pharmacy.dispensing import ChainResult
from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import CHAIN_COLUMNS, show_orders, show_rows
from projections.pharmacy.orders import PRESCRIPTION, REQUEST

MOVEMENT_COLUMNS = [
    ("warehouse", N_("Warehouse")),
    ("lot", N_("Lot")),
    ("expiry", N_("Expiry")),
    ("quantity", N_("Quantity")),
]
STATUS_COLUMNS = [
    ("item", N_("Item")),
    ("requested", N_("Requested")),
    ("dispensed", N_("Dispensed")),
    ("administered", N_("Administered")),
    ("returned", N_("Returned")),
    ("pending", N_("To dispense")),
    ("in_hand", N_("In hand")),
]


def order_options(command: Any) -> Any:
    command = click.option("--prescription", help=N_("Prescription number."))(command)
    return click.option("--request", help=N_("Request number."))(command)


def target(request: str | None, prescription: str | None) -> tuple[str, str]:
    if bool(request) == bool(prescription):
        raise click.UsageError(_("give --request or --prescription"))
    return (REQUEST, request) if request else (PRESCRIPTION, prescription or "")


def lines_of(lines: tuple[str, ...]) -> list[dict[str, object]]:
    parsed = []
    for line in lines:
        code, _sep, quantity = line.replace("=", ":").partition(":")
        if not quantity.strip().isdigit():
            raise click.BadParameter(_("{line}: write CODE:QUANTITY").format(line=line), param_hint="--line")
        parsed.append({"item": code, "quantity": int(quantity)})
    return parsed


def show_result(env: Env, result: ChainResult, message: str, as_json: bool) -> None:
    if as_json:
        env.emit_json(result)
        return
    env.say(message)
    show_rows(env, result.number, MOVEMENT_COLUMNS, result.movements, False)
    show_rows(env, _("Status"), STATUS_COLUMNS, [result.status], False)


@group(help=N_("Pharmacy: requests, dispensing (FEFO), nursing administration, returns."))
def pharmacy() -> None:
    pass


@pharmacy.command(
    "request", cls=Command, help=N_("Request medicines and supplies for an ambulatory patient.")
)
@click.argument("visit")
@click.option("--line", "lines", multiple=True, required=True, help=N_("CODE:QUANTITY (repeat)."))
@json_option
@pass_env
def request(env: Env, visit: str, lines: tuple[str, ...], as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().pharmacy.request(actor, visit, {"lines": lines_of(lines)})
    if not as_json:
        env.say(
            _("Request {number} recorded on visit {visit}").format(number=row.number, visit=row.visit_number)
        )
    show_orders(env, _("Requests"), [row], as_json, CHAIN_COLUMNS)


@pharmacy.command(
    "dispense", cls=Command, help=N_("Dispense an item of a request or prescription (FEFO lot).")
)
@order_options
@click.option("--item", required=True, help=N_("Item code (CUM or supply code)."))
@click.option("--quantity", type=int, help=N_("How many (default: all that is left to dispense)."))
@click.option("--warehouse", help=N_("Warehouse (default on a laptop: the site's only field warehouse)."))
@click.option("--lot", help=N_("Lot (default: the earliest expiry not expired, FEFO)."))
@json_option
@pass_env
def dispense(env: Env, request: str | None, prescription: str | None, as_json: bool, **given: Any) -> None:
    kind, number = target(request, prescription)
    actor = env.actor()
    data = {k: v for k, v in given.items() if v is not None}
    result = env.brigada().pharmacy.dispense(actor, kind, number, data)
    total = sum(m.quantity for m in result.movements)
    message = _("{number}: {quantity} of {item} dispensed").format(
        number=result.number, quantity=total, item=result.status.item
    )
    show_result(env, result, message, as_json)


@pharmacy.command("administer", cls=Command, help=N_("Record what nursing applied of a request."))
@click.argument("number")
@click.option("--item", required=True, help=N_("Item code (CUM or supply code)."))
@click.option("--quantity", required=True, type=int, help=N_("How many were applied."))
@click.option("--lot", help=N_("Lot (default: the only lot in hand)."))
@json_option
@pass_env
def administer(env: Env, number: str, as_json: bool, **given: Any) -> None:
    actor = env.actor()
    data = {k: v for k, v in given.items() if v is not None}
    result = env.brigada().pharmacy.administer(actor, number, data)
    message = _("{number}: {quantity} of {item} administered").format(
        number=result.number, quantity=given["quantity"], item=result.status.item
    )
    show_result(env, result, message, as_json)


@pharmacy.command("return", cls=Command, help=N_("Return what was dispensed and not applied to its lot."))
@order_options
@click.option("--item", required=True, help=N_("Item code (CUM or supply code)."))
@click.option("--quantity", required=True, type=int, help=N_("How many are returned."))
@click.option("--lot", help=N_("Lot (default: the only lot in hand)."))
@json_option
@pass_env
def return_unused(
    env: Env, request: str | None, prescription: str | None, as_json: bool, **given: Any
) -> None:
    kind, number = target(request, prescription)
    actor = env.actor()
    data = {k: v for k, v in given.items() if v is not None}
    result = env.brigada().pharmacy.return_unused(actor, kind, number, data)
    message = _("{number}: {quantity} of {item} returned to lot {lot}").format(
        number=result.number, quantity=given["quantity"], item=result.status.item, lot=result.movements[0].lot
    )
    show_result(env, result, message, as_json)


@pharmacy.command("list", cls=Command, help=N_("List requests (or prescriptions) with what was dispensed."))
@click.option("--prescriptions", is_flag=True, help=N_("List prescriptions instead of requests."))
@click.option("--visit", help=N_("Only this visit."))
@json_option
@pass_env
def list_orders(env: Env, prescriptions: bool, visit: str | None, as_json: bool) -> None:
    actor = env.actor()
    kind = PRESCRIPTION if prescriptions else REQUEST
    rows = env.brigada().pharmacy.listing(actor, kind, visit)
    show_orders(env, _("Prescriptions") if prescriptions else _("Requests"), rows, as_json, CHAIN_COLUMNS)


@pharmacy.command("show", cls=Command, help=N_("Each item of a request or prescription and where it stands."))
@order_options
@json_option
@pass_env
def show(env: Env, request: str | None, prescription: str | None, as_json: bool) -> None:
    kind, number = target(request, prescription)
    actor = env.actor()
    rows = env.brigada().pharmacy.show(actor, kind, number)
    show_rows(env, number.upper(), STATUS_COLUMNS, rows, as_json)

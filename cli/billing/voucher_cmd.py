"""brigada voucher ...: service vouchers from finalized visits (laptop on mission, or central)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from application.billing.vouchers import VoucherView
from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _, pgettext
from cli.options import json_option, out_option, pdf_to
from projections.billing.vouchers import VoucherRow

CENTS = Decimal("0.01")
COLUMNS = [
    ("number", N_("Voucher")),
    ("visit_number", N_("Visit")),
    ("chart_number", N_("HIST")),
    ("payer_name", N_("Payer")),
    ("total", N_("Total")),
    ("state", N_("State")),
    ("invoice_number", N_("Invoice")),
    ("site", N_("Site")),
    ("unpriced", N_("No tariff")),
]


def voucher_state(state: str) -> str:
    names = {
        "issued": pgettext("voucher", "issued"),
        "voided": pgettext("voucher", "voided"),
        "invoiced": pgettext("voucher", "invoiced"),
    }
    return names.get(state, state)


def money(value: Decimal) -> str:
    """An amount with two decimals, whatever the view's storage kept."""
    return str(Decimal(value).quantize(CENTS))


def show_priced_rows(
    env: Env,
    title: str,
    columns: list[tuple[str, str]],
    rows: list[Any],
    as_json: bool,
    message: str | None,
    state_name: Callable[[str], str],
) -> None:
    """Vouchers or invoices: a table (or JSON) with their totals to two decimals, their states
    named in the user's language in the table."""
    values = [{**row.__dict__, "total": money(row.total)} for row in rows]
    if as_json:
        env.emit_json(values)
        return
    values = [{**value, "state": state_name(value["state"])} for value in values]
    if message:
        env.say(message)
    env.table(title, [(f, _(h)) for f, h in columns], values)


def show_rows(env: Env, rows: list[VoucherRow], as_json: bool, message: str | None = None) -> None:
    show_priced_rows(env, _("Service vouchers"), COLUMNS, rows, as_json, message, voucher_state)


def show_view(env: Env, view: VoucherView) -> None:
    env.record(
        _("Service voucher {number}").format(number=view.number),
        [
            (_("State"), voucher_state(view.state)),
            (_("Visit"), view.visit_number),
            (_("HIST"), view.chart_number),
            (_("Patient"), view.patient_name),
            (_("Payer"), f"{view.payer_nit} {view.payer_name}"),
            (_("Contract"), f"{view.contract_number} ({view.payment_model}, {view.coverage})"),
            (_("Diagnoses"), "; ".join(view.diagnoses)),  # a name may hold commas
            (_("Total"), view.total),
            (_("Invoice"), view.invoice_number),
        ],
    )
    columns = [
        ("kind", _("Kind")),
        ("code", _("Code")),
        ("description", _("Description")),
        ("quantity", _("Quantity")),
        ("unit_value", _("Unit value")),
        ("total", _("Total")),
    ]
    no_tariff = _("no tariff")
    lines = [
        line if line["priced"] else {**line, "unit_value": no_tariff, "total": no_tariff}
        for line in view.lines
    ]
    env.table(_("Lines"), columns, lines)


@group(help=N_("Service vouchers: issue, show, list, print, void."))
def voucher() -> None:
    pass


@voucher.command("issue", cls=Command, help=N_("Issue the service voucher of a finalized visit."))
@click.option("--encounter", required=True, help=N_("Visit number."))
@click.option("--contract", help=N_("Contract id (default: the only one in force on the visit date)."))
@json_option
@pass_env
def issue(env: Env, encounter: str, contract: str | None, as_json: bool) -> None:
    actor = env.actor()
    data = {"encounter": encounter, **({"contract": contract} if contract else {})}
    row = env.brigada().vouchers.issue(actor, data)
    message = _("Voucher {number} issued").format(number=row.number)
    if row.unpriced:
        message += "\n" + _(
            "Lines without tariff: {codes}; central sets their price before invoicing"
        ).format(codes=row.unpriced)
    show_rows(env, [row], as_json, message)


@voucher.command("show", cls=Command, help=N_("Show a service voucher with its lines."))
@click.argument("number")
@json_option
@pass_env
def show(env: Env, number: str, as_json: bool) -> None:
    view = env.brigada().vouchers.show(env.actor(), number)
    if as_json:
        env.emit_json(view)
        return
    show_view(env, view)


@voucher.command("list", cls=Command, help=N_("List service vouchers."))
@click.option("--state", type=click.Choice(["issued", "voided", "invoiced"]), help=N_("Only this state."))
@json_option
@pass_env
def list_vouchers(env: Env, state: str | None, as_json: bool) -> None:
    show_rows(env, env.brigada().vouchers.listing(env.actor(), state), as_json)


@voucher.command("print", cls=Command, help=N_("Write a service voucher as PDF (recorded)."))
@click.argument("number")
@out_option
@pass_env
def print_voucher(env: Env, number: str, out: Path | None) -> None:
    env.brigada().vouchers.printed(env.actor(), number, pdf_to(env, out))


@voucher.command("void", cls=Command, help=N_("Void a service voucher not yet invoiced."))
@click.argument("number")
@click.option("--reason", required=True, help=N_("Why it is voided."))
@json_option
@pass_env
def void(env: Env, number: str, reason: str, as_json: bool) -> None:
    row = env.brigada().vouchers.void(env.actor(), number, {"reason": reason})
    show_rows(env, [row], as_json, _("Voucher {number} voided").format(number=row.number))

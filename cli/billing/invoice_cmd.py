"""brigada invoice ...: central billing of disconnected sites: numbering series, invoices from
vouchers, rectification, printing and RIPS. Refused on a laptop."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from application.billing.invoicing import InvoiceView
from cli.base import Command, group
from cli.billing.voucher_cmd import show_priced_rows
from cli.env import Env, pass_env
from cli.i18n import N_, _, ngettext, pgettext
from cli.options import json_option, out_option, pdf_to, write_out
from projections.billing.invoices import InvoiceRow

COLUMNS = [
    ("number", N_("Invoice")),
    ("issued_on", N_("Date")),
    ("payer_name", N_("Payer")),
    ("voucher_numbers", N_("Vouchers")),
    ("visit_numbers", N_("Visits")),
    ("total", N_("Total")),
    ("state", N_("State")),
    ("note_number", N_("Note")),
]
SERIES_COLUMNS = [
    ("prefix", N_("Prefix")),
    ("first", N_("From")),
    ("last", N_("To")),
    ("next_number", N_("Next")),
    ("valid_from", N_("Valid from")),
    ("valid_to", N_("Valid to")),
]
DATE = click.DateTime(formats=["%Y-%m-%d"])


def show_rows(env: Env, rows: list[InvoiceRow], as_json: bool, message: str | None = None) -> None:
    show_priced_rows(env, _("Invoices"), COLUMNS, rows, as_json, message, invoice_state)


def invoice_state(state: str) -> str:
    names = {"issued": pgettext("invoice", "issued"), "rectified": pgettext("invoice", "rectified")}
    return names.get(state, state)


def show_view(env: Env, view: InvoiceView) -> None:
    env.record(
        _("Invoice {number}").format(number=view.number),
        [
            (_("State"), invoice_state(view.state)),
            (_("Date"), view.issued_on),
            (_("Payer"), f"{view.payer['payer_nit']} {view.payer['payer_name']}"),
            (_("Contract"), view.payer["contract_number"]),
            (_("Vouchers"), " ".join(view.voucher_numbers)),
            (_("Visits"), " ".join(view.visit_numbers)),
            (_("Total"), view.total),
            (_("Note"), f"{view.note_number} {view.rectified_reason}".strip()),
        ],
    )
    columns = [
        ("voucher", _("Voucher")),
        ("kind", _("Kind")),
        ("code", _("Code")),
        ("quantity", _("Quantity")),
        ("unit_value", _("Unit value")),
        ("total", _("Total")),
    ]
    env.table(_("Lines"), columns, view.lines)


@group(help=N_("Invoicing of disconnected sites (central only)."))
def invoice() -> None:
    pass


@invoice.group("series", cls=type(invoice), help=N_("Invoice numbering series (administrator)."))
def series() -> None:
    pass


@series.command("add", cls=Command, help=N_("Add a numbering series: prefix, range and validity."))
@click.option("--prefix", required=True, help=N_("Prefix (1 to 4 letters)."))
@click.option("--from", "first", required=True, type=int, help=N_("First number."))
@click.option("--to", "last", required=True, type=int, help=N_("Last number."))
@click.option("--valid-from", required=True, type=DATE, help=N_("First valid day (YYYY-MM-DD)."))
@click.option("--valid-to", required=True, type=DATE, help=N_("Last valid day (YYYY-MM-DD)."))
@json_option
@pass_env
def add_series(
    env: Env, prefix: str, first: int, last: int, valid_from: datetime, valid_to: datetime, as_json: bool
) -> None:
    data = {
        "prefix": prefix,
        "first": first,
        "last": last,
        "valid_from": valid_from.date(),
        "valid_to": valid_to.date(),
    }
    row = env.brigada().invoicing.add_series(env.actor(), data)
    if as_json:
        env.emit_json(row)
        return
    env.say(_("Series {prefix} added").format(prefix=row.prefix))
    env.table(_("Invoice series"), [(f, _(h)) for f, h in SERIES_COLUMNS], [row])


@series.command("list", cls=Command, help=N_("List the numbering series."))
@json_option
@pass_env
def list_series(env: Env, as_json: bool) -> None:
    rows = env.brigada().invoicing.list_series(env.actor())
    if as_json:
        env.emit_json(rows)
        return
    env.table(_("Invoice series"), [(f, _(h)) for f, h in SERIES_COLUMNS], rows)


@invoice.command("from-vouchers", cls=Command, help=N_("Invoice the vouchers issued and not yet invoiced."))
@click.option("--site", help=N_("Only vouchers of this site."))
@click.option("--payer", help=N_("Only vouchers of this payer (NIT)."))
@click.option("--until", type=DATE, help=N_("Only vouchers issued up to this day (YYYY-MM-DD)."))
@json_option
@pass_env
def from_vouchers(
    env: Env, site: str | None, payer: str | None, until: datetime | None, as_json: bool
) -> None:
    data = {"site": site, "payer": payer, "until": until.date() if until else None}  # click gives a datetime
    rows = env.brigada().invoicing.from_vouchers(env.actor(), {k: v for k, v in data.items() if v})
    show_rows(
        env,
        rows,
        as_json,
        ngettext("{n} invoice issued", "{n} invoices issued", len(rows)).format(n=len(rows)),
    )


@invoice.command("rectify", cls=Command, help=N_("Issue the credit note that rectifies an invoice."))
@click.argument("number")
@click.option("--reason", required=True, help=N_("Why it is rectified."))
@json_option
@pass_env
def rectify(env: Env, number: str, reason: str, as_json: bool) -> None:
    row = env.brigada().invoicing.rectify(env.actor(), number, {"reason": reason})
    show_rows(
        env,
        [row],
        as_json,
        _("Invoice {number} rectified by {note}").format(number=row.number, note=row.note_number),
    )


@invoice.command("show", cls=Command, help=N_("Show an invoice with its lines."))
@click.argument("number")
@json_option
@pass_env
def show(env: Env, number: str, as_json: bool) -> None:
    view = env.brigada().invoicing.show(env.actor(), number)
    if as_json:
        env.emit_json(view)
        return
    show_view(env, view)


@invoice.command("list", cls=Command, help=N_("List invoices."))
@click.option("--payer", help=N_("Only this payer (NIT)."))
@json_option
@pass_env
def list_invoices(env: Env, payer: str | None, as_json: bool) -> None:
    show_rows(env, env.brigada().invoicing.listing(env.actor(), payer), as_json)


@invoice.command("print", cls=Command, help=N_("Write an invoice as PDF (recorded)."))
@click.argument("number")
@out_option
@pass_env
def print_invoice(env: Env, number: str, out: Path | None) -> None:
    env.brigada().invoicing.printed(env.actor(), number, pdf_to(env, out))


@invoice.command("rips", cls=Command, help=N_("Write the RIPS JSON of an invoice (Res. 2275/2023)."))
@click.argument("number")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help=N_("File to write.")
)
@click.option(
    "--provider-nit",
    envvar="BRIGADA_PROVIDER_NIT",
    required=True,
    help=N_("The provider's NIT without check digit (or BRIGADA_PROVIDER_NIT)."),
)
@click.option(
    "--provider-code",
    envvar="BRIGADA_PROVIDER_CODE",
    required=True,
    help=N_("The provider's REPS code, codPrestador (or BRIGADA_PROVIDER_CODE)."),
)
@pass_env
def rips(env: Env, number: str, out: Path, provider_nit: str, provider_code: str) -> None:
    data = {"provider_nit": provider_nit, "provider_code": provider_code}

    def write(document: dict[str, Any]) -> None:
        text = json.dumps(document, ensure_ascii=False, indent=2)
        write_out(env, out, lambda target: target.write_text(text, encoding="utf-8"))

    env.brigada().invoicing.rips(env.actor(), number, data, write)

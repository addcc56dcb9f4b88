"""brigada diagnostic request | result | list | show (ayudas diagnósticas)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import show_orders
from projections.pharmacy.orders import DIAGNOSTIC


@group(help=N_("On-demand diagnostic services: request, record the result."))
def diagnostic() -> None:
    pass


@diagnostic.command("request", cls=Command, help=N_("Request a diagnostic service (CUPS) on a visit."))
@click.argument("visit")
@click.option("--cups", required=True, help=N_("CUPS code (6 digits)."))
@json_option
@pass_env
def request(env: Env, visit: str, cups: str, as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().orders.request_diagnostic(actor, visit, {"cups": cups})
    if not as_json:
        env.say(
            _("Diagnostic service {number} requested on visit {visit}").format(
                number=row.number, visit=row.visit_number
            )
        )
    show_orders(env, _("Diagnostic services"), [row], as_json)


@diagnostic.command("result", cls=Command, help=N_("Record the result of a diagnostic service."))
@click.argument("number")
@click.option("--text", help=N_("The result."))
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=N_("Read the result from a file."),
)
@json_option
@pass_env
def result(env: Env, number: str, text: str | None, text_file: Path | None, as_json: bool) -> None:
    actor = env.actor()
    if text_file is not None:
        text = text_file.read_text(encoding="utf-8")
    if text is None:
        raise click.UsageError(_("give --text or --text-file"))
    row = env.brigada().orders.record_result(actor, number, text)
    if not as_json:
        env.say(_("Result of {number} recorded").format(number=row.number))
    show_orders(env, _("Diagnostic services"), [row], as_json)


@diagnostic.command("list", cls=Command, help=N_("List diagnostic services (of one visit)."))
@click.option("--visit", help=N_("Only this visit."))
@json_option
@pass_env
def list_diagnostics(env: Env, visit: str | None, as_json: bool) -> None:
    actor = env.actor()
    show_orders(
        env, _("Diagnostic services"), env.brigada().orders.listing(actor, DIAGNOSTIC, visit), as_json
    )


@diagnostic.command(
    "show", cls=Command, help=N_("Show a diagnostic service and its result (the read is recorded).")
)
@click.argument("number")
@json_option
@pass_env
def show(env: Env, number: str, as_json: bool) -> None:
    actor = env.actor()
    view = env.brigada().orders.show_diagnostic(actor, number)
    if as_json:
        env.emit_json(view)
        return
    env.record(
        _("Diagnostic service {number}").format(number=view.number),
        [
            (_("Visit"), view.visit_number),
            (_("HIST"), view.chart_number),
            (_("CUPS"), f"{view.cups} {view.name}"),
            (_("Requested by"), view.requested_by),
            (_("Result"), view.result if view.result is not None else "-"),
            (_("Recorded on"), view.recorded_on or "-"),
        ],
    )

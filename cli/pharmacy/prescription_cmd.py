"""brigada prescription add | list | show."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import CHAIN_COLUMNS, show_orders
from domain.pharmacy.prescription import Route
from projections.pharmacy.orders import PRESCRIPTION


@group(help=N_("Prescriptions (formulación) on a visit."))
def prescription() -> None:
    pass


@prescription.command("add", cls=Command, help=N_("Prescribe a medicine or supply on a visit."))
@click.argument("visit")
@click.option("--item", required=True, help=N_("Item code (CUM or supply code)."))
@click.option("--dose", required=True, help=N_("Dose, e.g. '500 mg' or '1 tableta'."))
@click.option(
    "--route",
    type=click.Choice([r.value for r in Route]),
    default="oral",
    show_default=True,
    help=N_("Route."),
)
@click.option("--frequency", required=True, help=N_("Frequency, e.g. 'cada 8 horas'."))
@click.option("--days", required=True, type=int, help=N_("Duration in days."))
@click.option("--quantity", required=True, type=int, help=N_("Quantity to dispense, in dispensing units."))
@json_option
@pass_env
def add(env: Env, visit: str, as_json: bool, **given: object) -> None:
    actor = env.actor()
    row = env.brigada().orders.prescribe(actor, visit, given)
    if not as_json:
        env.say(
            _("Prescription {number} recorded on visit {visit}").format(
                number=row.number, visit=row.visit_number
            )
        )
    show_orders(env, _("Prescriptions"), [row], as_json, CHAIN_COLUMNS)


@prescription.command("list", cls=Command, help=N_("List prescriptions (of one visit)."))
@click.option("--visit", help=N_("Only this visit."))
@json_option
@pass_env
def list_prescriptions(env: Env, visit: str | None, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().orders.listing(actor, PRESCRIPTION, visit)
    show_orders(env, _("Prescriptions"), rows, as_json, CHAIN_COLUMNS)


@prescription.command("show", cls=Command, help=N_("Show a prescription and what was dispensed."))
@click.argument("number")
@json_option
@pass_env
def show(env: Env, number: str, as_json: bool) -> None:
    actor = env.actor()
    view = env.brigada().orders.show_prescription(actor, number)
    if as_json:
        env.emit_json(view)
        return
    env.record(
        _("Prescription {number}").format(number=view.number),
        [
            (_("Visit"), view.visit_number),
            (_("HIST"), view.chart_number),
            (_("Item"), f"{view.item} {view.name}"),
            (_("Dose"), view.dose),
            (_("Route"), view.route),
            (_("Frequency"), view.frequency),
            (_("Days"), view.days),
            (_("Quantity"), view.quantity),
            (_("Prescriber"), view.prescriber),
            (_("Dispensed"), view.dispensed),
            (_("Returned"), view.returned),
        ],
    )

"""brigada patient contract add | end, patient chart, patient duplicates, patient merge.

These commands join the ``patient`` group (cli/clinical/patient_cmd.py) when registered after it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import click

from cli.base import Command, group
from cli.clinical.patient_cmd import COLUMNS, patient, show_contracts, show_patient
from cli.env import Env, pass_env, plain
from cli.i18n import N_, _
from cli.options import json_option
from domain.clinical.cie10 import with_name
from domain.clinical.payer_contract import PaymentModel, Regime
from domain.vocabulary import CoverageStatus

if TYPE_CHECKING:  # the chart's use case loads when a chart command runs
    from application.clinical.charts import PatientChart

ENCOUNTER_COLUMNS = [
    ("number", N_("Visit")),
    ("visit_date", N_("Date")),
    ("kind", N_("Kind")),
    ("professional", N_("Professional")),
    ("state", N_("State")),
    ("principal_diagnosis", N_("Diagnosis")),
    ("site", N_("Site")),
]
APPOINTMENT_COLUMNS = [
    ("number", N_("Appointment")),
    ("day", N_("Date")),
    ("slot", N_("Time")),
    ("professional", N_("Professional")),
    ("status", N_("Status")),
    ("site", N_("Site")),
]
ADMISSION_COLUMNS = [
    ("number", N_("Admission")),
    ("kind", N_("Kind")),
    ("admitted_on", N_("Admitted")),
    ("state", N_("State")),
    ("discharged_on", N_("Discharged")),
    ("condition", N_("Condition")),
    ("site", N_("Site")),
]


@group(help=N_("A patient's payer contracts: assign, end."))
def contract() -> None:
    pass


@contract.command("add", cls=Command, help=N_("Assign a payer contract to a patient."))
@click.argument("chart_number")
@click.option("--payer-nit", required=True, help=N_("The payer's NIT (optionally with -check digit)."))
@click.option("--payer-name", required=True, help=N_("The payer's name."))
@click.option("--contract", "contract_number", required=True, help=N_("The contract's number."))
@click.option(
    "--regime",
    required=True,
    type=click.Choice([r.value for r in Regime]),
    help=N_("The regime: contributivo, subsidiado, especial..."),
)
@click.option(
    "--coverage",
    "coverage_status",
    required=True,
    type=click.Choice([c.value for c in CoverageStatus]),
    help=N_("Insurance status (RIPS tipo de usuario, 01-13)."),
)
@click.option(
    "--payment-model",
    required=True,
    type=click.Choice([m.value for m in PaymentModel]),
    help=N_("Payment model: evento, capitacion or pgp."),
)
@click.option("--from", "valid_from", required=True, help=N_("First day covered, YYYY-MM-DD."))
@click.option("--to", "valid_to", default=None, help=N_("Last day covered, YYYY-MM-DD (default: open)."))
@json_option
@pass_env
def add_contract(env: Env, chart_number: str, as_json: bool, **fields: str | None) -> None:
    actor = env.actor()
    data = {k: v for k, v in fields.items() if v is not None}
    added = env.brigada().contracts.add(actor, chart_number, data)
    if as_json:
        env.emit_json(added)
        return
    env.say(
        _("Contract {contract} assigned to chart {hist}").format(
            contract=added.contract_id, hist=chart_number.upper()
        )
    )
    show_contracts(env, [added])


@contract.command("end", cls=Command, help=N_("End a patient's payer contract on a date (its last day)."))
@click.argument("chart_number")
@click.argument("contract_id")
@click.option("--on", "ended_on", required=True, help=N_("Last day covered, YYYY-MM-DD."))
@json_option
@pass_env
def end_contract(env: Env, chart_number: str, contract_id: str, ended_on: str, as_json: bool) -> None:
    actor = env.actor()
    ended = env.brigada().contracts.end(actor, chart_number, contract_id, {"ended_on": ended_on})
    if as_json:
        env.emit_json(ended)
        return
    show_contracts(env, [ended])


def show_chart(env: Env, chart: PatientChart) -> None:
    show_patient(env, chart.patient, as_json=False)
    if chart.absorbed:
        env.say(_("Charts merged into this one: {charts}").format(charts=", ".join(chart.absorbed)))
    show_contracts(env, chart.contracts)
    visits = [replace(r, principal_diagnosis=with_name(r.principal_diagnosis)) for r in chart.encounters]
    for title, columns, rows in (
        (_("Visits"), ENCOUNTER_COLUMNS, visits),
        (_("Appointments"), APPOINTMENT_COLUMNS, chart.appointments),
        (_("Admissions"), ADMISSION_COLUMNS, chart.admissions),
    ):
        env.table(title, [(f, _(h)) for f, h in columns], rows)


@click.command(
    "chart", cls=Command, help=N_("A patient's chart: record, contracts, visits, appointments, admissions.")
)
@click.argument("chart_number")
@json_option
@pass_env
def chart(env: Env, chart_number: str, as_json: bool) -> None:
    actor = env.actor()
    found = env.brigada().charts.chart(actor, chart_number)
    if as_json:
        env.emit_json(found)
        return
    show_chart(env, found)


@click.command(
    "duplicates", cls=Command, help=N_("Charts with the same document (e.g. registered at two sites).")
)
@json_option
@pass_env
def duplicates(env: Env, as_json: bool) -> None:
    actor = env.actor()
    groups = env.brigada().charts.duplicates(actor)
    if as_json:
        env.emit_json(groups)
        return
    for found in groups:
        env.table(
            f"{found.document_type} {found.document_number}", [(f, _(h)) for f, h in COLUMNS], found.charts
        )
    env.say(_("{n} documents with more than one chart").format(n=len(groups)))


@click.command(
    "merge", cls=Command, help=N_("Merge a duplicate chart into another (central, administrators).")
)
@click.option("--keep", required=True, help=N_("The chart that stays (HIST)."))
@click.option("--remove", required=True, help=N_("The duplicate chart merged into it (HIST)."))
@json_option
@pass_env
def merge(env: Env, keep: str, remove: str, as_json: bool) -> None:
    actor = env.actor()
    result = env.brigada().charts.merge(actor, keep, remove)
    if as_json:
        env.emit_json(plain(result))
        return
    env.say(
        _("Chart {removed} merged into chart {kept}; visits moved: {visits}").format(
            removed=result.removed, kept=result.kept, visits=", ".join(result.encounters_moved) or "-"
        )
    )


# The patient group, with the chart's commands: what `brigada patient` loads (cli/main.py).
for command in (contract, chart, duplicates, merge):
    patient.add_command(command)

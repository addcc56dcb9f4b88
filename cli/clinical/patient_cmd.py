"""brigada patient register | correct | show | search.

The contract, chart, duplicates and merge commands join this group from cli/clinical/patient_chart_cmd.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from cli.base import Command, group
from cli.env import Env, pass_env, plain
from cli.i18n import N_, _
from cli.options import json_option, limit_option

if TYPE_CHECKING:  # the use cases load when a command calls them
    from application.clinical.charts import PatientRecord
    from application.clinical.contracts import ContractView
    from projections.clinical.patients import PatientRow

# (option, field, help) for every patient detail, shared by register and correct.
DETAIL_OPTIONS: list[tuple[str, str, str]] = [
    (
        "--document-type",
        "document_type",
        N_("Document type: CC, TI, RC, CE, PA, PE, PT, CN, AS, MS..."),
    ),
    ("--document-number", "document_number", N_("Document number.")),
    ("--first-name", "first_name", N_("First name.")),
    ("--middle-name", "middle_name", N_("Middle name.")),
    ("--first-surname", "first_surname", N_("First surname.")),
    ("--second-surname", "second_surname", N_("Second surname.")),
    ("--birth-date", "birth_date", N_("Birth date, YYYY-MM-DD.")),
    ("--sex", "sex", N_("Sex: M, F or I.")),
    ("--municipality", "municipality", N_("Municipality of residence, DIVIPOLA code (5 digits).")),
    ("--zone", "zone", N_("Zone: 01 rural, 02 urban.")),
    ("--coverage", "coverage_status", N_("Insurance status (RIPS tipo de usuario, 01-13).")),
]

COLUMNS = [
    ("chart_number", N_("HIST")),
    ("document_type", N_("Type")),
    ("document_number", N_("Document")),
    ("full_name", N_("Name")),
    ("birth_date", N_("Born")),
    ("sex", N_("Sex")),
    ("municipality", N_("Municipality")),
    ("site", N_("Site")),
]


def detail_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option, field, help_text in reversed(DETAIL_OPTIONS):
        command = click.option(option, field, default=None, help=help_text)(command)
    return command


CONTRACT_COLUMNS = [
    ("contract_id", N_("Contract")),
    ("payer_nit", N_("Payer NIT")),
    ("payer_name", N_("Payer")),
    ("contract_number", N_("Number")),
    ("regime", N_("Regime")),
    ("coverage_status", N_("Insurance status")),
    ("payment_model", N_("Payment")),
    ("valid_from", N_("From")),
    ("valid_to", N_("To")),
    ("ended_on", N_("Ended")),
    ("in_force", N_("In force")),
]


def show_contracts(env: Env, contracts: Sequence[ContractView]) -> None:
    if contracts:
        env.table(_("Payer contracts"), [(f, _(h)) for f, h in CONTRACT_COLUMNS], contracts)
    else:
        env.say(_("No payer contracts."))


def show_record(env: Env, record: PatientRecord, as_json: bool) -> None:
    """A patient with their contracts; a merged chart says which chart it lives on now."""
    if as_json:
        env.emit_json({**plain(record.patient), "contracts": plain(record.contracts)})
        return
    show_patient(env, record.patient, as_json=False)
    show_contracts(env, record.contracts)


def show_patient(env: Env, row: PatientRow, as_json: bool) -> None:
    if as_json:
        env.emit_json(row)
        return
    if row.merged_into:
        env.say(
            _("Chart {hist} was merged into chart {kept}: use that chart").format(
                hist=row.chart_number, kept=row.merged_into
            )
        )
    labels = {field: _(header) for field, header in COLUMNS}
    env.record(
        _("Patient {hist}").format(hist=row.chart_number),
        [
            (labels["document_type"], f"{row.document_type} {row.document_number}"),
            (labels["full_name"], row.full_name),
            (labels["birth_date"], row.birth_date),
            (labels["sex"], row.sex),
            (labels["municipality"], row.municipality),
            (_("Zone"), row.zone),
            (_("Insurance status"), row.coverage_status),
            (labels["site"], row.site),
            *([(_("Merged into"), row.merged_into)] if row.merged_into else []),
        ],
    )


@group(help=N_("Patients: register, correct, show, search, contracts, chart, duplicates, merge."))
def patient() -> None:
    pass


@patient.command("register", cls=Command, help=N_("Register a patient; prints the new chart number."))
@detail_options
@json_option
@pass_env
def register_patient(env: Env, as_json: bool, **details: str | None) -> None:
    actor = env.actor()
    data = {k: v for k, v in details.items() if v is not None}
    row = env.brigada().patients.register(actor, data)
    if not as_json:
        env.say(_("Patient registered with chart number {hist}").format(hist=row.chart_number))
    show_patient(env, row, as_json)


@patient.command("correct", cls=Command, help=N_("Correct a patient's details (recorded as a correction)."))
@click.argument("chart_number")
@detail_options
@json_option
@pass_env
def correct_patient(env: Env, chart_number: str, as_json: bool, **details: str | None) -> None:
    actor = env.actor()
    data = {k: v for k, v in details.items() if v is not None}
    row = env.brigada().patients.correct(actor, chart_number, data)
    show_patient(env, row, as_json)


@patient.command("show", cls=Command, help=N_("Show a patient by chart number (HIST)."))
@click.argument("chart_number")
@json_option
@pass_env
def show(env: Env, chart_number: str, as_json: bool) -> None:
    actor = env.actor()
    show_record(env, env.brigada().charts.record(actor, chart_number), as_json)


@patient.command(
    "search", cls=Command, help=N_("Find patients by document or name (accents and case ignored).")
)
@click.argument("text")
@limit_option(default=50, most=1000)
@json_option
@pass_env
def search(env: Env, text: str, limit: int, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().patients.search(actor, text, limit=limit)
    if as_json:
        env.emit_json(rows)
        return
    env.table(_("Patients"), [(f, _(h)) for f, h in COLUMNS], rows)
    env.say(_("{n} found").format(n=len(rows)))

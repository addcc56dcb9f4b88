"""brigada admission admit | discharge | list."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option, limit_option
from domain.clinical.admission import AdmissionKind, DischargeCondition
from projections.clinical.admissions import AdmissionRow

COLUMNS = [
    ("number", N_("Admission")),
    ("chart_number", N_("HIST")),
    ("kind", N_("Kind")),
    ("admitted_on", N_("Admitted")),
    ("state", N_("State")),
    ("discharged_on", N_("Discharged")),
    ("condition", N_("Condition")),
    ("site", N_("Site")),
]
KIND_NAMES = {
    AdmissionKind.AMBULATORY.value: N_("ambulatory hospitalization"),
    AdmissionKind.EMERGENCY.value: N_("emergency"),
    AdmissionKind.INPATIENT.value: N_("inpatient"),
}
STATE_NAMES = {"open": N_("open"), "discharged": N_("discharged")}


def shown(row: AdmissionRow) -> dict[str, object]:
    return {
        **row.__dict__,
        "kind": _(KIND_NAMES[row.kind]),
        "state": _(STATE_NAMES[row.state]),
        "discharged_on": row.discharged_on or "",
    }


def show_admission(env: Env, row: AdmissionRow, as_json: bool) -> None:
    if as_json:
        env.emit_json(row)
        return
    env.table(
        _("Admission {number}").format(number=row.number), [(f, _(h)) for f, h in COLUMNS], [shown(row)]
    )


@group(help=N_("Admissions: admit, discharge, list."))
def admission() -> None:
    pass


@admission.command("admit", cls=Command, help=N_("Admit a patient (ambulatory hospitalization on a laptop)."))
@click.option("--patient", "chart_number", required=True, help=N_("The patient's chart number (HIST)."))
@click.option(
    "--kind",
    default=AdmissionKind.AMBULATORY.value,
    show_default=True,
    type=click.Choice([k.value for k in AdmissionKind]),
    help=N_("ambulatory, emergency or inpatient (the last two on central only)."),
)
@click.option("--reason", default="", help=N_("Reason for the admission."))
@json_option
@pass_env
def admit(env: Env, chart_number: str, kind: str, reason: str, as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().admissions.admit(
        actor, {"chart_number": chart_number, "kind": kind, "reason": reason}
    )
    if not as_json:
        env.say(
            _("Admission {number} opened for chart {hist}").format(number=row.number, hist=row.chart_number)
        )
    show_admission(env, row, as_json)


@admission.command("discharge", cls=Command, help=N_("Discharge an admitted patient."))
@click.argument("number")
@click.option(
    "--condition",
    required=True,
    type=click.Choice([c.value for c in DischargeCondition]),
    help=N_("RIPS condition and destination: 01 home, 02 dead, 03 other service, 04 referred..."),
)
@json_option
@pass_env
def discharge(env: Env, number: str, condition: str, as_json: bool) -> None:
    actor = env.actor()
    show_admission(env, env.brigada().admissions.discharge(actor, number, {"condition": condition}), as_json)


@admission.command("list", cls=Command, help=N_("List admissions, newest first."))
@click.option("--open", "only_open", is_flag=True, help=N_("Only those not yet discharged."))
@limit_option(default=200, most=10_000)
@json_option
@pass_env
def list_admissions(env: Env, only_open: bool, limit: int, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().admissions.list(actor, only_open=only_open, limit=limit)
    if as_json:
        env.emit_json(rows)
        return
    env.table(_("Admissions"), [(f, _(h)) for f, h in COLUMNS], [shown(r) for r in rows])

"""brigada agenda plan | show."""

from __future__ import annotations

import click

from application.clinical.agenda import AgendaView
from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option

SLOT_COLUMNS = [
    ("time", N_("Time")),
    ("number", N_("Appointment")),
    ("chart_number", N_("HIST")),
    ("patient_name", N_("Patient")),
    ("status", N_("Status")),
]
# Appointment statuses as shown (the stored values are English identifiers).
STATUS_NAMES = {
    "free": N_("free"),
    "booked": N_("booked"),
    "confirmed": N_("confirmed"),
    "cancelled": N_("cancelled"),
    "no-show": N_("no-show"),
}


def status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


def show_agenda(env: Env, agenda: AgendaView, as_json: bool) -> None:
    if as_json:
        env.emit_json(agenda)
        return
    title = _("Agenda of {professional} on {day} at {site}: {start} to {end}, {slot} minutes").format(
        professional=agenda.professional,
        day=agenda.day.isoformat(),
        site=agenda.site,
        start=agenda.start,
        end=agenda.end,
        slot=agenda.slot_minutes,
    )
    rows = [{**slot.__dict__, "status": status_name(slot.status)} for slot in agenda.slots]
    env.table(title, [(f, _(h)) for f, h in SLOT_COLUMNS], rows)


@group(help=N_("Agendas: plan a professional's day, show it."))
def agenda() -> None:
    pass


@agenda.command("plan", cls=Command, help=N_("Plan (or re-plan) a professional's day at this site."))
@click.option("--professional", required=True, help=N_("The professional's user name."))
@click.option("--date", "day", required=True, help=N_("The day, YYYY-MM-DD."))
@click.option("--from", "start", required=True, help=N_("First slot, HH:MM."))
@click.option("--to", "end", required=True, help=N_("End of the last slot, HH:MM."))
@click.option(
    "--slot", "slot_minutes", default=20, show_default=True, type=int, help=N_("Slot length in minutes.")
)
@json_option
@pass_env
def plan(
    env: Env, professional: str, day: str, start: str, end: str, slot_minutes: int, as_json: bool
) -> None:
    actor = env.actor()
    data = {
        "professional": professional,
        "day": day,
        "start": start,
        "end": end,
        "slot_minutes": slot_minutes,
    }
    planned = env.brigada().agendas.plan(actor, data)
    if not as_json:
        env.say(_("{n} slots planned").format(n=len(planned.slots)))
    show_agenda(env, planned, as_json)


@agenda.command("show", cls=Command, help=N_("A professional's day: each slot and its appointment."))
@click.option("--professional", required=True, help=N_("The professional's user name."))
@click.option("--date", "day", required=True, help=N_("The day, YYYY-MM-DD."))
@click.option("--site", default=None, help=N_("The site (default: this store's)."))
@json_option
@pass_env
def show(env: Env, professional: str, day: str, site: str | None, as_json: bool) -> None:
    actor = env.actor()
    show_agenda(env, env.brigada().agendas.show(actor, professional, day, site), as_json)

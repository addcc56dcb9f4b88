"""brigada appointment book | confirm | cancel | no-show."""

from __future__ import annotations

import click

from application.clinical.agenda import AppointmentView
from cli.base import Command, group
from cli.clinical.agenda_cmd import status_name
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.options import json_option


def show_appointment(env: Env, appointment: AppointmentView, as_json: bool) -> None:
    if as_json:
        env.emit_json(appointment)
        return
    env.record(
        _("Appointment {number}").format(number=appointment.number),
        [
            (_("Date"), appointment.day),
            (_("Time"), appointment.time),
            (_("Professional"), appointment.professional),
            (_("HIST"), appointment.chart_number),
            (_("Patient"), appointment.patient_name),
            (_("Status"), status_name(appointment.status)),
            (_("Site"), appointment.site),
        ],
    )


@group(help=N_("Appointments: book, confirm, cancel, record a no-show."))
def appointment() -> None:
    pass


@appointment.command("book", cls=Command, help=N_("Book a patient into a free slot; prints the number."))
@click.option("--professional", required=True, help=N_("The professional's user name."))
@click.option("--date", "day", required=True, help=N_("The day, YYYY-MM-DD."))
@click.option("--time", required=True, help=N_("The slot, HH:MM."))
@click.option("--patient", "chart_number", required=True, help=N_("The patient's chart number (HIST)."))
@json_option
@pass_env
def book(env: Env, professional: str, day: str, time: str, chart_number: str, as_json: bool) -> None:
    actor = env.actor()
    data = {"professional": professional, "day": day, "time": time, "chart_number": chart_number}
    booked = env.brigada().agendas.book(actor, data)
    if not as_json:
        env.say(_("Appointment {number} booked").format(number=booked.number))
    show_appointment(env, booked, as_json)


@appointment.command("confirm", cls=Command, help=N_("Confirm a booked appointment."))
@click.argument("number")
@json_option
@pass_env
def confirm(env: Env, number: str, as_json: bool) -> None:
    actor = env.actor()
    show_appointment(env, env.brigada().agendas.confirm(actor, number), as_json)


@appointment.command("cancel", cls=Command, help=N_("Cancel an appointment; its slot is free again."))
@click.argument("number")
@click.option("--reason", default="", help=N_("Why (kept with the appointment, not in the activity log)."))
@json_option
@pass_env
def cancel(env: Env, number: str, reason: str, as_json: bool) -> None:
    actor = env.actor()
    show_appointment(env, env.brigada().agendas.cancel(actor, number, {"reason": reason}), as_json)


@appointment.command("no-show", cls=Command, help=N_("Record that the patient did not come."))
@click.argument("number")
@json_option
@pass_env
def no_show(env: Env, number: str, as_json: bool) -> None:
    actor = env.actor()
    show_appointment(env, env.brigada().agendas.no_show(actor, number), as_json)

"""Agendas and appointments (seed 000, "Planeación, Agendamiento y Confirmación de citas").

An agenda day belongs to the site whose store plans it: a laptop plans, books and confirms on its
own site's agendas only, and central leaves a site's agendas alone while the site is on mission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from application.clinical.patients import Patients
from application.context import Actor
from application.core import Core
from application.errors import UserNotFound
from application.security.access import Access
from application.setup import USERNAME_HINT, USERNAME_PATTERN
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.access_log import AGENDA_VIEW
from domain.clinical.agenda import AgendaDay, Appointment, AppointmentNotFound, agenda_day_id
from domain.errors import N_, DomainError, NotFound
from domain.numbering import NumberSeries, series_id
from domain.security.user import User, user_id
from domain.sites.site import SiteAction
from domain.sites.site_policy import OperationRefused
from projections.clinical.agenda import AgendaQueries

TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
TIME_HINT = N_("a time of day as HH:MM (00:00 to 23:59)")
SERIES = "CITA"
OWN_AGENDA_RULE = N_("This laptop works on the agendas of site {own} only; this one is site {site}'s")


class AgendaNotPlanned(NotFound):
    template = N_("{professional} has no agenda on {day} at site {site}: plan it first")


class InactiveProfessional(DomainError):
    template = N_("{username} is deactivated: their agenda takes no plans or bookings")


class PlanDay(Command):
    professional: str = Field(pattern=USERNAME_PATTERN, description=USERNAME_HINT)
    day: date
    start: str = Field(pattern=TIME_PATTERN, description=TIME_HINT)
    end: str = Field(pattern=TIME_PATTERN, description=TIME_HINT)
    slot_minutes: int = Field(20, ge=5, le=240)


class AgendaDayQuery(Command):
    professional: str = Field(pattern=USERNAME_PATTERN, description=USERNAME_HINT)
    day: date
    site: str | None = Field(None, pattern=r"^[A-Za-z0-9]{2,10}$", description=N_("a site code"))


class Booking(Command):
    professional: str = Field(pattern=USERNAME_PATTERN, description=USERNAME_HINT)
    day: date
    time: str = Field(pattern=TIME_PATTERN, description=TIME_HINT)
    chart_number: str = Field(min_length=1, max_length=30)


class Cancellation(Command):
    reason: str = Field("", max_length=200)


@dataclass(frozen=True)
class AppointmentView:
    number: str
    site: str
    professional: str
    day: date
    time: str
    chart_number: str
    patient_name: str
    status: str


@dataclass(frozen=True)
class SlotView:
    time: str
    number: str  # "" when free
    chart_number: str
    patient_name: str
    status: str  # "free" or the appointment's status


@dataclass(frozen=True)
class AgendaView:
    site: str
    professional: str
    day: date
    start: str
    end: str
    slot_minutes: int
    slots: list[SlotView]
    appointments: list[AppointmentView]  # every one, cancelled ones too, by number


class Agendas:
    def __init__(
        self, core: Core, access: Access, operations: Operations, patients: Patients, agenda: AgendaQueries
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.patients = patients
        self.agenda = agenda

    # -- helpers --------------------------------------------------------------------------------
    def _professional(self, username: str) -> str:
        """The professional must be an existing, active user."""
        user = self.core.get(User, user_id(username))
        if user is None:
            raise UserNotFound(username=username)
        if not user.active:
            raise InactiveProfessional(username=user.username)
        return user.username

    def _site(self) -> str:
        return self.core.require_identity().site_code

    def _require_writable(self, actor: Actor, site: str) -> None:
        """The sites policy for appointments on ``site``'s agenda, seen from this store."""
        identity = self.core.require_identity()
        if not identity.is_central and site != identity.site_code:
            raise OperationRefused(OWN_AGENDA_RULE, own=identity.site_code, site=site)
        self.operations.require(actor, SiteAction.APPOINTMENTS, owner_site=site)

    def _day(self, site: str, professional: str, day: date) -> AgendaDay:
        agenda = self.core.get(AgendaDay, agenda_day_id(site, professional, day))
        if agenda is None:
            raise AgendaNotPlanned(professional=professional, day=day.isoformat(), site=site)
        return agenda

    def _by_number(self, number: str) -> AgendaDay:
        row = self.agenda.by_number(number)
        agenda = self.core.get(AgendaDay, UUID(row.agenda_id)) if row else None
        if agenda is None:
            raise AppointmentNotFound(number=number)
        return agenda

    def _name(self, chart_number: str) -> str:
        row = self.patients.queries.by_chart(chart_number)
        return row.full_name if row else ""

    def _appointment(self, agenda: AgendaDay, appointment: Appointment) -> AppointmentView:
        return AppointmentView(
            number=appointment.number,
            site=agenda.site,
            professional=agenda.professional,
            day=agenda.day,
            time=appointment.slot,
            chart_number=appointment.chart_number,
            patient_name=self._name(appointment.chart_number),
            status=appointment.status.value,
        )

    def _view(self, agenda: AgendaDay) -> AgendaView:
        appointments = [self._appointment(agenda, a) for a in agenda.appointments.values()]
        slots = []
        for time in agenda.slots:
            holder = agenda.holder(time)
            if holder is None:
                slots.append(SlotView(time, "", "", "", "free"))
            else:
                shown = self._appointment(agenda, holder)
                slots.append(
                    SlotView(time, shown.number, shown.chart_number, shown.patient_name, shown.status)
                )
        return AgendaView(
            site=agenda.site,
            professional=agenda.professional,
            day=agenda.day,
            start=agenda.start,
            end=agenda.end,
            slot_minutes=agenda.slot_minutes,
            slots=slots,
            appointments=sorted(appointments, key=lambda a: (a.time, a.number)),
        )

    # -- planning -------------------------------------------------------------------------------
    def plan(self, actor: Actor, data: dict[str, Any]) -> AgendaView:
        """Plan (or re-plan) a professional's day at this store's site; no booking may be lost."""
        self.access.require(actor, "agenda.plan")
        cmd = parse(PlanDay, data)
        site = self._site()
        self._require_writable(actor, site)
        professional = self._professional(cmd.professional)
        agenda = self.core.get(AgendaDay, agenda_day_id(site, professional, cmd.day))
        today = self.core.clock.today()
        with self.core.acting_as(actor.username):
            if agenda is None:
                agenda = AgendaDay.plan(
                    site, professional, cmd.day, cmd.start, cmd.end, cmd.slot_minutes, today
                )
            else:
                agenda.replan(cmd.start, cmd.end, cmd.slot_minutes, today)
            if agenda.pending_events:
                self.core.save(agenda)
        return self._view(agenda)

    def show(self, actor: Actor, professional: str, day: date | str, site: str | None = None) -> AgendaView:
        """A day's slots with their appointments; another site's agenda is a report of that site."""
        self.access.require(actor, "agenda.show")
        query = parse(
            AgendaDayQuery, {"professional": professional.strip().casefold(), "day": day, "site": site}
        )
        wanted = self.operations.report_site(actor, query.site) or self._site()
        agenda = self._day(wanted, query.professional, query.day)
        self.core.record_access(
            actor.username, AGENDA_VIEW, {"PROFESIONAL": agenda.professional, "FECHA": query.day.isoformat()}
        )
        return self._view(agenda)

    # -- appointments ---------------------------------------------------------------------------
    def book(self, actor: Actor, data: dict[str, Any]) -> AppointmentView:
        """Book a patient into a free slot; the number (CITA) comes from this site's series."""
        self.access.require(actor, "appointment.book")
        cmd = parse(Booking, data)
        site = self._site()
        self._require_writable(actor, site)
        professional = self._professional(cmd.professional)
        patient = self.patients.current(cmd.chart_number)
        agenda = self._day(site, professional, cmd.day)
        with self.core.acting_as(actor.username):
            series = self.core.get(NumberSeries, series_id(site, SERIES))
            series = series or NumberSeries(site=site, series=SERIES)
            number = series.take()
            agenda.book(
                number, cmd.time, UUID(patient.patient_id), patient.chart_number, self.core.clock.today()
            )
            self.core.save(series, agenda)
        return self._appointment(agenda, agenda.appointment(number))

    def confirm(self, actor: Actor, number: str) -> AppointmentView:
        self.access.require(actor, "appointment.confirm")
        agenda = self._by_number(number)
        self._require_writable(actor, agenda.site)
        with self.core.acting_as(actor.username):
            agenda.confirm(number)
            self.core.save(agenda)
        return self._appointment(agenda, agenda.appointment(number))

    def cancel(self, actor: Actor, number: str, data: dict[str, Any]) -> AppointmentView:
        """Cancel a booked or confirmed appointment; its slot is free again."""
        self.access.require(actor, "appointment.cancel")
        cmd = parse(Cancellation, data)
        agenda = self._by_number(number)
        self._require_writable(actor, agenda.site)
        with self.core.acting_as(actor.username):
            agenda.cancel(number, cmd.reason)
            self.core.save(agenda)
        return self._appointment(agenda, agenda.appointment(number))

    def no_show(self, actor: Actor, number: str) -> AppointmentView:
        """The patient did not come (recorded from the appointment's day on)."""
        self.access.require(actor, "appointment.no-show")
        agenda = self._by_number(number)
        self._require_writable(actor, agenda.site)
        with self.core.acting_as(actor.username):
            agenda.mark_no_show(number, self.core.clock.today())
            self.core.save(agenda)
        return self._appointment(agenda, agenda.appointment(number))

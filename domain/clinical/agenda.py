"""A professional's agenda for one day at one site (seed 000, "Planeación, Agendamiento y
Confirmación de citas"), with the appointments booked in it.

One aggregate per (site, professional, date), so every booking of that day is checked against the
others in one place: a slot holds at most one active appointment, and one patient holds at most
one active appointment in the day. Two operators booking the same day at once collide on the
aggregate's version; one of them retries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue, NotFound

TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MIN_SLOT, MAX_SLOT = 5, 240


class AppointmentStatus(Enum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    NO_SHOW = "no-show"


ACTIVE = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED})
STATUS_LABELS: dict[AppointmentStatus, str] = {
    AppointmentStatus.BOOKED: N_("booked"),
    AppointmentStatus.CONFIRMED: N_("confirmed"),
    AppointmentStatus.CANCELLED: N_("cancelled"),
    AppointmentStatus.NO_SHOW: N_("a no-show"),
}


class SlotTaken(DomainError):
    template = N_("the {slot} slot of {professional} on {day} is taken by appointment {number}")


class PatientAlreadyBooked(DomainError):
    template = N_(
        "chart {chart_number} already has appointment {number} at {slot} with {professional} on {day}"
    )


class BookingsWouldBeLost(DomainError):
    template = N_("the new plan has no slot for appointments {numbers}: cancel them first")


class AppointmentClosed(DomainError):
    template = N_("appointment {number} is {status}: it cannot be {action}")


class NoShowTooEarly(DomainError):
    template = N_("appointment {number} is on {day}: a no-show is recorded from that day on")


class PastDay(DomainError):
    template = N_("{day} has passed: its agenda is closed to {action}")


class AppointmentNotFound(NotFound):
    template = N_("no appointment with number {number}")


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def as_time(total: int) -> str:
    return f"{total // 60:02d}:{total % 60:02d}"


def slots_of(start: str, end: str, slot_minutes: int) -> list[str]:
    """Every slot that fits whole between start and end."""
    return [as_time(t) for t in range(minutes(start), minutes(end) - slot_minutes + 1, slot_minutes)]


def check_plan(start: str, end: str, slot_minutes: int) -> None:
    for name, value in (("start", start), ("end", end)):
        if not TIME.match(value):
            raise InvalidValue(name, N_("must be a time of day as HH:MM (00:00 to 23:59)"))
    if not MIN_SLOT <= slot_minutes <= MAX_SLOT:
        raise InvalidValue(
            "slot_minutes", N_("must be between {low} and {high} minutes"), low=MIN_SLOT, high=MAX_SLOT
        )
    if minutes(end) - minutes(start) < slot_minutes:
        raise InvalidValue(
            "end",
            N_("from {start} to {end} there is no room for one slot of {slot_minutes} minutes"),
            start=start,
            end=end,
            slot_minutes=slot_minutes,
        )


@dataclass(frozen=True)
class Appointment:
    number: str
    slot: str
    patient_id: UUID
    chart_number: str
    status: AppointmentStatus = AppointmentStatus.BOOKED
    reason: str = ""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class AgendaDay(BrigadaAggregate):
    TOPIC = "brigada.AgendaDay"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.AgendaDay.Event"

    class Planned(BrigadaAggregate.Created):
        TOPIC = "brigada.AgendaDay.Planned"
        site: str
        professional: str
        day: date
        start: str
        end: str
        slot_minutes: int

    class Replanned(Event):
        TOPIC = "brigada.AgendaDay.Replanned"
        start: str
        end: str
        slot_minutes: int

    class AppointmentBooked(Event):
        TOPIC = "brigada.AgendaDay.AppointmentBooked"
        number: str
        slot: str
        patient_id: UUID
        chart_number: str

    class AppointmentConfirmed(Event):
        TOPIC = "brigada.AgendaDay.AppointmentConfirmed"
        number: str

    class AppointmentCancelled(Event):
        TOPIC = "brigada.AgendaDay.AppointmentCancelled"
        number: str
        reason: str

    class AppointmentNoShow(Event):
        TOPIC = "brigada.AgendaDay.AppointmentNoShow"
        number: str

    @staticmethod
    def create_id(site: str, professional: str, day: date) -> UUID:
        return agenda_day_id(site, professional, day)

    @event(Planned)
    def __init__(
        self, site: str, professional: str, day: date, start: str, end: str, slot_minutes: int
    ) -> None:
        self.site = site
        self.professional = professional
        self.day = day
        self.start = start
        self.end = end
        self.slot_minutes = slot_minutes
        self.appointments: dict[str, Appointment] = {}

    @classmethod
    def plan(
        cls, site: str, professional: str, day: date, start: str, end: str, slot_minutes: int, today: date
    ) -> AgendaDay:
        check_plan(start, end, slot_minutes)
        if day < today:
            raise PastDay(day=day.isoformat(), action=N_("planning"))
        return cls(
            site=site, professional=professional, day=day, start=start, end=end, slot_minutes=slot_minutes
        )

    # -- reading --------------------------------------------------------------------------------
    @property
    def slots(self) -> list[str]:
        return slots_of(self.start, self.end, self.slot_minutes)

    def holder(self, slot: str) -> Appointment | None:
        """The active appointment in a slot, if any."""
        return next((a for a in self.appointments.values() if a.slot == slot and a.active), None)

    def appointment(self, number: str) -> Appointment:
        found = self.appointments.get(number.strip().upper())
        if found is None:
            raise AppointmentNotFound(number=number)
        return found

    # -- planning -------------------------------------------------------------------------------
    def replan(self, start: str, end: str, slot_minutes: int, today: date) -> bool:
        """Change the hours or slot length; False when nothing changes. No booking may be lost."""
        check_plan(start, end, slot_minutes)
        if (start, end, slot_minutes) == (self.start, self.end, self.slot_minutes):
            return False
        if self.day < today:
            raise PastDay(day=self.day.isoformat(), action=N_("planning"))
        kept = set(slots_of(start, end, slot_minutes))
        lost = sorted(a.number for a in self.appointments.values() if a.active and a.slot not in kept)
        if lost:
            raise BookingsWouldBeLost(numbers=", ".join(lost))
        self._replan(start=start, end=end, slot_minutes=slot_minutes)
        return True

    @event(Replanned)
    def _replan(self, start: str, end: str, slot_minutes: int) -> None:
        self.start = start
        self.end = end
        self.slot_minutes = slot_minutes

    # -- appointments ---------------------------------------------------------------------------
    def book(self, number: str, slot: str, patient_id: UUID, chart_number: str, today: date) -> None:
        if self.day < today:
            raise PastDay(day=self.day.isoformat(), action=N_("booking"))
        if slot not in self.slots:
            raise InvalidValue(
                "time",
                N_("{slot} is not a slot of this agenda ({start} to {end}, every {slot_minutes} minutes)"),
                slot=slot,
                start=self.start,
                end=self.end,
                slot_minutes=self.slot_minutes,
            )
        taken = self.holder(slot)
        if taken is not None:
            raise SlotTaken(
                slot=slot, professional=self.professional, day=self.day.isoformat(), number=taken.number
            )
        mine = next((a for a in self.appointments.values() if a.patient_id == patient_id and a.active), None)
        if mine is not None:
            raise PatientAlreadyBooked(
                chart_number=chart_number,
                number=mine.number,
                slot=mine.slot,
                professional=self.professional,
                day=self.day.isoformat(),
            )
        self._book(number=number, slot=slot, patient_id=patient_id, chart_number=chart_number)

    @event(AppointmentBooked)
    def _book(self, number: str, slot: str, patient_id: UUID, chart_number: str) -> None:
        self.appointments[number] = Appointment(number, slot, patient_id, chart_number)

    def _require(self, number: str, allowed: frozenset[AppointmentStatus], action: str) -> Appointment:
        found = self.appointment(number)
        if found.status not in allowed:
            raise AppointmentClosed(number=found.number, status=STATUS_LABELS[found.status], action=action)
        return found

    def confirm(self, number: str) -> None:
        found = self._require(number, frozenset({AppointmentStatus.BOOKED}), N_("confirmed"))
        self._confirm(number=found.number)

    @event(AppointmentConfirmed)
    def _confirm(self, number: str) -> None:
        self._set_status(number, AppointmentStatus.CONFIRMED)

    def cancel(self, number: str, reason: str) -> None:
        """Cancelling frees the slot for another booking."""
        found = self._require(number, ACTIVE, N_("cancelled"))
        self._cancel(number=found.number, reason=reason)

    @event(AppointmentCancelled)
    def _cancel(self, number: str, reason: str) -> None:
        self.appointments[number] = replace(
            self.appointments[number], status=AppointmentStatus.CANCELLED, reason=reason
        )

    def mark_no_show(self, number: str, today: date) -> None:
        found = self._require(number, ACTIVE, N_("marked as a no-show"))
        if today < self.day:
            raise NoShowTooEarly(number=found.number, day=self.day.isoformat())
        self._no_show(number=found.number)

    @event(AppointmentNoShow)
    def _no_show(self, number: str) -> None:
        self._set_status(number, AppointmentStatus.NO_SHOW)

    def _set_status(self, number: str, status: AppointmentStatus) -> None:
        self.appointments[number] = replace(self.appointments[number], status=status)


def agenda_day_id(site: str, professional: str, day: date) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:agenda:{site.upper()}:{professional.casefold()}:{day.isoformat()}")

"""Agendas and appointments: one row per agenda day and one per appointment, so an appointment
number leads to its agenda day, and a patient's appointments can be listed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from domain.clinical.agenda import ACTIVE, AgendaDay, AppointmentStatus
from projections.base import ByAggregate, Key, Projection, RowStore


@dataclass(frozen=True)
class AgendaDayRow:
    agenda_id: str
    site: str
    professional: str
    day: date
    start: str
    end: str
    slot_minutes: int
    updated_at: str


@dataclass(frozen=True)
class AppointmentRow:
    number: str
    agenda_id: str
    slot: str
    patient_id: str
    chart_number: str
    status: str  # AppointmentStatus values
    booked_at: str
    updated_at: str


class AgendaDaysProjection(ByAggregate):
    name = "agenda_days"
    version = 1
    topics = (AgendaDay.Planned.TOPIC, AgendaDay.Replanned.TOPIC)
    row_type = AgendaDayRow
    key_fields = ("agenda_id",)
    indexes = (("day", "professional"),)

    def apply(self, row: AgendaDayRow | None, event: Any) -> AgendaDayRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, AgendaDay.Planned):
            return AgendaDayRow(
                agenda_id=event.originator_id.hex,
                site=event.site,
                professional=event.professional,
                day=event.day,
                start=event.start,
                end=event.end,
                slot_minutes=event.slot_minutes,
                updated_at=stamp,
            )
        if row is None:
            return None
        return replace(
            row, start=event.start, end=event.end, slot_minutes=event.slot_minutes, updated_at=stamp
        )


STATUS_OF: dict[str, AppointmentStatus] = {
    AgendaDay.AppointmentConfirmed.TOPIC: AppointmentStatus.CONFIRMED,
    AgendaDay.AppointmentCancelled.TOPIC: AppointmentStatus.CANCELLED,
    AgendaDay.AppointmentNoShow.TOPIC: AppointmentStatus.NO_SHOW,
}


class AppointmentsProjection(Projection):
    name = "appointments"
    version = 1
    topics = (AgendaDay.AppointmentBooked.TOPIC, *STATUS_OF)
    row_type = AppointmentRow
    key_fields = ("number",)
    indexes = (("patient_id",), ("agenda_id",))

    def key(self, event: Any) -> Key:
        return (event.number,)

    def apply(self, row: AppointmentRow | None, event: Any) -> AppointmentRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, AgendaDay.AppointmentBooked):
            return AppointmentRow(
                number=event.number,
                agenda_id=event.originator_id.hex,
                slot=event.slot,
                patient_id=event.patient_id.hex,
                chart_number=event.chart_number,
                status=AppointmentStatus.BOOKED.value,
                booked_at=stamp,
                updated_at=stamp,
            )
        if row is None:
            return None
        return replace(row, status=STATUS_OF[type(event).TOPIC].value, updated_at=stamp)


@dataclass(frozen=True)
class PatientAppointment:
    """An appointment with its agenda day, as a patient's chart lists it."""

    number: str
    day: date
    slot: str
    professional: str
    site: str
    status: str


class AgendaQueries:
    def __init__(self, days: RowStore, appointments: RowStore) -> None:
        self.days = days
        self.appointments = appointments

    def by_number(self, number: str) -> AppointmentRow | None:
        return self.appointments.find_one(number=number.strip().upper())

    def day(self, agenda_id: UUID) -> AgendaDayRow | None:
        return self.days.find_one(agenda_id=agenda_id.hex)

    def by_patient(self, patient_id: UUID) -> list[PatientAppointment]:
        """A patient's appointments, by day and time."""
        rows = self.appointments.find(patient_id=patient_id.hex)
        days = self.days.load((r.agenda_id,) for r in rows)
        found = [
            PatientAppointment(r.number, day.day, r.slot, day.professional, day.site, r.status)
            for r in rows
            if (day := days.get((r.agenda_id,))) is not None
        ]
        return sorted(found, key=lambda a: (a.day, a.slot))

    def active_for_patient(self, patient_id: UUID, from_day: date) -> list[str]:
        """Numbers of the patient's booked or confirmed appointments on ``from_day`` or later."""
        active = {s.value for s in ACTIVE}
        return [a.number for a in self.by_patient(patient_id) if a.status in active and a.day >= from_day]

"""Agendas and appointments (seed 000, "Planeación, Agendamiento y Confirmación de citas"): the
AgendaDay aggregate given / when / then, random histories that never double-book, the use cases
on real stores, the laptop's rules, and the commands end to end."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from application.clinical.agenda import AgendaNotPlanned, InactiveProfessional
from application.errors import MenuDenied, UserNotFound
from application.replication import copy_aggregates
from cli.exit_codes import Exit
from cli.main import exit_code
from domain.clinical.agenda import (
    ACTIVE,
    AgendaDay,
    AppointmentClosed,
    AppointmentNotFound,
    AppointmentStatus,
    BookingsWouldBeLost,
    NoShowTooEarly,
    PastDay,
    PatientAlreadyBooked,
    SlotTaken,
    agenda_day_id,
)
from domain.clinical.patient import ChartMerged
from domain.context import recording
from domain.errors import DomainError, InvalidValue
from domain.sites.site import SiteMode
from domain.sites.site_policy import (
    LEASED_RULE,
    NEVER_ON_LAPTOP_RULE,
    NOT_ENABLED_RULE,
    ON_SITE_RULE,
    OperationRefused,
)
from projections.base import InMemoryRowStore
from projections.clinical.agenda import AppointmentsProjection
from tests.support.cli import Terminal, one_line
from tests.support.clinical import COORDINATOR, OpenStore, activity, add_user, patient_options, start_mission
from tests.support.given_when_then import context, given, replayed, when
from tests.support.security import ADMIN_PASSWORD, ANA_PASSWORD
from tests.support.sites import JOSE, MARIA, PEDRO, start_central

TODAY = date(2026, 3, 1)
DAY = date(2026, 3, 2)
JOSE_ID, MARIA_ID, PEDRO_ID = uuid4(), uuid4(), uuid4()


def day() -> AgendaDay:
    """08:00 to 09:00 in 20-minute slots: 08:00, 08:20, 08:40."""
    return AgendaDay.plan("CEN", "ana", DAY, "08:00", "09:00", 20, today=TODAY)


def book(number: str, slot: str, patient: UUID = JOSE_ID, chart: str = "CEN-1") -> Any:
    return lambda a: a.book(number, slot, patient, chart, TODAY)


# -- the aggregate ------------------------------------------------------------------------------
def test_planning_a_day_fixes_its_slots_and_its_id() -> None:
    with recording(context()):
        agenda = day()
    [event] = agenda.collect_events()

    assert isinstance(event, AgendaDay.Planned)
    assert (event.site, event.professional, event.day, event.start, event.end, event.slot_minutes) == (
        "CEN",
        "ana",
        DAY,
        "08:00",
        "09:00",
        20,
    )
    assert agenda.slots == ["08:00", "08:20", "08:40"]
    assert agenda.id == agenda_day_id("cen", "ANA", DAY)
    assert agenda_day_id("CEN", "ana", DAY) not in {
        agenda_day_id("BRG01", "ana", DAY),
        agenda_day_id("CEN", "ana", TODAY),
    }
    with recording(context()):
        assert AgendaDay.plan("CEN", "ana", DAY, "08:00", "09:10", 20, today=TODAY).slots == [
            "08:00",
            "08:20",
            "08:40",
        ]  # a last slot that does not fit whole is left out


@pytest.mark.parametrize(
    ("start", "end", "slot", "field"),
    [
        ("08:00", "08:10", 20, "end"),
        ("09:00", "08:00", 20, "end"),
        ("08:00", "12:00", 4, "slot_minutes"),
        ("08:00", "12:00", 241, "slot_minutes"),
        ("8:00", "12:00", 20, "start"),
        ("08:00", "24:00", 20, "end"),
    ],
)
def test_a_plan_needs_room_for_one_slot_of_a_sane_length(start: str, end: str, slot: int, field: str) -> None:
    with recording(context()), pytest.raises(InvalidValue) as refused:
        AgendaDay.plan("CEN", "ana", DAY, start, end, slot, today=TODAY)
    assert refused.value.field == field


def test_a_day_that_has_passed_takes_no_plan_and_no_booking() -> None:
    with recording(context()), pytest.raises(PastDay):
        AgendaDay.plan("CEN", "ana", TODAY - timedelta(days=1), "08:00", "09:00", 20, today=TODAY)
    agenda = given(day)
    with pytest.raises(PastDay):
        when(agenda, lambda a: a.book("CEN-1", "08:00", JOSE_ID, "CEN-1", DAY + timedelta(days=1)))


def test_booking_a_free_slot() -> None:
    agenda = given(day)

    [event] = when(agenda, book("CEN-7", "08:20"))

    assert isinstance(event, AgendaDay.AppointmentBooked)
    assert (event.number, event.slot, event.patient_id, event.chart_number) == (
        "CEN-7",
        "08:20",
        JOSE_ID,
        "CEN-1",
    )
    assert agenda.holder("08:20").number == "CEN-7"
    assert agenda.appointment("cen-7").status is AppointmentStatus.BOOKED


def test_no_double_booking_of_a_slot_nor_of_a_patient() -> None:
    agenda = given(day, book("CEN-1", "08:00"))

    with pytest.raises(SlotTaken) as taken:
        when(agenda, book("CEN-2", "08:00", MARIA_ID, "CEN-2"))
    assert taken.value.params["number"] == "CEN-1"
    assert exit_code(taken.value) == Exit.REFUSED
    with pytest.raises(PatientAlreadyBooked) as twice:
        when(agenda, book("CEN-2", "08:40"))
    assert twice.value.params["number"] == "CEN-1"
    with pytest.raises(InvalidValue) as not_a_slot:
        when(agenda, book("CEN-2", "08:10", MARIA_ID, "CEN-2"))
    assert not_a_slot.value.field == "time"
    assert agenda.collect_events() == []


def test_cancelling_frees_the_slot_and_the_patient() -> None:
    agenda = given(day, book("CEN-1", "08:00"))

    [event] = when(agenda, lambda a: a.cancel("CEN-1", "viaja"))

    assert isinstance(event, AgendaDay.AppointmentCancelled)
    assert (event.number, event.reason) == ("CEN-1", "viaja")
    assert agenda.holder("08:00") is None
    assert [e.number for e in when(agenda, book("CEN-2", "08:00"))] == ["CEN-2"]
    with pytest.raises(AppointmentClosed):
        when(agenda, lambda a: a.cancel("CEN-1", ""))


def test_confirming_only_a_booked_appointment() -> None:
    agenda = given(day, book("CEN-1", "08:00"))

    [event] = when(agenda, lambda a: a.confirm("cen-1"))

    assert isinstance(event, AgendaDay.AppointmentConfirmed) and event.number == "CEN-1"
    with pytest.raises(AppointmentClosed) as twice:
        when(agenda, lambda a: a.confirm("CEN-1"))
    assert twice.value.params["status"] == "confirmed"
    with pytest.raises(AppointmentNotFound) as unknown:
        when(agenda, lambda a: a.confirm("CEN-9"))
    assert exit_code(unknown.value) == Exit.NOT_FOUND
    assert agenda.holder("08:00").status is AppointmentStatus.CONFIRMED  # still holds its slot


def test_a_no_show_is_recorded_from_the_appointments_day_on() -> None:
    agenda = given(day, book("CEN-1", "08:00"), lambda a: a.confirm("CEN-1"))

    with pytest.raises(NoShowTooEarly):
        when(agenda, lambda a: a.mark_no_show("CEN-1", TODAY))
    [event] = when(agenda, lambda a: a.mark_no_show("CEN-1", DAY))

    assert isinstance(event, AgendaDay.AppointmentNoShow)
    assert agenda.appointment("CEN-1").status is AppointmentStatus.NO_SHOW
    with pytest.raises(AppointmentClosed):
        when(agenda, lambda a: a.confirm("CEN-1"))


def test_replanning_may_not_lose_a_booking() -> None:
    agenda = given(day, book("CEN-1", "08:40"))

    assert when(agenda, lambda a: a.replan("08:00", "09:00", 20, TODAY)) == []  # the same plan
    [event] = when(agenda, lambda a: a.replan("08:00", "10:00", 20, TODAY))
    assert isinstance(event, AgendaDay.Replanned)
    assert agenda.slots[-1] == "09:40"
    with pytest.raises(BookingsWouldBeLost) as lost:
        when(agenda, lambda a: a.replan("08:00", "09:00", 30, TODAY))  # 08:00, 08:30: no 08:40
    assert lost.value.params == {"numbers": "CEN-1"}
    when(agenda, lambda a: a.cancel("CEN-1", ""))
    assert len(when(agenda, lambda a: a.replan("08:00", "09:00", 30, TODAY))) == 1


# -- random histories ---------------------------------------------------------------------------
PATIENTS = [(JOSE_ID, "CEN-1"), (MARIA_ID, "CEN-2"), (PEDRO_ID, "CEN-3")]


class BookingDesk(RuleBasedStateMachine):
    """Operators book, confirm, cancel, mark no-shows and re-plan one day at random. A slot never
    holds two active appointments, a patient never holds two, the aggregate rebuilt from its
    events is the same, and the appointments view agrees with it."""

    numbers = Bundle("numbers")

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Any] = []
        self.agenda = self._record(day)
        self.taken = 0
        self.view = InMemoryRowStore(AppointmentsProjection())

    def _record(self, command: Any) -> Any:
        with recording(context()):
            result = command()
        return result

    def _try(self, command: Any) -> None:
        try:
            with recording(context()):
                command(self.agenda)
        except DomainError:
            pass
        self._collect()

    def _collect(self) -> None:
        new = self.agenda.collect_events()
        self.events.extend(new)
        projection = self.view.projection
        for event in new:
            if type(event).TOPIC in projection.topics:
                key = projection.key(event)
                row = projection.apply(self.view.rows.get(key), event)
                self.view.rows[key] = row

    @rule(
        target=numbers,
        slot=st.sampled_from(["08:00", "08:20", "08:40", "09:00", "09:20"]),
        who=st.sampled_from(PATIENTS),
    )
    def book(self, slot: str, who: tuple[UUID, str]) -> str:
        self.taken += 1
        number = f"CEN-{self.taken}"
        self._try(lambda a: a.book(number, slot, who[0], who[1], TODAY))
        return number

    @rule(number=numbers)
    def confirm(self, number: str) -> None:
        self._try(lambda a: a.confirm(number))

    @rule(number=numbers, reason=st.sampled_from(["", "viaja"]))
    def cancel(self, number: str, reason: str) -> None:
        self._try(lambda a: a.cancel(number, reason))

    @rule(number=numbers, on=st.sampled_from([TODAY, DAY]))
    def no_show(self, number: str, on: date) -> None:
        self._try(lambda a: a.mark_no_show(number, on))

    @rule(end=st.sampled_from(["09:00", "09:40", "10:00"]), slot=st.sampled_from([20, 30, 40]))
    def replan(self, end: str, slot: int) -> None:
        self._try(lambda a: a.replan("08:00", end, slot, TODAY))

    @invariant()
    def a_slot_holds_one_active_appointment_and_a_patient_one(self) -> None:
        active = [a for a in self.agenda.appointments.values() if a.status in ACTIVE]
        assert len({a.slot for a in active}) == len(active)
        assert len({a.patient_id for a in active}) == len(active)
        assert all(a.slot in self.agenda.slots for a in active)

    @invariant()
    def the_history_rebuilds_the_same_day(self) -> None:
        if self.events:
            rebuilt = replayed(self.events)
            assert rebuilt.appointments == self.agenda.appointments
            assert (rebuilt.start, rebuilt.end, rebuilt.slot_minutes) == (
                self.agenda.start,
                self.agenda.end,
                self.agenda.slot_minutes,
            )

    @invariant()
    def the_view_agrees(self) -> None:
        in_view = {r.number: (r.slot, r.status) for r in self.view.rows.values()}
        booked = {n: (a.slot, a.status.value) for n, a in self.agenda.appointments.items()}
        assert in_view == booked


TestBookingDesk = BookingDesk.TestCase


# -- the use cases on a store -------------------------------------------------------------------
PLAN: dict[str, Any] = {"professional": "admin", "day": "2026-03-02", "start": "08:00", "end": "09:00"}


def booking(chart: str, time: str, **extra: Any) -> dict[str, Any]:
    return {"professional": "admin", "day": "2026-03-02", "time": time, "chart_number": chart, **extra}


class TestOnAStore:
    """Central on SQLite and on PostgreSQL."""

    def test_plan_book_confirm_cancel_and_show(self, open_store: OpenStore, store_url: str) -> None:
        central, admin = start_central(open_store, store_url)
        for patient in (JOSE, MARIA, PEDRO):
            central.patients.register(admin, patient)

        planned = central.agendas.plan(admin, {**PLAN, "slot_minutes": 20})
        assert [(s.time, s.status) for s in planned.slots] == [
            ("08:00", "free"),
            ("08:20", "free"),
            ("08:40", "free"),
        ]
        first = central.agendas.book(admin, booking("cen-1", "08:00"))
        second = central.agendas.book(admin, booking("CEN-2", "08:20"))
        assert (first.number, first.chart_number, first.patient_name, first.status) == (
            "CEN-1",
            "CEN-1",
            "José Peña",
            "booked",
        )
        assert second.number == "CEN-2"
        with pytest.raises(SlotTaken):
            central.agendas.book(admin, booking("CEN-3", "08:00"))
        with pytest.raises(PatientAlreadyBooked):
            central.agendas.book(admin, booking("CEN-1", "08:40"))

        assert central.agendas.confirm(admin, "cen-1").status == "confirmed"
        cancelled = central.agendas.cancel(admin, "CEN-2", {"reason": "viaja a Neiva"})
        assert cancelled.status == "cancelled"
        third = central.agendas.book(admin, booking("CEN-3", "08:20"))
        assert third.number == "CEN-3"  # the refused bookings took no number
        shown = central.agendas.show(admin, "ADMIN", "2026-03-02")
        assert [(s.time, s.number, s.status) for s in shown.slots] == [
            ("08:00", "CEN-1", "confirmed"),
            ("08:20", "CEN-3", "booked"),
            ("08:40", "", "free"),
        ]
        assert [(a.number, a.status) for a in shown.appointments] == [
            ("CEN-1", "confirmed"),
            ("CEN-2", "cancelled"),
            ("CEN-3", "booked"),
        ]
        with pytest.raises(BookingsWouldBeLost):
            central.agendas.plan(admin, {**PLAN, "end": "08:20", "slot_minutes": 20})
        replanned = central.agendas.plan(admin, {**PLAN, "end": "10:00", "slot_minutes": 20})
        assert len(replanned.slots) == 6

        with pytest.raises(NoShowTooEarly):
            central.agendas.no_show(admin, "CEN-1")
        with pytest.raises(AppointmentNotFound):
            central.agendas.confirm(admin, "CEN-99")

        assert [r.comment for r in activity(central, admin, action="agenda.plan")] == [
            "PROFESIONAL=admin FECHA=2026-03-02"
        ]
        [replan] = activity(central, admin, action="agenda.replan")
        assert replan.comment == "PROFESIONAL=admin FECHA=2026-03-02"
        assert [r.comment for r in activity(central, admin, action="appointment.book")] == [
            "CITA=CEN-1 HIST=CEN-1",
            "CITA=CEN-2 HIST=CEN-2",
            "CITA=CEN-3 HIST=CEN-3",
        ]
        assert [r.comment for r in activity(central, admin, action="appointment.confirm")] == ["CITA=CEN-1"]
        [cancel] = activity(central, admin, action="appointment.cancel")
        assert cancel.comment == "CITA=CEN-2"  # the reason stays out of the log
        [view] = activity(central, admin, action="agenda.view")
        assert view.comment == "PROFESIONAL=admin FECHA=2026-03-02"

    def test_the_professional_must_be_an_active_user(self, open_store: OpenStore, store_url: str) -> None:
        central, admin = start_central(open_store, store_url)
        central.patients.register(admin, JOSE)
        add_user(central, admin, "beto", ["patient"], "montaña-verde-al-amanecer")

        with pytest.raises(UserNotFound) as unknown:
            central.agendas.plan(admin, {**PLAN, "professional": "nadie"})
        assert exit_code(unknown.value) == Exit.NOT_FOUND
        central.agendas.plan(admin, {**PLAN, "professional": "beto"})
        central.users.deactivate(admin, "beto")
        with pytest.raises(InactiveProfessional):
            central.agendas.book(admin, booking("CEN-1", "08:00", professional="beto"))
        with pytest.raises(AgendaNotPlanned) as not_planned:
            central.agendas.book(admin, booking("CEN-1", "08:00"))
        assert exit_code(not_planned.value) == Exit.NOT_FOUND
        with pytest.raises(InvalidValue) as invalid:
            central.agendas.plan(admin, {**PLAN, "start": "8h"})
        assert invalid.value.field == "start"


def test_a_user_needs_the_agenda_and_appointment_options(open_store: OpenStore, sqlite_url: str) -> None:
    central, admin = start_central(open_store, sqlite_url)
    central.patients.register(admin, JOSE)
    central.agendas.plan(admin, PLAN)
    clerk = add_user(central, admin, "beto", ["agenda.show", "appointment.book"], "montaña-verde-al-amanecer")

    with pytest.raises(MenuDenied):
        central.agendas.plan(clerk, PLAN)
    booked = central.agendas.book(clerk, booking("CEN-1", "08:00"))
    with pytest.raises(MenuDenied) as denied:
        central.agendas.cancel(clerk, booked.number, {})
    assert denied.value.params["option"] == "appointment.cancel"
    assert central.agendas.show(clerk, "admin", DAY).slots[0].number == booked.number


def test_a_merged_chart_is_not_booked(open_store: OpenStore, sqlite_url: str) -> None:
    central, admin = start_central(open_store, sqlite_url)
    central.patients.register(admin, JOSE)
    central.patients.register(admin, MARIA)
    central.charts.merge(admin, keep="CEN-1", remove="CEN-2")
    central.agendas.plan(admin, PLAN)

    with pytest.raises(ChartMerged) as merged:
        central.agendas.book(admin, booking("CEN-2", "08:00"))
    assert merged.value.params == {"chart_number": "CEN-2", "kept_chart": "CEN-1"}


# -- the laptop ---------------------------------------------------------------------------------
def test_a_laptop_plans_and_books_its_own_agenda_on_mission(open_store: OpenStore, tmp_path: Path) -> None:
    mission = start_mission(open_store, f"sqlite:///{tmp_path}/central.db", tmp_path)
    laptop, ana = mission.laptop, mission.ana

    planned = laptop.agendas.plan(ana, {**PLAN, "professional": COORDINATOR})
    booked = laptop.agendas.book(ana, booking("CEN-1", "08:20", professional=COORDINATOR))
    assert (planned.site, booked.number, booked.site) == ("BRG01", "BRG01-1", "BRG01")
    assert laptop.agendas.confirm(ana, "BRG01-1").status == "confirmed"
    with pytest.raises(OperationRefused) as other_site:  # reports of other sites: never on a laptop
        laptop.agendas.show(ana, COORDINATOR, DAY, site="CEN")
    assert other_site.value.template == NEVER_ON_LAPTOP_RULE

    # Central holds the site's agenda (as a sync brings it) but may not touch it on mission.
    central = mission.central
    copy_aggregates(laptop.app, central.app, [agenda_day_id("BRG01", COORDINATOR, DAY)])
    central.views.catch_up()
    assert central.agendas.show(mission.admin, COORDINATOR, DAY, site="brg01").slots[1].number == "BRG01-1"
    with pytest.raises(OperationRefused) as leased:
        central.agendas.cancel(mission.admin, "BRG01-1", {})
    assert leased.value.template == LEASED_RULE

    mission.change_parameters(disable=["appointments"])
    with pytest.raises(OperationRefused) as not_enabled:
        laptop.agendas.cancel(ana, "BRG01-1", {})
    assert not_enabled.value.template == NOT_ENABLED_RULE
    mission.change_parameters(enable=["appointments"])
    mission.set_mode(SiteMode.ON_SITE)
    with pytest.raises(OperationRefused) as on_site:
        laptop.agendas.book(ana, booking("CEN-1", "08:40", professional=COORDINATOR))
    assert on_site.value.template == ON_SITE_RULE
    assert central.agendas.cancel(mission.admin, "BRG01-1", {}).status == "cancelled"  # INS: central may


# -- the commands -------------------------------------------------------------------------------
def book_args(day: str, time: str, chart: str, professional: str = COORDINATOR) -> list[str]:
    return [
        "appointment",
        "book",
        "--professional",
        professional,
        "--date",
        day,
        "--time",
        time,
        "--patient",
        chart,
    ]


@pytest.mark.store
def test_agenda_and_appointment_commands_end_to_end(tmp_path: Path) -> None:
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run.log_in("admin", ADMIN_PASSWORD)
    run("user", "create", COORDINATOR, "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    for patient in (JOSE, MARIA):
        run("patient", "register", *patient_options(patient))
    today = date.today().isoformat()  # the commands run on the system clock

    planned = run(
        "agenda", "plan", "--professional", "ana", "--date", today, "--from", "08:00", "--to", "09:00"
    )
    assert "3 slots planned" in planned.stderr
    booked = run.json(
        "appointment",
        "book",
        "--professional",
        "ana",
        "--date",
        today,
        "--time",
        "08:20",
        "--patient",
        "CEN-1",
    )
    assert (booked["number"], booked["time"], booked["status"]) == ("CEN-1", "08:20", "booked")
    taken = run(*book_args(today, "08:20", "CEN-2"), code=Exit.REFUSED)
    assert one_line(taken) == f"the 08:20 slot of ana on {today} is taken by appointment CEN-1"
    run(*book_args(today, "08:21", "CEN-2"), code=Exit.INVALID)
    run(*book_args(today, "08:00", "CEN-2", professional="nadie"), code=Exit.NOT_FOUND)
    run("agenda", "plan", "--professional", "ana", "--date", "2026-02-30", "--from", "08:00", "--to", "09:00",
        code=Exit.INVALID)  # fmt: skip

    assert run.json("appointment", "confirm", "CEN-1")["status"] == "confirmed"
    second = run.json(
        "appointment",
        "book",
        "--professional",
        "ana",
        "--date",
        today,
        "--time",
        "08:00",
        "--patient",
        "CEN-2",
    )
    assert run.json("appointment", "cancel", second["number"], "--reason", "viaja")["status"] == "cancelled"
    assert run.json("appointment", "no-show", "CEN-1")["status"] == "no-show"
    run("appointment", "confirm", "CEN-9", code=Exit.NOT_FOUND)

    shown = run.json("agenda", "show", "--professional", "ana", "--date", today)
    assert [(s["time"], s["number"], s["status"]) for s in shown["slots"]] == [
        ("08:00", "", "free"),
        ("08:20", "", "free"),
        ("08:40", "", "free"),
    ]  # cancelled and no-show appointments hold no slot
    assert [(a["number"], a["status"]) for a in shown["appointments"]] == [
        ("CEN-2", "cancelled"),
        ("CEN-1", "no-show"),
    ]
    table = run("agenda", "show", "--professional", "ana", "--date", today).stdout
    assert "Agenda of ana" in table and "free" in table
    missing = run("agenda", "show", "--professional", "ana", "--date", "2030-01-01", code=Exit.NOT_FOUND)
    assert "has no agenda on 2030-01-01" in one_line(missing)

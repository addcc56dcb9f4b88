"""Time-based locks (seed 004, "Prevención de borrado o modificación"): after N days, counted by
date only, no deleting a visit, changing its visit data, changing or deleting a paragraph (from its
creation date), changing observations, deleting a document (from its attachment date); the
administrator is exempt; adding paragraphs and documents is always allowed; a clock set back before
the newest recorded event unlocks nothing."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.store import StoreLocation, open_event_store
from adapters.system import FixedClock, Host
from application.brigada import Brigada
from application.context import Actor
from application.core import Core
from application.errors import AdministratorOnly, CentralOnly, MenuDenied
from domain.clinical.encounter import Encounter, EncounterKind
from domain.context import EventContext, recording
from domain.errors import InvalidValue
from domain.security import menu
from domain.security.locks import MAX_DAYS, Locked, LockRule, LockSettings
from domain.security.user import user_id
from domain.sites.site import SiteMode
from domain.store_identity import StoreIdentity, StoreRole
from domain.store_time import MAX_DAYS_AHEAD
from tests.support.encounters import MakeUser, event_count, full_visit, password_of, register_patient
from tests.support.hashing import QuickArgon2Hasher
from tests.support.security import ADMIN_PASSWORD, log_in
from tests.support.sites import set_site_mode

D = date(2026, 3, 1)
dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
days = st.integers(min_value=0, max_value=400)
rules = st.sampled_from(list(LockRule))


def model_locked(n: int, since: date, today: date, exempt: bool) -> bool:
    """The seed's rule, written plainly: locked once N whole days have passed, N = 0 is off."""
    return n > 0 and (today - since).days >= n and not exempt


def only(rule: LockRule, n: int) -> LockSettings:
    return LockSettings(**{rule.value: n})


EVERY_RULE = LockSettings(**{rule.value: 1 for rule in LockRule})


# -- the settings, by date only -----------------------------------------------------------------
@pytest.mark.parametrize("rule", list(LockRule), ids=lambda r: r.value)
def test_a_rule_locks_on_the_nth_day_after_its_date_and_not_before(rule: LockRule) -> None:
    settings = only(rule, 5)

    assert not settings.is_locked(rule, D, D + timedelta(days=4))
    assert settings.is_locked(rule, D, D + timedelta(days=5))
    assert settings.is_locked(rule, D, D + timedelta(days=400))
    assert not settings.is_locked(rule, D, D + timedelta(days=5), exempt=True)
    others = [r for r in LockRule if r is not rule]
    assert not any(settings.is_locked(r, D, D + timedelta(days=400)) for r in others)


def test_zero_days_switches_a_rule_off() -> None:
    assert not any(LockSettings().is_locked(rule, D, D + timedelta(days=MAX_DAYS)) for rule in LockRule)


def test_require_open_names_the_rule_its_days_and_the_date_it_counts_from() -> None:
    settings = only(LockRule.CHANGE_PARAGRAPH, 3)
    settings.require_open(LockRule.CHANGE_PARAGRAPH, D, D + timedelta(days=2))

    with pytest.raises(Locked) as locked:
        settings.require_open(LockRule.CHANGE_PARAGRAPH, D, D + timedelta(days=3))

    assert locked.value.params == {
        "what": "changing or deleting report paragraphs",
        "days": 3,
        "since": "2026-03-01",
        "rule": "change_paragraph",
    }


@pytest.mark.parametrize("value", [-1, MAX_DAYS + 1])
@pytest.mark.parametrize("rule", list(LockRule), ids=lambda r: r.value)
def test_days_out_of_range_are_refused_naming_the_rule(rule: LockRule, value: int) -> None:
    with pytest.raises(InvalidValue) as invalid:
        only(rule, value).check()
    assert invalid.value.field == rule.value


@given(n=days, since=dates, today=dates, exempt=st.booleans(), rule=rules)
def test_is_locked_agrees_with_the_plain_rule(
    n: int, since: date, today: date, exempt: bool, rule: LockRule
) -> None:
    settings = only(rule, n)
    expected = model_locked(n, since, today, exempt)

    assert settings.is_locked(rule, since, today, exempt) is expected
    if expected:
        with pytest.raises(Locked):
            settings.require_open(rule, since, today, exempt)
    else:
        settings.require_open(rule, since, today, exempt)


# -- the aggregate, with dates chosen by hypothesis ---------------------------------------------
def context(day: date) -> EventContext:
    return EventContext(
        event_id=uuid.uuid4(),
        site="CEN",
        user="medico",
        computer="pc",
        ip_octet=7,
        recorded_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
        business_date=day,
    )


DOC = uuid.UUID("0d0c0000-0000-4000-8000-0000000000d1")

# rule -> the date it counts from ("visit" or "item"), and the command it forbids
COMMANDS: dict[LockRule, tuple[str, Callable[[Encounter, date, LockSettings, bool], Any]]] = {
    LockRule.DELETE_VISIT: ("visit", lambda e, t, s, x: e.delete(t, s, x)),
    LockRule.CHANGE_VISIT_DATA: (
        "visit",
        lambda e, t, s, x: e.change_visit_data({"reason": "Otra"}, t, s, x),
    ),
    LockRule.CHANGE_PARAGRAPH: ("item", lambda e, t, s, x: e.change_paragraph("P1", "Otro", t, s, x)),
    LockRule.CHANGE_OBSERVATIONS: ("visit", lambda e, t, s, x: e.change_observations("Otra", t, s, x)),
    LockRule.DELETE_DOCUMENT: ("item", lambda e, t, s, x: e.delete_document(DOC, t, s, x)),
}


def visit_with_items(visit_day: date, item_day: date) -> Encounter:
    with recording(context(visit_day)):
        encounter = Encounter(
            number="CEN-1",
            patient_id=uuid.uuid4(),
            chart_number="CEN-1",
            kind=EncounterKind.OUTPATIENT,
            visit_date=visit_day,
            professional="medico",
            visit_data={"reason": "Fiebre"},
            appointment=None,
            admission=None,
        )
    with recording(context(item_day)):
        encounter.add_paragraph("TRATAMIENTO", "Reposo", item_day)
        encounter.attach_document(DOC, "rx.png", "image/png", "ab" * 32, 10, item_day)
    encounter.collect_events()
    return encounter


@given(
    n=days,
    visit_day=dates,
    item_offset=st.integers(min_value=0, max_value=30),
    today_offset=st.integers(min_value=0, max_value=500),
    exempt=st.booleans(),
    rule=rules,
)
def test_each_command_is_refused_exactly_when_its_rule_locks(
    n: int, visit_day: date, item_offset: int, today_offset: int, exempt: bool, rule: LockRule
) -> None:
    item_day = visit_day + timedelta(days=item_offset)
    today = visit_day + timedelta(days=today_offset)
    encounter = visit_with_items(visit_day, item_day)
    counts_from, command = COMMANDS[rule]
    since = visit_day if counts_from == "visit" else item_day
    settings = only(rule, n)

    with recording(context(today)):
        if model_locked(n, since, today, exempt):
            with pytest.raises(Locked):
                command(encounter, today, settings, exempt)
            assert encounter.collect_events() == []
        else:
            command(encounter, today, settings, exempt)
            assert len(encounter.collect_events()) == 1


@given(today_offset=st.integers(min_value=0, max_value=500), exempt=st.booleans())
def test_adding_paragraphs_and_documents_is_always_allowed(today_offset: int, exempt: bool) -> None:
    encounter = visit_with_items(D, D)
    today = D + timedelta(days=today_offset)

    with recording(context(today)):
        assert encounter.add_paragraph("NOTA", "Addendum", today) == "P2"
        encounter.attach_document(uuid.uuid4(), "b.png", "image/png", "cd" * 32, 3, today)

    assert len(encounter.collect_events()) == 2


def test_locks_in_force_lists_the_visit_level_rules_that_apply() -> None:
    encounter = visit_with_items(D, D)
    later = D + timedelta(days=1)

    assert encounter.locks_in_force(later, EVERY_RULE, exempt=False) == [
        LockRule.DELETE_VISIT,
        LockRule.CHANGE_VISIT_DATA,
        LockRule.CHANGE_OBSERVATIONS,
    ]
    assert encounter.locks_in_force(D, EVERY_RULE, exempt=False) == []
    assert encounter.locks_in_force(later, EVERY_RULE, exempt=True) == []


# -- through the application --------------------------------------------------------------------
@pytest.fixture
def ana(make_user: MakeUser) -> Actor:
    return make_user("ana")


@pytest.fixture
def chart(central: Brigada, admin: Actor) -> str:
    return register_patient(central, admin)


def set_clock(clock: FixedClock, day: date, hour: int = 12, minute: int = 0) -> None:
    clock.current = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Target:
    """Two of everything a rule protects, made on the same day: one to change before the rule
    locks, one to try after."""

    numbers: list[str]
    documents: list[str]


# rule -> what it forbids, through the application, on the i-th visit of a Target
Attempt = Callable[[Brigada, Actor, Target, int], Any]
ATTEMPTS: dict[LockRule, Attempt] = {
    LockRule.DELETE_VISIT: lambda b, a, t, i: b.encounters.delete(a, t.numbers[i]),
    LockRule.CHANGE_VISIT_DATA: lambda b, a, t, i: b.encounters.change_visit_data(
        a, t.numbers[i], {"reason": f"Motivo {uuid.uuid4().hex[:6]}"}
    ),
    LockRule.CHANGE_PARAGRAPH: lambda b, a, t, i: b.encounters.change_paragraph(
        a, t.numbers[i], "P1", f"Texto {uuid.uuid4().hex[:6]}"
    ),
    LockRule.CHANGE_OBSERVATIONS: lambda b, a, t, i: b.encounters.set_observations(
        a, t.numbers[i], f"Obs {uuid.uuid4().hex[:6]}"
    ),
    LockRule.DELETE_DOCUMENT: lambda b, a, t, i: b.encounters.delete_document(
        a, t.numbers[i], t.documents[i]
    ),
}


def target(brigada: Brigada, actor: Actor, chart: str) -> Target:
    made = Target([], [])
    for _ in range(3):
        number = brigada.encounters.open(actor, {"chart_number": chart}).number
        brigada.encounters.add_paragraph(actor, number, {"name": "TRATAMIENTO", "text": "Reposo"})
        made.numbers.append(number)
        made.documents.append(brigada.encounters.attach_document(actor, number, "a.txt", b"a", "text/plain"))
    return made


# Deleting the visit last: after it, nothing else can be tried on that visit.
IN_ORDER = [
    LockRule.CHANGE_VISIT_DATA,
    LockRule.CHANGE_PARAGRAPH,
    LockRule.CHANGE_OBSERVATIONS,
    LockRule.DELETE_DOCUMENT,
    LockRule.DELETE_VISIT,
]


@pytest.mark.parametrize("rule", list(LockRule), ids=lambda r: r.value)
def test_each_rule_locks_through_the_application_after_its_days(
    central: Brigada, admin: Actor, ana: Actor, chart: str, clock: FixedClock, rule: LockRule
) -> None:
    central.locks.set(admin, {rule.value: 3})
    visits = target(central, ana, chart)
    attempt = ATTEMPTS[rule]

    clock.advance(days=2)  # two days later: still open
    ana = log_in(central, "ana", password_of("ana"))
    attempt(central, ana, visits, 0)

    clock.advance(days=1)  # the third day: locked for the user, not for the administrator
    ana = log_in(central, "ana", password_of("ana"))
    before = event_count(central)
    with pytest.raises(Locked) as locked:
        attempt(central, ana, visits, 1)
    assert locked.value.params["rule"] == rule.value
    assert locked.value.params["since"] == "2026-03-01"
    assert event_count(central) == before + 1  # only the refused attempt's access record (issue 17)

    admin = log_in(central, "admin", ADMIN_PASSWORD)
    attempt(central, admin, visits, 1)

    # The other rules are off: everything else still works for the user.
    for other in IN_ORDER:
        if other is not rule:
            ATTEMPTS[other](central, ana, visits, 2)


@pytest.mark.parametrize("rule", [LockRule.CHANGE_PARAGRAPH, LockRule.DELETE_DOCUMENT], ids=lambda r: r.value)
def test_paragraphs_and_documents_count_from_their_own_date(
    central: Brigada, admin: Actor, ana: Actor, chart: str, clock: FixedClock, rule: LockRule
) -> None:
    central.locks.set(admin, {rule.value: 2})
    number = full_visit(central, ana, chart).number
    clock.advance(days=5)
    ana = log_in(central, "ana", password_of("ana"))
    central.dates.confirm(ana, clock.today())  # 5 days later: someone stands behind the date

    # Adding is always allowed; the new item counts from today, the old one is locked.
    paragraph = central.encounters.add_paragraph(ana, number, {"name": "NOTA", "text": "Addendum"})
    document = central.encounters.attach_document(ana, number, "rx.png", b"png", "image/png")
    if rule is LockRule.CHANGE_PARAGRAPH:
        central.encounters.change_paragraph(ana, number, paragraph, "Addendum corregido")
        with pytest.raises(Locked):
            central.encounters.change_paragraph(ana, number, "P1", "Otro")
        with pytest.raises(Locked):
            central.encounters.delete_paragraph(ana, number, "P1")
        central.encounters.delete_paragraph(ana, number, paragraph)
    else:
        old = [d.item_id for d in central.encounters.show(ana, number).documents or [] if d.label != "rx.png"]
        with pytest.raises(Locked):
            central.encounters.delete_document(ana, number, old[0])
        central.encounters.delete_document(ana, number, document)


def test_days_are_counted_by_date_not_by_hours(
    central: Brigada, admin: Actor, ana: Actor, chart: str, clock: FixedClock
) -> None:
    central.locks.set(admin, {"change_visit_data": 1})
    set_clock(clock, D, 23, 58)
    ana = log_in(central, "ana", password_of("ana"))
    number = central.encounters.open(ana, {"chart_number": chart}).number

    clock.advance(minutes=3)  # two minutes past midnight: a new date, one day later

    with pytest.raises(Locked):
        central.encounters.change_visit_data(ana, number, {"reason": "Otra"})


def test_adding_paragraphs_and_documents_is_allowed_however_locked(
    central: Brigada, admin: Actor, ana: Actor, chart: str, clock: FixedClock
) -> None:
    central.locks.set(admin, {rule.value: 1 for rule in LockRule})
    visit = full_visit(central, ana, chart)
    clock.advance(days=200)
    ana = log_in(central, "ana", password_of("ana"))
    central.dates.confirm(ana, clock.today())

    assert central.encounters.add_paragraph(ana, visit.number, {"name": "NOTA", "text": "x"}) == "P2"
    central.encounters.attach_document(ana, visit.number, "b.txt", b"b", "text/plain")
    with pytest.raises(Locked):
        central.encounters.set_observations(ana, visit.number, "Otra")


def test_the_administrator_is_exempt(
    central: Brigada, admin: Actor, ana: Actor, chart: str, clock: FixedClock
) -> None:
    central.locks.set(admin, {rule.value: 1 for rule in LockRule})
    visit = full_visit(central, ana, chart)
    clock.advance(days=30)
    admin = log_in(central, "admin", ADMIN_PASSWORD)
    central.dates.confirm(admin, clock.today())

    for rule in IN_ORDER:
        ATTEMPTS[rule](central, admin, Target([visit.number], [visit.document_id]), 0)

    assert central.encounters.show(admin, visit.number).state == "deleted"


# -- the rollback guard -------------------------------------------------------------------------
def test_a_clock_set_back_before_the_newest_event_unlocks_nothing(
    central: Brigada, admin: Actor, ana: Actor, chart: str, clock: FixedClock
) -> None:
    central.locks.set(admin, {"change_visit_data": 5, "change_observations": 5})
    number = central.encounters.open(ana, {"chart_number": chart}).number

    set_clock(clock, D + timedelta(days=10))  # an event is recorded on day D+10
    ana = log_in(central, "ana", password_of("ana"))
    central.dates.confirm(ana, clock.today())
    central.encounters.add_paragraph(ana, number, {"name": "NOTA", "text": "Control"})

    set_clock(clock, D)  # the clock is set back to day D
    assert central.core.effective_today() == D + timedelta(days=10)
    with pytest.raises(Locked):
        central.encounters.change_visit_data(ana, number, {"reason": "Otra"})

    # Events recorded with the clock set back (a login, a view, an addendum) do not move it back.
    ana = log_in(central, "ana", password_of("ana"))
    central.encounters.show(ana, number)
    central.encounters.add_paragraph(ana, number, {"name": "NOTA", "text": "Otra"})
    assert central.core.effective_today() == D + timedelta(days=10)
    before = event_count(central)
    with pytest.raises(Locked):
        central.encounters.change_visit_data(ana, number, {"reason": "Otra"})
    with pytest.raises(Locked):
        central.encounters.set_observations(ana, number, "Otra")
    assert event_count(central) == before + 2  # only the two refused attempts' access records


class NoViews:
    def catch_up(self) -> None:
        pass


@pytest.mark.store
@settings(deadline=None)  # each example makes an SQLite store
@given(walk=st.lists(st.integers(min_value=-400, max_value=400), min_size=1, max_size=8), n=days)
def test_no_clock_walk_moves_effective_today_back(walk: list[int], n: int) -> None:
    """Whatever the clock does between commands (forwards, backwards), effective today is never
    before the latest date a recorded view was dated with, and a view moves that date only when
    the clock is at most MAX_DAYS_AHEAD past it (domain/store_time.py): a lock that once applied
    applies from then on."""
    clock = FixedClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        app, engine = open_event_store(StoreLocation.parse(f"sqlite:///{folder}/central.db"), create=True)
        try:
            core = Core(app, NoViews(), clock, Host("pc", 7), QuickArgon2Hasher())  # type: ignore[arg-type]
            with core.acting_as("sistema", site="CEN"):
                app.save(StoreIdentity(role=StoreRole.CENTRAL, site_code="CEN", software_version="t"))
            walk_the_clock(core, clock, walk, n)
        finally:
            app.close()
            engine.dispose()


def walk_the_clock(core: Core, clock: FixedClock, walk: list[int], n: int) -> None:
    """The clock moved by each step of ``walk`` (days), a view recorded after each: effective
    today, and a lock of ``n`` days on a visit of day D, against the model."""
    settings = only(LockRule.CHANGE_VISIT_DATA, n)
    store_day = D  # the model: the newest confirmed date
    for step in walk:
        clock.advance(days=step)
        if (clock.today() - store_day).days <= MAX_DAYS_AHEAD:
            store_day = max(store_day, clock.today())
        core.record_access("ana", "report.view", {"HIST": "CEN-1", "VISITA": "CEN-1"})
        today = core.effective_today()

        assert today == max(clock.today(), store_day)
        assert settings.is_locked(LockRule.CHANGE_VISIT_DATA, D, today) is model_locked(
            n, D, today, exempt=False
        )


# -- encounter show -----------------------------------------------------------------------------
def test_show_lists_the_locks_in_force_and_marks_locked_items(
    central: Brigada, admin: Actor, ana: Actor, chart: str, clock: FixedClock
) -> None:
    central.locks.set(admin, {rule.value: 2 for rule in LockRule})
    visit = full_visit(central, ana, chart)

    view = central.encounters.show(ana, visit.number)
    assert view.locks == []
    assert [p.locked for p in view.paragraphs or []] == [False]
    assert [d.locked for d in view.documents or []] == [False]

    clock.advance(days=2)
    ana = log_in(central, "ana", password_of("ana"))
    central.encounters.add_paragraph(ana, visit.number, {"name": "NOTA", "text": "Addendum"})
    central.encounters.attach_document(ana, visit.number, "rx.png", b"png", "image/png")

    view = central.encounters.show(ana, visit.number)
    assert view.locks == ["delete_visit", "change_visit_data", "change_observations"]
    assert [(p.item_id, p.locked) for p in view.paragraphs or []] == [("P1", True), ("P2", False)]
    assert [(d.label, d.locked) for d in view.documents or []] == [
        ("laboratorio.pdf", True),
        ("rx.png", False),
    ]
    assert all(not d.locked for d in view.diagnoses or [])

    for_admin = central.encounters.show(admin, visit.number)
    assert for_admin.locks == []
    assert not any(i.locked for i in [*(for_admin.paragraphs or []), *(for_admin.documents or [])])


# -- policy locks show | set --------------------------------------------------------------------
def test_only_an_administrator_on_central_sets_the_locks(
    central: Brigada, admin: Actor, ana: Actor, make_user: MakeUser
) -> None:
    before = event_count(central)
    with pytest.raises(AdministratorOnly):
        central.locks.set(ana, {"delete_visit": 3})
    nobody = make_user("beto", options=frozenset(menu.EVERYTHING - {"policy.locks.show", "policy.locks.set"}))
    before = event_count(central)
    with pytest.raises(MenuDenied):
        central.locks.show(nobody)
    with pytest.raises(MenuDenied):
        central.locks.set(nobody, {"delete_visit": 3})
    assert event_count(central) == before + 2  # only the two refused attempts' access records

    settings = central.locks.set(admin, {"delete_visit": 3, "change_paragraph": 7})
    assert settings == LockSettings(delete_visit=3, change_paragraph=7)
    assert central.locks.show(ana) == settings
    assert central.locks.set(admin, {"change_paragraph": 0}) == LockSettings(delete_visit=3)

    before = event_count(central)
    central.locks.set(admin, {"delete_visit": 3})  # nothing changes: nothing recorded
    assert event_count(central) == before


@pytest.mark.parametrize(("field", "value"), [("delete_visit", -1), ("delete_document", MAX_DAYS + 1)])
def test_lock_days_out_of_range_are_refused(central: Brigada, admin: Actor, field: str, value: int) -> None:
    before = event_count(central)
    with pytest.raises(InvalidValue) as invalid:
        central.locks.set(admin, {field: value})
    assert invalid.value.field == field
    assert event_count(central) == before


def test_the_locks_reach_a_provisioned_laptop_and_apply_there(
    central: Brigada,
    admin: Actor,
    ana: Actor,
    chart: str,
    clock: FixedClock,
    open_store: Callable[..., Brigada],
    tmp_path: Path,
) -> None:
    central.locks.set(admin, {"change_visit_data": 2, "delete_visit": 2})
    central.sites.register(admin, {"code": "BRG01", "name": "Uno", "actions": ["patients", "care"]})
    laptop = open_store(f"sqlite:///{tmp_path}/brg01.db")
    central.sites.provision(admin, "BRG01", laptop, "brg01")
    set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(central)
    ana_there = log_in(laptop, "ana", password_of("ana"))

    assert laptop.locks.show(ana_there) == LockSettings(change_visit_data=2, delete_visit=2)
    number = laptop.encounters.open(ana_there, {"chart_number": chart}).number
    assert number == "BRG01-1"
    clock.advance(days=2)
    ana_there = log_in(laptop, "ana", password_of("ana"))
    with pytest.raises(Locked):
        laptop.encounters.change_visit_data(ana_there, number, {"reason": "Otra"})
    with pytest.raises(Locked):
        laptop.encounters.delete(ana_there, number)

    # The laptop never changes them, even for someone acting as an administrator.
    as_admin = Actor("admin", user_id("admin"), True, None)
    with pytest.raises(CentralOnly):
        laptop.locks.set(as_admin, {"delete_visit": 0})

"""The patient, number series and user aggregates: given past events, when a command, then new
events (or an error). No database: events are collected from the aggregate or replayed in POPO."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import MutableOrImmutableAggregate

from application.app import BrigadaApplication
from domain.base import BrigadaAggregate
from domain.clinical.patient import NothingToCorrect, Patient, PatientDetails
from domain.context import EventContext, MissingContext, recording
from domain.errors import InvalidValue
from domain.numbering import NumberSeries, series_id
from domain.security.user import AdminNotOnSite, User, user_id
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone
from tests.support.given_when_then import events_of, replayed

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)


def context(**overrides: Any) -> EventContext:
    values: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "site": "BRG01",
        "user": "enfermera",
        "computer": "laptop-3",
        "ip_octet": 42,
        "recorded_at": NOW,
        "business_date": TODAY,
    }
    return EventContext(**{**values, **overrides})


def adult(**overrides: Any) -> PatientDetails:
    details = PatientDetails(
        document_type=DocumentType.CC,
        document_number="1032456789",
        first_name="José",
        middle_name="Luis",
        first_surname="Peña",
        second_surname="Ñáñez",
        birth_date=date(1980, 5, 2),
        sex=Sex.MALE,
        municipality="05001",
        zone=Zone.URBAN,
        coverage_status=CoverageStatus.SUBSIDIZED,
    )
    return replace(details, **overrides)


def registered(details: PatientDetails | None = None) -> tuple[Patient, list[Any]]:
    """Given: a patient registered at BRG01 (its events already collected)."""
    with recording(context()):
        patient = Patient.register("BRG01-61", details or adult(), today=TODAY)
    return patient, list(patient.collect_events())


# -- registering --------------------------------------------------------------------------------
def test_registering_a_patient_records_registered_with_its_chart_number_and_details() -> None:
    with recording(context()):
        patient = Patient.register("BRG01-61", adult(), today=TODAY)

    [event] = patient.collect_events()
    assert isinstance(event, Patient.Registered)
    assert event.chart_number == "BRG01-61"
    assert event.details == adult().as_dict()
    assert event.originator_id == patient.id
    assert event.originator_version == 1
    assert patient.chart_number == "BRG01-61"
    assert patient.details == adult()


def test_every_event_carries_the_recording_context_with_its_own_event_id() -> None:
    opened = context()

    with recording(opened):
        patient = Patient.register("BRG01-61", adult(), today=TODAY)
        patient.correct(TODAY, first_name="Josefa", sex=Sex.FEMALE)
        patient.correct(TODAY, zone=Zone.RURAL)

    events = events_of(BrigadaAggregate.Event, patient.collect_events())
    assert len(events) == 3
    for event in events:
        assert (event.context.site, event.context.user) == ("BRG01", "enfermera")
        assert (event.context.computer, event.context.ip_octet) == ("laptop-3", 42)
        assert event.context.recorded_at == NOW
        assert event.context.business_date == TODAY
        assert event.timestamp == NOW  # the recording time, not the library's own clock
    event_ids = {event.context.event_id for event in events}
    assert len(event_ids) == 3
    assert opened.event_id not in event_ids


def test_an_event_triggered_outside_recording_raises_missing_context() -> None:
    with pytest.raises(MissingContext):
        Patient.register("BRG01-61", adult(), today=TODAY)

    patient, _events = registered()
    with pytest.raises(MissingContext):
        patient.correct(TODAY, first_name="Josefa")
    assert patient.collect_events() == []


# -- correcting ---------------------------------------------------------------------------------
def test_a_correction_records_only_the_fields_that_changed() -> None:
    patient, _events = registered()

    with recording(context()):
        patient.correct(TODAY, first_name="Josefa", first_surname="Peña", sex=Sex.FEMALE)

    [event] = patient.collect_events()
    assert isinstance(event, Patient.Corrected)
    assert event.changes == {"first_name": "Josefa", "sex": Sex.FEMALE}
    assert event.originator_version == 2
    assert patient.details == adult(first_name="Josefa", sex=Sex.FEMALE)


def test_correcting_to_the_recorded_values_is_refused_and_records_nothing() -> None:
    patient, _events = registered()

    with recording(context()), pytest.raises(NothingToCorrect):
        patient.correct(TODAY, first_name="José", municipality="05001")

    assert patient.collect_events() == []
    assert patient.version == 1


def test_correcting_an_unknown_field_is_a_programming_error() -> None:
    patient, _events = registered()

    with recording(context()), pytest.raises(ValueError, match="nickname"):
        patient.correct(TODAY, nickname="Pepe")


# -- rules on the details -----------------------------------------------------------------------
INVALID_REGISTRATIONS = [
    pytest.param(adult(birth_date=TODAY + timedelta(days=1)), "birth_date", id="future-birth"),
    pytest.param(adult(birth_date=date(2016, 1, 10)), "document_type", id="CC-for-a-10-year-old"),
    pytest.param(
        adult(document_type=DocumentType.TI, birth_date=date(1990, 1, 1)),
        "document_type",
        id="TI-for-an-adult",
    ),
    pytest.param(adult(document_number="10A2456789"), "document_number", id="letters-in-a-CC"),
    pytest.param(adult(municipality="00001"), "municipality", id="unknown-department"),
]


@pytest.mark.parametrize(("details", "field"), INVALID_REGISTRATIONS)
def test_registering_invalid_details_raises_invalid_value_naming_the_field(
    details: PatientDetails, field: str
) -> None:
    with recording(context()), pytest.raises(InvalidValue) as refused:
        Patient.register("BRG01-61", details, today=TODAY)

    assert refused.value.field == field
    assert str(refused.value)  # the template formats with its parameters


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"birth_date": TODAY + timedelta(days=1)}, "birth_date"),
        ({"document_type": DocumentType.TI}, "document_type"),
        ({"document_number": "ABC12345"}, "document_number"),
        ({"municipality": "03001"}, "municipality"),
    ],
)
def test_a_correction_that_breaks_a_rule_is_refused_and_records_nothing(
    changes: dict[str, Any], field: str
) -> None:
    patient, _events = registered()

    with recording(context()), pytest.raises(InvalidValue) as refused:
        patient.correct(TODAY, **changes)

    assert refused.value.field == field
    assert patient.collect_events() == []
    assert patient.details == adult()


def test_the_age_rule_names_the_document_the_ages_and_the_patient_age() -> None:
    child = adult(birth_date=date(2016, 1, 10))

    with pytest.raises(InvalidValue) as refused:
        child.check(TODAY)

    assert refused.value.params == {"document_type": "CC", "low": 18, "high": 200, "age": 10}
    assert str(refused.value) == "a CC is for ages 18 to 200; the patient is 10"


def test_a_cedula_is_accepted_on_the_18th_birthday_and_not_the_day_before() -> None:
    adult(birth_date=date(2008, 3, 1)).check(TODAY)

    with pytest.raises(InvalidValue):
        adult(birth_date=date(2008, 3, 2)).check(TODAY)


def test_a_passport_may_carry_letters_at_any_age() -> None:
    adult(document_type=DocumentType.PA, document_number="AB123456").check(TODAY)
    adult(document_type=DocumentType.PA, document_number="AB123456", birth_date=date(2025, 1, 1)).check(TODAY)


# -- replaying ----------------------------------------------------------------------------------
def test_replaying_the_events_gives_an_equal_patient() -> None:
    with recording(context()):
        patient = Patient.register("BRG01-61", adult(), today=TODAY)
        patient.correct(TODAY, first_name="Josefa", sex=Sex.FEMALE)
        patient.correct(TODAY, birth_date=date(1981, 5, 2), coverage_status=CoverageStatus.SOAT)
    events = patient.collect_events()

    assert replayed(events) == patient
    assert replayed(events[:2]).details == adult(first_name="Josefa", sex=Sex.FEMALE)


def test_a_patient_saved_and_loaded_through_an_application_is_equal() -> None:
    app = BrigadaApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with recording(context()):
        patient = Patient.register("BRG01-61", adult(), today=TODAY)
        patient.correct(TODAY, zone=Zone.RURAL, municipality="52835")
    app.save(patient)

    loaded: MutableOrImmutableAggregate[UUID] = app.repository.get(patient.id)

    assert loaded == patient
    assert isinstance(loaded, Patient)
    assert loaded.details.zone is Zone.RURAL
    [registered_event, corrected_event] = list(app.events.get(patient.id))
    assert isinstance(registered_event, Patient.Registered)
    assert isinstance(corrected_event, Patient.Corrected)
    assert registered_event.context.user == "enfermera"
    assert corrected_event.changes == {"zone": Zone.RURAL, "municipality": "52835"}


# -- numbering ----------------------------------------------------------------------------------
def test_a_number_series_takes_consecutive_numbers_prefixed_by_the_site() -> None:
    with recording(context()):
        series = NumberSeries(site="SITE", series="HIST")
        taken = [series.take(), series.take()]

    assert taken == ["SITE-1", "SITE-2"]
    assert series.id == series_id("SITE", "HIST")
    events = series.collect_events()
    assert [type(e) for e in events] == [
        NumberSeries.Started,
        NumberSeries.Advanced,
        NumberSeries.Advanced,
    ]
    assert replayed(events).last == 2


def test_series_ids_differ_by_site_and_by_series() -> None:
    ids = {series_id("SITE", "HIST"), series_id("OTHER", "HIST"), series_id("SITE", "VISITA")}
    assert len(ids) == 3


# -- users --------------------------------------------------------------------------------------
def a_user(*, is_admin: bool = False) -> User:
    with recording(context(user="sistema")):
        user = User(
            username="enfermera",
            full_name="Enfermera Jefe",
            is_admin=is_admin,
            password_hash="argon2-hash",
        )
    user.collect_events()
    return user


def log_in(user: User, *, matches: bool = True, on_central: bool = True) -> tuple[bool, uuid.UUID]:
    session_id = uuid.uuid4()
    with recording(context()):
        ok = user.log_in(
            password_matches=matches,
            on_central=on_central,
            session_id=session_id,
            token_hash="token-hash",
            now=NOW,
        )
    return ok, session_id


def test_a_wrong_password_records_login_failed_and_opens_no_session() -> None:
    user = a_user()

    ok, session_id = log_in(user, matches=False)

    assert ok is False
    assert [type(e) for e in user.collect_events()] == [User.LoginFailed]
    assert user.open_session(session_id) is None
    assert user.sessions == {}


def test_a_right_password_records_logged_in_and_opens_the_session() -> None:
    user = a_user()

    ok, session_id = log_in(user, on_central=False)

    assert ok is True
    [event] = user.collect_events()
    assert isinstance(event, User.LoggedIn)
    assert (event.session_id, event.token_hash, event.opened_at) == (session_id, "token-hash", NOW)
    assert user.open_session(session_id) == ("token-hash", NOW, "laptop-3")  # bound to its computer


def test_the_administrator_cannot_log_in_on_a_site_store() -> None:
    admin = a_user(is_admin=True)

    with pytest.raises(AdminNotOnSite):
        log_in(admin, on_central=False)

    assert admin.collect_events() == []
    assert admin.sessions == {}


def test_the_administrator_logs_in_on_central() -> None:
    admin = a_user(is_admin=True)

    ok, session_id = log_in(admin, on_central=True)

    assert ok is True
    assert admin.open_session(session_id) is not None


def test_logging_out_closes_the_session() -> None:
    user = a_user()
    _ok, session_id = log_in(user)
    user.collect_events()

    with recording(context()):
        user.log_out(session_id)

    [event] = user.collect_events()
    assert isinstance(event, User.LoggedOut)
    assert event.session_id == session_id
    assert user.open_session(session_id) is None


def test_logging_out_of_a_session_that_is_not_open_records_nothing() -> None:
    user = a_user()

    with recording(context()):
        user.log_out(uuid.uuid4())

    assert user.collect_events() == []


def test_user_ids_ignore_the_case_of_the_name() -> None:
    assert user_id("Enfermera") == user_id("enfermera") == a_user().id

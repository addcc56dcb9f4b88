"""The application on real stores: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import MutableOrImmutableAggregate

from adapters.bootstrap import open_brigada
from adapters.store import StoreLocation, StoreMissing, StoreUnreachable
from adapters.system import FixedClock
from application.brigada import Brigada
from application.context import Actor
from application.errors import (
    DuplicateDocument,
    NotAuthenticated,
    PatientNotFound,
    SessionExpired,
    StoreAlreadyInitialized,
    StoreNotInitialized,
)
from domain.access_log import Access
from domain.base import BrigadaAggregate
from domain.clinical.patient import NothingToCorrect, Patient
from domain.errors import Conflict, InvalidValue
from domain.numbering import NumberSeries, series_id
from domain.security.user import LoginRefused, User, user_id
from domain.store_identity import StoreRole
from projections.clinical.patients import PatientsProjection

PASSWORD = "a-long-password-1234"

JOSE: dict[str, Any] = {
    "document_type": "CC",
    "document_number": "1032456789",
    "first_name": "José",
    "middle_name": "Luis",
    "first_surname": "Peña",
    "second_surname": "Ñáñez",
    "birth_date": "1980-05-02",
    "sex": "M",
    "municipality": "05001",
    "zone": "02",
    "coverage_status": "04",
}
MARIA: dict[str, Any] = {
    "document_type": "TI",
    "document_number": "1011223344",
    "first_name": "María",
    "first_surname": "Muñoz",
    "birth_date": "2012-02-14",
    "sex": "F",
    "municipality": "52835",
    "zone": "01",
    "coverage_status": "01",
}


def raw_sql(url: str, statement: str) -> None:
    """Run one statement on the store's database with a plain driver, bypassing the application."""
    location = StoreLocation.parse(url)
    if location.kind == "sqlite":
        with sqlite3.connect(str(location.path)) as conn:
            conn.execute(statement.format(events="stored_events"))
        return
    with psycopg.connect(
        dbname=location.database, host=location.host, port=location.port, user=location.user
    ) as conn:
        conn.execute(statement.format(events=f'"{location.schema}".brigada_events'))


INVALID_REGISTRATIONS: list[tuple[dict[str, Any], str]] = [
    ({"municipality": "123"}, "municipality"),
    ({"municipality": "00123"}, "municipality"),
    ({"birth_date": "2099-01-01"}, "birth_date"),
    ({"birth_date": "02/05/1980"}, "birth_date"),
    ({"sex": "X"}, "sex"),
    ({"zone": "03"}, "zone"),
    ({"document_number": "12AB5678"}, "document_number"),
    ({"document_number": "12"}, "document_number"),
    ({"first_name": "J0sé"}, "first_name"),
    ({"first_surname": ""}, "first_surname"),
    ({"birth_date": "2015-01-01"}, "document_type"),
    ({"blood_type": "O+"}, "blood_type"),
]
INVALID_CORRECTIONS: list[tuple[dict[str, Any], str]] = [
    ({"municipality": "123"}, "municipality"),
    ({"document_type": "TI"}, "document_type"),
    ({"birth_date": "2026-03-02"}, "birth_date"),
    ({"document_number": "X1234"}, "document_number"),
]


class TestStore:
    @pytest.fixture
    def central(self, store_url: str, open_store: Any) -> Brigada:
        brigada = open_store(store_url)
        brigada.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
        return brigada

    @pytest.fixture
    def actor(self, central: Brigada) -> Actor:
        actor, _ticket = central.auth.resume(central.auth.login("admin", PASSWORD))
        return actor

    # -- initializing ---------------------------------------------------------------------------
    def test_init_records_the_identity_and_the_administrator_stamped_with_context(
        self, central: Brigada, store_url: str, count_events: Any, clock: FixedClock
    ) -> None:
        identity = central.core.require_identity()
        admin = central.core.existing(User, user_id("admin"))

        assert (identity.role, identity.site_code, identity.is_central) == (
            StoreRole.CENTRAL,
            "CEN",
            True,
        )
        assert (admin.username, admin.is_admin, admin.full_name) == ("admin", True, "Administrador")
        assert admin.password_hash.startswith("$argon2id$")
        assert PASSWORD not in admin.password_hash
        assert count_events(store_url) == 2
        [created] = central.app.events.get(admin.id)
        assert isinstance(created, BrigadaAggregate.Event)
        ctx = created.context
        assert (ctx.site, ctx.user, ctx.computer, ctx.ip_octet) == ("CEN", "sistema", "test-pc", 7)
        assert created.timestamp == ctx.recorded_at == clock.now()

    def test_a_store_is_initialized_once_and_a_refused_init_writes_nothing(
        self, store_url: str, open_store: Any, count_events: Any
    ) -> None:
        brigada = open_store(store_url)
        with pytest.raises(StoreNotInitialized):
            brigada.auth.login("admin", PASSWORD)
        with pytest.raises(InvalidValue) as refused:
            brigada.setup.initialize("central", "CEN", "admin", "Administrador", "too-short")
        assert refused.value.field == "password"
        with pytest.raises(InvalidValue) as refused:
            brigada.setup.initialize("central", "cen", "admin", "Administrador", PASSWORD)
        assert refused.value.field == "site_code"
        assert count_events(store_url) == 0

        brigada.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
        with pytest.raises(StoreAlreadyInitialized):
            brigada.setup.initialize("site", "BRG01", "otro", "Otro", PASSWORD)

        assert count_events(store_url) == 2

    # -- logging in -----------------------------------------------------------------------------
    def test_logging_in(self, central: Brigada, store_url: str, count_events: Any, clock: FixedClock) -> None:
        admin = user_id("admin")

        # A wrong password is refused and recorded, and opens no session.
        with pytest.raises(LoginRefused):
            central.auth.login("admin", "a-long-password-1235")
        assert count_events(store_url) == 3
        assert isinstance(list(central.app.events.get(admin))[-1], User.LoginFailed)
        assert central.app.repository.get(admin).sessions == {}

        # An unknown name is refused the same way, recorded as an incorrect login that keeps
        # the name tried (issue 17: an administrator sees guessing).
        with pytest.raises(LoginRefused):
            central.auth.login("nadie", PASSWORD)
        assert count_events(store_url) == 4
        refused = central.app.mapper.to_domain_event(
            central.app.recorder.select_notifications(start=4, limit=1)[0]
        )
        assert isinstance(refused, Access.Recorded)
        assert (refused.action, refused.fields, refused.context.user) == (
            "login.failed",
            {"USUARIO": "nadie"},
            "?",
        )

        # The right password opens a session that resumes.
        ticket = central.auth.login("admin", PASSWORD)
        assert (ticket.username, ticket.started_at, ticket.last_seen) == (
            "admin",
            clock.now(),
            clock.now(),
        )
        actor, resumed = central.auth.resume(ticket)
        assert (actor.username, actor.is_admin, actor.session_id) == (
            "admin",
            True,
            ticket.session_id,
        )
        assert resumed.session_id == ticket.session_id
        logged_in = list(central.app.events.get(admin))[-1]
        assert isinstance(logged_in, User.LoggedIn)
        assert ticket.token not in repr(logged_in)  # only the token's hash is stored
        assert count_events(store_url) == 5

    # -- sessions -------------------------------------------------------------------------------
    def test_an_idle_session_expires_and_a_wrong_or_closed_ticket_is_not_authenticated(
        self, central: Brigada, clock: FixedClock
    ) -> None:
        ticket = central.auth.login("admin", PASSWORD)

        with pytest.raises(NotAuthenticated):
            central.auth.resume(replace(ticket, token=ticket.token[:-1] + "x"))
        with pytest.raises(NotAuthenticated):
            central.auth.resume(replace(ticket, username="nadie"))
        with pytest.raises(NotAuthenticated):
            central.auth.resume(None)

        clock.advance(minutes=15)
        actor, fresh = central.auth.resume(ticket)  # exactly 15 minutes idle is still fine
        clock.advance(minutes=16)
        with pytest.raises(SessionExpired) as expired:
            central.auth.resume(fresh)
        assert expired.value.params == {"reason": "15 minutes idle"}

        central.auth.logout(actor)
        with pytest.raises(NotAuthenticated):
            central.auth.resume(replace(fresh, last_seen=clock.now()))

    def test_a_session_expires_after_12_hours_even_when_active_or_when_the_ticket_is_edited(
        self, central: Brigada, clock: FixedClock
    ) -> None:
        _actor, ticket = central.auth.resume(central.auth.login("admin", PASSWORD))
        for _minute in range(0, 12 * 60, 10):
            clock.advance(minutes=10)
            _actor, ticket = central.auth.resume(ticket)

        clock.advance(minutes=10)
        with pytest.raises(SessionExpired) as expired:
            central.auth.resume(ticket)
        assert expired.value.params == {"reason": "12 hours"}
        # Closed for good in the store: a ticket edited afterwards finds no session.
        with pytest.raises(NotAuthenticated):
            central.auth.resume(replace(ticket, started_at=clock.now(), last_seen=clock.now()))

    # -- patients -------------------------------------------------------------------------------
    def test_register_correct_show_and_search_patients(
        self, central: Brigada, actor: Actor, store_url: str, count_events: Any
    ) -> None:
        def patient_events() -> int:
            return count_events(store_url, "brigada.Patient.", "brigada.NumberSeries.")

        jose = central.patients.register(actor, JOSE)
        maria = central.patients.register(actor, MARIA)

        assert (jose.chart_number, maria.chart_number) == ("CEN-1", "CEN-2")
        assert patient_events() == 5  # the series started, then 2 x (advanced, registered)
        assert jose.full_name == "José Luis Peña Ñáñez"
        assert (jose.site, jose.document_type, jose.sex, jose.zone) == ("CEN", "CC", "M", "02")
        assert central.patients.show(actor, " cen-2 ") == maria

        corrected = central.patients.correct(
            actor, "CEN-1", {"first_name": "Josefa", "sex": "F", "birth_date": "1981-05-02"}
        )

        assert patient_events() == 6
        assert (corrected.full_name, corrected.sex, corrected.version) == (
            "Josefa Luis Peña Ñáñez",
            "F",
            2,
        )
        assert corrected.birth_date.isoformat() == "1981-05-02"
        assert central.patients.show(actor, "CEN-1") == corrected
        assert [r.chart_number for r in central.patients.search(actor, "josefa pena")] == ["CEN-1"]
        assert [r.chart_number for r in central.patients.search(actor, "MUNOZ")] == ["CEN-2"]
        assert [r.chart_number for r in central.patients.search(actor, "1011223344")] == ["CEN-2"]
        assert central.patients.search(actor, "luis pena m") == []  # the old sex is not text
        assert corrected.search_text == "josefa luis pena nanez cc 1032456789 cen-1"
        patient = central.core.existing(Patient, UUID(corrected.patient_id))
        assert patient.details.first_name == "Josefa"
        assert all(status.lag == 0 for status in central.views.status())
        with pytest.raises(PatientNotFound):
            central.patients.show(actor, "CEN-404")
        with pytest.raises(PatientNotFound):
            central.patients.correct(actor, "CEN-404", {"first_name": "Ana"})

    def test_a_document_registered_twice_is_refused_and_writes_nothing(
        self, central: Brigada, actor: Actor, store_url: str, count_events: Any
    ) -> None:
        central.patients.register(actor, JOSE)
        central.patients.register(actor, MARIA)
        before = count_events(store_url)

        with pytest.raises(DuplicateDocument) as refused:
            central.patients.register(actor, {**JOSE, "first_name": "Pedro"})
        assert refused.value.params["chart_number"] == "CEN-1"
        with pytest.raises(DuplicateDocument):
            central.patients.correct(actor, "CEN-2", {"document_type": "CC", "document_number": "1032456789"})

        assert count_events(store_url) == before
        assert [r.chart_number for r in central.views.store("patients").all_rows()].count("CEN-1") == 1

    def test_invalid_input_names_the_field_and_writes_nothing(
        self, central: Brigada, actor: Actor, store_url: str, count_events: Any
    ) -> None:
        central.patients.register(actor, JOSE)
        before = count_events(store_url)

        for changes, field in INVALID_REGISTRATIONS:
            with pytest.raises(InvalidValue) as refused:
                central.patients.register(actor, {**JOSE, "document_number": "55555", **changes})
            assert refused.value.field == field, changes
        for changes, field in INVALID_CORRECTIONS:
            with pytest.raises(InvalidValue) as refused:
                central.patients.correct(actor, "CEN-1", changes)
            assert refused.value.field == field, changes
        with pytest.raises(NothingToCorrect):
            central.patients.correct(actor, "CEN-1", {"first_name": "José", "zone": "02"})

        assert count_events(store_url) == before
        assert [r.chart_number for r in central.views.store("patients").all_rows()] == ["CEN-1"]
        assert central.patients.show(actor, "CEN-1").version == 1

    def test_two_commands_taking_the_same_number_at_once_conflict(
        self, central: Brigada, store_url: str, open_store: Any, count_events: Any
    ) -> None:
        other = open_store(store_url, create=False)
        first, second = (b.core for b in (central, other))
        with first.acting_as("admin"):
            mine = NumberSeries(site="CEN", series="HIST")
            mine.take()
            first.save(mine)
        before = count_events(store_url)
        stale = [c.existing(NumberSeries, series_id("CEN", "HIST")) for c in (first, second)]

        with first.acting_as("admin"):
            assert stale[0].take() == "CEN-2"
            first.save(stale[0])
        with second.acting_as("admin"), pytest.raises(Conflict):
            assert stale[1].take() == "CEN-2"
            second.save(stale[1])

        assert count_events(store_url) == before + 1

    # -- the store ------------------------------------------------------------------------------
    def test_stored_events_cannot_be_updated_or_deleted_in_the_database(
        self, central: Brigada, store_url: str, count_events: Any, open_store: Any
    ) -> None:
        before = count_events(store_url)
        attempts = [
            "UPDATE {events} SET topic = 'brigada.Forged' WHERE originator_version = 1",
            "DELETE FROM {events} WHERE originator_version = 1",
            "DELETE FROM {events}",
        ]
        if StoreLocation.parse(store_url).kind == "postgresql":
            attempts.append("TRUNCATE {events}")

        for statement in attempts:
            with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
                raw_sql(store_url, statement)

        assert count_events(store_url) == before == 2
        # The store still reads back, and still takes new events.
        reopened = open_store(store_url, create=False)
        assert reopened.core.require_identity().site_code == "CEN"
        reopened.auth.login("admin", PASSWORD)
        assert count_events(store_url) == 3

    def test_a_rebuilt_view_has_exactly_the_rows_of_the_incremental_view(
        self, central: Brigada, actor: Actor
    ) -> None:
        central.patients.register(actor, JOSE)
        central.patients.register(actor, MARIA)
        central.patients.correct(actor, "CEN-2", {"second_surname": "Güiza", "zone": "02"})
        central.patients.correct(actor, "CEN-1", {"middle_name": ""})
        incremental = central.views.store("patients").all_rows()

        rows = central.views.rebuild("patients")

        assert rows == 2
        assert central.views.store("patients").all_rows() == incremental
        [status] = [s for s in central.views.status() if s.name == "patients"]
        assert (status.position, status.lag, status.stale) == (status.head, 0, False)

        # A batch computed from an older position (another process got there first) is refused.
        store = central.views.store("patients")
        forged = replace(incremental[0], full_name="Forged")
        assert store.write({PatientsProjection().key_of(forged): forged}, [], old=0, new=status.head) is False
        assert store.all_rows() == incremental
        assert store.position() == status.head

    def test_reopening_the_store_gives_the_same_aggregates_rows_and_sessions(
        self, central: Brigada, store_url: str, open_store: Any
    ) -> None:
        actor, ticket = central.auth.resume(central.auth.login("admin", PASSWORD))
        central.patients.register(actor, JOSE)
        central.patients.register(actor, MARIA)
        central.patients.correct(actor, "CEN-1", {"coverage_status": "10"})
        rows = central.views.store("patients").all_rows()
        ids = [UUID(r.patient_id) for r in rows] + [user_id("admin"), series_id("CEN", "HIST")]
        aggregates: list[MutableOrImmutableAggregate[UUID]] = [central.app.repository.get(i) for i in ids]
        central.close()

        reopened = open_store(store_url, create=False)

        assert reopened.views.store("patients").all_rows() == rows
        assert [reopened.app.repository.get(i) for i in ids] == aggregates
        assert reopened.core.require_identity().site_code == "CEN"
        again, _ticket = reopened.auth.resume(ticket)
        assert again == actor
        assert reopened.patients.register(again, {**JOSE, "document_number": "999888777"}) == (
            reopened.patients.show(again, "CEN-3")
        )


# -- opening stores -----------------------------------------------------------------------------
def test_opening_a_store_that_is_not_there_is_store_missing(tmp_path: Any) -> None:
    with pytest.raises(StoreMissing):
        open_brigada(f"sqlite:///{tmp_path}/nowhere.db")
    assert not (tmp_path / "nowhere.db").exists()


def test_an_unreachable_server_is_store_unreachable() -> None:
    with pytest.raises(StoreUnreachable) as refused:
        open_brigada("postgresql://postgres@127.0.0.1:1/none", create=True)
    assert "127.0.0.1:1" in str(refused.value)

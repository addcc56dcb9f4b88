"""Random patient histories through the application on a real SQLite store.

The rules are application commands, so every history is one an operator could produce: valid
registrations, corrections, registrations that must be refused, view rebuilds and store reopens.
A plain dict is the model of what the patient list must show. After every step:

- the incremental view equals a view rebuilt from the log, and equals the model;
- replaying the store (a fresh application, ``repository.get`` per patient) gives the view's details;
- chart numbers are unique;
- the event count moved only on successful commands, by exactly what they record.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import MutableOrImmutableAggregate
from hypothesis import assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from adapters.bootstrap import open_brigada
from adapters.store import StoreLocation
from adapters.system import FixedClock, Host
from application.app import BrigadaApplication
from application.errors import DuplicateDocument
from application.ports import SessionTicket
from application.projection_runner import ProjectionRunner
from domain.clinical.patient import NothingToCorrect, Patient
from domain.errors import InvalidValue
from projections.base import InMemoryRowStore, Projection
from projections.clinical.patients import PatientRow, PatientsProjection

pytestmark = pytest.mark.store

PASSWORD = "a-long-password-1234"
START_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TODAY = START_AT.date()

# SISPRO rule RVC007, written out here independently of the domain's table: which documents fit
# which ages (inclusive years). Documents not listed fit any age.
AGES = {"CC": (18, 120), "TI": (7, 17), "RC": (0, 17), "CN": (0, 3), "AS": (18, 120), "MS": (0, 17)}
ANY_AGE = ("CE", "PA", "PE", "PT", "CD", "SC", "DE")
NUMERIC = ("CC", "TI", "RC")
MUNICIPALITIES = ("05001", "08001", "11001", "13001", "27001", "52835", "76001", "91001", "99001")
GIVEN_NAMES = ("José", "María", "Ángela", "Luis", "Ana María", "Jhon", "Yésica", "Éider", "Zoë")
SURNAMES = ("Peña", "Muñoz", "Güiza", "Ñáñez", "O'Neil", "Pérez-Gómez", "Díaz", "García", "Ruiz")
FIELDS = (
    "document_type",
    "document_number",
    "first_name",
    "middle_name",
    "first_surname",
    "second_surname",
    "birth_date",
    "sex",
    "municipality",
    "zone",
    "coverage_status",
)


def years_between(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def fits(document_type: str, age: int) -> bool:
    low, high = AGES.get(document_type, (0, 200))
    return low <= age <= high


names = st.one_of(
    st.sampled_from(GIVEN_NAMES + SURNAMES),
    st.text("abcdefghijklmnñopqrstuvwxyzáéíóú", min_size=1, max_size=10).map(str.capitalize),
)
optional_names = st.one_of(st.just(""), names)


@st.composite
def valid_patients(draw: st.DrawFn) -> dict[str, Any]:
    birth = draw(st.dates(min_value=TODAY - timedelta(days=100 * 365), max_value=TODAY))
    age = years_between(birth, TODAY)
    document_type = draw(st.sampled_from([t for t in (*AGES, *ANY_AGE) if fits(t, age)]))
    if document_type in NUMERIC:
        number = draw(st.from_regex(r"[1-9][0-9]{3,11}", fullmatch=True))
    else:
        number = draw(st.from_regex(r"[A-Z0-9]{4,12}", fullmatch=True))
    # A small pool makes documents collide now and then.
    if draw(st.booleans()):
        number = draw(st.sampled_from(("10203040", "55667788", "90001")))
    return {
        "document_type": document_type,
        "document_number": number,
        "first_name": draw(names),
        "middle_name": draw(optional_names),
        "first_surname": draw(names),
        "second_surname": draw(optional_names),
        "birth_date": birth.isoformat(),
        "sex": draw(st.sampled_from("MFI")),
        "municipality": draw(
            st.one_of(
                st.sampled_from(MUNICIPALITIES),
                st.from_regex(r"(05|08|11|52|99)[0-9]{3}", fullmatch=True),
            )
        ),
        "zone": draw(st.sampled_from(("01", "02"))),
        "coverage_status": f"{draw(st.integers(1, 13)):02d}",
    }


# Each breaks one rule, whatever the rest of the patient is; with the field it must be named by.
breakages = st.sampled_from(
    [
        ({"birth_date": (TODAY + timedelta(days=1)).isoformat()}, "birth_date"),
        ({"birth_date": "2001-02-30"}, "birth_date"),
        ({"municipality": "123"}, "municipality"),
        ({"municipality": "00123"}, "municipality"),
        ({"sex": "X"}, "sex"),
        ({"zone": "03"}, "zone"),
        ({"coverage_status": "14"}, "coverage_status"),
        ({"document_type": "CC", "document_number": "12AB34"}, "document_number"),
        ({"document_number": "1 2"}, "document_number"),
        ({"first_name": ""}, "first_name"),
        ({"first_surname": "P3ña"}, "first_surname"),
        # No valid CC or TI number starts with 0, so these can never be duplicates.
        ({"document_type": "CC", "document_number": "01234", "birth_date": "2020-01-01"}, "document_type"),
        ({"document_type": "TI", "document_number": "01234", "birth_date": "1960-01-01"}, "document_type"),
    ]
)

# Corrections change groups of fields that are valid together: a document goes with a birth date.
GROUPS = (
    ("document_type", "document_number", "birth_date"),
    ("first_name",),
    ("middle_name",),
    ("first_surname",),
    ("second_surname",),
    ("sex",),
    ("municipality",),
    ("zone",),
    ("coverage_status",),
)


@st.composite
def corrections(draw: st.DrawFn) -> dict[str, Any]:
    fresh = draw(valid_patients())
    groups = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=4, unique=True))
    return {name: fresh[name] for group in groups for name in group}


def row_details(row: PatientRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in FIELDS}
    values["birth_date"] = row.birth_date.isoformat()
    return values


class MemoryViews:
    def row_store(self, projection: Projection) -> InMemoryRowStore:
        return InMemoryRowStore(projection)

    def close(self) -> None:
        pass


class PatientHistories(RuleBasedStateMachine):
    patients = Bundle("patients")

    template: Path  # an initialized store with an open session, copied for each history
    ticket: SessionTicket

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="brigada-histories-"))
        for source in self.template.parent.iterdir():
            shutil.copy(source, self.folder / source.name)
        self.url = f"sqlite:///{self.folder / self.template.name}"
        self.clock = FixedClock(START_AT)
        self.host = Host(computer="test-pc", ip_octet=7)
        self.brigada = open_brigada(self.url, clock=self.clock, host=self.host)
        self.actor, _ticket = self.brigada.auth.resume(self.ticket)
        self.model: dict[str, dict[str, Any]] = {}  # chart number -> details, as the view shows
        self.events = self.count_events()

    def teardown(self) -> None:
        self.brigada.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------
    def count_events(self) -> int:
        return self.brigada.app.recorder.max_notification_id() or 0

    def expect_events(self, recorded: int) -> None:
        now = self.count_events()
        assert now == self.events + recorded, (self.events, recorded, now)
        self.events = now

    def documents(self, except_chart: str | None = None) -> set[tuple[str, str]]:
        return {
            (d["document_type"], d["document_number"])
            for chart, d in self.model.items()
            if chart != except_chart
        }

    def tick(self) -> None:
        self.clock.advance(minutes=1)

    # -- commands -------------------------------------------------------------------------------
    @rule(target=patients, data=valid_patients())
    def register(self, data: dict[str, Any]) -> Any:
        self.tick()
        if (data["document_type"], data["document_number"]) in self.documents():
            try:
                self.brigada.patients.register(self.actor, data)
            except DuplicateDocument:
                self.expect_events(0)
                return multiple()
            raise AssertionError("a document registered twice was accepted")
        row = self.brigada.patients.register(self.actor, data)
        assert row.chart_number == f"CEN-{len(self.model) + 1}"
        assert row_details(row) == data
        assert row.registered_at == row.updated_at == self.clock.now().isoformat()
        # The chart number series starts with the first registration: one more event then.
        self.expect_events(2 if self.model else 3)
        self.model[row.chart_number] = dict(data)
        return row.chart_number

    @rule(data=valid_patients(), breakage=breakages)
    def register_invalid(self, data: dict[str, Any], breakage: tuple[dict[str, Any], str]) -> None:
        changes, field = breakage
        typed = {**data, **changes}
        # A document already on file is refused as a duplicate first (register_a_recorded_document_again).
        recorded = {(kept["document_type"], kept["document_number"]) for kept in self.model.values()}
        assume((typed["document_type"], typed["document_number"]) not in recorded)
        try:
            self.brigada.patients.register(self.actor, typed)
        except InvalidValue as refused:
            assert refused.field == field
        else:
            raise AssertionError(f"accepted an invalid registration: {changes}")
        self.expect_events(0)

    @rule(chart=patients, first_name=names)
    def register_a_recorded_document_again(self, chart: str, first_name: str) -> None:
        again = {**self.model[chart], "first_name": first_name}
        try:
            self.brigada.patients.register(self.actor, again)
        except DuplicateDocument as refused:
            assert refused.params["chart_number"] == chart
        else:
            raise AssertionError("a document registered twice was accepted")
        self.expect_events(0)

    @rule(chart=patients, changes=corrections())
    def correct(self, chart: str, changes: dict[str, Any]) -> None:
        self.tick()
        recorded = self.model[chart]
        changed = {k: v for k, v in changes.items() if recorded[k] != v}
        document = (
            changes.get("document_type", recorded["document_type"]),
            changes.get("document_number", recorded["document_number"]),
        )
        try:
            row = self.brigada.patients.correct(self.actor, chart, changes)
        except NothingToCorrect:
            assert not changed, changed
            self.expect_events(0)
            return
        except DuplicateDocument:
            assert document in self.documents(except_chart=chart)
            self.expect_events(0)
            return
        assert changed
        assert document not in self.documents(except_chart=chart)
        recorded.update(changed)
        assert row_details(row) == recorded
        assert row.updated_at == self.clock.now().isoformat()
        self.expect_events(1)

    @rule(chart=patients, other=patients)
    def correct_to_another_patients_document(self, chart: str, other: str) -> None:
        document = {k: self.model[other][k] for k in ("document_type", "document_number", "birth_date")}
        try:
            self.brigada.patients.correct(self.actor, chart, document)
        except DuplicateDocument as refused:
            assert chart != other
            assert refused.params["chart_number"] == other
        except NothingToCorrect:
            assert chart == other
        else:
            raise AssertionError("two patients now share a document")
        self.expect_events(0)

    @rule(chart=patients, breakage=breakages)
    def correct_invalid(self, chart: str, breakage: tuple[dict[str, Any], str]) -> None:
        changes, field = breakage
        try:
            self.brigada.patients.correct(self.actor, chart, changes)
        except InvalidValue as refused:
            assert refused.field == field
        else:
            raise AssertionError(f"accepted an invalid correction: {changes}")
        self.expect_events(0)

    @rule()
    def rebuild_the_view(self) -> None:
        incremental = self.brigada.views.store("patients").all_rows()
        assert self.brigada.views.rebuild("patients") == len(self.model)
        assert self.brigada.views.store("patients").all_rows() == incremental
        self.expect_events(0)

    @rule()
    def reopen_the_store(self) -> None:
        rows = self.brigada.views.store("patients").all_rows()
        self.brigada.close()
        self.brigada = open_brigada(self.url, clock=self.clock, host=self.host)
        assert self.brigada.views.store("patients").all_rows() == rows
        self.expect_events(0)

    # -- invariants -----------------------------------------------------------------------------
    @invariant()
    def the_view_shows_the_model(self) -> None:
        rows = self.brigada.views.store("patients").all_rows()
        charts = [row.chart_number for row in rows]
        assert len(charts) == len(set(charts)), "chart numbers must be unique"
        assert {row.chart_number: row_details(row) for row in rows} == self.model
        assert self.count_events() == self.events

    @invariant()
    def the_incremental_view_equals_a_rebuilt_one(self) -> None:
        rebuilt = ProjectionRunner(self.brigada.app, MemoryViews(), [PatientsProjection()])
        rebuilt.catch_up()
        incremental = self.brigada.views.store("patients").all_rows()
        assert rebuilt.store("patients").all_rows() == incremental

    @invariant()
    def replaying_the_store_gives_the_details_in_the_view(self) -> None:
        replayer = BrigadaApplication(env=StoreLocation.parse(self.url).event_store_env())
        try:
            for row in self.brigada.views.store("patients").all_rows():
                patient: MutableOrImmutableAggregate[UUID] = replayer.repository.get(UUID(row.patient_id))
                assert isinstance(patient, Patient)
                assert (patient.chart_number, patient.version) == (row.chart_number, row.version)
                replayed = {k: getattr(v, "value", v) for k, v in patient.details.as_dict().items()}
                replayed["birth_date"] = patient.details.birth_date.isoformat()
                assert replayed == row_details(row)
        finally:
            replayer.close()


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> type[PatientHistories]:
    """The state machine, with a template store initialized and logged in once (argon2 is slow)."""
    template = tmp_path_factory.mktemp("template") / "store.db"
    brigada = open_brigada(
        f"sqlite:///{template}", create=True, clock=FixedClock(START_AT), host=Host("test-pc", 7)
    )
    brigada.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
    ticket = brigada.auth.login("admin", PASSWORD)
    brigada.close()
    return type("Histories", (PatientHistories,), {"template": template, "ticket": ticket})


def test_short_patient_histories_keep_the_invariants(histories: type[PatientHistories]) -> None:
    run_state_machine_as_test(
        histories, settings=settings(max_examples=6, stateful_step_count=12, deadline=None)
    )


@pytest.mark.slow
def test_long_patient_histories_keep_the_invariants(histories: type[PatientHistories]) -> None:
    run_state_machine_as_test(
        histories, settings=settings(max_examples=40, stateful_step_count=30, deadline=None)
    )

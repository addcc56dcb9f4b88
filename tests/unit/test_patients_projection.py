"""The patient list's read side without a database: the pure apply(), text folding, queries over
an in-memory row store, and the projection runner over an in-memory event store."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from application.app import BrigadaApplication
from application.projection_runner import ProjectionRunner
from domain.clinical.patient import Patient, PatientDetails
from domain.context import EventContext, recording
from domain.vocabulary import DocumentType, Sex, Zone
from projections.base import InMemoryRowStore, Projection, fold_text
from projections.clinical.patients import PatientQueries, PatientRow, PatientsProjection
from tests.support.read_side import details

TODAY = date(2026, 3, 1)
REGISTERED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def context(at: datetime = REGISTERED_AT, site: str = "BRG01") -> EventContext:
    return EventContext(
        event_id=uuid.uuid4(),
        site=site,
        user="admisiones",
        computer="laptop-1",
        ip_octet=12,
        recorded_at=at,
        business_date=at.date(),
    )


MARIA = details(
    document_type=DocumentType.TI,
    document_number="1011223344",
    first_name="María",
    middle_name="Ángela",
    first_surname="Muñoz",
    second_surname="",
    birth_date=date(2012, 2, 14),
    sex=Sex.FEMALE,
    municipality="52835",
    zone=Zone.RURAL,
)


def register(chart: str, patient_details: PatientDetails, site: str = "BRG01") -> Patient:
    with recording(context(site=site)):
        return Patient.register(chart, patient_details, today=TODAY)


def fold(projection: Projection, events: list[Any], rows: dict[Any, Any] | None = None) -> dict:
    rows = dict(rows or {})
    for event in events:
        key = projection.key(event)
        new = projection.apply(rows.get(key), event)
        if new is None:
            rows.pop(key, None)
        else:
            rows[key] = new
    return rows


# -- apply --------------------------------------------------------------------------------------
def test_registered_makes_a_row_with_the_details_as_plain_values() -> None:
    patient = register("BRG01-1", details(middle_name="Luis"))
    [event] = patient.collect_events()

    row = PatientsProjection().apply(None, event)

    assert row == PatientRow(
        patient_id=patient.id.hex,
        chart_number="BRG01-1",
        site="BRG01",
        document_type="CC",
        document_number="43123456",
        first_name="José",
        middle_name="Luis",
        first_surname="Peña",
        second_surname="Ramírez",
        full_name="José Luis Peña Ramírez",
        search_text="jose luis pena ramirez cc 43123456 brg01-1",
        birth_date=date(1975, 8, 20),
        sex="M",
        municipality="05001",
        zone="02",
        coverage_status="04",
        registered_at=REGISTERED_AT.isoformat(),
        updated_at=REGISTERED_AT.isoformat(),
        version=1,
    )


def test_corrected_changes_the_fields_the_name_and_the_search_text() -> None:
    patient = register("BRG01-1", details())
    later = REGISTERED_AT + timedelta(hours=2)
    with recording(context(at=later)):
        patient.correct(TODAY, first_name="Josefa", sex=Sex.FEMALE, document_number="43123457")
    projection = PatientsProjection()

    rows = fold(projection, list(patient.collect_events()))

    [row] = rows.values()
    assert row.full_name == "Josefa Peña Ramírez"
    assert row.search_text == "josefa pena ramirez cc 43123457 brg01-1"
    assert (row.sex, row.document_number, row.version) == ("F", "43123457", 2)
    assert row.registered_at == REGISTERED_AT.isoformat()
    assert row.updated_at == later.isoformat()


def test_a_correction_without_its_registration_makes_no_row() -> None:
    patient = register("BRG01-1", details())
    patient.collect_events()
    with recording(context()):
        patient.correct(TODAY, first_name="Josefa")
    [corrected] = patient.collect_events()

    assert PatientsProjection().apply(None, corrected) is None


def test_each_patient_has_its_own_row_keyed_by_its_id() -> None:
    jose, maria = register("BRG01-1", details()), register("BRG01-2", MARIA)
    projection = PatientsProjection()

    rows = fold(projection, [*jose.collect_events(), *maria.collect_events()])

    assert set(rows) == {(jose.id.hex,), (maria.id.hex,)}
    assert projection.key_of(rows[(maria.id.hex,)]) == (maria.id.hex,)


# -- text folding -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("José Peña", "jose pena"),
        ("MARÍA ÁNGELA", "maria angela"),
        ("  Güiza   Núñez ", "guiza nunez"),
        ("ÑAÑEZ", "nanez"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_fold_text_ignores_accents_case_and_extra_spaces(text: str, folded: str) -> None:
    assert fold_text(text) == folded


# -- queries ------------------------------------------------------------------------------------
@pytest.fixture
def queries() -> PatientQueries:
    projection = PatientsProjection()
    store = InMemoryRowStore(projection)
    events = [
        *register("BRG01-1", details()).collect_events(),
        *register("BRG01-2", MARIA).collect_events(),
        *register("BRG01-3", details(first_name="Pedro", document_number="79111222")).collect_events(),
    ]
    rows = fold(projection, events)
    assert store.write(rows, [], old=0, new=len(events))
    return PatientQueries(store)


def test_searching_without_accents_or_capitals_finds_the_accented_name(
    queries: PatientQueries,
) -> None:
    found = queries.search("jose pena")

    assert [row.full_name for row in found] == ["José Peña Ramírez"]


def test_search_words_may_come_in_any_order_and_with_accents(queries: PatientQueries) -> None:
    assert [r.chart_number for r in queries.search("MUÑOZ maría")] == ["BRG01-2"]
    assert [r.chart_number for r in queries.search("peña")] == ["BRG01-1", "BRG01-3"]


def test_search_by_document_number_and_by_chart_number(queries: PatientQueries) -> None:
    assert [r.chart_number for r in queries.search("1011223344")] == ["BRG01-2"]
    assert [r.full_name for r in queries.search("brg01-3")] == ["Pedro Peña Ramírez"]


def test_an_empty_search_finds_nothing_and_the_limit_holds(queries: PatientQueries) -> None:
    assert queries.search("   ") == []
    assert queries.search("nadie") == []
    assert len(queries.search("brg01", limit=2)) == 2


def test_by_chart_and_by_document(queries: PatientQueries) -> None:
    maria = queries.by_chart("BRG01-2")
    assert maria is not None
    assert maria.full_name == "María Ángela Muñoz"
    assert queries.by_chart("BRG01-9") is None
    assert [r.chart_number for r in queries.by_document("CC", "79111222")] == ["BRG01-3"]
    assert queries.by_document("TI", "79111222") == []


# -- the runner over an in-memory event store ---------------------------------------------------
class CountingPatients(PatientsProjection):
    """The patient projection, counting how often each event is applied."""

    def __init__(self) -> None:
        self.applied: list[uuid.UUID] = []

    def apply(self, row: PatientRow | None, event: Any) -> PatientRow | None:
        self.applied.append(event.context.event_id)
        return super().apply(row, event)


class MemoryViews:
    """A ViewStorage whose row stores live in memory; one store per view name."""

    def __init__(self) -> None:
        self.stores: dict[str, InMemoryRowStore] = {}

    def row_store(self, projection: Projection) -> InMemoryRowStore:
        return self.stores.setdefault(projection.name, InMemoryRowStore(projection))

    def close(self) -> None:
        pass


@pytest.fixture
def app() -> BrigadaApplication:
    return BrigadaApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def record_history(app: BrigadaApplication, n: int, start: int = 0) -> list[Patient]:
    """Register ``n`` patients, correct every other one, save each command on its own."""
    patients = []
    for i in range(start, start + n):
        patient = register(f"BRG01-{i + 1}", details(document_number=str(50_000_000 + i)))
        app.save(patient)
        if i % 2:
            with recording(context()):
                patient.correct(TODAY, second_surname="Gómez", zone=Zone.RURAL)
            app.save(patient)
        patients.append(patient)
    return patients


def test_catch_up_applies_each_event_exactly_once(app: BrigadaApplication) -> None:
    record_history(app, 4)
    projection = CountingPatients()
    runner = ProjectionRunner(app, MemoryViews(), [projection])

    runner.catch_up()
    rows, applied = runner.store("patients").all_rows(), list(projection.applied)
    runner.catch_up()

    assert len(rows) == 4
    assert len(applied) == 6 == len(set(applied))
    assert projection.applied == applied
    assert runner.store("patients").all_rows() == rows
    [status] = runner.status()
    assert (status.position, status.head, status.lag, status.rows) == (6, 6, 0, 4)


def test_catch_up_resumes_from_its_position(app: BrigadaApplication) -> None:
    record_history(app, 2)
    projection = CountingPatients()
    runner = ProjectionRunner(app, MemoryViews(), [projection])
    runner.catch_up()

    record_history(app, 3, start=2)
    runner.catch_up()

    assert len(projection.applied) == len(set(projection.applied)) == 7
    assert runner.store("patients").count() == 5


def test_a_rebuilt_view_equals_the_incrementally_built_one(app: BrigadaApplication) -> None:
    runner = ProjectionRunner(app, MemoryViews(), [PatientsProjection()])
    for batch in range(3):
        record_history(app, 3, start=3 * batch)
        runner.catch_up()
    incremental = runner.store("patients").all_rows()

    count = runner.rebuild("patients")

    assert count == 9
    assert runner.store("patients").all_rows() == incremental
    assert runner.store("patients").position() == app.recorder.max_notification_id()


def test_a_view_rebuilt_in_a_fresh_runner_equals_the_incremental_one(
    app: BrigadaApplication,
) -> None:
    incremental = ProjectionRunner(app, MemoryViews(), [PatientsProjection()])
    for batch in range(2):
        record_history(app, 2, start=2 * batch)
        incremental.catch_up()

    fresh = ProjectionRunner(app, MemoryViews(), [PatientsProjection()])
    fresh.catch_up()

    assert fresh.store("patients").all_rows() == incremental.store("patients").all_rows()


def test_rebuild_reports_progress_up_to_the_head(app: BrigadaApplication) -> None:
    record_history(app, 3)
    runner = ProjectionRunner(app, MemoryViews(), [PatientsProjection()])
    reached: list[tuple[int, int]] = []

    runner.rebuild("patients", progress=lambda done, head: reached.append((done, head)))

    assert reached[-1] == (4, 4)


def test_events_of_other_topics_are_skipped_but_the_position_moves_on(
    app: BrigadaApplication,
) -> None:
    from domain.numbering import NumberSeries

    with recording(context()):
        series = NumberSeries(site="BRG01", series="HIST")
        series.take()
    app.save(series)
    runner = ProjectionRunner(app, MemoryViews(), [PatientsProjection()])

    runner.catch_up()

    assert runner.store("patients").count() == 0
    assert runner.store("patients").position() == 2


def test_two_runners_on_one_view_never_apply_an_event_twice(app: BrigadaApplication) -> None:
    """A runner whose batch lost the race to another process goes on from where that one got."""
    record_history(app, 4)
    views = MemoryViews()
    slow, fast = CountingPatients(), CountingPatients()
    slow_runner = ProjectionRunner(app, views, [slow])
    fast_runner = ProjectionRunner(app, views, [fast])
    store = views.stores["patients"]
    write = store.write
    writes: list[tuple[int, int, bool]] = []

    def write_after_the_other_process(upserts: Any, deletes: Any, old: int, new: int) -> bool:
        if not writes:
            writes.append((old, new, False))  # placeholder: the slow runner's first attempt
            fast_runner.catch_up()  # the other process gets there first
            writes[0] = (old, new, write(upserts, deletes, old=old, new=new))
            return writes[0][2]
        writes.append((old, new, write(upserts, deletes, old=old, new=new)))
        return writes[-1][2]

    store.write = write_after_the_other_process  # type: ignore[method-assign]
    slow_runner.catch_up()

    # The fast runner wrote 0 -> 6; the slow one's batch from 0 was refused, and it stopped at 6.
    assert writes == [(0, 6, False), (0, 6, True)]
    assert len(slow.applied) == len(fast.applied) == 6
    assert store.count() == 4
    assert store.position() == app.recorder.max_notification_id()
    rebuilt = ProjectionRunner(app, MemoryViews(), [PatientsProjection()])
    rebuilt.catch_up()
    assert store.all_rows() == rebuilt.store("patients").all_rows()


def test_a_view_built_by_an_older_apply_is_rebuilt_on_catch_up(app: BrigadaApplication) -> None:
    record_history(app, 2)
    old_views = MemoryViews()
    ProjectionRunner(app, old_views, [PatientsProjection()]).catch_up()
    built_by_v1 = old_views.stores["patients"]

    class PatientsV2(PatientsProjection):
        version = PatientsProjection.version + 1

    # A newer program opens the same stored view: same rows, position and version.
    views = MemoryViews()
    reopened = views.row_store(PatientsV2())
    reopened.rows = {key: replace(row, full_name="stale") for key, row in built_by_v1.rows.items()}
    reopened._position, reopened._version = built_by_v1.position(), built_by_v1.stored_version()
    runner = ProjectionRunner(app, views, [PatientsV2()])
    assert runner.status()[0].stale is True
    runner.catch_up()

    assert runner.status()[0].stale is False
    assert runner.store("patients").all_rows() == built_by_v1.all_rows()

"""The Encounter aggregate (the seed's "visita"): given past events, when a command, then new
events or a refusal that records nothing. No database: events are collected from the aggregate
and replayed in plain Python (and once through an in-memory application)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import MutableOrImmutableAggregate

from application.app import BrigadaApplication
from domain.clinical.encounter import (
    MAX_RELATED,
    Diagnosis,
    DiagnosisRole,
    DiagnosisType,
    Encounter,
    EncounterClosed,
    EncounterKind,
    ItemNotFound,
    NeedsPrincipalDiagnosis,
    StoredDocument,
)
from domain.context import EventContext, MissingContext, recording
from domain.errors import DomainError, InvalidValue
from domain.security.locks import LockSettings
from tests.support.given_when_then import replayed

VISIT_DAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
PATIENT = UUID("6f1c1f5e-0000-4000-8000-000000000001")
OTHER_PATIENT = UUID("6f1c1f5e-0000-4000-8000-000000000002")
NO_LOCKS = LockSettings()
SHA = "ab" * 32

PRINCIPAL, RELATED = DiagnosisRole.PRINCIPAL, DiagnosisRole.RELATED
NEW, REPEAT = DiagnosisType.CONFIRMED_NEW, DiagnosisType.CONFIRMED_REPEAT


def context(day: date = VISIT_DAY, user: str = "medico") -> EventContext:
    return EventContext(
        event_id=uuid.uuid4(),
        site="BRG01",
        user=user,
        computer="laptop-3",
        ip_octet=42,
        recorded_at=datetime.combine(day, NOW.timetz()),
        business_date=day,
    )


def open_visit(**overrides: Any) -> Encounter:
    values: dict[str, Any] = {
        "number": "BRG01-457",
        "patient_id": PATIENT,
        "chart_number": "BRG01-61",
        "kind": EncounterKind.OUTPATIENT,
        "visit_date": VISIT_DAY,
        "professional": "medico",
        "visit_data": {"modality": "04", "purpose": "16", "cause": "38", "reason": "Fiebre"},
        "appointment": None,
        "admission": None,
    }
    return Encounter(**{**values, **overrides})


def given(*steps: Callable[[Encounter], Any], day: date = VISIT_DAY) -> tuple[Encounter, list[Any]]:
    """Given: an opened visit and these commands, their events already collected."""
    with recording(context(day)):
        encounter = open_visit()
        for step in steps:
            step(encounter)
    return encounter, list(encounter.collect_events())


def when(encounter: Encounter, command: Callable[[Encounter], Any], day: date = VISIT_DAY) -> list[Any]:
    """When: the command runs; then: the events it recorded."""
    with recording(context(day)):
        command(encounter)
    return list(encounter.collect_events())


def refused(
    encounter: Encounter, command: Callable[[Encounter], Any], error: type[DomainError] = DomainError
) -> DomainError:
    """When the command runs it is refused, and the aggregate records nothing."""
    version = encounter.version
    with recording(context()), pytest.raises(error) as caught:
        command(encounter)
    assert encounter.collect_events() == []
    assert encounter.version == version
    return caught.value


# steps
def paragraph(name: str = "TRATAMIENTO", text: str = "Reposo") -> Callable[[Encounter], Any]:
    return lambda e: e.add_paragraph(name, text, VISIT_DAY)


def service(cups: str = "890201", quantity: int = 1) -> Callable[[Encounter], Any]:
    return lambda e: e.add_service(cups, quantity, "Consulta")


def diagnosis(code: str, role: DiagnosisRole = PRINCIPAL, kind: DiagnosisType = NEW) -> Callable[..., Any]:
    return lambda e: e.set_diagnosis(code, role, kind)


DOC = UUID("0d0c0000-0000-4000-8000-0000000000d1")


def document(document_id: UUID = DOC) -> Callable[[Encounter], Any]:
    return lambda e: e.attach_document(document_id, "laboratorio.pdf", "application/pdf", SHA, 52, VISIT_DAY)


def finalized(e: Encounter) -> None:
    e.finalize(VISIT_DAY)


def deleted(e: Encounter) -> None:
    e.delete(VISIT_DAY, NO_LOCKS, False)


# -- opening ------------------------------------------------------------------------------------
def test_opening_records_opened_with_the_visit_number_patient_date_and_visit_data() -> None:
    with recording(context()):
        encounter = open_visit(kind=EncounterKind.AMBULATORY, admission="BRG01-3")

    [event] = encounter.collect_events()
    assert isinstance(event, Encounter.Opened)
    assert (event.number, event.patient_id, event.chart_number) == ("BRG01-457", PATIENT, "BRG01-61")
    assert (event.kind, event.visit_date, event.professional) == (
        EncounterKind.AMBULATORY,
        VISIT_DAY,
        "medico",
    )
    assert event.visit_data == {"modality": "04", "purpose": "16", "cause": "38", "reason": "Fiebre"}
    assert (event.appointment, event.admission) == (None, "BRG01-3")
    assert (event.context.user, event.context.site) == ("medico", "BRG01")
    assert encounter.state == "open"
    assert encounter.paragraphs == encounter.services == encounter.documents == encounter.diagnoses == {}
    assert encounter.observations == "" and encounter.principal is None


def test_a_command_outside_recording_is_a_programming_error() -> None:
    with pytest.raises(MissingContext):
        open_visit()
    encounter, _events = given()
    with pytest.raises(MissingContext):
        encounter.add_paragraph("TRATAMIENTO", "Reposo", VISIT_DAY)


# -- visit data ---------------------------------------------------------------------------------
def test_changing_visit_data_records_only_the_fields_that_changed() -> None:
    encounter, _events = given()

    [event] = when(
        encounter,
        lambda e: e.change_visit_data({"purpose": "16", "reason": "Tos"}, VISIT_DAY, NO_LOCKS, False),
    )

    assert isinstance(event, Encounter.VisitDataChanged)
    assert event.changes == {"reason": "Tos"}
    assert encounter.visit_data["reason"] == "Tos"


def test_changing_visit_data_to_the_recorded_values_records_nothing() -> None:
    encounter, _events = given()

    changed: list[bool] = []
    events = when(
        encounter,
        lambda e: changed.append(e.change_visit_data({"reason": "Fiebre"}, VISIT_DAY, NO_LOCKS, False)),
    )

    assert events == [] and changed == [False]


# -- report paragraphs --------------------------------------------------------------------------
def test_paragraphs_are_numbered_p1_p2_named_in_capitals_and_dated() -> None:
    encounter, _events = given()
    later = VISIT_DAY + timedelta(days=2)

    ids: list[str] = []
    events = when(
        encounter,
        lambda e: ids.extend(
            [
                e.add_paragraph("  tratamiento ", "Reposo", VISIT_DAY),
                e.add_paragraph("Plan", "Control", later),
            ]
        ),
    )

    assert ids == ["P1", "P2"]
    assert [(type(ev), ev.paragraph_id, ev.name, ev.created_on) for ev in events] == [
        (Encounter.ParagraphAdded, "P1", "TRATAMIENTO", VISIT_DAY),
        (Encounter.ParagraphAdded, "P2", "PLAN", later),
    ]
    assert encounter.paragraph("p2").text == "Control"


def test_changing_a_paragraph_records_its_new_text_and_nothing_when_unchanged() -> None:
    encounter, _events = given(paragraph())

    [event] = when(
        encounter, lambda e: e.change_paragraph("p1", "Reposo absoluto", VISIT_DAY, NO_LOCKS, False)
    )
    assert isinstance(event, Encounter.ParagraphChanged)
    assert (event.paragraph_id, event.text) == ("P1", "Reposo absoluto")
    assert encounter.paragraph("P1").text == "Reposo absoluto"

    again = when(encounter, lambda e: e.change_paragraph("P1", "Reposo absoluto", VISIT_DAY, NO_LOCKS, False))
    assert again == []


def test_deleting_a_paragraph_records_its_name_and_its_id_is_never_reused() -> None:
    encounter, _events = given(paragraph(), paragraph("PLAN", "Control"))

    [event] = when(encounter, lambda e: e.delete_paragraph("P1", VISIT_DAY, NO_LOCKS, False))

    assert isinstance(event, Encounter.ParagraphDeleted)
    assert (event.paragraph_id, event.name) == ("P1", "TRATAMIENTO")
    refused(encounter, lambda e: e.paragraph("P1"), ItemNotFound)
    refused(encounter, lambda e: e.change_paragraph("P1", "x", VISIT_DAY, NO_LOCKS, False), ItemNotFound)
    refused(encounter, lambda e: e.delete_paragraph("P1", VISIT_DAY, NO_LOCKS, False), ItemNotFound)
    refused(encounter, lambda e: e.delete_paragraph("P9", VISIT_DAY, NO_LOCKS, False), ItemNotFound)
    assert when(encounter, paragraph("NOTA", "Addendum"))[0].paragraph_id == "P3"


# -- services -----------------------------------------------------------------------------------
def test_services_are_lines_s1_s2_with_cups_and_quantity() -> None:
    encounter, _events = given()

    events = when(
        encounter, lambda e: [e.add_service("890201", 1, "Consulta"), e.add_service("903841", 999, "")]
    )

    assert [(type(ev), ev.line_id, ev.cups_code, ev.quantity) for ev in events] == [
        (Encounter.ServiceAdded, "S1", "890201", 1),
        (Encounter.ServiceAdded, "S2", "903841", 999),
    ]


@pytest.mark.parametrize(
    ("cups", "quantity", "field"),
    [
        ("12", 1, "cups"),
        ("89020", 1, "cups"),
        ("8902011", 1, "cups"),
        ("89020A", 1, "cups"),
        ("890201", 0, "quantity"),
        ("890201", 1000, "quantity"),
        ("890201", -3, "quantity"),
    ],
)
def test_a_service_needs_a_six_digit_cups_code_and_a_quantity_from_1_to_999(
    cups: str, quantity: int, field: str
) -> None:
    encounter, _events = given()

    error = refused(encounter, service(cups, quantity), InvalidValue)

    assert isinstance(error, InvalidValue) and error.field == field


def test_removing_a_service_records_its_line_and_it_cannot_be_removed_twice() -> None:
    encounter, _events = given(service(), service("903841"))

    [event] = when(encounter, lambda e: e.remove_service("s1"))

    assert isinstance(event, Encounter.ServiceRemoved) and event.line_id == "S1"
    assert encounter.services["S1"].removed and not encounter.services["S2"].removed
    refused(encounter, lambda e: e.remove_service("S1"), ItemNotFound)
    refused(encounter, lambda e: e.remove_service("S7"), ItemNotFound)
    assert when(encounter, service())[0].line_id == "S3"


# -- observations -------------------------------------------------------------------------------
def test_observations_are_recorded_when_they_change() -> None:
    encounter, _events = given()

    [event] = when(encounter, lambda e: e.change_observations("Vive solo", VISIT_DAY, NO_LOCKS, False))
    assert isinstance(event, Encounter.ObservationsChanged) and event.text == "Vive solo"
    assert encounter.observations == "Vive solo"

    assert when(encounter, lambda e: e.change_observations("Vive solo", VISIT_DAY, NO_LOCKS, False)) == []


# -- documents ----------------------------------------------------------------------------------
def test_attaching_a_document_records_its_name_type_digest_size_and_date() -> None:
    encounter, _events = given()

    [event] = when(encounter, document())

    assert isinstance(event, Encounter.DocumentAttached)
    assert (event.document_id, event.filename, event.media_type) == (
        DOC,
        "laboratorio.pdf",
        "application/pdf",
    )
    assert (event.sha256, event.size, event.attached_on) == (SHA, 52, VISIT_DAY)
    assert encounter.document(DOC).filename == "laboratorio.pdf"


def test_deleting_a_document_records_it_and_it_is_gone() -> None:
    other = uuid.uuid4()
    encounter, _events = given(document(), document(other))

    [event] = when(encounter, lambda e: e.delete_document(DOC, VISIT_DAY, NO_LOCKS, False))

    assert isinstance(event, Encounter.DocumentDeleted) and event.document_id == DOC
    refused(encounter, lambda e: e.document(DOC), ItemNotFound)
    refused(encounter, lambda e: e.delete_document(DOC, VISIT_DAY, NO_LOCKS, False), ItemNotFound)
    refused(encounter, lambda e: e.delete_document(uuid.uuid4(), VISIT_DAY, NO_LOCKS, False), ItemNotFound)
    assert encounter.document(other).deleted is False


def test_a_stored_document_keeps_its_content_and_digest_apart_from_the_encounter() -> None:
    encounter, _events = given()
    with recording(context()):
        stored = StoredDocument(encounter_id=encounter.id, content_b64="aG9sYQ==", sha256=SHA)

    [event] = stored.collect_events()
    assert isinstance(event, StoredDocument.Stored)
    assert (event.encounter_id, event.content_b64, event.sha256) == (encounter.id, "aG9sYQ==", SHA)
    assert replayed([event]) == stored


# -- clinical history (CIE-10) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [("J069", "J069"), ("j06.9", "J069"), ("I10", "I10X"), (" a09 ", "A09X"), ("r51", "R51X")],
)
def test_diagnosis_codes_are_cie10_as_rips_writes_them(typed: str, stored: str) -> None:
    encounter, _events = given()

    [event] = when(encounter, diagnosis(typed))

    assert isinstance(event, Encounter.DiagnosisSet)
    assert (event.code, event.role, event.type) == (stored, PRINCIPAL, NEW)
    assert encounter.principal == Diagnosis(stored, PRINCIPAL, NEW)


@pytest.mark.parametrize("code", ["1234", "J6", "JJ06", "J06XX", "J0A9", "", "J06-9"])
def test_a_code_that_is_not_cie10_is_refused_naming_the_code_field(code: str) -> None:
    encounter, _events = given()

    error = refused(encounter, diagnosis(code), InvalidValue)

    assert isinstance(error, InvalidValue) and error.field == "code"


@pytest.mark.parametrize("code", ["J999", "U981", "K358", "A099"])
def test_a_well_formed_code_missing_from_the_cie10_catalog_is_refused_and_records_nothing(code: str) -> None:
    encounter, _events = given(diagnosis("J069"))

    for role in (PRINCIPAL, RELATED):
        error = refused(encounter, diagnosis(code, role), InvalidValue)

        assert isinstance(error, InvalidValue) and error.field == "code"
        assert (error.template, error.params) == ("{code} is not in the CIE-10 catalog", {"code": code})
    assert encounter.diagnoses == {"J069": Diagnosis("J069", PRINCIPAL, NEW)}


@pytest.mark.parametrize(
    ("typed", "category", "first", "last"), [("j06", "J06", "J060", "J069"), ("E11X", "E11", "E110", "E119")]
)
def test_a_category_with_subcategories_is_refused_naming_the_subcategories_to_choose_from(
    typed: str, category: str, first: str, last: str
) -> None:
    encounter, _events = given()

    error = refused(encounter, diagnosis(typed), InvalidValue)

    assert isinstance(error, InvalidValue) and error.field == "code"
    assert str(error) == (
        f"{category} is a CIE-10 category with subcategories: give one of them, {first} to {last}"
    )


@pytest.mark.parametrize("code", ["V010", "v01.9", "W199", "X599", "Y98", "Y98X"])
def test_an_external_cause_v01_to_y98_cannot_be_principal_but_may_be_related(code: str) -> None:
    encounter, _events = given(diagnosis("S525"))

    error = refused(encounter, diagnosis(code), InvalidValue)
    assert isinstance(error, InvalidValue) and error.field == "code"
    assert "external cause" in str(error)

    [event] = when(encounter, diagnosis(code, RELATED))
    assert event.role is RELATED


@pytest.mark.parametrize("code", ["T983", "Z000", "T141", "S525"])
def test_codes_outside_v01_y98_may_be_principal(code: str) -> None:
    encounter, _events = given()

    assert when(encounter, diagnosis(code))[0].code == code


def test_a_principal_diagnosis_replaces_the_previous_principal() -> None:
    encounter, _events = given(diagnosis("J069"), diagnosis("I10X", RELATED))

    [event] = when(encounter, diagnosis("J209", kind=REPEAT))

    assert (event.code, event.role, event.type) == ("J209", PRINCIPAL, REPEAT)
    assert encounter.diagnoses == {
        "I10X": Diagnosis("I10X", RELATED, NEW),
        "J209": Diagnosis("J209", PRINCIPAL, REPEAT),
    }


def test_a_related_diagnosis_cannot_be_the_principal_one() -> None:
    encounter, _events = given(diagnosis("J069"))

    error = refused(encounter, diagnosis("j06.9", RELATED), InvalidValue)

    assert isinstance(error, InvalidValue) and error.field == "code"
    assert encounter.diagnoses == {"J069": Diagnosis("J069", PRINCIPAL, NEW)}


def test_a_visit_has_at_most_three_related_diagnoses() -> None:
    related = [diagnosis(code, RELATED) for code in ("I10X", "E119", "E780")]
    encounter, _events = given(diagnosis("J069"), *related)
    assert MAX_RELATED == 3

    error = refused(encounter, diagnosis("K297", RELATED), InvalidValue)
    assert isinstance(error, InvalidValue) and error.field == "code"

    # Setting one of the three again (its type) is no fourth one; a principal is no related one.
    assert when(encounter, diagnosis("E119", RELATED, REPEAT))[0].type is REPEAT
    assert when(encounter, diagnosis("K297"))[0].role is PRINCIPAL
    assert len(encounter.diagnoses) == 4


def test_removing_a_diagnosis_records_its_code() -> None:
    encounter, _events = given(diagnosis("J069"), diagnosis("I10", RELATED))

    [event] = when(encounter, lambda e: e.remove_diagnosis("j06.9"))

    assert isinstance(event, Encounter.DiagnosisRemoved) and event.code == "J069"
    assert encounter.principal is None
    refused(encounter, lambda e: e.remove_diagnosis("J069"), ItemNotFound)


# -- finalizing ---------------------------------------------------------------------------------
def test_finalizing_needs_a_principal_diagnosis() -> None:
    encounter, _events = given(diagnosis("I10", RELATED))

    error = refused(encounter, finalized, NeedsPrincipalDiagnosis)

    assert error.params == {"number": "BRG01-457"}


def test_finalizing_records_the_day_and_the_state() -> None:
    encounter, _events = given(diagnosis("J069"))
    day = VISIT_DAY + timedelta(days=1)

    [event] = when(encounter, lambda e: e.finalize(day), day)

    assert isinstance(event, Encounter.Finalized) and event.finalized_on == day
    assert (encounter.state, encounter.finalized_on) == ("finalized", day)


FINALIZED_REFUSES: dict[str, Callable[[Encounter], Any]] = {
    "visit data": lambda e: e.change_visit_data({"reason": "Otra"}, VISIT_DAY, NO_LOCKS, False),
    "add service": service("903841"),
    "remove service": lambda e: e.remove_service("S1"),
    "set principal": diagnosis("J209"),
    "set related": diagnosis("E119", RELATED),
    "remove diagnosis": lambda e: e.remove_diagnosis("J069"),
    "finalize again": finalized,
}


@pytest.mark.parametrize("command", FINALIZED_REFUSES.values(), ids=FINALIZED_REFUSES.keys())
def test_a_finalized_visit_keeps_its_visit_data_services_and_diagnoses(
    command: Callable[[Encounter], Any],
) -> None:
    encounter, _events = given(service(), diagnosis("J069"), finalized)

    error = refused(encounter, command, EncounterClosed)

    assert error.params["state"] == "finalized" and error.params["number"] == "BRG01-457"


def test_a_finalized_visit_still_takes_paragraphs_and_documents_as_addenda() -> None:
    encounter, _events = given(paragraph(), diagnosis("J069"), finalized)

    def addenda(e: Encounter) -> None:
        e.add_paragraph("ADDENDUM", "Resultado recibido", VISIT_DAY)
        e.change_paragraph("P1", "Reposo corregido", VISIT_DAY, NO_LOCKS, False)
        e.attach_document(DOC, "rx.png", "image/png", SHA, 10, VISIT_DAY)

    events = when(encounter, addenda)

    assert [type(ev) for ev in events] == [
        Encounter.ParagraphAdded,
        Encounter.ParagraphChanged,
        Encounter.DocumentAttached,
    ]
    assert encounter.state == "finalized"


# -- deleting -----------------------------------------------------------------------------------
def test_deleting_is_a_void_the_events_stay() -> None:
    encounter, events = given(paragraph(), diagnosis("J069"), finalized)

    [event] = when(encounter, deleted)

    assert isinstance(event, Encounter.Deleted)
    assert (encounter.state, encounter.deleted) == ("deleted", True)
    assert encounter.paragraph("P1").text == "Reposo"  # nothing is erased
    assert replayed([*events, event]) == encounter


DELETED_REFUSES: dict[str, Callable[[Encounter], Any]] = {
    "visit data": lambda e: e.change_visit_data({"reason": "Otra"}, VISIT_DAY, NO_LOCKS, False),
    "add paragraph": paragraph("NOTA"),
    "change paragraph": lambda e: e.change_paragraph("P1", "x", VISIT_DAY, NO_LOCKS, False),
    "delete paragraph": lambda e: e.delete_paragraph("P1", VISIT_DAY, NO_LOCKS, False),
    "add service": service("903841"),
    "remove service": lambda e: e.remove_service("S1"),
    "observations": lambda e: e.change_observations("x", VISIT_DAY, NO_LOCKS, False),
    "attach document": document(uuid.uuid4()),
    "delete document": lambda e: e.delete_document(DOC, VISIT_DAY, NO_LOCKS, False),
    "set diagnosis": diagnosis("J209"),
    "remove diagnosis": lambda e: e.remove_diagnosis("J069"),
    "finalize": finalized,
    "delete again": deleted,
}


@pytest.mark.parametrize("command", DELETED_REFUSES.values(), ids=DELETED_REFUSES.keys())
def test_a_deleted_visit_refuses_everything(command: Callable[[Encounter], Any]) -> None:
    encounter, _events = given(paragraph(), service(), document(), diagnosis("J069"), deleted)

    error = refused(encounter, command, EncounterClosed)

    assert error.params["state"] == "deleted"


# -- reassigning (chart merge) ------------------------------------------------------------------
def test_reassigning_moves_the_visit_to_the_kept_chart() -> None:
    encounter, _events = given()

    [event] = when(encounter, lambda e: e.reassign(OTHER_PATIENT, "CEN-7"))

    assert isinstance(event, Encounter.Reassigned)
    assert (event.patient_id, event.chart_number) == (OTHER_PATIENT, "CEN-7")
    assert (encounter.patient_id, encounter.chart_number) == (OTHER_PATIENT, "CEN-7")
    assert when(encounter, lambda e: e.reassign(OTHER_PATIENT, "CEN-7")) == []


# -- replaying ----------------------------------------------------------------------------------
EVERYTHING: tuple[Callable[[Encounter], Any], ...] = (
    lambda e: e.change_visit_data({"reason": "Tos", "cause": "21"}, VISIT_DAY, NO_LOCKS, False),
    paragraph(),
    paragraph("PLAN", "Control en 8 días"),
    lambda e: e.change_paragraph("P2", "Control en 15 días", VISIT_DAY, NO_LOCKS, False),
    lambda e: e.delete_paragraph("P1", VISIT_DAY, NO_LOCKS, False),
    service(),
    service("903841", 2),
    lambda e: e.remove_service("S1"),
    lambda e: e.change_observations("Vive solo", VISIT_DAY, NO_LOCKS, False),
    document(),
    document(UUID("0d0c0000-0000-4000-8000-0000000000d2")),
    lambda e: e.delete_document(DOC, VISIT_DAY, NO_LOCKS, False),
    diagnosis("J069", kind=DiagnosisType.IMPRESSION),
    diagnosis("I10", RELATED),
    diagnosis("J209"),
    lambda e: e.remove_diagnosis("I10X"),
    lambda e: e.reassign(OTHER_PATIENT, "CEN-7"),
    finalized,
    paragraph("ADDENDUM", "Resultado"),
    deleted,
)


def test_replaying_the_collected_events_rebuilds_an_equal_encounter() -> None:
    encounter, events = given(*EVERYTHING)

    assert len(events) == 1 + len(EVERYTHING)
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    rebuilt = replayed(events)
    assert rebuilt == encounter
    assert (rebuilt.state, rebuilt.principal) == ("deleted", Diagnosis("J209", PRINCIPAL, NEW))
    assert sorted(p for p, v in rebuilt.paragraphs.items() if not v.deleted) == ["P2", "P3"]


def test_an_encounter_saved_and_loaded_through_an_application_is_equal() -> None:
    app = BrigadaApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with recording(context()):
        encounter = open_visit()
        for step in EVERYTHING:
            step(encounter)
    app.save(encounter)

    loaded: MutableOrImmutableAggregate[UUID] = app.repository.get(encounter.id)

    assert loaded == encounter
    assert isinstance(loaded, Encounter)
    assert loaded.kind is EncounterKind.OUTPATIENT
    assert loaded.documents[DOC].attached_on == VISIT_DAY
    assert isinstance(loaded.patient_id, UUID)

"""What central lets a laptop's pushed event do (domain/sync/sync_trust.py), without a store: given the
events a laptop recorded (built with the aggregates, in a recording context, as the application
builds them) and what central holds about the site and the records, when central judges the
push, then each event is applied, re-applied on central's newer copy, or held naming its rule."""

from __future__ import annotations

import json
import string
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from eventsourcing.persistence import Mapper
from eventsourcing.utils import resolve_topic

from domain.access_log import LOGIN_UNKNOWN_USER, PATIENT_VIEW, Access
from domain.base import BrigadaAggregate
from domain.billing.invoice import Invoice
from domain.clinical.admission import Admission, AdmissionKind
from domain.clinical.agenda import AgendaDay
from domain.clinical.encounter import DiagnosisRole, DiagnosisType, Encounter, EncounterKind
from domain.clinical.patient import Patient, PatientDetails
from domain.context import EventContext, recording
from domain.numbering import NumberSeries
from domain.pharmacy.catalog import CatalogItem, ItemKind
from domain.pharmacy.diagnostic_service import DiagnosticService
from domain.pharmacy.stock_lot import StockLot, StockSource
from domain.pharmacy.surgery import Surgery
from domain.pharmacy.warehouse import Warehouse
from domain.security.user import User
from domain.sites.site import ACTION_LABELS, Site, SiteAction
from domain.sites.site_policy import FORBIDDEN_LABELS, Forbidden
from domain.sync.sync import SyncCrossing
from domain.sync.sync_trust import (
    LAPTOP_TOPICS,
    RULE_TEXTS,
    UNKNOWN_USER,
    CentralRecord,
    Origin,
    Outcome,
    PushedEvent,
    PushingSite,
    TrustRule,
    Verdict,
    authorize,
    origin_of,
)
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone

SITE = "BRG01"
FIELD = "BRG01-FARMACIA"
CENTRAL_WAREHOUSE = "CEN-FARMACIA"
TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
END, START = SyncCrossing.END_OF_MISSION, SyncCrossing.START_OF_MISSION


# -- given: events recorded where and by whom the test says -------------------------------------
@contextmanager
def at(site: str = SITE, user: str = "ana") -> Iterator[EventContext]:
    """A command recorded at ``site`` by ``user``, as the application's ``acting_as`` does."""
    with recording(EventContext(uuid.uuid4(), site, user, "pc", 7, NOW, TODAY)) as context:
        yield context


def on_central() -> Any:
    return at("CEN", "admin")


def events_of(*aggregates: Any) -> list[Any]:
    """The new events of each aggregate, in that order (the aggregates' pending events emptied)."""
    return [event for aggregate in aggregates for event in aggregate.collect_events()]


def details(**changes: Any) -> PatientDetails:
    adult = PatientDetails(
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
    return replace(adult, **changes)


def new_patient(chart: str = "BRG01-61") -> Patient:
    return Patient.register(chart, details(), today=TODAY)


def new_encounter(patient: Patient, number: str = "BRG01-7") -> Encounter:
    return Encounter(
        number=number,
        patient_id=patient.id,
        chart_number=patient.chart_number,
        kind=EncounterKind.OUTPATIENT,
        visit_date=TODAY,
        professional="ana",
        visit_data={},
        appointment=None,
        admission=None,
    )


def new_lot(warehouse: str = FIELD) -> StockLot:
    return StockLot(warehouse=warehouse, item="19943528-1", lot="L-2026", expiry=date(2027, 6, 30))


def new_user(username: str, is_admin: bool = False) -> User:
    return User(username=username, full_name=username.title(), is_admin=is_admin, password_hash="argon2$h")


def log_in(user: User) -> None:
    user.log_in(password_matches=True, on_central=False, session_id=uuid.uuid4(), token_hash="t", now=NOW)


def users_on_central(*usernames: str) -> dict[str, User]:
    """Central's users, created there by the administrator (their events already collected)."""
    with on_central():
        users = {name: new_user(name) for name in usernames}
    events_of(*users.values())
    return users


def at_version(event: Any, version: int) -> Any:
    """The same event filed at another version of its record (what an edited store can push)."""
    return replace(event, originator_version=version)


@cache
def mapper() -> Mapper[uuid.UUID]:
    from application.app import BrigadaApplication

    return BrigadaApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


def decoded_with(event: Any, **state: Any) -> Any:
    """``event`` as central decodes it after an edited store changed fields of its stored state
    (a value None removes the field): the application's own mapper, the same round trip."""
    stored = mapper().to_stored_event(event)
    data = json.loads(stored.state)
    for name, value in state.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return mapper().to_domain_event(replace(stored, state=json.dumps(data).encode()))


# -- given: what central holds ------------------------------------------------------------------
def pushing_site(**changes: Any) -> PushingSite:
    site = PushingSite(
        code=SITE,
        crossing=END,
        lease=frozenset(SiteAction),
        field_warehouses=frozenset({FIELD}),
        users={"ana": False, "beto": False, "admin": True},
    )
    return replace(site, **changes)


def central_copy(events: list[Any], *, head: int | None = None, held: bool = False) -> CentralRecord:
    """Central's copy of a record whose events on central are ``events``."""
    return CentralRecord(
        origin=origin_of(events[0]),
        head=len(events) if head is None else head,
        held=held,
        event_ids=frozenset(e.context.event_id.hex for e in events),
    )


def _user_copy(username: str, head: int) -> CentralRecord:
    """Central's copy of a user it created, at ``head``."""
    return CentralRecord(Origin("User", "CEN", username=username), head=head)


def holding(*copies: list[Any], **options: Any) -> dict[uuid.UUID, CentralRecord]:
    return {events[0].originator_id: central_copy(events, **options) for events in copies}


# -- when ---------------------------------------------------------------------------------------
def pushed(events: list[Any], stamped_site: str = SITE) -> list[PushedEvent]:
    """A batch as central reads it off the laptop's log (positions from 1)."""
    return [
        PushedEvent(
            position,
            record_id=e.originator_id,
            version=e.originator_version,
            topic=type(e).TOPIC,
            event=e,
            stamped_site=stamped_site,
        )
        for position, e in enumerate(events, start=1)
    ]


def judged(
    events: list[Any],
    site: PushingSite | None = None,
    records: dict[uuid.UUID, CentralRecord] | None = None,
) -> list[Verdict]:
    return authorize(pushed(events), site or pushing_site(), records or {})


def judged_one(event: Any, **given: Any) -> Verdict:
    [verdict] = judged([event], **given)
    return verdict


# -- then ---------------------------------------------------------------------------------------
def assert_applied(verdicts: list[Verdict], events: list[Any]) -> None:
    """Each event applied as it is, at its own version."""
    assert verdicts == [
        Verdict(position, Outcome.APPLY, version=e.originator_version)
        for position, e in enumerate(events, start=1)
    ]


def assert_held(verdict: Verdict, rule: TrustRule, **detail: str) -> None:
    """Held in quarantine for ``rule``, with ``detail``, which fills the rule's text."""
    assert (verdict.outcome, verdict.rule, verdict.detail) == (Outcome.QUARANTINE, rule, detail)
    assert verdict.version == 0
    named = {name for _, name, _, _ in string.Formatter().parse(RULE_TEXTS[rule]) if name}
    assert named <= set(detail)


# -- an honest mission --------------------------------------------------------------------------
def test_an_honest_missions_events_are_applied_as_they_are_at_their_own_versions() -> None:
    users = users_on_central("ana")
    with on_central():
        chart_series = NumberSeries(site=SITE, series="HIST")
    central_series = events_of(chart_series)
    with at():
        log_in(users["ana"])
        chart_series.take()
        patient = new_patient()
        encounter = new_encounter(patient)
        encounter.add_paragraph("EVOLUCION", "Paciente estable", TODAY)
        encounter.set_diagnosis("J069", DiagnosisRole.PRINCIPAL, DiagnosisType.IMPRESSION)
        encounter.finalize(TODAY)
        lot = new_lot()
        lot.receive(10, StockSource.TRANSFER, "TR-1")
        lot.dispense(2, "FOR-1", TODAY)
        viewed = Access(action=PATIENT_VIEW, fields={"chart": "BRG01-61"})
        users["ana"].log_out(next(iter(users["ana"].sessions)))
    mission = events_of(users["ana"], chart_series, patient, encounter, lot, viewed)
    records = {
        users["ana"].id: _user_copy("ana", head=1),
        chart_series.id: central_copy(central_series),
    }

    verdicts = judged(mission, records=records)

    assert_applied(verdicts, mission)


def test_a_patient_of_another_site_may_be_changed_from_this_one() -> None:
    with at("BRG02"):
        patient = new_patient("BRG02-5")
    registered = events_of(patient)
    with at():
        patient.correct(TODAY, zone=Zone.RURAL)
    corrected = events_of(patient)

    verdicts = judged(corrected, records=holding(registered))

    assert_applied(verdicts, corrected)


def test_a_series_central_started_for_the_site_is_the_sites_own() -> None:
    with on_central():
        series = NumberSeries(site=SITE, series="VISITA")
    started = events_of(series)
    with at():
        series.take()
    advanced = events_of(series)

    assert_applied(judged(advanced, records=holding(started)), advanced)


def test_an_ambulatory_admission_is_one_the_site_may_do() -> None:
    with at():
        patient = new_patient()
        admission = Admission.admit(
            "BRG01-1", patient.id, "BRG01-61", AdmissionKind.AMBULATORY, TODAY, "x", []
        )
    events = events_of(patient, admission)

    assert_applied(judged(events), events)


# -- records created once -----------------------------------------------------------------------
def test_a_record_created_twice_in_one_push_is_held_the_second_time() -> None:
    with at():
        first, second = NumberSeries(site=SITE, series="HIST"), NumberSeries(site=SITE, series="HIST")
    events = events_of(first, second)
    assert first.id == second.id

    applied, again = judged(events)

    assert applied == Verdict(1, Outcome.APPLY, version=1)
    assert_held(again, TrustRule.RECORD_EXISTS)


def test_creating_a_record_central_already_holds_is_held() -> None:
    with on_central():
        centrals = NumberSeries(site=SITE, series="HIST")
        centrals.take()
    with at():
        laptops = NumberSeries(site=SITE, series="HIST")

    verdict = judged_one(events_of(laptops)[0], records=holding(events_of(centrals)))

    assert_held(verdict, TrustRule.RECORD_EXISTS)


def test_a_creation_filed_at_a_version_other_than_one_is_held() -> None:
    with at():
        patient = new_patient()
    [registered] = events_of(patient)

    # A second creation of a record is refused whatever central holds of it.
    assert_held(judged_one(at_version(registered, 2)), TrustRule.RECORD_EXISTS)


# -- rule 1: a topic Brigada knows, a state that reads -------------------------------------------
@pytest.mark.parametrize("topic", ["builtins.eval", "os:system", "Brigada.Patient.Registered"])
def test_a_topic_outside_brigadas_events_is_held_as_unknown(topic: str) -> None:
    batch = [PushedEvent(1, uuid.uuid4(), 1, topic, event=None, stamped_site=SITE)]

    [verdict] = authorize(batch, pushing_site(), {})

    assert_held(verdict, TrustRule.UNKNOWN_TOPIC, topic=topic)


def test_a_decoded_event_under_a_topic_outside_brigadas_events_is_held_as_unknown() -> None:
    with at():
        patient = new_patient()
    [registered] = events_of(patient)
    batch = [PushedEvent(1, patient.id, 1, "evil.Patient.Registered", registered, SITE)]

    [verdict] = authorize(batch, pushing_site(), {})

    assert_held(verdict, TrustRule.UNKNOWN_TOPIC, topic="evil.Patient.Registered")


def test_an_unknown_topics_name_is_cut_short_in_the_detail() -> None:
    topic = "x" * 300
    batch = [PushedEvent(1, uuid.uuid4(), 1, topic, event=None, stamped_site=SITE)]

    [verdict] = authorize(batch, pushing_site(), {})

    assert_held(verdict, TrustRule.UNKNOWN_TOPIC, topic="x" * 80)


def test_an_unreadable_event_under_a_brigada_topic_laptops_never_record_is_held_as_unknown() -> None:
    batch = [PushedEvent(1, uuid.uuid4(), 1, "brigada.Nothing.Happened", event=None, stamped_site=SITE)]

    [verdict] = authorize(batch, pushing_site(), {})

    assert_held(verdict, TrustRule.UNKNOWN_TOPIC, topic="brigada.Nothing.Happened")


def test_an_unreadable_event_under_a_laptop_topic_is_held_as_undecodable() -> None:
    batch = [PushedEvent(1, uuid.uuid4(), 2, "brigada.Patient.Corrected", event=None, stamped_site=SITE)]

    [verdict] = authorize(batch, pushing_site(), {})

    assert_held(verdict, TrustRule.UNDECODABLE)


def _receipt() -> tuple[list[Any], dict[uuid.UUID, CentralRecord]]:
    with at():
        lot = new_lot()
        lot.receive(10, StockSource.TRANSFER, "TR-1")
    return events_of(lot), {}


def _own_password_change() -> tuple[list[Any], dict[uuid.UUID, CentralRecord]]:
    users = users_on_central("ana")
    with at():
        users["ana"].change_own_password(current_matches=True, password_hash="argon2$new", today=TODAY)
    return events_of(users["ana"]), {users["ana"].id: _user_copy("ana", head=1)}


@pytest.mark.parametrize(("record", "field"), [(_receipt, "source"), (_own_password_change, "must_change")])
def test_a_forged_state_missing_a_field_the_rules_read_is_held_not_an_error(
    record: Callable[[], tuple[list[Any], dict[uuid.UUID, CentralRecord]]], field: str
) -> None:
    """The trust boundary judges every event: one whose state lacks a field a rule reads (a
    receipt's source, a password change's must_change) is held like any event it cannot trust;
    it does not stop the whole push."""
    events, records = record()
    forged = decoded_with(events[-1], **{field: None})
    assert not hasattr(forged, field)

    verdicts = judged([*events[:-1], forged], records=records)

    assert all(verdict.outcome is Outcome.APPLY for verdict in verdicts[:-1])
    assert verdicts[-1].outcome is Outcome.QUARANTINE


# -- rule 2: stamped at the pushing site --------------------------------------------------------
def test_an_event_recorded_as_another_site_is_held_for_its_stamp() -> None:
    with at("BRG02"):
        patient = new_patient()
    [registered] = events_of(patient)

    [verdict] = authorize(pushed([registered], stamped_site="BRG02"), pushing_site(), {})

    assert_held(verdict, TrustRule.SITE_STAMP, stamped="BRG02")


def test_an_event_whose_raw_state_names_another_site_is_held_for_its_stamp() -> None:
    with at():
        patient = new_patient()
    [registered] = events_of(patient)

    [verdict] = authorize(pushed([registered], stamped_site="BRG02"), pushing_site(), {})

    assert_held(verdict, TrustRule.SITE_STAMP, stamped="BRG02")


def test_an_event_central_recorded_is_never_one_a_laptop_may_push() -> None:
    with on_central():
        patient = new_patient()

    [verdict] = judged(events_of(patient))

    assert_held(verdict, TrustRule.SITE_STAMP, stamped="CEN")


# -- rule 3: topics a laptop may record ---------------------------------------------------------
def _created_user() -> list[Any]:
    return events_of(new_user("intruso", is_admin=True))


def _registered_site() -> list[Any]:
    return events_of(Site.register("BRG02", "Otra sede", ["BRG02-FARMACIA"], set(SiteAction)))


def _revoked_site() -> list[Any]:
    site = Site.register(SITE, "Sede", [FIELD], set(SiteAction))
    site.revoke()
    return events_of(site)


def _re_enabled_site() -> list[Any]:
    site = Site.register(SITE, "Sede", [FIELD], {SiteAction.PATIENTS})
    site.change_parameters(set(SiteAction), set())
    return events_of(site)


def _issued_invoice() -> list[Any]:
    invoice = Invoice(
        series="FE",
        number="FE-1",
        voucher_numbers=["BRG01-3"],
        visit_numbers=["BRG01-7"],
        payer={},
        lines=[],
        total=Decimal(0),
        issued_on=TODAY,
    )
    return events_of(invoice)


def _added_catalog_item() -> list[Any]:
    item = CatalogItem(
        kind=ItemKind.SERVICE,
        code="890201",
        name="Consulta",
        form="",
        concentration="",
        dispensing_unit="",
        marketing_auth="",
    )
    return events_of(item)


def _created_warehouse() -> list[Any]:
    return events_of(Warehouse.create("BRG01-BODEGA", "Bodega", site=SITE, site_warehouses=["BRG01-BODEGA"]))


@pytest.mark.parametrize(
    ("record", "topic"),
    [
        (_created_user, "brigada.User.Created"),
        (_registered_site, "brigada.Site.Registered"),
        (_revoked_site, "brigada.Site.Revoked"),
        (_re_enabled_site, "brigada.Site.ParametersChanged"),
        (_issued_invoice, "brigada.Invoice.Issued"),
        (_added_catalog_item, "brigada.CatalogItem.Added"),
        (_created_warehouse, "brigada.Warehouse.Created"),
    ],
)
def test_central_only_events_pushed_by_a_laptop_are_held(record: Callable[[], list[Any]], topic: str) -> None:
    with at():
        events = record()

    verdicts = judged(events)

    assert [type(e).TOPIC for e in events][-1] == topic
    for verdict, event in zip(verdicts, events, strict=True):
        assert_held(verdict, TrustRule.NOT_A_SITE_EVENT, topic=type(event).TOPIC)


# -- rule 4: the acting user --------------------------------------------------------------------
def test_an_event_by_a_user_central_did_not_hand_to_the_site_is_held() -> None:
    with at(user="pedro"):
        patient = new_patient()

    [verdict] = judged(events_of(patient))

    assert_held(verdict, TrustRule.USER_NOT_OF_SITE, user="pedro")


def test_an_event_by_an_administrator_is_held() -> None:
    with at(user="admin"):
        patient = new_patient()

    [verdict] = judged(events_of(patient))

    assert_held(verdict, TrustRule.ADMIN_ON_SITE, user="admin")


@pytest.mark.parametrize("crossing", [END, START])
def test_a_login_under_a_name_that_does_not_exist_is_recorded_as_the_unknown_user(
    crossing: SyncCrossing,
) -> None:
    with at(user=UNKNOWN_USER):
        refused = Access(action=LOGIN_UNKNOWN_USER, fields={})
    events = events_of(refused)

    assert_applied(judged(events, site=pushing_site(crossing=crossing)), events)


def _viewed() -> Any:
    return Access(action=PATIENT_VIEW, fields={"chart": "BRG01-61"})


@pytest.mark.parametrize("record", [_viewed, new_patient])
def test_the_unknown_user_records_nothing_but_a_refused_login(record: Callable[[], Any]) -> None:
    with at(user=UNKNOWN_USER):
        aggregate = record()

    [verdict] = judged(events_of(aggregate))

    assert_held(verdict, TrustRule.USER_NOT_OF_SITE, user=UNKNOWN_USER)


def test_an_action_field_forged_into_another_event_does_not_make_the_unknown_user_acceptable() -> None:
    """Central's mapper keeps any field a stored state carries: a patient registration by "?"
    carrying ``action: login.failed`` is still not a refused login."""
    with at(user=UNKNOWN_USER):
        patient = new_patient()
    [registered] = events_of(patient)
    forged = decoded_with(registered, action=LOGIN_UNKNOWN_USER)
    assert isinstance(forged, Patient.Registered)
    assert forged.context.user == UNKNOWN_USER

    [verdict] = judged([forged])

    assert_held(verdict, TrustRule.USER_NOT_OF_SITE, user=UNKNOWN_USER)


# -- rule 5: on mission, in the lease, never what the seed forbids ------------------------------
def test_a_site_action_pushed_at_the_start_of_a_mission_is_held() -> None:
    with at():
        patient = new_patient()

    [verdict] = judged(events_of(patient), site=pushing_site(crossing=START))

    assert_held(verdict, TrustRule.NOT_ON_MISSION, action=ACTION_LABELS[SiteAction.PATIENTS])


def test_a_site_action_outside_the_lease_central_handed_over_is_held() -> None:
    with at():
        patient = new_patient()
        encounter = new_encounter(patient)
        surgery = Surgery(
            number="BRG01-1",
            encounter_id=encounter.id,
            visit_number=encounter.number,
            patient_id=patient.id,
            chart_number=patient.chart_number,
            cups_code="869500",
            performed_on=TODAY,
            surgeon="ana",
        )
    events = events_of(patient, encounter, surgery)
    lease = frozenset(SiteAction) - {SiteAction.SURGERIES}

    registered, opened, linked = judged(events, site=pushing_site(lease=lease))

    assert registered.outcome is opened.outcome is Outcome.APPLY
    assert_held(linked, TrustRule.ACTION_NOT_ENABLED, action=ACTION_LABELS[SiteAction.SURGERIES])


@pytest.mark.parametrize(
    ("kind", "forbidden"),
    [
        (AdmissionKind.EMERGENCY, Forbidden.EMERGENCY_ADMISSIONS),
        (AdmissionKind.INPATIENT, Forbidden.INPATIENT_ADMISSIONS),
    ],
)
def test_emergency_and_inpatient_admissions_are_forbidden_on_a_laptop(
    kind: AdmissionKind, forbidden: Forbidden
) -> None:
    with at():
        patient = new_patient()
        admission = Admission.admit("BRG01-1", patient.id, "BRG01-61", kind, TODAY, "x", [])

    registered, admitted = judged(events_of(patient, admission))

    assert registered.outcome is Outcome.APPLY
    assert_held(admitted, TrustRule.FORBIDDEN_ON_LAPTOP, operation=FORBIDDEN_LABELS[forbidden])


@pytest.mark.parametrize(("cups", "held"), [("902210", True), ("903883", True), ("881112", False)])
def test_a_clinical_laboratory_request_pushed_by_a_laptop_is_held(cups: str, held: bool) -> None:
    """A laptop whose software would not refuse it (or whose store was edited) still cannot
    bring a clinical-laboratory request (CUPS chapter 90) to central; imaging is allowed."""
    with at():
        patient = new_patient()
        encounter = new_encounter(patient)
        study = DiagnosticService(
            number="BRG01-1",
            encounter_id=encounter.id,
            visit_number=encounter.number,
            patient_id=patient.id,
            chart_number=patient.chart_number,
            cups_code=cups,
            requested_by="ana",
        )

    *_earlier, requested = judged(events_of(patient, encounter, study))

    if held:
        assert_held(
            requested,
            TrustRule.FORBIDDEN_ON_LAPTOP,
            operation=FORBIDDEN_LABELS[Forbidden.CLINICAL_LABORATORY],
        )
    else:
        assert requested.outcome is Outcome.APPLY


@pytest.mark.parametrize(("days_after", "held"), [(0, False), (1, True), (30, True)])
def test_a_surgery_dated_after_the_day_it_was_recorded_is_held_as_scheduling(
    days_after: int, held: bool
) -> None:
    with at():
        patient = new_patient()
        encounter = new_encounter(patient)
        surgery = Surgery(
            number="BRG01-1",
            encounter_id=encounter.id,
            visit_number=encounter.number,
            patient_id=patient.id,
            chart_number=patient.chart_number,
            cups_code="869500",
            performed_on=TODAY + timedelta(days=days_after),
            surgeon="ana",
        )

    *_earlier, linked = judged(events_of(patient, encounter, surgery))

    if held:
        assert_held(
            linked, TrustRule.FORBIDDEN_ON_LAPTOP, operation=FORBIDDEN_LABELS[Forbidden.SURGICAL_SCHEDULING]
        )
    else:
        assert linked.outcome is Outcome.APPLY


def test_a_purchase_received_into_a_field_warehouse_is_forbidden_on_a_laptop() -> None:
    with at():
        lot = new_lot()
        lot.receive(10, StockSource.PURCHASE, "FAC-77")

    opened, received = judged(events_of(lot))

    assert opened.outcome is Outcome.APPLY
    assert_held(
        received,
        TrustRule.FORBIDDEN_ON_LAPTOP,
        operation=FORBIDDEN_LABELS[Forbidden.FIELD_WAREHOUSE_ENTRIES],
    )


def test_a_password_reset_that_forces_a_change_is_forbidden_on_a_laptop() -> None:
    users = users_on_central("ana")
    with at():
        users["ana"].reset_password(password_hash="argon2$reset", today=TODAY)

    [verdict] = judged(events_of(users["ana"]), records={users["ana"].id: _user_copy("ana", head=1)})

    assert_held(verdict, TrustRule.FORBIDDEN_ON_LAPTOP, operation=FORBIDDEN_LABELS[Forbidden.ADMINISTRATION])


def test_a_users_own_password_change_is_allowed() -> None:
    users = users_on_central("ana")
    with at():
        users["ana"].change_own_password(current_matches=True, password_hash="argon2$new", today=TODAY)
    events = events_of(users["ana"])

    assert_applied(judged(events, records={users["ana"].id: _user_copy("ana", head=1)}), events)


@pytest.mark.parametrize("crossing", [END, START])
def test_sessions_and_logins_are_allowed_in_either_crossing(crossing: SyncCrossing) -> None:
    users = users_on_central("ana")
    with at():
        log_in(users["ana"])
        users["ana"].log_out(next(iter(users["ana"].sessions)))
        viewed = _viewed()
    events = events_of(users["ana"], viewed)

    verdicts = judged(
        events, site=pushing_site(crossing=crossing), records={users["ana"].id: _user_copy("ana", head=1)}
    )

    assert_applied(verdicts, events)


def test_an_event_breaking_several_rules_is_held_for_the_first_in_the_modules_order() -> None:
    with at(user="admin"):
        patient = new_patient()
        admission = Admission.admit(
            "BRG01-1", patient.id, "BRG01-61", AdmissionKind.EMERGENCY, TODAY, "x", []
        )
    site = pushing_site(crossing=START, lease=frozenset())

    for verdict in judged(events_of(patient, admission), site=site):
        assert_held(verdict, TrustRule.ADMIN_ON_SITE, user="admin")


# -- rule 6: nothing after a held event of the same record --------------------------------------
def test_every_later_event_of_a_record_held_in_the_same_push_is_held_too() -> None:
    with at(user="pedro"):
        held = new_patient()
    with at():
        held.correct(TODAY, zone=Zone.RURAL)
        held.correct(TODAY, municipality="52835")
        other = new_patient("BRG01-62")
    events = events_of(held, other)

    registered, corrected, corrected_again, others = judged(events)

    assert_held(registered, TrustRule.USER_NOT_OF_SITE, user="pedro")
    assert_held(corrected, TrustRule.DEPENDS_ON_QUARANTINE)
    assert_held(corrected_again, TrustRule.DEPENDS_ON_QUARANTINE)
    assert others == Verdict(4, Outcome.APPLY, version=1)


def test_every_event_of_a_record_with_an_event_held_on_central_is_held() -> None:
    with at():
        patient = new_patient()
    registered = events_of(patient)
    with at():
        patient.correct(TODAY, zone=Zone.RURAL)
    corrected = events_of(patient)

    [verdict] = judged(corrected, records=holding(registered, held=True))

    assert_held(verdict, TrustRule.DEPENDS_ON_QUARANTINE)


def test_a_record_whose_only_events_are_held_on_central_stays_held() -> None:
    with at():
        patient = new_patient()
    records = {patient.id: CentralRecord(Origin(kind="", site=""), head=0, held=True)}

    [verdict] = judged(events_of(patient), records=records)

    assert_held(verdict, TrustRule.DEPENDS_ON_QUARANTINE)


# -- rule 7: the site's own records, or shared ones ---------------------------------------------
def test_an_encounter_created_at_another_site_is_that_sites_record() -> None:
    with at("BRG02"):
        encounter = new_encounter(new_patient("BRG02-5"), number="BRG02-1")
    opened = events_of(encounter)
    with at():
        encounter.add_paragraph("EVOLUCION", "añadido en BRG01", TODAY)

    [verdict] = judged(events_of(encounter), records=holding(opened))

    assert_held(verdict, TrustRule.OTHER_SITES_RECORD, owner="BRG02")


def test_a_stock_lot_of_a_warehouse_central_holds_is_not_the_sites() -> None:
    with on_central():
        lot = new_lot(CENTRAL_WAREHOUSE)
        lot.receive(100, StockSource.PURCHASE, "FAC-1")
    on_central_events = events_of(lot)
    with at():
        lot.dispense(1, "FOR-1", TODAY)

    [verdict] = judged(events_of(lot), records=holding(on_central_events))

    assert_held(verdict, TrustRule.OTHER_SITES_RECORD, owner=CENTRAL_WAREHOUSE)


def test_a_stock_lot_opened_on_the_laptop_outside_its_field_warehouses_is_not_the_sites() -> None:
    with at():
        lot = new_lot("BRG02-FARMACIA")

    [verdict] = judged(events_of(lot))

    assert_held(verdict, TrustRule.OTHER_SITES_RECORD, owner="BRG02-FARMACIA")


def test_a_stock_lot_central_opened_in_the_sites_field_warehouse_is_the_sites() -> None:
    with on_central():
        lot = new_lot(FIELD)
        lot.receive(20, StockSource.TRANSFER, "TR-1")
    on_central_events = events_of(lot)
    with at():
        lot.dispense(1, "FOR-1", TODAY)
    dispensed = events_of(lot)

    assert_applied(judged(dispensed, records=holding(on_central_events)), dispensed)


def _series_of(site: str) -> Any:
    return NumberSeries(site=site, series="HIST")


def _agenda_of(site: str) -> Any:
    return AgendaDay.plan(site, "ana", TODAY, "08:00", "12:00", 20, today=TODAY)


@pytest.mark.parametrize("record", [_series_of, _agenda_of])
def test_numbering_or_an_agenda_naming_another_site_is_that_sites_record(
    record: Callable[[str], Any],
) -> None:
    with at():
        aggregate = record("BRG02")

    [verdict] = judged(events_of(aggregate))

    assert_held(verdict, TrustRule.OTHER_SITES_RECORD, owner="BRG02")


def test_a_users_self_service_event_on_another_users_record_is_held() -> None:
    users = users_on_central("ana", "beto")
    with at(user="ana"):
        log_in(users["beto"])
    records = {users["beto"].id: _user_copy("beto", head=1)}

    [verdict] = judged(events_of(users["beto"]), records=records)

    assert_held(verdict, TrustRule.NOT_OWN_USER, username="beto")


def test_a_change_to_a_record_central_does_not_hold_is_held() -> None:
    with at():
        encounter = new_encounter(new_patient())
    events_of(encounter)
    with at():
        encounter.add_paragraph("EVOLUCION", "texto", TODAY)

    [verdict] = judged(events_of(encounter))

    assert_held(verdict, TrustRule.UNKNOWN_RECORD)


def test_a_change_filed_as_the_first_version_of_a_record_is_held() -> None:
    with at():
        patient = new_patient()
    events_of(patient)
    with at():
        patient.correct(TODAY, zone=Zone.RURAL)
    [corrected] = events_of(patient)

    assert_held(judged_one(at_version(corrected, 1)), TrustRule.UNKNOWN_RECORD)


def test_an_event_filed_under_a_record_of_another_kind_is_held() -> None:
    with at():
        patient = new_patient()
    registered = events_of(patient)
    with at():
        encounter = new_encounter(patient)
        encounter.add_paragraph("EVOLUCION", "texto", TODAY)
    [_, added] = events_of(encounter)
    filed_under_the_patient = replace(added, originator_id=patient.id)

    [verdict] = judged([filed_under_the_patient], records=holding(registered))

    assert_held(verdict, TrustRule.UNKNOWN_RECORD)


# -- rule 8: versions ---------------------------------------------------------------------------
def _encounter_with_paragraphs(count: int) -> list[Any]:
    with at():
        encounter = new_encounter(new_patient())
        for n in range(count):
            encounter.add_paragraph("EVOLUCION", f"nota {n}", TODAY)
    return events_of(encounter)


def test_a_version_beyond_the_one_after_centrals_is_held_as_a_gap() -> None:
    encounter = _encounter_with_paragraphs(3)  # versions 1 to 4

    [verdict] = judged([encounter[3]], records=holding(encounter[:2]))

    assert_held(verdict, TrustRule.VERSION_GAP, version="4", head="2")


def test_a_gap_after_events_applied_in_the_same_push_counts_from_them() -> None:
    encounter = _encounter_with_paragraphs(4)  # versions 1 to 5

    third, fifth = judged([encounter[2], encounter[4]], records=holding(encounter[:2]))

    assert third == Verdict(1, Outcome.APPLY, version=3)
    assert_held(fifth, TrustRule.VERSION_GAP, version="5", head="3")


def test_a_version_of_a_sites_own_record_central_already_has_is_held_as_repeated() -> None:
    encounter = _encounter_with_paragraphs(2)  # versions 1 to 3
    centrals = CentralRecord(origin_of(encounter[0]), head=3, event_ids=frozenset({uuid.uuid4().hex}))

    [verdict] = judged([encounter[2]], records={encounter[0].originator_id: centrals})

    assert_held(verdict, TrustRule.VERSION_REPEATED, version="3", head="3")


def test_a_shared_patient_changed_on_central_is_re_applied_on_centrals_newer_copy() -> None:
    with at():
        patient = new_patient()
    registered = events_of(patient)
    with at():
        patient.correct(TODAY, zone=Zone.RURAL)
        patient.correct(TODAY, municipality="52835")
    laptops = events_of(patient)  # versions 2 and 3
    centrals = CentralRecord(origin_of(registered[0]), head=4)  # central corrected it three times

    first, second = judged(laptops, records={patient.id: centrals})

    assert first == Verdict(1, Outcome.REBASE, version=5)
    assert second == Verdict(2, Outcome.REBASE, version=6)


def test_a_password_change_over_a_user_central_changed_meanwhile_is_held() -> None:
    users = users_on_central("ana")
    with at():
        users["ana"].change_own_password(current_matches=True, password_hash="argon2$new", today=TODAY)

    [verdict] = judged(events_of(users["ana"]), records={users["ana"].id: _user_copy("ana", head=2)})

    assert_held(verdict, TrustRule.CHANGED_ON_CENTRAL)


def test_a_login_over_a_user_central_changed_meanwhile_is_re_applied() -> None:
    users = users_on_central("ana")
    with at():
        log_in(users["ana"])

    [verdict] = judged(events_of(users["ana"]), records={users["ana"].id: _user_copy("ana", head=3)})

    assert verdict == Verdict(1, Outcome.REBASE, version=4)


def test_an_unlock_by_an_offline_code_follows_the_code_central_issued_meanwhile() -> None:
    users = users_on_central("ana")
    with at():
        users["ana"]._unlock(code_digest="d1g35t")  # the user typed the code central issued

    [verdict] = judged(events_of(users["ana"]), records={users["ana"].id: _user_copy("ana", head=3)})

    assert verdict == Verdict(1, Outcome.REBASE, version=4)


def test_an_unlock_with_no_code_is_an_administrators_and_never_a_sites() -> None:
    users = users_on_central("ana")
    with at():
        users["ana"]._unlock(code_digest=None)

    [verdict] = judged(events_of(users["ana"]), records={users["ana"].id: _user_copy("ana", head=1)})

    assert_held(verdict, TrustRule.FORBIDDEN_ON_LAPTOP, operation=FORBIDDEN_LABELS[Forbidden.ADMINISTRATION])


def test_a_version_missing_after_a_re_applied_change_is_still_a_gap() -> None:
    with at():
        patient = new_patient()
    registered = events_of(patient)
    with at():
        patient.correct(TODAY, zone=Zone.RURAL)  # version 2, re-applied over central's 4
    first = events_of(patient)
    with at():
        patient.correct(TODAY, municipality="52835")  # version 3: never pushed
        patient.correct(TODAY, municipality="05001")  # version 4
    fourth = events_of(patient)[1:]
    centrals = CentralRecord(origin_of(registered[0]), head=4)

    rebased, gap = judged([*first, *fourth], records={patient.id: centrals})

    assert rebased == Verdict(1, Outcome.REBASE, version=5)
    assert_held(gap, TrustRule.VERSION_GAP, version="4", head="5")


# -- event ids ----------------------------------------------------------------------------------
def test_an_event_central_already_holds_pushed_again_is_held_for_its_id() -> None:
    with at():
        patient = new_patient()
        patient.correct(TODAY, zone=Zone.RURAL)
    on_central_events = events_of(patient)

    [verdict] = judged([on_central_events[1]], records=holding(on_central_events))

    assert_held(verdict, TrustRule.EVENT_ID_REUSED)


def test_a_new_event_reusing_an_id_central_holds_for_the_record_is_held() -> None:
    with at():
        patient = new_patient()
        patient.correct(TODAY, zone=Zone.RURAL)
    on_central_events = events_of(patient)
    with at():
        patient.correct(TODAY, municipality="52835")
    [corrected] = events_of(patient)
    reusing = replace(corrected, context=on_central_events[1].context)

    [verdict] = judged([reusing], records=holding(on_central_events))

    assert_held(verdict, TrustRule.EVENT_ID_REUSED)


def test_an_event_id_repeated_within_a_push_is_held_the_second_time() -> None:
    with at():
        patient = new_patient()
        other = new_patient("BRG01-62")
    [registered, others] = events_of(patient, other)
    reusing = replace(others, context=registered.context)

    first, second = judged([registered, reusing])

    assert first == Verdict(1, Outcome.APPLY, version=1)
    assert_held(second, TrustRule.EVENT_ID_REUSED)


# -- the tables ---------------------------------------------------------------------------------
def test_every_laptop_topic_names_an_event_class_with_that_topic() -> None:
    import application.brigada  # noqa: F401  (every aggregate's events registered)

    classes = {topic: resolve_topic(topic) for topic in LAPTOP_TOPICS}

    assert {topic: cls.TOPIC for topic, cls in classes.items()} == {topic: topic for topic in classes}
    assert all(issubclass(cls, BrigadaAggregate.Event) for cls in classes.values())


def test_every_trust_rule_has_a_text() -> None:
    assert set(RULE_TEXTS) == set(TrustRule)
    assert all(text.strip() for text in RULE_TEXTS.values())


def test_an_access_record_naming_a_change_or_centrals_work_is_never_a_sites() -> None:
    users_on_central("ana")
    with at():
        forged = Access(action="user.create", fields={"USUARIO": "intruso"})
        viewed = Access(action=PATIENT_VIEW, fields={"HIST": "CEN-1"})

    held, applied = judged(events_of(forged, viewed))

    assert_held(held, TrustRule.FORBIDDEN_ON_LAPTOP, operation=FORBIDDEN_LABELS[Forbidden.ADMINISTRATION])
    assert applied == Verdict(2, Outcome.APPLY, version=1)

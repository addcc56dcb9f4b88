"""The activity log's read side without a database (seed 004, "Registro de actividad").

Events are built by the domain itself inside ``recording(...)``, folded with ``apply_at`` into an
in-memory row store, and searched with the seed's criteria through ``AuditCriteria``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from babel.messages.pofile import read_po
from eventsourcing.domain import event as recorded_by

from application.audit.audit import PAGE_SIZE, Audit, AuditCriteria
from application.context import Actor
from application.validation import parse
from cli import i18n
from cli.i18n import _, set_language
from domain.access_log import AUDIT_EXPORT, BACKUP, LOGIN_UNKNOWN_USER, PATIENT_VIEW, Access
from domain.base import BrigadaAggregate
from domain.clinical.patient import Patient
from domain.context import EventContext, recording
from domain.errors import InvalidValue
from domain.numbering import NumberSeries
from domain.security.password_policy import PasswordPolicy, PasswordPolicySettings
from domain.security.sections import Section
from domain.security.user import User
from domain.sites.site import Site, SiteAction, SiteMode
from domain.store_identity import StoreIdentity, StoreRole
from domain.sync.quarantine import Quarantine
from domain.vocabulary import Sex, Zone
from projections.audit.activity_log import (
    ACCESS_LABELS,
    ACTIONS,
    ActivityLogProjection,
    ActivityRow,
    action_label,
    all_action_codes,
    render_comment,
)
from projections.base import InMemoryRowStore, InMemoryViews, OtherViews, Query
from projections.sync.sync import QuarantineProjection
from tests.support.read_side import JOSE, CountingViews

AT = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
TODAY = date(2026, 3, 1)
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0LXNhbHQ$SECRET-HASH-VALUE"
TOKEN_HASH = "f" * 64


def context(
    *,
    site: str = "CEN",
    user: str = "admin",
    computer: str = "consultorio-1",
    ip_octet: int | None = 23,
    at: datetime = AT,
) -> EventContext:
    return EventContext(
        event_id=uuid.uuid4(),
        site=site,
        user=user,
        computer=computer,
        ip_octet=ip_octet,
        recorded_at=at,
        business_date=at.date(),
    )


def fold(
    events: Sequence[Any], projection: ActivityLogProjection | None = None, start: int = 1
) -> InMemoryRowStore:
    """Apply events at log positions start, start+1, ... into an in-memory activity log."""
    projection = projection or ActivityLogProjection()
    store = InMemoryRowStore(projection)
    rows = {}
    for position, event in enumerate(events, start=start):
        key = projection.key_at(event, position)
        rows[key] = projection.apply_at(None, event, position)
    assert store.write(rows, [], old=0, new=start + len(events) - 1)
    return store


def one_row(event: Any, views: OtherViews | None = None, position: int = 7) -> ActivityRow:
    row = ActivityLogProjection(views).apply_at(None, event, position)
    assert isinstance(row, ActivityRow)
    return row


# -- every known topic: its action code and its comment -----------------------------------------
def store_events() -> list[Any]:
    with recording(context(user="sistema")):
        identity = StoreIdentity(role=StoreRole.CENTRAL, site_code="CEN", software_version="0.1.0")
        user = User(username="ana", full_name="Ana Ruiz", is_admin=False, password_hash=PASSWORD_HASH)
    with recording(context(user="ana")):
        user.log_in(
            password_matches=False,
            on_central=True,
            session_id=uuid.uuid4(),
            token_hash=TOKEN_HASH,
            now=AT,
        )
        session = uuid.uuid4()
        user.log_in(
            password_matches=True,
            on_central=True,
            session_id=session,
            token_hash=TOKEN_HASH,
            now=AT,
        )
        user.log_out(session)
        series = NumberSeries(site="CEN", series="HIST")
        chart = series.take()
        patient = Patient.register(chart, JOSE, today=TODAY)
        patient.correct(TODAY, zone=Zone.RURAL)
        backup = Access(action=BACKUP, fields={"CARPETA": r"c:\gestmed"})
    return [
        *identity.collect_events(),
        *user.collect_events(),
        *series.collect_events(),
        *patient.collect_events(),
        *backup.collect_events(),
    ]


def test_each_known_topic_gets_its_action_code_and_seed_style_comment() -> None:
    events = store_events()
    rows = fold(events).all_rows()
    described = [(type(e).TOPIC, r.action, r.comment) for e, r in zip(events, rows, strict=True)]
    assert described == [
        ("brigada.StoreIdentity.Established", "store.create", "SEDE=CEN"),
        ("brigada.User.Created", "user.create", "USUARIO=ana"),
        ("brigada.User.LoginFailed", "login.failed", ""),
        ("brigada.User.LoggedIn", "login", ""),
        ("brigada.User.LoggedOut", "logout", ""),
        ("brigada.NumberSeries.Started", "numbering.start", "SERIE=HIST"),
        ("brigada.NumberSeries.Advanced", "numbering.take", "NUM=1"),
        ("brigada.Patient.Registered", "patient.create", "HIST=CEN-1"),
        ("brigada.Patient.Corrected", "patient.correct", "HIST=CEN-1 CAMPOS=zone"),
        ("brigada.Access.Recorded", "backup", r"CARPETA=c:\gestmed"),
    ]
    assert {topic for topic, _a, _c in described} - {"brigada.Access.Recorded"} <= set(ACTIONS)


def test_user_administration_events_name_the_user_and_nothing_secret() -> None:
    unlock_key, totp_secret, new_hash = "5eed" * 16, "JBSWY3DPEHPK3PXP", "$argon2id$NEW-HASH"
    with recording(context(user="admin")):
        user = User(username="ana", full_name="Ana", is_admin=False, password_hash=PASSWORD_HASH)
        user.update(full_name="Ana María")
        user.deactivate()
        user.reactivate()
        user.reset_password(password_hash=new_hash, today=TODAY)
        user.log_in(
            password_matches=False,
            on_central=True,
            session_id=uuid.uuid4(),
            token_hash=TOKEN_HASH,
            now=AT,
            max_failed_attempts=1,
        )
        user.unlock()
        user.change_menu(frozenset({"patient", "patient.show"}))
        user.change_sections(frozenset({Section.VISIT, Section.REPORT}))
        user.set_unlock_key(unlock_key)
        user.issue_unlock_code(site="BRG01", hour=500_000)
        user.enroll_totp(totp_secret)
        user.remove_totp()
    rows = fold(user.collect_events()).all_rows()
    assert [(r.action, r.comment) for r in rows] == [
        ("user.create", "USUARIO=ana"),
        ("user.update", "USUARIO=ana"),
        ("user.deactivate", "USUARIO=ana"),
        ("user.reactivate", "USUARIO=ana"),
        ("user.password", "USUARIO=ana FORZAR_CAMBIO=SI"),
        ("login.failed", ""),
        ("user.lock", "USUARIO=ana"),
        ("user.unlock", "USUARIO=ana CODIGO=NO"),
        ("user.menu", "USUARIO=ana OPCIONES=2"),
        ("user.sections", "USUARIO=ana PESTANAS=report,visit"),
        ("user.unlock-key", "USUARIO=ana"),
        ("user.unlock-code", "USUARIO=ana SEDE=BRG01"),
        ("user.totp-enrol", "USUARIO=ana"),
        ("user.totp-remove", "USUARIO=ana"),
    ]
    for row in rows:
        for secret in (PASSWORD_HASH, new_hash, unlock_key, totp_secret, "Ana María"):
            assert secret not in row.comment and secret not in row.fields
    assert {r.user for r in rows} == {"admin"}  # who did it; USUARIO= is whom it was done to


def test_a_user_event_whose_creation_was_not_seen_reads_the_users_view() -> None:
    with recording(context()):
        user = User(username="ana", full_name="Ana", is_admin=False, password_hash=PASSWORD_HASH)
        created = user.collect_events()
        user.deactivate()
    (deactivated,) = user.collect_events()
    assert one_row(deactivated, CountingViews(*created)).comment == "USUARIO=ana"
    assert one_row(deactivated, CountingViews()).comment == "USUARIO=?"


def test_site_policy_and_provisioning_events() -> None:
    with recording(context(user="admin")):
        site = Site.register("BRG01", "Brigada Nariño", ["BOD-1"], {SiteAction.PATIENTS})
        site.add_warehouse("BOD-2")
        site.change_parameters(enable={SiteAction.CARE}, disable=set())
        site.provision(software_version="0.1.0", key_id="k1", public_key="ab" * 32)
        site.change_mode(SiteMode.ON_MISSION)
        site.revoke()
        identity = StoreIdentity(role=StoreRole.SITE, site_code="BRG01", software_version="0.1.0")
        identity.mark_provisioned(central_code="CEN", sync_secret="SYNC-SECRET", generation="g1", slice_end=0)
        policy = PasswordPolicy()
        policy.set(PasswordPolicySettings(min_length=12), actor_has_second_factor=False)
    events = [*site.collect_events(), *identity.collect_events(), *policy.collect_events()]
    rows = fold(events).all_rows()
    assert [(r.action, r.comment) for r in rows[:8]] == [
        ("site.register", "SEDE=BRG01"),
        ("site.warehouse", "SEDE=BRG01 BODEGA=BOD-2"),
        ("site.params", "SEDE=BRG01 ACCIONES=care,patients"),
        ("site.provision", "SEDE=BRG01 VERSION=0.1.0"),
        ("site.mode", "SEDE=BRG01 MODO=MSN"),
        ("site.revoke", "SEDE=BRG01"),
        ("store.create", "SEDE=BRG01"),
        ("store.provisioned", "CENTRAL=CEN"),
    ]
    assert (rows[8].action, rows[8].comment) == ("policy.start", "")
    assert rows[9].action == "policy.set" and "min_length=12" in rows[9].comment.split()
    for row in rows:
        for secret in ("SITE-SECRET-HASH", "SYNC-SECRET"):
            assert secret not in row.comment and secret not in row.fields


def test_a_row_carries_the_context_and_the_fields_as_json() -> None:
    event = store_events()[7]  # Patient.Registered
    row = one_row(event, position=42)
    assert row == ActivityRow(
        position=42,
        event_id=event.context.event_id.hex,
        recorded_at="2026-03-01T15:30:00+00:00",
        user="ana",
        computer="consultorio-1",
        ip_octet=23,
        site="CEN",
        action="patient.create",
        comment="HIST=CEN-1",
        fields='{"HIST": "CEN-1"}',
    )
    assert json.loads(row.fields) == {"HIST": "CEN-1"}


def test_an_unknown_ip_octet_stays_unknown() -> None:
    with recording(context(ip_octet=None)):
        access = Access(action=PATIENT_VIEW, fields={"HIST": "CEN-1"})
    (event,) = access.collect_events()
    assert one_row(event).ip_octet is None


def test_a_correction_whose_registration_was_not_seen_reads_the_patients_view() -> None:
    with recording(context()):
        patient = Patient.register("CEN-1", JOSE, today=TODAY)
    registered = patient.collect_events()  # before this batch: in the patients view only
    with recording(context()):
        patient.correct(TODAY, zone=Zone.RURAL, sex=Sex.FEMALE)
    (corrected,) = patient.collect_events()

    views = CountingViews(*registered)
    projection = ActivityLogProjection(views)
    row = projection.apply_at(None, corrected, 9)
    assert row is not None
    assert (row.action, row.comment) == ("patient.correct", "HIST=CEN-1 CAMPOS=sex,zone")
    assert json.loads(row.fields) == {"HIST": "CEN-1", "CAMPOS": "sex,zone"}
    # The answer is kept: a second correction does not ask again.
    projection.apply_at(None, corrected, 10)
    assert views.asked == ["patients"]


def test_a_quarantine_decision_whose_holding_was_not_seen_reads_the_quarantine_view() -> None:
    with recording(context()):
        held = Quarantine(
            site="BRG01",
            run_id=uuid.uuid4(),
            generation="g1",
            position=12,
            record_id=uuid.uuid4(),
            record_version=3,
            topic=Patient.Corrected.TOPIC,
            state="{}",
            rule="after-revocation",
            detail={},
            user="ana",
            event_id=uuid.uuid4().hex,
        )
        holding = held.collect_events()
        held.release(applied_version=4)
    (released,) = held.collect_events()
    expected = f"SEDE=BRG01 EVENTO={held.id.hex[:8]} TIPO=Patient.Corrected"

    views = InMemoryViews([QuarantineProjection()], holding)
    assert one_row(released, views).comment == expected
    assert fold([*holding, released]).all_rows()[1].comment == expected
    assert one_row(released).comment == f"SEDE=? EVENTO={held.id.hex[:8]} TIPO=?"


def test_a_correction_of_a_chart_nobody_knows_says_so() -> None:
    with recording(context()):
        patient = Patient.register("CEN-1", JOSE, today=TODAY)
        patient.collect_events()
        patient.correct(TODAY, zone=Zone.RURAL)
    (corrected,) = patient.collect_events()
    assert one_row(corrected, CountingViews()).comment == "HIST=? CAMPOS=zone"
    assert one_row(corrected, None).comment == "HIST=? CAMPOS=zone"


def test_access_events_keep_their_action_and_fields_in_order() -> None:
    fields = {"FORMATO": "csv", "ARCHIVO": "/tmp/registro.csv", "FILAS": "12", "ACCION": "login"}
    with recording(context(user="admin")):
        access = Access(action=AUDIT_EXPORT, fields=fields)
    (event,) = access.collect_events()
    row = one_row(event)
    assert row.action == "audit.export"
    assert row.comment == "FORMATO=csv ARCHIVO=/tmp/registro.csv FILAS=12 ACCION=login"
    assert json.loads(row.fields) == fields


class Probe(BrigadaAggregate):
    """An aggregate the activity log has never heard of."""

    TOPIC = "brigada.tests.Probe"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.tests.Probe.Event"

    class Happened(BrigadaAggregate.Created):
        TOPIC = "brigada.tests.Probe.Happened"
        secret: str

    @recorded_by(Happened)
    def __init__(self, secret: str) -> None:
        self.secret = secret


def test_an_event_the_table_does_not_name_still_appears_under_its_topic() -> None:
    with recording(context()):
        probe = Probe(secret="s3cr3t")
    (happened,) = probe.collect_events()
    row = one_row(happened)
    assert (row.action, row.comment, row.fields) == ("tests.probe.happened", "", "{}")
    assert action_label(row.action) == "tests.probe.happened"


def test_secrets_never_enter_the_log() -> None:
    """Password hashes and session token hashes are in the events, never in the log."""
    rows = fold(store_events()).all_rows()
    for row in rows:
        for secret in (PASSWORD_HASH, TOKEN_HASH, "Ana Ruiz", "Peña", "43123456"):
            assert secret not in row.comment
            assert secret not in row.fields


def test_render_comment_is_the_seed_format() -> None:
    assert render_comment({"HIST": "61", "VISITA": "457"}) == "HIST=61 VISITA=457"
    assert render_comment({}) == ""


# -- display names ------------------------------------------------------------------------------
@pytest.fixture
def spanish() -> Iterator[None]:
    before = i18n.language()
    set_language("es")
    try:
        yield
    finally:
        set_language(before)


SEED_NAMES = {
    "login.failed": "Login incorrecto",
    "login": "Login",
    "logout": "Logout",
    "backup": "Copia de seguridad",
}


@pytest.mark.parametrize(("code", "seed_name"), sorted(SEED_NAMES.items()))
def test_seed_actions_show_the_seed_name_in_spanish(spanish: None, code: str, seed_name: str) -> None:
    assert _(action_label(code)) == seed_name


def test_every_action_code_has_a_spanish_name_in_the_catalog() -> None:
    with (i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as handle:
        catalog = read_po(handle, locale="es")
    missing = []
    for code in all_action_codes():
        label = action_label(code)
        assert label != code, f"action {code} has no display name"
        message = catalog.get(label)
        if message is None or not message.string or message.fuzzy:
            missing.append(label)
    assert missing == []
    for code, name in SEED_NAMES.items():
        assert catalog.get(action_label(code)).string == name  # type: ignore[union-attr]


def test_spanish_names_follow_the_seed_style(spanish: None) -> None:
    """ "Paciente - Crear": an object, a dash, a verb (or one of the seed's bare names)."""
    for code in all_action_codes():
        name = _(action_label(code))
        assert name in SEED_NAMES.values() or " - " in name, (code, name)


def test_the_access_codes_of_the_domain_all_have_names() -> None:
    assert {BACKUP, AUDIT_EXPORT, PATIENT_VIEW} <= set(ACCESS_LABELS)
    # a login under an unknown name is shown like a wrong password: "Login incorrecto"
    assert action_label(LOGIN_UNKNOWN_USER) == action_label("login.failed")
    assert action_label("no.such.action") == "no.such.action"


# -- the seed's criteria over an in-memory log --------------------------------------------------
@pytest.fixture
def bogota_time() -> Iterator[None]:
    """Dates are the reader's local dates: run these in Colombia's UTC-5 (no tz database needed)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "COT+5"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def row(position: int, **overrides: Any) -> ActivityRow:
    base = ActivityRow(
        position=position,
        event_id=uuid.uuid4().hex,
        recorded_at=(AT + timedelta(minutes=position)).isoformat(),
        user="admin",
        computer="consultorio-1",
        ip_octet=23,
        site="CEN",
        action="login",
        comment="",
        fields="{}",
    )
    return replace(base, **overrides)


LOG = [
    # position 1..4 straddle local (UTC-5) midnights of 2026-03-01
    row(1, recorded_at="2026-03-01T04:59:59+00:00", comment="HIST=CEN-1"),
    row(2, recorded_at="2026-03-01T05:00:00+00:00", user="ana", action="login.failed"),
    row(3, recorded_at="2026-03-02T04:59:59.999999+00:00", computer="portatil-7", ip_octet=8),
    row(4, recorded_at="2026-03-02T05:00:00+00:00", site="BRG01", user="ana"),
    row(5, recorded_at="2026-03-03T12:00:00+00:00", action="patient.create", comment="HIST=CEN-61"),
    row(
        6,
        recorded_at="2026-03-03T12:00:01.5+00:00",
        action="patient.correct",
        comment="HIST=CEN-61 CAMPOS=sex,zone",
        user="ana",
        computer="portatil-7",
        ip_octet=8,
        site="BRG01",
    ),
    row(7, recorded_at="2026-03-04T12:00:00+00:00", action="backup", comment=r"CARPETA=c:\gestmed"),
    row(8, recorded_at="2026-03-04T13:00:00+00:00", ip_octet=None, computer="srv"),
]


@pytest.fixture
def log() -> InMemoryRowStore:
    store = InMemoryRowStore(ActivityLogProjection())
    assert store.write({(r.position,): r for r in LOG}, [], old=0, new=len(LOG))
    return store


def positions(store: InMemoryRowStore, data: dict[str, Any], page: int = 1, size: int = 50) -> list[int]:
    query = parse(AuditCriteria, data).query(page, size)
    return [r.position for r in store.select(query)]


CRITERIA: list[tuple[dict[str, Any], list[int]]] = [
    ({}, [8, 7, 6, 5, 4, 3, 2, 1]),
    ({"date_from": "2026-03-01", "date_to": "2026-03-01"}, [3, 2]),
    ({"date_from": "2026-03-02"}, [8, 7, 6, 5, 4]),
    ({"date_to": "2026-02-28"}, [1]),
    ({"date_from": "2026-03-03", "date_to": "2026-03-03"}, [6, 5]),
    ({"action": "login.failed"}, [2]),
    ({"action": "login"}, [8, 4, 3, 1]),
    ({"ip": 8}, [6, 3]),
    ({"ip": "8"}, [6, 3]),
    ({"computer": "portatil-7"}, [6, 3]),
    ({"user": "ana"}, [6, 4, 2]),
    ({"site": "BRG01"}, [6, 4]),
    ({"texts": ["HIST="]}, [6, 5, 1]),
    ({"texts": ["CEN-61"]}, [6, 5]),
    ({"texts": ["CEN-61", "CAMPOS="]}, [6]),
    ({"texts": ["CEN-61", "CAMPOS=", "zone"]}, [6]),
    ({"texts": ["CEN-61", "CAMPOS=", "nothing"]}, []),
    ({"texts": ["c:\\gestmed"]}, [7]),
    ({"texts": ["", "HIST="]}, [6, 5, 1]),
    ({"user": "ana", "site": "BRG01"}, [6, 4]),
    ({"user": "ana", "site": "BRG01", "action": "patient.correct"}, [6]),
    ({"user": "admin", "ip": 23, "date_from": "2026-03-02", "date_to": "2026-03-04"}, [7, 5]),
    ({"computer": "portatil-7", "texts": ["HIST"], "date_from": "2026-03-03"}, [6]),
    (
        {
            "date_from": "2026-03-01",
            "date_to": "2026-03-04",
            "action": "patient.correct",
            "ip": 8,
            "computer": "portatil-7",
            "user": "ana",
            "site": "BRG01",
            "texts": ["HIST=CEN-61", "sex", "zone"],
        },
        [6],
    ),
    ({"user": "nadie"}, []),
    ({"action": "", "user": "", "computer": "", "site": ""}, [8, 7, 6, 5, 4, 3, 2, 1]),
]


@pytest.mark.parametrize(("data", "expected"), CRITERIA, ids=[str(c[0]) for c in CRITERIA])
def test_each_criterion_alone_and_combined(
    bogota_time: None, log: InMemoryRowStore, data: dict[str, Any], expected: list[int]
) -> None:
    assert positions(log, data) == expected


def test_query_matches_agrees_with_the_selection(bogota_time: None, log: InMemoryRowStore) -> None:
    for data, expected in CRITERIA:
        query = parse(AuditCriteria, data).query(1, PAGE_SIZE)
        assert sorted((r.position for r in LOG if query.matches(r)), reverse=True) == expected


def test_the_query_is_what_the_stores_need(bogota_time: None) -> None:
    criteria = parse(
        AuditCriteria,
        {
            "date_from": "2026-03-01",
            "date_to": "2026-03-02",
            "action": "backup",
            "ip": "23",
            "computer": "consultorio-1",
            "user": "admin",
            "site": "CEN",
            "texts": ["CARPETA", "gestmed"],
        },
    )
    assert criteria.query(3, 20) == Query(
        equals={"action": "backup", "ip_octet": 23, "user": "admin", "site": "CEN"},
        ranges={"recorded_at": ("2026-03-01T05:00:00+00:00", "2026-03-03T04:59:59.999999+00:00")},
        # The computer in any case: found as a substring, the whole name checked by ``keeps``.
        contains={"comment": ["CARPETA", "gestmed"], "computer": ["consultorio-1"]},
        order_by="position",
        descending=True,
        limit=21,
        offset=40,
    )


def test_the_last_day_ends_before_the_next_local_midnight(bogota_time: None, log: InMemoryRowStore) -> None:
    """--to 2026-03-01 keeps 23:59:59.999999 local and leaves out 00:00:00 of the next day."""
    assert positions(log, {"date_to": "2026-03-01"}) == [3, 2, 1]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"texts": ["a", "b", "c", "d"]}, "texts"),
        ({"ip": 256}, "ip"),
        ({"ip": -1}, "ip"),
        ({"ip": "x"}, "ip"),
        ({"date_from": "01/03/2026"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_criteria_are_refused(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse(AuditCriteria, data)
    assert refused.value.field == field


ADMIN = Actor(username="admin", user_id=uuid.uuid4(), is_admin=True, session_id=None)


def audit_over(store: InMemoryRowStore) -> Audit:
    # Searching needs only the log: the core, chain and backups are not touched.
    return Audit(core=None, access=None, log=store, chain=None, backups=None)  # type: ignore[arg-type]


def test_pages_newest_first_with_has_more(log: InMemoryRowStore) -> None:
    audit = audit_over(log)
    pages = [audit.search(ADMIN, {}, page=n, page_size=3) for n in (1, 2, 3, 4)]
    assert [[r.position for r in p.rows] for p in pages] == [[8, 7, 6], [5, 4, 3], [2, 1], []]
    assert [p.has_more for p in pages] == [True, True, False, False]
    assert [p.page for p in pages] == [1, 2, 3, 4]
    exact = audit.search(ADMIN, {"user": "ana"}, page=1, page_size=3)
    assert ([r.position for r in exact.rows], exact.has_more) == ([6, 4, 2], False)


def test_a_full_page_of_the_default_size(log: InMemoryRowStore) -> None:
    many = InMemoryRowStore(ActivityLogProjection())
    many.write({(n,): row(n) for n in range(1, PAGE_SIZE + 2)}, [], old=0, new=PAGE_SIZE + 1)
    first = audit_over(many).search(ADMIN, {})
    assert len(first.rows) == PAGE_SIZE and first.has_more
    assert first.rows[0].position == PAGE_SIZE + 1
    second = audit_over(many).search(ADMIN, {}, page=2)
    assert [r.position for r in second.rows] == [1] and not second.has_more


def test_export_rows_are_every_match_newest_first(bogota_time: None, log: InMemoryRowStore) -> None:
    assert [r.position for r in audit_over(log).export_rows(ADMIN, {"user": "ana"})] == [6, 4, 2]
    assert len(audit_over(log).export_rows(ADMIN, {}, limit=5)) == 5


def test_criteria_described_for_the_export_comment() -> None:
    criteria = parse(AuditCriteria, {"user": "ana", "texts": ["HIST", "zone"], "ip": "8"})
    assert criteria.described() == {"user": "ana", "ip": "8", "texts": "HIST, zone"}
    assert parse(AuditCriteria, {}).described() == {}


def domain_event_topics() -> set[str]:
    """Every event topic the domain defines (its modules imported, its event classes walked)."""
    import importlib
    import pkgutil

    import domain
    from domain.base import BrigadaAggregate

    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    topics, pending = set(), [BrigadaAggregate.Event]
    while pending:
        event_class = pending.pop()
        pending.extend(event_class.__subclasses__())
        topic = getattr(event_class, "TOPIC", "")
        if event_class.__dict__.get("TOPIC") and not topic.endswith((".Event", "Aggregate.Created")):
            topics.add(topic)
    return topics


def test_every_event_of_the_domain_has_a_named_action() -> None:
    """Issue 4: every action gets a name in the seed's style ("Usuario - Bloquear"); an event
    missing from ACTIONS shows up under its raw topic with an empty comment."""
    topics = domain_event_topics()
    assert {"brigada.User.LoginFailed", "brigada.Patient.Corrected"} <= topics
    unnamed = sorted(topics - set(ACTIONS) - {"brigada.Access.Recorded", Probe.Happened.TOPIC})
    assert unnamed == []

"""The activity log on real stores (every test runs on SQLite and on PostgreSQL): one row per
stored event, the seed's search criteria in SQL, the tamper-evidence chain against raw-SQL
tampering, administrators only, and backups."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.audit.audit_io import BackupRefused
from adapters.bootstrap import open_brigada
from adapters.recorders import APPEND_ONLY
from adapters.system import FixedClock, Host
from application.audit.audit import AuditCriteria
from application.brigada import Brigada
from application.context import Actor
from application.errors import AdministratorOnly, MenuDenied
from application.validation import parse
from domain.access_log import ACCESS_DENIED, BACKUP, PATIENT_VIEW, Access
from domain.security.user import LoginRefused
from tests.support.hashing import QuickArgon2Hasher

PASSWORD = "a-long-password-1234"
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
LAPTOP = Host(computer="portatil-7", ip_octet=8)

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


# -- a store after a few days of normal work ----------------------------------------------------
@dataclass
class Work:
    brigada: Brigada
    admin: Actor
    url: str
    chart: str
    failed_login: int  # log positions of a few known events
    registered: int
    corrected: int
    laptop_view: int
    site_event: int
    percent: int
    raw: Any  # conftest.RawStore: the same tables through a plain driver


def login(brigada: Brigada, username: str) -> Actor:
    actor, _ticket = brigada.auth.resume(brigada.auth.login(username, PASSWORD))
    return actor


@pytest.fixture
def work(store_url: str, open_store: Any, clock: FixedClock, raw_store: Any) -> Iterator[Work]:
    brigada = open_store(store_url)
    brigada.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
    head = brigada.views.head

    # Day 1 (2026-03-01): a wrong password, a login, a patient registered.
    with pytest.raises(LoginRefused):
        brigada.auth.login("admin", "not-the-password-123")
    failed_login = head()
    admin = login(brigada, "admin")
    chart = brigada.patients.register(admin, JOSE).chart_number
    registered = head()

    # Day 2: a correction, a view and a search; another user views the chart from a laptop.
    clock.advance(days=1)
    brigada.patients.correct(admin, chart, {"zone": "01"})
    corrected = head()
    brigada.patients.show(admin, chart)
    brigada.patients.search(admin, "Peña")
    laptop = open_brigada(store_url, clock=clock, host=LAPTOP, hasher=QuickArgon2Hasher())
    try:
        laptop.core.record_access("ana", PATIENT_VIEW, {"HIST": chart})
    finally:
        laptop.close()
    brigada.views.catch_up()
    laptop_view = head()

    # Day 3: an event recorded on site BRG01 (as merged by sync), a comment with LIKE's wildcards,
    # and a second session that logs out.
    clock.advance(days=1)
    with brigada.core.acting_as("coord", site="BRG01"):
        brigada.core.save(Access(action=PATIENT_VIEW, fields={"HIST": "BRG01-5"}))
    site_event = head()
    brigada.core.record_access("admin", BACKUP, {"CARPETA": "/copias/100%_listo"})
    percent = head()
    brigada.auth.logout(login(brigada, "admin"))

    yield Work(
        brigada, admin, store_url, chart, failed_login, registered, corrected, laptop_view,
        site_event, percent, raw_store(store_url),
    )  # fmt: skip


def log_rows(work: Work) -> list[Any]:
    return work.brigada.views.store("activity_log").all_rows()


def found(work: Work, criteria: dict[str, Any], page_size: int = 1000) -> list[int]:
    page = work.brigada.audit.search(work.admin, criteria, page=1, page_size=page_size)
    return [row.position for row in page.rows]


# -- one row per event --------------------------------------------------------------------------
def test_the_log_holds_one_row_per_stored_event(work: Work) -> None:
    raw = work.raw
    rows = log_rows(work)
    head = work.brigada.app.recorder.max_notification_id()
    assert len(rows) == work.brigada.views.store("activity_log").count() == head
    assert [r.position for r in rows] == raw.positions() == list(range(1, head + 1))
    # Every event has its link, written in the same transaction.
    assert raw.link_positions() == raw.positions()
    by_position = {r.position: r for r in rows}
    assert (by_position[1].action, by_position[1].comment) == ("store.create", "SEDE=CEN")
    assert (by_position[2].action, by_position[2].comment) == ("user.create", "USUARIO=admin")
    assert by_position[work.failed_login].action == "login.failed"
    assert by_position[work.failed_login].comment == ""
    assert by_position[work.failed_login + 1].action == "login"
    assert by_position[work.registered].comment == f"HIST={work.chart}"
    assert by_position[work.corrected].comment == f"HIST={work.chart} CAMPOS=zone"
    assert by_position[work.corrected + 1].action == "patient.view"
    assert by_position[work.corrected + 2].comment == "RESULTADOS=1"
    assert by_position[head].action == "logout"
    laptop = by_position[work.laptop_view]
    assert (laptop.user, laptop.computer, laptop.ip_octet, laptop.site) == ("ana", "portatil-7", 8, "CEN")
    assert by_position[work.site_event].site == "BRG01"
    # Every other entry was recorded here, on the test computer.
    others = [r for r in rows if r.position != work.laptop_view]
    assert {(r.computer, r.ip_octet) for r in others} == {("test-pc", 7)}
    assert rows[0].recorded_at == "2026-03-01T12:00:00+00:00"
    assert rows[-1].recorded_at == "2026-03-03T12:00:00+00:00"


def test_passwords_and_tokens_never_reach_the_log(work: Work) -> None:
    for row in log_rows(work):
        text = f"{row.comment} {row.fields}"
        assert PASSWORD not in text
        assert "not-the-password-123" not in text
        assert "argon2" not in text
        assert "Peña" not in text  # a search records the number found, not the words typed


# -- searching by the seed's criteria -----------------------------------------------------------
def criteria_cases(work: Work) -> list[tuple[dict[str, Any], list[int] | None]]:
    """(criteria, expected positions newest first, or None: "whatever the in-memory rules say")."""
    rows = log_rows(work)
    laptop, admin_view = work.laptop_view, work.corrected + 1
    day = {n: [r.position for r in rows if r.recorded_at.startswith(f"2026-03-0{n}")] for n in (1, 2, 3)}
    return [
        ({}, None),
        ({"date_from": "2026-03-02", "date_to": "2026-03-02"}, day[2][::-1]),
        ({"date_from": "2026-03-02"}, (day[2] + day[3])[::-1]),
        ({"date_to": "2026-03-01"}, day[1][::-1]),
        ({"date_from": "2026-03-04"}, []),
        ({"action": "login.failed"}, [work.failed_login]),
        ({"action": "patient.correct"}, [work.corrected]),
        ({"action": "patient.view"}, [work.site_event, work.laptop_view, work.corrected + 1]),
        ({"ip": 8}, [work.laptop_view]),
        ({"ip": 9}, []),
        ({"computer": "portatil-7"}, [work.laptop_view]),
        ({"user": "ana"}, [work.laptop_view]),
        ({"user": "sistema"}, [2, 1]),
        ({"site": "BRG01"}, [work.site_event]),
        ({"texts": [f"HIST={work.chart}"]}, [laptop, admin_view, work.corrected, work.registered]),
        ({"texts": [work.chart, "CAMPOS="]}, [work.corrected]),
        ({"texts": [work.chart, "CAMPOS=", "zone"]}, [work.corrected]),
        ({"texts": [work.chart, "CAMPOS=", "sex"]}, []),
        ({"texts": ["100%_"]}, [work.percent]),
        ({"texts": ["%"]}, [work.percent]),
        ({"texts": ["_"]}, [work.percent]),
        ({"texts": ["0%_l"]}, [work.percent]),
        ({"texts": ["HIST=%"]}, []),
        (
            {"action": "patient.view", "date_from": "2026-03-02", "date_to": "2026-03-02"},
            [laptop, admin_view],
        ),
        ({"action": "patient.view", "user": "admin"}, [work.corrected + 1]),
        ({"action": "patient.view", "site": "CEN", "ip": 7, "computer": "test-pc"}, [work.corrected + 1]),
        ({"user": "ana", "texts": [work.chart], "date_from": "2026-03-02", "ip": 8}, [work.laptop_view]),
        ({"user": "ana", "site": "BRG01"}, []),
    ]


def test_search_by_each_criterion_alone_and_combined(work: Work) -> None:
    rows = log_rows(work)
    for criteria, expected in criteria_cases(work):
        query = parse(AuditCriteria, criteria).query(1, 1000)
        in_memory = sorted((r.position for r in rows if query.matches(r)), reverse=True)
        assert found(work, criteria) == in_memory, criteria
        if expected is not None:
            assert in_memory == expected, criteria


def test_search_pages_newest_first(work: Work) -> None:
    head = work.brigada.views.head()
    first = work.brigada.audit.search(work.admin, {}, page=1, page_size=5)
    second = work.brigada.audit.search(work.admin, {}, page=2, page_size=5)
    assert [r.position for r in first.rows] == list(range(head, head - 5, -1))
    assert [r.position for r in second.rows] == list(range(head - 5, head - 10, -1))
    assert first.has_more and second.has_more
    pages = -(-head // 5)
    last = work.brigada.audit.search(work.admin, {}, page=pages, page_size=5)
    assert not last.has_more and last.rows[-1].position == 1
    exact = work.brigada.audit.search(work.admin, {"action": "login.failed"}, page_size=1)
    assert len(exact.rows) == 1 and not exact.has_more


def test_text_search_ignores_case_the_same_on_every_store(work: Work) -> None:
    """Text criteria ignore case in memory, on SQLite and on PostgreSQL alike."""
    lower = {"texts": [f"hist={work.chart.lower()}"]}
    upper = {"texts": [f"HIST={work.chart.upper()}"]}
    in_memory = [r.position for r in log_rows(work) if parse(AuditCriteria, lower).query(1, 9).matches(r)]
    assert in_memory  # the chart's entries are found although the case differs
    assert found(work, lower) == found(work, upper) == sorted(in_memory, reverse=True)  # newest first


# -- the chain ----------------------------------------------------------------------------------
def test_the_chain_is_intact_after_normal_work_and_verifying_is_recorded(work: Work) -> None:
    head = work.brigada.views.head()
    broken, checked = work.brigada.audit.verify(work.admin)
    assert broken is None
    assert checked == head
    newest = log_rows(work)[-1]
    assert (newest.position, newest.action) == (head + 1, "audit.verify")
    assert newest.comment == f"EVENTOS={head} RESULTADO=OK"
    # Two sites, two chains: each starts from the genesis link.
    raw = work.raw
    assert raw.site_positions("BRG01") == [work.site_event]
    assert raw.run("SELECT previous FROM {chain} WHERE site = {p}", "BRG01") == [("0" * 64,)]
    # Verifying again checks the verification just recorded too.
    assert work.brigada.audit.verify(work.admin) == (None, head + 1)


def test_the_events_table_refuses_updates_and_deletes_until_the_trigger_is_lifted(work: Work) -> None:
    raw = work.raw
    errors = (sqlite3.DatabaseError, psycopg.Error)
    with pytest.raises(errors, match=APPEND_ONLY):
        raw.replace_in_state(work.registered, '"user":"admin"', '"user":"mallory"')
    with pytest.raises(errors, match=APPEND_ONLY):
        raw.delete_event(work.registered)
    with pytest.raises(errors, match=APPEND_ONLY):
        raw.delete_link(work.registered)
    assert work.brigada.audit.verify(work.admin)[0] is None


def test_a_changed_past_event_breaks_the_chain_at_that_event(work: Work) -> None:
    raw = work.raw
    raw.lift_append_only()
    raw.replace_in_state(work.registered, '"user":"admin"', '"user":"mallory"')
    broken, _checked = work.brigada.audit.verify(work.admin)
    assert broken is not None
    assert (broken.position, broken.site, broken.reason) == (work.registered, "CEN", "changed")
    newest = log_rows(work)[-1]
    assert newest.comment.endswith(f"RESULTADO=ROTO@{work.registered}")


def test_a_chain_recomputed_without_the_stores_key_breaks_at_its_first_event(work: Work) -> None:
    """Whoever rewrites the log and relinks it without the store's chain key (a bare SHA-256 was
    enough before the links were keyed) leaves every link wrong."""
    raw = work.raw
    raw.lift_append_only(chain_too=True)
    raw.replace_in_state(work.registered, '"user":"admin"', '"user":"mallory"')
    raw.relink(b"a key that is not the store's")
    broken, _checked = work.brigada.audit.verify(work.admin)
    assert broken is not None
    assert (broken.position, broken.reason) == (raw.positions()[0], "changed")


def test_an_event_moved_to_another_site_is_a_changed_event(work: Work) -> None:
    raw = work.raw
    raw.lift_append_only()
    raw.replace_in_state(work.corrected, '"site":"CEN"', '"site":"BRG01"')
    broken, _checked = work.brigada.audit.verify(work.admin)
    assert broken is not None
    assert (broken.position, broken.reason) == (work.corrected, "changed")


def test_a_deleted_past_event_breaks_the_chain_at_its_position(work: Work) -> None:
    raw = work.raw
    raw.lift_append_only()
    raw.delete_event(work.failed_login)
    broken, _checked = work.brigada.audit.verify(work.admin)
    assert broken is not None
    assert (broken.position, broken.reason) == (work.failed_login, "deleted")


def test_an_event_deleted_with_its_link_breaks_the_chain_at_the_next_event_of_its_site(
    work: Work,
) -> None:
    raw = work.raw
    raw.lift_append_only(chain_too=True)
    raw.delete_event(work.laptop_view)
    raw.delete_link(work.laptop_view)
    cen = raw.site_positions("CEN")
    following = cen[cen.index(work.laptop_view - 1) + 1]  # the BRG01 event does not count
    assert following == work.laptop_view + 2
    broken, _checked = work.brigada.audit.verify(work.admin)
    assert broken is not None
    assert (broken.position, broken.site, broken.reason) == (following, "CEN", "deleted")


def test_a_deleted_event_of_another_site_names_that_site(work: Work) -> None:
    raw = work.raw
    with work.brigada.core.acting_as("coord", site="BRG01"):
        work.brigada.core.save(Access(action=PATIENT_VIEW, fields={"HIST": "BRG01-6"}))
    later = work.brigada.views.head()
    raw.lift_append_only(chain_too=True)
    raw.delete_event(work.site_event)
    raw.delete_link(work.site_event)
    broken, _checked = work.brigada.audit.verify(work.admin)
    assert broken is not None
    assert (broken.position, broken.site, broken.reason) == (later, "BRG01", "deleted")


def test_an_inserted_event_breaks_the_chain_at_its_position(work: Work) -> None:
    raw = work.raw
    raw.lift_append_only()
    head = work.brigada.views.head()
    inserted = raw.insert_copy(work.laptop_view)
    assert inserted == head + 1
    broken, _checked = work.brigada.audit.verify(work.admin)
    assert broken is not None
    assert (broken.position, broken.site, broken.reason) == (inserted, "CEN", "inserted")


# -- administrators only ------------------------------------------------------------------------
def test_non_administrators_are_refused(store_url: str, open_store: Any, count_events: Any) -> None:
    site = open_store(store_url)
    site.setup.initialize("site", "BRG01", "coord", "Coordinadora", PASSWORD)
    coordinator = login(site, "coord")
    assert not coordinator.is_admin
    before = count_events(store_url)
    with pytest.raises(AdministratorOnly):
        site.audit.search(coordinator, {})
    with pytest.raises(AdministratorOnly):
        site.audit.export_rows(coordinator, {})
    with pytest.raises(AdministratorOnly):
        site.audit.verify(coordinator)
    # Each refusal records the attempt ("Acceso - Denegado", issue 17) and nothing else.
    assert count_events(store_url) == before + 3
    last = site.app.recorder.max_notification_id()
    added = site.app.recorder.select_notifications(start=last - 2, limit=3)
    assert {site.app.mapper.to_domain_event(n).action for n in added} == {ACCESS_DENIED}


# -- backups ------------------------------------------------------------------------------------
def test_a_backup_is_a_consistent_copy_and_is_recorded(work: Work, tmp_path: Path) -> None:
    folder = tmp_path / "copias de seguridad"
    events_before = work.brigada.views.head()
    path = work.brigada.audit.backup(work.admin, folder)

    assert path.parent == folder and path.exists()
    assert path.stat().st_size > 0
    assert path.stat().st_mode & 0o777 == 0o600
    newest = log_rows(work)[-1]
    assert (newest.position, newest.action) == (events_before + 1, "backup")
    assert (newest.user, newest.comment) == ("admin", f"CARPETA={folder}")
    assert work.brigada.audit.search(work.admin, {"texts": [f"CARPETA={folder}"]}).rows == [newest]

    if work.url.startswith("sqlite"):
        assert path.name == "store-20260303-120000.db"
        copy = open_brigada(f"sqlite:///{path}", hasher=QuickArgon2Hasher())
        try:
            assert copy.app.recorder.max_notification_id() == events_before
            assert copy.views.store("activity_log").count() == events_before
            assert copy.audit.verify(work.admin) == (None, events_before)
        finally:
            copy.close()
    else:
        assert path.suffix == ".dump"
        assert path.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_postgres_backup_without_pg_dump_is_refused_and_not_recorded(
    work: Work, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = work.brigada.views.head()
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(BackupRefused):
        work.brigada.audit.backup(work.admin, tmp_path / "copias")
    assert work.brigada.views.head() == head


def test_pg_dump_is_here() -> None:
    """The PostgreSQL backup test above runs pg_dump for real: it must be installed."""
    if os.environ.get("CI", "").lower() != "true" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed on this computer")
    assert shutil.which("pg_dump") is not None


def test_a_user_without_the_backup_option_cannot_copy_the_store(
    store_url: str, open_store: Any, tmp_path: Path
) -> None:
    central = open_store(store_url)
    central.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
    admin = login(central, "admin")
    central.users.create(admin, {"username": "ana", "full_name": "Ana Ruiz"}, PASSWORD)
    ana = login(central, "ana")
    head = central.views.head()
    with pytest.raises(MenuDenied):
        central.audit.backup(ana, tmp_path / "copias")
    with pytest.raises(AdministratorOnly):
        central.audit.search(ana, {})
    assert not (tmp_path / "copias").exists()
    assert central.views.head() == head + 2  # only the two refused attempts' records (issue 17)

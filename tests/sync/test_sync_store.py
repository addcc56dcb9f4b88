"""The sync through the application, central on SQLite and on PostgreSQL, the laptop on SQLite:
start-of-mission rebuild, end-of-mission merge, exactly once, refusals that write nothing, the
laptop's chain checked by central, and conflicts on shared records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import application.sync.central
import application.sync.laptop
from adapters.store import StoreLocation
from domain.security.user import LoginRefused, PasswordChangeRequired
from domain.sites.site import Site, SiteMode, site_id
from domain.sync.sync import ConflictAlreadyResolved, ConflictKeep, SyncFunction, SyncRefused
from tests.support.inventory import NURSE, NURSE_PASSWORD
from tests.support.security import ADMIN_PASSWORD, log_in
from tests.support.sites import JOSE, set_site_mode
from tests.support.sync import (
    Field,
    central_event_ids,
    finalized_visit,
    on_mission,
    provisioned_field,
    runs_only,
    site_event_ids,
    sqlite_file,
)

Count = Callable[..., int]


@pytest.fixture
def field(open_store: Any, store_url: str, tmp_path: Path) -> Field:
    return provisioned_field(open_store, store_url, tmp_path)


def test_start_of_mission_rebuilds_the_laptop_from_central_and_keeps_the_old_store(field: Field) -> None:
    old_path = StoreLocation.parse(field.laptop_url).path
    assert old_path is not None
    old_events = field.laptop.app.recorder.max_notification_id()
    # Central moves stock into the field warehouse while the laptop is at home (INS).
    from tests.support.inventory import CENTRAL_WAREHOUSE, FIELD, transfer

    transfer(field.central, field.admin, CENTRAL_WAREHOUSE, FIELD, "20001234-2", "X9", 20)

    outcome = field.sync()

    assert outcome.plan.mode is SiteMode.ON_SITE and outcome.plan.new_mode is SiteMode.ON_MISSION
    assert outcome.backup and Path(outcome.backup).exists()
    with sqlite3.connect(outcome.backup) as kept:  # the old store, whole, as it was
        assert kept.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0] >= old_events
    nurse = field.nurse()
    assert field.laptop.sites.mode(nurse).mode is SiteMode.ON_MISSION
    assert {(s.item, s.lot) for s in field.laptop.inventory.stock(nurse, FIELD)} >= {("20001234-2", "X9")}
    identity = field.laptop.core.require_identity()
    assert identity.generation == runs_only(field.laptop.sync.history(nurse))[0].run_id
    # Central's record of the run, complete, copied to the laptop.
    (run,) = runs_only(field.central.sync.history(field.admin, "BRG01"))
    assert (run.status, run.crossing, run.mode_after, run.rebuilt) == (
        "completed",
        "start-of-mission",
        "MSN",
        outcome.rebuilt,
    )


def test_end_of_mission_merges_every_event_of_the_mission_exactly_once(field: Field) -> None:
    on_mission(field)
    number = finalized_visit(field)
    nurse = field.nurse()
    chart = field.laptop.patients.register(nurse, {**JOSE, "document_number": "55512345"}).chart_number
    mission = site_event_ids(field)

    outcome = field.sync()

    assert outcome.plan.crossing.value == "end-of-mission" and outcome.plan.new_mode is SiteMode.ON_SITE
    assert outcome.merged[SyncFunction.ENCOUNTERS] >= 3 and outcome.merged[SyncFunction.PATIENTS] == 1
    on_central = central_event_ids(field)
    assert all(on_central.count(event_id) == 1 for event_id in mission)
    assert field.central.sites.show(field.admin, "BRG01").mode == "INS"
    assert field.laptop.sites.mode(field.nurse()).mode is SiteMode.ON_SITE
    # The merged events reached central's views.
    assert field.central.patients.row(chart).site == "BRG01"
    assert field.central.encounters.show(field.admin, number).state == "finalized"
    actions = {r.action for r in field.central.audit.search(field.admin, {"site": "BRG01"}).rows}
    assert {"visit.open", "visit.finalize", "patient.create"} <= actions


def test_a_batch_sent_again_merges_nothing_and_a_second_sync_has_nothing_to_push(field: Field) -> None:
    on_mission(field)
    finalized_visit(field)
    nurse = field.nurse()
    identity = field.laptop.core.require_identity()
    assert identity.generation is not None
    status = field.direct().status("BRG01", identity.generation, "")
    batch = next(field.laptop.sync._batches("BRG01", max(status.tracked, identity.slice_end)))
    field.sync(nurse)
    before = field.central.app.recorder.max_notification_id()
    (run, *_) = [
        r
        for r in runs_only(field.central.sync.history(field.admin, "BRG01"))
        if r.crossing == "end-of-mission"
    ]

    again = field.direct().merge("BRG01", UUID(run.run_id), batch)

    assert (again.merged, again.reapplied, again.conflicts) == (0, 0, 0)
    assert field.central.app.recorder.max_notification_id() == before
    plan, _status, _run = field.laptop.sync.preflight(nurse, field.direct())
    assert plan.total == 0 and plan.new_mode is SiteMode.ON_MISSION


def counts(field: Field, count_events: Count, central_url: str) -> tuple[int, int]:
    return count_events(central_url), count_events(field.laptop_url)


@pytest.mark.parametrize(
    "case",
    ["version", "open encounter", "revoked", "modes", "central store"],
)
def test_a_refused_sync_writes_nothing_but_its_record(
    case: str,
    open_store: Any,
    store_url: str,
    tmp_path: Path,
    count_events: Count,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    field = provisioned_field(open_store, store_url, tmp_path)
    if case == "version":  # the laptop runs another version of Brigada than central
        monkeypatch.setattr(application.sync.laptop, "SOFTWARE_VERSION", "0.0.1")
    expected = {
        "version": (
            "the server runs version {server}, this laptop 0.0.1: install the same version on both"
            " and run 'brigada upgrade'"
        ),
        "open encounter": "encounters not finalized at BRG01: BRG01-1; finalize them before syncing",
        "revoked": "site BRG01 is revoked: it may not be provisioned or synchronized",
        "modes": "central holds site BRG01 in mode MSN, this laptop in INS: ask central to set it",
        "central store": "sync runs on a laptop: this is central's store",
    }[case]
    nurse = field.nurse()
    if case == "open encounter":
        on_mission(field)
        nurse = field.nurse()
        field.laptop.encounters.open(nurse, {"chart_number": "CEN-1", "kind": "outpatient"})
    elif case == "revoked":
        field.central.sites.revoke(field.admin, "BRG01")
    elif case == "modes":  # an operator changed central's record by hand
        set_site_mode(field.central, field.admin, "BRG01", SiteMode.ON_MISSION)
    before = counts(field, count_events, store_url)

    with pytest.raises(SyncRefused) as refused:
        if case == "central store":
            admin = log_in(field.central, "admin", ADMIN_PASSWORD)
            before = counts(field, count_events, store_url)
            field.central.sync.run(admin, field.direct(), field.stores())
        else:
            field.sync(nurse)

    version = application.sync.central.SOFTWARE_VERSION
    assert str(refused.value) == expected.format(server=version)
    # A seed condition that does not hold is recorded on the laptop (one SyncRefusal, which the
    # next push takes to central); software older than its store writes nothing there, and a
    # revoked site or central's own store is no sync attempt of a site.
    recorded = 1 if case in ("open encounter", "modes") else 0
    assert counts(field, count_events, store_url) == (before[0], before[1] + recorded)


def test_central_refuses_a_laptop_log_whose_event_was_changed(field: Field) -> None:
    on_mission(field)
    finalized_visit(field)
    path = sqlite_file(field.laptop_url)
    # Someone edits the store file behind the application's back: the visit's diagnosis.
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER stored_events_no_update")
        rowid, state = conn.execute(
            "SELECT rowid, state FROM stored_events WHERE topic = 'brigada.Encounter.DiagnosisSet'"
        ).fetchone()
        conn.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (state.replace(b"I10X", b"J00X"), rowid)
        )
    nurse = field.nurse()

    with pytest.raises(SyncRefused) as refused:
        field.sync(nurse)

    assert str(refused.value) == (
        f"the laptop's log is broken at position {rowid} (the event was changed): central refuses it"
    )
    assert field.central.sites.show(field.admin, "BRG01").mode == "MSN"


def test_a_shared_patient_changed_on_both_sides_becomes_a_conflict_until_resolved(field: Field) -> None:
    on_mission(field)
    nurse = field.nurse()
    field.laptop.patients.correct(nurse, "CEN-1", {"first_name": "Josué", "municipality": "27001"})
    field.central.patients.correct(field.admin, "CEN-1", {"first_name": "José María", "zone": "01"})

    outcome = field.sync(nurse)

    assert (outcome.reapplied, outcome.conflicts) == (1, 1)
    (conflict,) = field.central.sync_central.list_conflicts(field.admin, include_resolved=False)
    assert (conflict.record, conflict.reference, conflict.fields) == (
        "Patient",
        "CEN-1",
        "details.first_name",
    )
    assert json.loads(conflict.central_values) == {"details.first_name": "José María"}
    assert json.loads(conflict.site_values) == {"details.first_name": "Josué"}
    # Meanwhile the site's change shows (applied last); central's other change stays.
    row = field.central.patients.row("CEN-1")
    assert (row.first_name, row.zone, row.municipality) == ("Josué", "01", "27001")

    resolved = field.central.sync_central.resolve(field.admin, conflict.conflict_id[:8], ConflictKeep.CENTRAL)

    assert resolved.status == "central"
    row = field.central.patients.row("CEN-1")
    assert (row.first_name, row.zone, row.municipality) == ("José María", "01", "27001")
    assert field.central.sync_central.list_conflicts(field.admin, include_resolved=False) == []
    with pytest.raises(ConflictAlreadyResolved):
        field.central.sync_central.resolve(field.admin, conflict.conflict_id[:8], ConflictKeep.SITE)


def test_changes_to_different_fields_of_a_shared_patient_merge_without_conflict(field: Field) -> None:
    on_mission(field)
    nurse = field.nurse()
    field.laptop.patients.correct(nurse, "CEN-1", {"municipality": "27001"})
    field.central.patients.correct(field.admin, "CEN-1", {"zone": "01"})

    outcome = field.sync(nurse)

    assert (outcome.reapplied, outcome.conflicts) == (1, 0)
    row = field.central.patients.row("CEN-1")
    assert (row.zone, row.municipality) == ("01", "27001")


def test_a_password_changed_on_both_sides_is_held_never_re_applied_over_centrals(field: Field) -> None:
    on_mission(field)
    nurse = field.nurse()
    field.laptop.auth.change_password(nurse, NURSE_PASSWORD, "cambio-en-el-rio-magdalena")
    field.central.users.reset_password(field.admin, NURSE, "cambio-en-el-servidor-2026")

    outcome = field.sync(nurse)

    assert (outcome.quarantined, outcome.conflicts) == (1, 0)
    (held,) = field.central.sync_central.list_quarantine(field.admin)
    assert (held.kind, held.rule, held.user) == ("User.PasswordChanged", "changed-on-central", NURSE)
    _row, fields = field.central.sync_central.show_quarantined(field.admin, held.quarantine_id[:8])
    assert fields["password_hash"] == "••••"
    # Central's reset stands; the laptop's password opens nothing on central.
    with pytest.raises(LoginRefused):
        log_in(field.central, NURSE, "cambio-en-el-rio-magdalena")
    with pytest.raises(PasswordChangeRequired):
        log_in(field.central, NURSE, "cambio-en-el-servidor-2026")


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_laptop_store_on_postgresql_is_rebuilt_in_a_new_schema_and_swapped(
    open_store: Any, store_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    import psycopg

    server, schema = store_url.split("?schema=")
    field = provisioned_field(open_store, sqlite_url, tmp_path)  # central on SQLite, the laptop on PostgreSQL
    laptop_url = store_url
    try:
        laptop = open_store(laptop_url)
        field.central.sites.provision(field.admin, "BRG01", laptop, schema)
        field.laptop, field.laptop_url = laptop, laptop_url

        outcome = field.sync()

        assert outcome.backup is not None
        backup_server, backup_schema = outcome.backup.split("?schema=")
        assert backup_server == server
        assert backup_schema.startswith(f"{schema}_backup_")
        assert field.laptop.sites.mode(field.nurse()).mode is SiteMode.ON_MISSION
        with psycopg.connect(server) as conn:
            kept = conn.execute(f'SELECT COUNT(*) FROM "{backup_schema}".brigada_events').fetchone()
            current = conn.execute(f'SELECT COUNT(*) FROM "{schema}".brigada_events').fetchone()
        assert kept is not None and current is not None
        assert kept[0] > 0 and current[0] > 0
        finalized_visit(field)
        assert field.sync().plan.new_mode is SiteMode.ON_SITE
    finally:
        field.laptop.close()
        with psycopg.connect(server, autocommit=True) as conn:  # the backup and any rebuild left
            found = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{schema}_%",))
            for (name,) in found.fetchall():
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def test_small_pages_merge_the_same_events_once_each(field: Field, monkeypatch: pytest.MonkeyPatch) -> None:
    import application.sync.laptop

    on_mission(field)
    finalized_visit(field)
    field.laptop.patients.register(field.nurse(), {**JOSE, "document_number": "55512345"})
    mission = site_event_ids(field)
    monkeypatch.setattr(application.sync.laptop, "PAGE", 3)  # many batches, pages holding other sites' events

    outcome = field.sync()

    on_central = central_event_ids(field)
    assert sum(outcome.merged.values()) == outcome.plan.total
    assert all(on_central.count(event_id) == 1 for event_id in mission)
    (run,) = [
        r
        for r in runs_only(field.central.sync.history(field.admin, "BRG01"))
        if r.crossing == "end-of-mission"
    ]
    assert run.total == outcome.plan.total


def test_central_leaves_the_site_stock_alone_until_the_laptop_has_the_lease_back(field: Field) -> None:
    from application import faults
    from domain.sites.site_policy import OperationRefused
    from tests.support.inventory import CENTRAL_WAREHOUSE, FIELD, transfer

    on_mission(field)
    finalized_visit(field)
    faults.arm("after-flip")
    try:
        with pytest.raises(faults.SimulatedCrash):
            field.sync()
    finally:
        faults.arm(None)
    record = field.central.core.existing(Site, site_id("BRG01"))
    assert (record.mode, record.returning) == (SiteMode.ON_SITE, True)  # central's record flipped...
    with pytest.raises(OperationRefused):  # ...but the laptop has not confirmed: the lease is still out
        transfer(field.central, field.admin, FIELD, CENTRAL_WAREHOUSE, "19943528-1", "B2", 50)

    outcome = field.sync()

    assert outcome.plan.resuming and outcome.plan.new_mode is SiteMode.ON_SITE
    transfer(field.central, field.admin, FIELD, CENTRAL_WAREHOUSE, "19943528-1", "B2", 50)
    actions = [r.action for r in field.central.audit.search(field.admin, {"site": "CEN"}).rows]
    assert "site.returned" in actions and "site.returning" in actions

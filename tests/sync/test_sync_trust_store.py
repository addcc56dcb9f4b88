"""Central trusts no laptop: each attack an attacker holding BRG01's provisioned laptop can make,
written through the laptop's own core (tests/sync/forgery.py), pushed by an ordinary sync, with
central on SQLite and on PostgreSQL. None reaches central's aggregates or views: each is held in
quarantine naming its rule, or the whole push is refused naming the broken link, and an honest
mission pushed in the same sync arrives whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from application.sync.central import CannotApply, ChainRefused, ReleaseOutOfOrder, UnknownGeneration
from application.sync.laptop import MirrorBroken
from application.sync.sync_port import MergeResult
from domain.base import context_of
from domain.security.user import LoginRefused, user_id
from domain.sync.quarantine import AlreadyDecided
from domain.sync.sync import CrossingRefused, SyncCrossing, SyncRefused
from tests.support.forgery import (
    StoreFile,
    filed_under,
    forged_administrator,
    linked_surgery,
    re_enabled_parameters,
    replaced_admin_password,
    revoked_other_site,
    stamped_as_admin_at_site,
    stamped_as_central_admin,
)
from tests.support.inventory import NURSE
from tests.support.security import ADMIN_PASSWORD, log_in
from tests.support.sites import JOSE
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


@pytest.fixture
def field(open_store: Any, store_url: str, tmp_path: Path) -> Field:
    return provisioned_field(open_store, store_url, tmp_path)


def honest_mission(field: Field) -> list[str]:
    """A finalized visit and a new patient: the event ids the laptop recorded at its site."""
    finalized_visit(field)
    nurse = field.nurse()
    field.laptop.patients.register(nurse, {**JOSE_2})
    return site_event_ids(field)


JOSE_2 = {**JOSE, "document_number": "55512345", "first_name": "Josefa"}


def held(field: Field) -> dict[str, Any]:
    """Central's quarantine, by the event id each held event claims."""
    return {row.event_id: row for row in field.central.sync_central.list_quarantine(field.admin)}


def assert_nowhere_on_central(field: Field, event_ids: list[str]) -> None:
    """Not in central's log, so in no aggregate; not in the activity log view either."""
    on_central = set(central_event_ids(field))
    assert not set(event_ids) & on_central
    logged = {row.event_id for row in field.central.views.store("activity_log").all_rows()}
    assert not set(event_ids) & logged


def assert_arrived_whole(field: Field, honest: list[str]) -> None:
    on_central = central_event_ids(field)
    assert all(on_central.count(event_id) == 1 for event_id in honest)


def test_a_forged_administrator_is_held_and_never_logs_in_on_central(field: Field) -> None:
    on_mission(field)
    honest = honest_mission(field)
    forged = forged_administrator(field.laptop)

    outcome = field.sync()

    assert outcome.quarantined == 1
    assert held(field)[forged[0]].rule == "not-a-site-event"
    assert_nowhere_on_central(field, forged)
    assert_arrived_whole(field, honest)
    with pytest.raises(LoginRefused):
        log_in(field.central, "intruso", "contraseña-del-intruso-2026")


def test_a_replaced_administrator_password_is_held_and_the_real_one_still_opens_central(field: Field) -> None:
    on_mission(field)
    honest = honest_mission(field)
    created, changed = replaced_admin_password(field.laptop)

    outcome = field.sync()

    rows = held(field)
    assert (rows[created].rule, rows[changed].rule) == ("not-a-site-event", "admin-on-site")
    assert outcome.quarantined == 2 and outcome.conflicts == 0
    assert_nowhere_on_central(field, [created, changed])
    assert_arrived_whole(field, honest)
    log_in(field.central, "admin", ADMIN_PASSWORD)
    with pytest.raises(LoginRefused):
        log_in(field.central, "admin", "la-clave-del-atacante-2026!")


def test_another_site_revoked_on_a_laptop_stays_registered_on_central(field: Field) -> None:
    field.central.sites.register(
        field.admin, {"code": "BRG02", "name": "Otra", "warehouses": ["BRG02-FARMACIA"]}
    )
    on_mission(field)
    honest = honest_mission(field)
    forged = revoked_other_site(field.laptop)

    field.sync()

    rows = held(field)
    assert [rows[i].rule for i in forged] == ["not-a-site-event", "not-a-site-event"]
    assert_nowhere_on_central(field, forged)
    assert_arrived_whole(field, honest)
    assert field.central.sites.show(field.admin, "BRG02").revoked is False


def test_parameters_re_enabled_on_the_laptop_change_nothing_on_central_and_what_they_allowed_is_held(
    field: Field,
) -> None:
    field.central.sites.change_parameters(field.admin, "BRG01", {"disable": ["surgeries"]})
    on_mission(field)
    honest = honest_mission(field)
    visit = finalized_visit(field)
    honest = site_event_ids(field)
    forged = re_enabled_parameters(field.laptop)
    surgery = linked_surgery(field.laptop, field.nurse(), visit)

    # Central judges the push; the laptop, whose copy of central's site record was changed, can
    # no longer follow central's record and stops at the hand-back, saying so.
    with pytest.raises(MirrorBroken):
        field.sync()

    field.central.views.catch_up()
    rows = held(field)
    assert rows[forged[0]].rule == "not-a-site-event"
    linked = [row for row in rows.values() if row.kind == "Surgery.Linked"]
    assert [row.rule for row in linked] == ["action-not-enabled"]
    assert runs_only(field.central.sync.history(field.admin, "BRG01"))[0].quarantined == 2
    assert_nowhere_on_central(field, [*forged, linked[0].event_id])
    assert_arrived_whole(field, honest)
    site = field.central.sites.show(field.admin, "BRG01")
    assert "surgeries" not in site.actions
    assert surgery not in {row.number for row in field.central.orders.queries.listing("surgery", visit)}


def test_events_stamped_as_an_administrator_are_held_and_never_in_centrals_activity_log(field: Field) -> None:
    on_mission(field)
    honest = honest_mission(field)
    as_central = stamped_as_central_admin(field.laptop)
    at_site = stamped_as_admin_at_site(field.laptop)

    field.sync()

    rows = held(field)
    assert rows[as_central[0]].rule == "site-stamp"
    assert rows[at_site[0]].rule == "admin-on-site"
    assert_nowhere_on_central(field, [*as_central, *at_site])
    assert_arrived_whole(field, honest)
    assert field.central.patients.row("CEN-1").municipality == "05001"
    # The held events show in the activity log only as what they are: held, by the syncing nurse.
    quarantined = field.central.audit.search(field.admin, {"action": "sync.quarantine"}).rows
    assert {row.user for row in quarantined} == {NURSE} and len(quarantined) == 2


@pytest.mark.parametrize("edit", ["change", "delete", "insert"])
def test_a_log_edited_and_relinked_by_someone_without_the_key_is_refused_and_nothing_is_written(
    field: Field, edit: str
) -> None:
    on_mission(field)
    finalized_visit(field)
    field.laptop.patients.register(field.nurse(), JOSE_2)
    path = sqlite_file(field.laptop_url)
    central_before = central_event_ids(field)
    with StoreFile(path) as store:
        registered = store.rowid_of("brigada.Patient.Registered")
        if edit == "change":
            store.change(registered, b"Josefa", b"Josefina")
        elif edit == "delete":
            store.delete(store.rowid_of("brigada.Encounter.DiagnosisSet"))
        else:  # a second chart BRG01-... copied from the first
            store.copy(registered, uuid4().hex, (b"55512345", b"55599999"))
        store.relink(b"a key of the attacker's own, not the laptop's")

    with pytest.raises(ChainRefused) as refused:
        field.sync()

    assert "central refuses it" in str(refused.value)
    # Central recorded that a sync started, and nothing of the laptop's log.
    (new,) = set(central_event_ids(field)) - set(central_before)
    app = field.central.app
    topics = {
        n.topic
        for n in app.recorder.select_notifications(start=1, limit=100_000)
        if context_of(app.mapper.to_domain_event(n)).event_id.hex == new
    }
    assert topics == {"brigada.SyncRun.Started"}
    assert field.central.sync.history(field.admin, "BRG01")[0].status == "started"
    assert field.central.sites.show(field.admin, "BRG01").mode == "MSN"


def test_a_log_rewritten_with_the_key_after_a_sync_disagrees_with_centrals_checkpoint(field: Field) -> None:
    """Whoever holds the laptop and its key can relink its log, but what central already
    verified is checkpointed: a log that does not continue from it is refused."""
    on_mission(field)
    finalized_visit(field)
    identity = field.laptop.core.require_identity()
    assert identity.generation is not None
    direct = field.direct()
    status = direct.status("BRG01", identity.generation, "")
    run = direct.start("BRG01", uuid4(), SyncCrossing.END_OF_MISSION, identity.generation, {})
    batch = next(field.laptop.sync._batches("BRG01", max(status.tracked, identity.slice_end)))
    direct.merge("BRG01", run.run_id, batch)
    # The merged visit is rewritten on the laptop, its links recomputed with the laptop's key.
    field.laptop.encounters.open(field.nurse(), {"chart_number": "CEN-1", "kind": "outpatient"})
    path = sqlite_file(field.laptop_url)
    with StoreFile(path) as store:
        store.change(store.rowid_of("brigada.Encounter.DiagnosisSet"), b"I10X", b"J00X")
        store.relink(store.chain_key())
    reopened = field.open_store(field.laptop_url)
    batch = next(reopened.sync._batches("BRG01", batch.upto))

    with pytest.raises(ChainRefused) as refused:
        direct.merge("BRG01", run.run_id, batch)

    assert "an event is missing before it" in str(refused.value)
    reopened.close()


def test_a_held_event_released_is_applied_with_its_origin_and_the_reviewer(field: Field) -> None:
    on_mission(field)
    stamped = stamped_as_admin_at_site(field.laptop)
    field.sync()
    row = held(field)[stamped[0]]

    field.central.sync_central.release(field.admin, row.quarantine_id[:8])

    assert field.central.patients.row("CEN-1").municipality == "76001"
    (applied,) = [
        context
        for n in field.central.app.recorder.select_notifications(start=1, limit=10_000)
        if (context := context_of(field.central.app.mapper.to_domain_event(n))).event_id.hex == stamped[0]
    ]
    assert (applied.user, applied.site, applied.reviewer) == (
        "admin",
        "BRG01",
        "admin",
    )
    (decided,) = field.central.sync_central.list_quarantine(field.admin, include_decided=True)
    assert (decided.status, decided.reviewer) == ("released", "admin")
    assert field.central.sync_central.list_quarantine(field.admin) == []
    with pytest.raises(AlreadyDecided):
        field.central.sync_central.release(field.admin, row.quarantine_id[:8])


def test_a_held_event_rejected_stays_recorded_and_is_never_applied(field: Field) -> None:
    on_mission(field)
    created, changed = replaced_admin_password(field.laptop)
    field.sync()
    rows = held(field)
    central = field.central.sync_central

    with pytest.raises(ReleaseOutOfOrder):
        central.release(field.admin, rows[changed].quarantine_id[:8])
    with pytest.raises(CannotApply):  # central's administrator exists: a second creation cannot apply
        central.release(field.admin, rows[created].quarantine_id[:8])
    central.reject(field.admin, rows[created].quarantine_id[:8], "usuario falsificado en el portátil")
    central.reject(field.admin, rows[changed].quarantine_id[:8], "depende de un usuario falsificado")

    decided = {r.event_id: r for r in central.list_quarantine(field.admin, include_decided=True)}
    assert decided[created].status == decided[changed].status == "rejected"
    assert decided[created].reason == "usuario falsificado en el portátil"
    assert_nowhere_on_central(field, [created, changed])
    log_in(field.central, "admin", ADMIN_PASSWORD)


def test_a_second_sync_neither_holds_nor_applies_anything_again(field: Field) -> None:
    on_mission(field)
    forged_administrator(field.laptop)
    finalized_visit(field)
    identity = field.laptop.core.require_identity()
    assert identity.generation is not None
    status = field.direct().status("BRG01", identity.generation, "")
    batch = next(field.laptop.sync._batches("BRG01", max(status.tracked, identity.slice_end)))
    field.sync()
    before = (field.central.app.recorder.max_notification_id(), len(held(field)))
    (run, *_) = runs_only(field.central.sync.history(field.admin, "BRG01"))

    again = field.direct().merge("BRG01", UUID(run.run_id), batch)

    assert (again.merged, again.quarantined) == (0, 0)
    field.sync()  # the next crossing (start of mission) pushes nothing of the old log
    assert len(held(field)) == before[1]


def push_only(field: Field, nurse: Any) -> MergeResult:
    """Central's side of an end-of-mission push, batch by batch, with nothing else of a sync:
    the laptop never reads back what was slipped into its log."""
    identity = field.laptop.core.require_identity()
    assert identity.generation is not None
    direct = field.direct(nurse.username)
    status = direct.status("BRG01", identity.generation, "")
    run = direct.start("BRG01", uuid4(), SyncCrossing.END_OF_MISSION, identity.generation, {})
    merged = quarantined = 0
    for batch in field.laptop.sync._batches("BRG01", max(status.tracked, identity.slice_end)):
        result = direct.merge("BRG01", run.run_id, batch)
        merged, quarantined = merged + result.merged, quarantined + result.quarantined
    return MergeResult(merged, 0, 0, quarantined)


def restamped(stored: StoredEvent, version: int, event_id: str | None = None) -> StoredEvent:
    """The same event at another version of its record, with another event id (or its own)."""
    state = json.loads(stored.state)
    state["context"]["_data_"]["event_id"] = event_id or uuid4().hex
    return StoredEvent(
        stored.originator_id, version, stored.topic, json.dumps(state, separators=(",", ":")).encode()
    )


@pytest.mark.parametrize("bad", ["unknown-topic", "snapshot", "undecodable", "version-gap", "event-id"])
def test_bad_input_in_a_push_is_held_naming_the_rule(field: Field, bad: str) -> None:
    """What a modified laptop could write straight into its log (its own recorder links it)."""
    on_mission(field)
    honest = honest_mission(field)
    nurse = field.nurse()
    finalized = field.laptop.app.mapper.to_stored_event(_last_event(field, "brigada.Encounter.Finalized"))
    version = finalized.originator_version
    forged = {
        "unknown-topic": StoredEvent(uuid4(), 1, "os:system", finalized.state),
        # a snapshot (derived state, never in a log) posing as a user's event: an administrator's
        "snapshot": StoredEvent(user_id("admin"), 99, "brigada.User.Snapshot", finalized.state),
        "undecodable": StoredEvent(
            uuid4(), 1, "brigada.Patient.Registered", b'{"_type_":"ctx","_data_":{"site":"BRG01"}}!'
        ),
        "version-gap": restamped(finalized, version + 5),
        "event-id": restamped(
            finalized, version + 1, event_id=json.loads(finalized.state)["context"]["_data_"]["event_id"]
        ),
    }[bad]
    with filed_under("BRG01"):
        field.laptop.app.recorder.insert_events([forged])
    position = field.laptop.app.recorder.max_notification_id()

    result = push_only(field, nurse)

    (row,) = field.central.sync_central.list_quarantine(field.admin)
    rule = {"event-id": "event-id-reused", "snapshot": "unknown-topic"}.get(bad, bad)
    assert (row.position, row.rule, result.quarantined) == (position, rule, 1)
    assert_arrived_whole(field, honest)


def _last_event(field: Field, topic: str) -> Any:
    app = field.laptop.app
    found = [
        app.mapper.to_domain_event(n)
        for n in app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic == topic
    ]
    return found[-1]


def test_central_refuses_a_push_of_a_log_it_never_issued(field: Field) -> None:
    on_mission(field)
    finalized_visit(field)
    identity = field.laptop.core.require_identity()
    direct = field.direct()
    run = direct.start("BRG01", uuid4(), SyncCrossing.END_OF_MISSION, "a-log-of-its-own", {})
    batch = next(field.laptop.sync._batches("BRG01", identity.slice_end))

    with pytest.raises(UnknownGeneration):
        direct.merge("BRG01", run.run_id, batch)


def test_a_laptop_reads_only_what_it_holds_never_centrals_administrator_or_other_records(
    field: Field,
) -> None:
    on_mission(field)
    direct = field.direct()
    with pytest.raises(SyncRefused) as refused:
        direct.read("BRG01", [(user_id("admin"), None)])
    assert "may not read record" in str(refused.value)
    (site_record, *_runs) = direct.site_records("BRG01")
    assert direct.read("BRG01", [(site_record, None)])  # its own site record it does hold


def test_central_decides_the_crossing_a_laptop_may_start_from_its_own_record_of_the_lease(
    field: Field, count_events: Any, store_url: str
) -> None:
    """A modified laptop at home (INS) asking for an end-of-mission run, so that its site actions
    would be judged as recorded on mission, is refused and nothing is written."""
    identity = field.laptop.core.require_identity()
    assert identity.generation is not None
    direct = field.direct()
    before = count_events(store_url)

    with pytest.raises(CrossingRefused) as refused:
        direct.start("BRG01", uuid4(), SyncCrossing.END_OF_MISSION, identity.generation, {})

    assert (
        str(refused.value) == "central holds site BRG01 in mode INS: a sync cannot start the end-of-mission"
    )
    assert count_events(store_url) == before

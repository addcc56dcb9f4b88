"""A site on mission is never provisioned by mistake: its laptop holds the mission's work.

Provisioning a site on mission, or while a sync of it is open, is refused, naming what central
knows of the laptop; an administrator may replace a lost laptop (recorded, with the reason): its
credential and chain key are retired and its unsynced work recorded as lost. If that laptop ever
comes back, what it pushes is held in quarantine for a person, never applied, never dropped, and
it never takes the lease back. Setting the mode of a site on mission on central needs --force and a
reason; parameter changes made on central during a mission show as pending.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from click.testing import Result

from adapters.sync.site_credentials import self_signed
from application.sync.central import CredentialRefused, LostLaptopRefused
from application.sync.sites import (
    MODE_ON_MISSION,
    MODE_SYNC_OPEN,
    PROVISION_ON_MISSION,
    PROVISION_SYNC_OPEN,
    LaptopHoldsLease,
)
from cli.exit_codes import Exit
from cli.main import exit_code
from domain.chain import SITES_MASTER_KEY, site_key
from domain.errors import DomainError, InvalidValue
from domain.sites.site import NoLaptopToReplace, Site, SiteAction, SiteMode, site_id
from domain.sites.site_policy import OperationRefused
from domain.store_identity import STORE_IDENTITY_ID
from domain.sync.sync import SyncCrossing, SyncRefused
from domain.sync.sync_trust import RULE_TEXTS, TrustRule
from tests.support.cli import Terminal, one_line
from tests.support.inventory import NURSE
from tests.support.security import ADMIN_PASSWORD
from tests.support.sites import JOSE, set_site_mode
from tests.support.sync import Field, log_generation, provisioned_field

pytestmark = pytest.mark.store

Count = Callable[..., int]
WHEN = "2026-03-01 12:00"  # the tests' fixed clock (tests/conftest.py START)
MINUTE = r"\d{4}-\d\d-\d\d \d\d:\d\d"  # the command line runs on the real clock
REASON = "stolen at the river port of Magangué"


# -- helpers ------------------------------------------------------------------------------------
@pytest.fixture
def field(open_store: Any, sqlite_url: str, tmp_path: Path) -> Field:
    return provisioned_field(open_store, sqlite_url, tmp_path)


def site(field: Field) -> Site:
    record = field.central.core.get(Site, site_id("BRG01"))
    assert record is not None
    return record


def mission_work(field: Field) -> None:
    """A finalized visit and a new patient, recorded on the laptop and not synchronized."""
    nurse = field.nurse()
    number = field.laptop.encounters.open(nurse, {"chart_number": "CEN-1", "kind": "outpatient"}).number
    field.laptop.encounters.set_diagnosis(nurse, number, {"code": "I10X"})
    field.laptop.encounters.finalize(nurse, number)
    field.laptop.patients.register(nurse, {**JOSE, "document_number": "55512345", "first_name": "Josefa"})


def event_ids(brigada: Any, site_code: str | None = None) -> list[str]:
    """The context event ids of a store's log (only those recorded at ``site_code``, if given,
    the store's identity left out)."""
    app = brigada.app
    head = app.recorder.max_notification_id() or 0
    found = []
    for notification in app.recorder.select_notifications(start=1, limit=head + 1):
        event = app.mapper.to_domain_event(notification)
        if site_code is None or (
            event.context.site == site_code and notification.originator_id != STORE_IDENTITY_ID
        ):
            found.append(event.context.event_id.hex)
    return found


def new_laptop(field: Field, name: str, reason: str | None = None) -> Field:
    """Another laptop for BRG01, provisioned on central (replacing a lost one with ``reason``)."""
    url = f"{field.laptop_url.rsplit('/', 1)[0]}/{name}.db"
    laptop = field.open_store(url)
    field.central.sites.provision(field.admin, "BRG01", laptop, f"{name}.db", lost_laptop_reason=reason)
    return Field(field.central, field.admin, laptop, url, field.open_store)


def refused_exit_1(error: DomainError) -> None:
    assert exit_code(error) == Exit.REFUSED


# -- provisioning a site whose laptop holds the lease ---------------------------------------------
def test_provisioning_a_site_on_mission_is_refused_naming_what_central_knows(
    field: Field, sqlite_url: str, tmp_path: Path, count_events: Count
) -> None:
    field.sync()  # the start of the mission: the laptop holds the lease
    mission_work(field)
    merged = sum(r.total for r in field.central.sync.runs.history("BRG01"))
    assert merged > 0  # what the laptop recorded at home, merged at the start of the mission
    before = count_events(sqlite_url)
    target_url = f"sqlite:///{tmp_path}/second.db"
    target = field.open_store(target_url)

    with pytest.raises(LaptopHoldsLease) as refused:
        field.central.sites.provision(field.admin, "BRG01", target, "second.db")

    refused_exit_1(refused.value)
    assert isinstance(refused.value, OperationRefused)
    assert refused.value.template == PROVISION_ON_MISSION
    assert refused.value.params == {"site": "BRG01", "since": WHEN, "last_sync": WHEN, "merged": merged}
    text = str(refused.value)
    assert f"site BRG01 is on mission (MSN) since {WHEN}" in text
    assert f"last synchronized on {WHEN} and central has merged {merged} events from it" in text
    assert "Every event recorded on that laptop since then would be lost" in text
    assert "--replace-lost-laptop --reason TEXT" in text
    assert count_events(sqlite_url) == before
    assert count_events(target_url) == 0
    # The laptop keeps its credential and its lease: its end-of-mission sync merges everything.
    outcome = field.sync()
    assert (outcome.plan.crossing, outcome.quarantined) == (SyncCrossing.END_OF_MISSION, 0)


def test_provisioning_is_refused_while_a_sync_of_the_site_is_open(
    field: Field, sqlite_url: str, count_events: Count
) -> None:
    field.sync()
    mission_work(field)
    direct = field.direct()
    generation = log_generation(field.laptop)
    run = direct.start("BRG01", uuid4(), SyncCrossing.END_OF_MISSION, generation, {})
    direct.flip("BRG01", run.run_id)  # central holds INS, the hand-back not finished
    assert (site(field).mode, site(field).returning) == (SiteMode.ON_SITE, True)
    before = count_events(sqlite_url)

    with pytest.raises(LaptopHoldsLease) as refused:
        field.central.sites.check_provisioning(field.admin, "BRG01")

    refused_exit_1(refused.value)
    assert refused.value.template == PROVISION_SYNC_OPEN
    assert str(refused.value).startswith(f"a sync of site BRG01 is still open (started on {WHEN})")
    with pytest.raises(LaptopHoldsLease):
        new_laptop(field, "second")
    assert count_events(sqlite_url) == before


def test_a_site_never_provisioned_or_at_home_is_provisioned_as_before(field: Field) -> None:
    field.central.sites.register(field.admin, {"code": "BRG02", "name": "Dos"})
    set_site_mode(field.central, field.admin, "BRG02", SiteMode.ON_MISSION)
    field.central.sites.check_provisioning(field.admin, "BRG02")  # no laptop: nothing to lose
    with pytest.raises(NoLaptopToReplace):
        field.central.sites.check_provisioning(field.admin, "BRG02", "lost")
    second = new_laptop(field, "second")  # BRG01 at home (INS), its sync closed
    assert second.laptop.core.require_identity().site_code == "BRG01"
    assert site(field).lost_laptops == []


# -- replacing a lost laptop ----------------------------------------------------------------------
def test_a_lost_laptop_is_replaced_and_what_it_pushes_later_is_held_never_applied(
    open_store: Any, store_url: str, tmp_path: Path
) -> None:
    old = provisioned_field(open_store, store_url, tmp_path)
    provisioned_generation = log_generation(old.laptop)
    old.sync()  # start of mission: the laptop is rebuilt under a new log generation
    mission_generation = log_generation(old.laptop)
    mission_work(old)
    lost_key_id, lost_public_key = site(old).key_id, site(old).public_key
    for reason in ("", "   "):  # a replacement says why
        with pytest.raises(InvalidValue):
            old.central.sites.check_provisioning(old.admin, "BRG01", reason)

    new = new_laptop(old, "replacement", REASON)

    record = site(old)
    (lost,) = record.lost_laptops
    # Exactly the generations central issued the lost laptop: its provisioning's and its rebuild's.
    assert lost.generations == (provisioned_generation, mission_generation)
    assert (lost.key_id, lost.public_key, lost.mode, lost.reason) == (
        lost_key_id,
        lost_public_key,
        SiteMode.ON_MISSION,
        REASON,
    )
    assert record.retired_keys == [lost_public_key]
    assert record.key_id != lost_key_id and record.public_key != lost_public_key
    assert record.generation == log_generation(new.laptop)
    assert (record.mode, record.returning) == (SiteMode.ON_SITE, False)  # the lease came back
    logged = old.central.views.store("activity_log").all_rows()
    replaced = [r for r in logged if r.action == "site.replace-laptop"]
    assert [(r.user, r.comment) for r in replaced] == [("admin", "SEDE=BRG01 GENERACIONES=2")]
    # The lost laptop's chain is still checked, with the key of its own provisioning.
    master = old.central.core.app.keys.key(SITES_MASTER_KEY)
    sync_central = old.central.sync_central
    assert sync_central.site_chain_key(record, mission_generation) == site_key(master, "BRG01", lost_key_id)
    new_generation = log_generation(new.laptop)
    assert sync_central.site_chain_key(record, new_generation) == site_key(master, "BRG01", record.key_id)

    # The new laptop takes the lease at its start of mission.
    assert new.sync().plan.new_mode is SiteMode.ON_MISSION
    lease = site(old).lease

    # The lost laptop comes back: its end-of-mission sync hands its log in, and is refused.
    nurse = old.nurse()
    unsynced = set(event_ids(old.laptop, "BRG01")) - set(event_ids(old.central))
    assert len(unsynced) > 5
    with pytest.raises(LostLaptopRefused) as refused:
        old.sync(nurse)
    refused_exit_1(refused.value)
    replaced_on = lost.replaced_at.date().isoformat()
    assert str(refused.value) == (
        f"this laptop of site BRG01 was replaced as lost on {replaced_on}: central holds the "
        f"{len(unsynced)} events it pushed in quarantine for a person to review, and it may never take "
        "the site's lease back"
    )
    held = old.central.sync_central.list_quarantine(old.admin, "BRG01")
    assert {row.event_id for row in held} == unsynced
    assert {row.rule for row in held} == {TrustRule.LOST_LAPTOP.value}
    assert {row.detail for row in held} == {f'{{"date": "{replaced_on}"}}'}
    assert RULE_TEXTS[TrustRule.LOST_LAPTOP].format(date=replaced_on) == (
        f"its laptop was replaced as lost on {replaced_on}: a person decides"
    )
    assert not unsynced & set(event_ids(old.central))  # nothing applied
    record = site(old)
    assert (record.mode, record.returning, record.lease) == (SiteMode.ON_MISSION, False, lease)

    # Again: the same refusal, nothing held twice.
    with pytest.raises(LostLaptopRefused):
        old.sync(nurse)
    assert len(old.central.sync_central.list_quarantine(old.admin, "BRG01")) == len(held)

    # The new laptop is not held back by the lost one's quarantine: its mission arrives whole.
    mission_work(new)
    honest = set(event_ids(new.laptop, "BRG01")) - set(event_ids(new.central))
    outcome = new.sync()
    assert (outcome.plan.crossing, outcome.quarantined) == (SyncCrossing.END_OF_MISSION, 0)
    assert honest <= set(event_ids(new.central))
    assert (site(old).mode, site(old).returning) == (SiteMode.ON_SITE, False)


def test_a_lost_laptop_back_before_the_new_one_left_changes_nothing(field: Field) -> None:
    field.sync()
    mission_work(field)
    new_laptop(field, "replacement", REASON)

    with pytest.raises(LostLaptopRefused):
        field.sync()

    held = field.central.sync_central.list_quarantine(field.admin, "BRG01")
    assert held and {row.rule for row in held} == {"lost-laptop"}
    assert (site(field).mode, site(field).returning) == (SiteMode.ON_SITE, False)
    status = field.central.sync_central.status("BRG01", "no-such-generation")
    assert (status.mode, status.open_run) == (SiteMode.ON_SITE, None)  # the lost run is not the site's


def test_a_retired_credential_may_only_hand_in_its_own_log(field: Field) -> None:
    """What `brigada serve` passes as ``credential`` (the key that signed the request)."""
    lost_generation = log_generation(field.laptop)
    lost_key = site(field).public_key
    new = new_laptop(field, "replacement", REASON)
    current_key = site(field).public_key
    new_generation = log_generation(new.laptop)
    central = field.central.sync_central

    status = central.status("BRG01", lost_generation, credential=lost_key)
    assert status.mode is SiteMode.ON_SITE  # the mode it was replaced in (it was at home)
    for call in (
        lambda: central.status("BRG01", new_generation, credential=lost_key),
        lambda: central.status("BRG01", lost_generation, credential=current_key),
        lambda: central.slice("BRG01", credential=lost_key),
        lambda: central.site_records("BRG01", credential=lost_key),
        lambda: central.read("BRG01", [(site_id("BRG01"), None)], credential=lost_key),
        lambda: central.start(
            "BRG01", uuid4(), SyncCrossing.START_OF_MISSION, new_generation, {}, NURSE, credential=lost_key
        ),
    ):
        with pytest.raises(CredentialRefused):
            call()
    with pytest.raises(SyncRefused):  # a key of no laptop of the site
        central.status("BRG01", new_generation, credential="00" * 32)
    assert central.status("BRG01", new_generation, credential=current_key).open_run is None
    assert central.slice("BRG01", credential=current_key)


# -- setting the mode on central ------------------------------------------------------------------
def test_setting_the_mode_of_a_site_on_mission_needs_force_and_a_reason(
    field: Field, sqlite_url: str, count_events: Count
) -> None:
    central, admin = field.central, field.admin
    field.sync()
    before = count_events(sqlite_url)

    with pytest.raises(LaptopHoldsLease) as refused:
        central.sites.change_mode(admin, "BRG01", SiteMode.ON_SITE)
    refused_exit_1(refused.value)
    assert refused.value.template == MODE_ON_MISSION
    assert "It may hold events recorded since then that central has not received" in str(refused.value)
    with pytest.raises(LaptopHoldsLease):
        central.sites.change_mode(admin, "BRG01", SiteMode.ON_SITE, reason="no force")
    with pytest.raises(InvalidValue):
        central.sites.change_mode(admin, "BRG01", SiteMode.ON_SITE, force=True, reason=" ")
    central.sites.change_mode(admin, "BRG01", SiteMode.ON_MISSION)  # no change: nothing to refuse
    assert count_events(sqlite_url) == before

    row = central.sites.change_mode(admin, "BRG01", SiteMode.ON_SITE, force=True, reason="laptop burnt")
    assert row.mode == "INS"
    last = central.core.app.recorder.select_events(site_id("BRG01"), desc=True, limit=1)[0]
    changed = central.core.app.mapper.to_domain_event(last)
    assert isinstance(changed, Site.ModeChanged)
    assert (type(changed), changed.mode, changed.reason) == (
        Site.ModeChanged,
        SiteMode.ON_SITE,
        "laptop burnt",
    )
    central.sites.change_mode(admin, "BRG01", SiteMode.ON_MISSION)  # from INS: no lease to protect


def test_setting_the_mode_while_the_lease_is_handed_back_needs_force(field: Field) -> None:
    field.sync()
    direct = field.direct()
    generation = log_generation(field.laptop)
    run = direct.start("BRG01", uuid4(), SyncCrossing.END_OF_MISSION, generation, {})
    direct.flip("BRG01", run.run_id)

    with pytest.raises(LaptopHoldsLease) as refused:
        field.central.sites.change_mode(field.admin, "BRG01", SiteMode.ON_SITE)
    assert refused.value.template == MODE_SYNC_OPEN

    field.central.sites.change_mode(field.admin, "BRG01", SiteMode.ON_SITE, force=True, reason="done by hand")
    assert (site(field).mode, site(field).returning) == (SiteMode.ON_SITE, False)
    assert site(field).lost_laptops == []


# -- the command line -----------------------------------------------------------------------------
@pytest.fixture
def terminal(tmp_path: Path) -> tuple[Terminal, list[str]]:
    """Central with BRG01 registered and provisioned, and the address options of `site provision`."""
    central = Terminal(f"sqlite:///{tmp_path}/central.db")
    central("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    central.log_in("admin", ADMIN_PASSWORD)
    central("site", "register", "BRG01", "--name", "Brigada río Magdalena", "--warehouse", "BRG01-FARMACIA")
    certificate, _key = self_signed(tmp_path, "127.0.0.1")
    address = ["--central-url", "https://127.0.0.1:8443", "--central-cert", str(certificate)]
    central("site", "provision", "BRG01", "--to", f"sqlite:///{tmp_path}/brg01.db", *address)
    return central, address


def refusal(result: Result) -> str:
    line = one_line(result)
    assert result.stdout == ""
    return line


def test_the_commands_refuse_and_replace_in_one_line_each(
    terminal: tuple[Terminal, list[str]], tmp_path: Path, count_events: Count
) -> None:
    central, address = terminal
    central("site", "mode", "BRG01", "--set", "MSN")  # at home: central hands the lease over
    before = count_events(central.url)
    second = f"sqlite:///{tmp_path}/second.db"

    line = refusal(central("site", "provision", "BRG01", "--to", second, *address, code=1))
    assert re.match(
        rf"site BRG01 is on mission \(MSN\) since {MINUTE} and its laptop never synchronized", line
    )
    assert "every event recorded on it would be lost" in line
    refusal(central("site", "provision", "BRG01", "--to", second, *address, "--reason", "x", code=2))
    blank = refusal(
        central("site", "provision", "BRG01", "--to", second, *address, "--replace-lost-laptop", code=2)
    )
    assert blank == "--reason: say why the laptop is considered lost"
    line = refusal(central("site", "mode", "BRG01", "--set", "INS", code=1))
    assert re.match(
        rf"site BRG01 is on mission \(MSN\) since {MINUTE} and its laptop never synchronized", line
    )
    assert "it may hold events central has not received" in line
    assert "use --force --reason TEXT" in line
    refusal(central("site", "mode", "BRG01", "--set", "INS", "--force", code=2))
    refusal(central("site", "mode", "BRG01", "--force", "--reason", "x", code=2))
    assert count_events(central.url) == before
    assert not (tmp_path / "second.db").exists()  # refused before the new store was made

    replaced = central(
        "site", "provision", "BRG01", "--to", second, *address, "--replace-lost-laptop", "--reason", REASON
    )
    assert "The lost laptop of BRG01 is replaced: its credential is revoked" in replaced.stderr
    assert "mode INS" in replaced.stderr
    shown = central.json("site", "show", "BRG01")
    assert shown["mode"] == "INS"
    assert [(lost["by"], lost["reason"]) for lost in shown["lost_laptops"]] == [("admin", REASON)]
    text = central("site", "show", "BRG01").stdout
    assert "Laptops replaced as lost" in text and REASON in text

    central("site", "mode", "BRG01", "--set", "MSN")
    forced = central.json("site", "mode", "BRG01", "--set", "INS", "--force", "--reason", "the team is back")
    assert forced["mode"] == "INS"


def test_site_show_marks_parameters_changed_during_a_mission_as_pending(
    terminal: tuple[Terminal, list[str]],
) -> None:
    central, _address = terminal
    central("site", "params", "BRG01", "--disable", "surgeries")  # at home: nothing pending
    assert central.json("site", "show", "BRG01")["pending"] == {"enable": [], "disable": []}
    central("site", "mode", "BRG01", "--set", "MSN")

    changed = central.json("site", "params", "BRG01", "--disable", "care", "--enable", "surgeries")

    assert changed["pending"] == {"enable": ["surgeries"], "disable": ["care"]}
    assert "care" in changed["lease"] and "surgeries" not in changed["lease"]
    text = central("site", "show", "BRG01").stdout
    assert "Pending" in text and "+surgeries -care: take effect at the next start of mission" in text
    assert text.count("(pending: take effect at the next start of mission)") == 2
    central("site", "params", "BRG01", "--enable", "care", "--disable", "surgeries")
    assert central.json("site", "show", "BRG01")["pending"] == {"enable": [], "disable": []}
    assert SiteAction.CARE.value in central.json("site", "show", "BRG01")["actions"]

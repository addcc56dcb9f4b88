"""Sites through the application layer, on real stores: central on SQLite and on PostgreSQL, the
laptops on SQLite files. Registration and parameters, who may administer sites, provisioning a
laptop with exactly central's slice for the site, and the modes as a lease on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.brigada import Brigada
from application.context import Actor
from application.errors import AdministratorOnly, CentralOnly, MenuDenied
from application.replication import copy_aggregates
from application.setup import SOFTWARE_VERSION
from application.sites.operations import Operations, SiteNotFound
from application.sync.sites import TargetNotEmpty
from cli.exit_codes import Exit
from cli.main import exit_code
from domain.chain import SITE_SIGNING_KEY
from domain.clinical.patient import Patient
from domain.errors import DomainError, InvalidValue
from domain.security.password_policy import PASSWORD_POLICY_ID, PasswordPolicy
from domain.security.user import AdminNotOnSite, User, user_id
from domain.sites.site import Site, SiteAction, SiteAlreadyRegistered, SiteMode, SiteRevoked, site_id
from domain.sites.site_policy import (
    FIELD_TRANSFER_ON_CENTRAL_RULE,
    LEASED_RULE,
    NOT_ENABLED_RULE,
    ON_SITE_RULE,
    Always,
    OperationRefused,
)
from domain.store_identity import STORE_IDENTITY_ID, StoreRole
from tests.support.security import ADMIN_PASSWORD, ANA_PASSWORD, log_in
from tests.support.sites import (
    ANA_SECTIONS,
    JOSE,
    MARIA,
    PEDRO,
    Count,
    OpenStore,
    add_coordinator,
    aggregate_ids,
    set_site_mode,
    site_row,
    start_central,
    stored_events,
)


def laptop_url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path}/{name}.db"


def refused_exit_1(error: DomainError) -> None:
    """A refusal by a rule: exit code 1, not invalid input, not-found or a conflict."""
    assert exit_code(error) == Exit.REFUSED


# -- registration, parameters, revocation -------------------------------------------------------
def test_register_list_show_and_change_parameters(
    open_store: OpenStore, store_url: str, count_events: Count
) -> None:
    central, admin = start_central(open_store, store_url)

    row = central.sites.register(
        admin,
        {
            "code": "BRG01",
            "name": "Brigada río Magdalena",
            "warehouses": ["BRG01-FARMACIA", "BRG01-BODEGA"],
            "actions": ["patients", "care"],
        },
    )
    central.sites.register(admin, {"code": "ALFA2", "name": "Alfa"})  # every action by default

    assert (row.code, row.name, row.mode) == ("BRG01", "Brigada río Magdalena", "INS")
    assert row.warehouses == "BRG01-FARMACIA BRG01-BODEGA"
    assert row.actions == "care patients"
    assert (row.revoked, row.provisioned, row.software_version) == (False, False, "")
    assert [r.code for r in central.sites.list(admin)] == ["ALFA2", "BRG01"]
    assert central.sites.show(admin, "brg01") == row
    assert central.sites.show(admin, "ALFA2").actions.split() == sorted(a.value for a in SiteAction)
    site = central.core.existing(Site, site_id("BRG01"))
    assert (site.mode, site.enabled) == (SiteMode.ON_SITE, {SiteAction.PATIENTS, SiteAction.CARE})

    shown = central.sites.add_warehouse(admin, "BRG01", "BRG01-NEVERA")
    assert shown.warehouses == "BRG01-FARMACIA BRG01-BODEGA BRG01-NEVERA"

    changed = central.sites.change_parameters(
        admin, "BRG01", {"enable": ["appointments", "dispensing"], "disable": ["care"]}
    )
    assert changed.actions == "appointments dispensing patients"
    before = count_events(store_url, "brigada.Site.")
    same = central.sites.change_parameters(admin, "BRG01", {"enable": ["patients"], "disable": ["care"]})
    assert same.actions == changed.actions
    assert count_events(store_url, "brigada.Site.") == before  # nothing changed: no event
    assert central.sites.show(admin, "BRG01").updated_at == changed.updated_at

    with pytest.raises(InvalidValue):
        central.sites.change_parameters(admin, "BRG01", {"enable": ["care"], "disable": ["care"]})
    with pytest.raises(InvalidValue):
        central.sites.change_parameters(admin, "BRG01", {"enable": ["cooking"]})
    with pytest.raises(SiteAlreadyRegistered) as twice:
        central.sites.register(admin, {"code": "BRG01", "name": "Otra"})
    refused_exit_1(twice.value)
    for bad in (
        {"code": "brg01", "name": "x"},
        {"code": "B", "name": "x"},
        {"code": "BRG02", "name": ""},
        {"code": "BRG02", "name": "x", "warehouses": ["farmacia"]},
        {"code": "BRG02", "name": "x", "warehouses": ["BRG02-A", "BRG02-A"]},
        {"code": "BRG02", "name": "x", "actions": ["invoicing"]},
    ):
        with pytest.raises(InvalidValue) as invalid:
            central.sites.register(admin, bad)
        assert exit_code(invalid.value) == Exit.INVALID
    with pytest.raises(InvalidValue):
        central.sites.add_warehouse(admin, "BRG01", "BRG01-FARMACIA")
    with pytest.raises(SiteNotFound) as missing:
        central.sites.show(admin, "NOPE")
    assert exit_code(missing.value) == Exit.NOT_FOUND
    assert count_events(store_url, "brigada.Site.") == before


def test_a_revoked_site_cannot_be_provisioned_or_changed(
    open_store: OpenStore, store_url: str, tmp_path: Path, count_events: Count
) -> None:
    central, admin = start_central(open_store, store_url)
    central.sites.register(admin, {"code": "BRG01", "name": "Uno", "warehouses": ["BRG01-FARMACIA"]})

    revoked = central.sites.revoke(admin, "BRG01")
    events = count_events(store_url, "brigada.Site.")
    assert central.sites.revoke(admin, "BRG01").revoked  # revoking twice records nothing
    assert revoked.revoked and count_events(store_url, "brigada.Site.") == events

    target_url = laptop_url(tmp_path, "laptop")
    target = open_store(target_url)
    with pytest.raises(OperationRefused) as refused:
        central.sites.provision(admin, "BRG01", target, "laptop.db")
    assert "revoked" in str(refused.value)
    refused_exit_1(refused.value)
    assert count_events(target_url) == 0
    for change in (
        lambda: central.sites.change_parameters(admin, "BRG01", {"disable": ["care"]}),
        lambda: central.sites.add_warehouse(admin, "BRG01", "BRG01-BODEGA"),
        lambda: set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION),
    ):
        with pytest.raises(SiteRevoked) as error:
            change()
        refused_exit_1(error.value)
    with pytest.raises(SiteNotFound):
        central.sites.provision(admin, "NOPE", target, "laptop.db")
    assert count_events(store_url, "brigada.Site.") == events
    assert count_events(target_url) == 0


def test_only_an_administrator_on_central_administers_sites(
    open_store: OpenStore, store_url: str, tmp_path: Path, count_events: Count
) -> None:
    central, admin = start_central(open_store, store_url)
    central.sites.register(admin, {"code": "BRG01", "name": "Uno"})
    central.users.create(admin, {"username": "beto", "full_name": "Beto"}, ANA_PASSWORD)
    central.users.change_access(admin, "beto", grant=["site"], revoke=[])  # every site option
    beto = log_in(central, "beto", ANA_PASSWORD)
    target = open_store(laptop_url(tmp_path, "laptop"))
    before = count_events(store_url)

    attempts = {
        "register": lambda: central.sites.register(beto, {"code": "BRG02", "name": "Dos"}),
        "warehouse": lambda: central.sites.add_warehouse(beto, "BRG01", "BRG01-A"),
        "params": lambda: central.sites.change_parameters(beto, "BRG01", {"disable": ["care"]}),
        "mode": lambda: set_site_mode(central, beto, "BRG01", SiteMode.ON_MISSION),
        "revoke": lambda: central.sites.revoke(beto, "BRG01"),
        "provision": lambda: central.sites.provision(beto, "BRG01", target, "laptop.db"),
    }
    for name, attempt in attempts.items():
        with pytest.raises(AdministratorOnly) as refused:
            attempt()
        refused_exit_1(refused.value)
        before += 1  # the refused attempt's own record ("Acceso - Denegado"), nothing else
        assert count_events(store_url) == before, name
    assert [r.code for r in central.sites.list(beto)] == ["BRG01"]  # reading is a menu option

    central.users.change_access(admin, "beto", grant=[], revoke=["site"])
    with pytest.raises(MenuDenied):
        central.sites.list(beto)
    with pytest.raises(MenuDenied):
        central.sites.show(beto, "BRG01")
    with pytest.raises(MenuDenied):
        central.sites.mode(beto)


# -- provisioning -------------------------------------------------------------------------------
@dataclass
class Mission:
    central_url: str
    central: Brigada
    admin: Actor
    laptop_url: str
    laptop: Brigada
    copied: int
    progress: list[tuple[int, int]]
    central_patient: UUID  # CEN-1, registered on central
    other_patient: UUID  # OTHER-1, registered on site OTHER's laptop, then copied to central
    other: Brigada  # site OTHER's laptop


@pytest.fixture
def mission(open_store: OpenStore, store_url: str, tmp_path: Path) -> Mission:
    """Central with a password policy, sites BRG01 and OTHER, coordinator ana (menu options and
    sections), a patient of central's and one of site OTHER's; then BRG01 provisioned."""
    central, admin = start_central(open_store, store_url)
    central.policies.set(admin, {"max_failed_attempts": 5})
    central.sites.register(
        admin,
        {"code": "BRG01", "name": "Uno", "warehouses": ["BRG01-FARMACIA"], "actions": ["patients", "care"]},
    )
    central.sites.register(admin, {"code": "OTHER", "name": "Otra", "warehouses": ["OTHER-FARMACIA"]})
    add_coordinator(central, admin)
    central_patient = UUID(central.patients.register(admin, JOSE).patient_id)

    # Site OTHER on mission registers a patient; its events reach central (as a sync would).
    other = open_store(laptop_url(tmp_path, "other"))
    central.sites.provision(admin, "OTHER", other, "other.db")
    set_site_mode(central, admin, "OTHER", SiteMode.ON_MISSION)
    other.sites.receive_site_record(central)
    registered = other.patients.register(log_in(other, "ana", ANA_PASSWORD), MARIA)
    assert (registered.chart_number, registered.site) == ("OTHER-1", "OTHER")
    other_patient = UUID(registered.patient_id)
    assert copy_aggregates(other.app, central.app, [other_patient]) == 1
    central.views.catch_up()
    assert [(p.chart_number, p.site) for p in central.patients.queries.all()] == [
        ("CEN-1", "CEN"),
        ("OTHER-1", "OTHER"),
    ]

    target_url = laptop_url(tmp_path, "brg01")
    laptop = open_store(target_url)
    progress: list[tuple[int, int]] = []
    copied = central.sites.provision(admin, "BRG01", laptop, "brg01.db", lambda d, t: progress.append((d, t)))
    return Mission(
        store_url,
        central,
        admin,
        target_url,
        laptop,
        copied,
        progress,
        central_patient,
        other_patient,
        other,
    )


def test_provisioning_copies_exactly_the_sites_slice(mission: Mission, count_events: Count) -> None:
    central, laptop = mission.central, mission.laptop
    slice_ids = {site_id("BRG01"), PASSWORD_POLICY_ID, user_id("ana"), mission.central_patient}

    assert aggregate_ids(mission.laptop_url) == slice_ids | {STORE_IDENTITY_ID}
    for aggregate_id in slice_ids:  # byte for byte, every event central holds
        assert stored_events(laptop, aggregate_id) == stored_events(central, aggregate_id)
    assert mission.copied == sum(len(stored_events(central, a)) for a in slice_ids)
    assert mission.progress[-1] == (len(slice_ids), len(slice_ids))
    assert [done for done, _total in mission.progress] == sorted(done for done, _total in mission.progress)

    # Not the other site's patient, its record, nor the administrator.
    assert laptop.core.get(Patient, mission.other_patient) is None
    assert laptop.core.get(Site, site_id("OTHER")) is None
    assert laptop.core.get(User, user_id("admin")) is None
    assert [(p.chart_number, p.site) for p in laptop.patients.queries.all()] == [("CEN-1", "CEN")]
    assert [u.username for u in laptop.users.queries.all()] == ["ana"]
    assert [s.code for s in laptop.sites.sites.all()] == ["BRG01"]

    ana_there, ana_here = (
        laptop.core.existing(User, user_id("ana")),
        central.core.existing(User, user_id("ana")),
    )
    assert not ana_there.is_admin
    assert ana_there.menu == ana_here.menu and "patient.register" in ana_there.menu
    assert ana_there.sections == ana_here.sections
    assert sorted(s.value for s in ana_there.sections) == sorted(ANA_SECTIONS)
    policy = laptop.core.get(PasswordPolicy, PASSWORD_POLICY_ID)
    assert policy is not None and policy.settings.max_failed_attempts == 5

    # Stamped with the site's identity, and a credential whose public key central keeps.
    identity = laptop.core.require_identity()
    site = central.core.existing(Site, site_id("BRG01"))
    assert (identity.role, identity.site_code, identity.central_code) == (StoreRole.SITE, "BRG01", "CEN")
    assert identity.software_version == SOFTWARE_VERSION == site.software_version
    private_key = laptop.app.keys.key(SITE_SIGNING_KEY, create=False)
    assert private_key is not None and site.public_key
    assert (
        Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw().hex()
        == site.public_key
    )
    assert central.app.keys.key(SITE_SIGNING_KEY, create=False) is None  # central keeps no private key
    shown = central.sites.show(mission.admin, "BRG01")
    assert (shown.provisioned, shown.software_version, shown.mode) == (True, SOFTWARE_VERSION, "INS")
    assert site_row(laptop, "BRG01").provisioned

    # A second provisioning needs an empty store: this one, OTHER's laptop, central are not.
    central_before, laptop_before = count_events(mission.central_url), count_events(mission.laptop_url)
    with pytest.raises(TargetNotEmpty) as refused:
        central.sites.provision(mission.admin, "BRG01", laptop, "brg01.db")
    refused_exit_1(refused.value)
    assert "brg01.db" in str(refused.value)
    with pytest.raises(TargetNotEmpty):
        central.sites.provision(mission.admin, "BRG01", mission.other, "other.db")
    with pytest.raises(TargetNotEmpty):
        central.sites.provision(mission.admin, "BRG01", central, "central")
    assert count_events(mission.central_url) == central_before
    assert count_events(mission.laptop_url) == laptop_before


def test_the_laptop_follows_centrals_lease(mission: Mission, count_events: Count) -> None:
    central, admin, laptop = mission.central, mission.admin, mission.laptop
    ana = log_in(laptop, "ana", ANA_PASSWORD)
    assert laptop.sites.mode(ana).mode is SiteMode.ON_SITE
    assert laptop.sites.mode(ana).role is StoreRole.SITE

    # INS: refused, naming the rule, with nothing written but the refused attempt (issue 17).
    before = count_events(mission.laptop_url)
    with pytest.raises(OperationRefused) as on_site:
        laptop.patients.register(ana, PEDRO)
    assert on_site.value.template == ON_SITE_RULE
    refused_exit_1(on_site.value)
    assert count_events(mission.laptop_url) == before + 1
    assert laptop.patients.search(ana, "Pedro") == []  # reading is allowed (and logged)

    # Central leases the site's data; the laptop records it and works.
    set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION)
    assert laptop.sites.receive_site_record(central) == 1
    assert laptop.sites.receive_site_record(central) == 0
    assert laptop.sites.mode(ana).mode is SiteMode.ON_MISSION
    assert site_row(laptop, "BRG01").mode == "MSN"
    row = laptop.patients.register(ana, PEDRO)
    assert (row.chart_number, row.site) == ("BRG01-1", "BRG01")
    corrected = laptop.patients.correct(ana, "CEN-1", {"middle_name": "Luis"})
    assert corrected.middle_name == "Luis"

    # A parameter turned off on central reaches the laptop with the site record.
    central.sites.change_parameters(admin, "BRG01", {"disable": ["patients"]})
    laptop.patients.register(ana, MARIA)  # not received yet
    assert laptop.sites.receive_site_record(central) == 1
    before = count_events(mission.laptop_url)
    with pytest.raises(OperationRefused) as not_enabled:
        laptop.patients.correct(ana, "BRG01-1", {"middle_name": "Andrés"})
    assert not_enabled.value.template == NOT_ENABLED_RULE
    assert "Patient management" in str(not_enabled.value)
    with pytest.raises(OperationRefused):
        laptop.patients.register(ana, JOSE)
    assert count_events(mission.laptop_url) == before + 2  # the two refused attempts only

    # Back on site: refused again.
    set_site_mode(central, admin, "BRG01", SiteMode.ON_SITE)
    central.sites.change_parameters(admin, "BRG01", {"enable": ["patients"]})
    assert laptop.sites.receive_site_record(central) == 2
    with pytest.raises(OperationRefused) as again:
        laptop.patients.register(ana, JOSE)
    assert again.value.template == ON_SITE_RULE


def test_the_laptop_refuses_administration_and_administrators(mission: Mission, count_events: Count) -> None:
    laptop = mission.laptop
    before = count_events(mission.laptop_url)

    # The administrator was not copied: with the right password they are told why (the laptop
    # holds one byte of that password's hash, not the hash), and it is recorded as "Login incorrecto".
    with pytest.raises(AdminNotOnSite) as told:
        laptop.auth.login("admin", ADMIN_PASSWORD)
    refused_exit_1(told.value)
    assert count_events(mission.laptop_url) == before + 1  # only the "Login incorrecto" record
    assert laptop.core.get(User, user_id("admin")) is None

    ana = log_in(laptop, "ana", ANA_PASSWORD)
    before = count_events(mission.laptop_url)
    with pytest.raises(CentralOnly) as central_only:
        laptop.sites.register(ana, {"code": "BRG02", "name": "Dos"})
    refused_exit_1(central_only.value)
    with pytest.raises(CentralOnly):
        laptop.sites.change_parameters(ana, "BRG01", {"enable": ["dispensing"]})
    with pytest.raises(CentralOnly):
        set_site_mode(laptop, ana, "BRG01", SiteMode.ON_MISSION)
    assert count_events(mission.laptop_url) == before + 3  # each refused attempt's own record
    assert laptop.sites.show(ana, "BRG01").code == "BRG01"

    # Even with the administrator's record on the laptop, the profile may not log in there.
    copy_aggregates(mission.central.app, laptop.app, [user_id("admin")])
    laptop.views.catch_up()
    sessions = laptop.core.existing(User, user_id("admin")).sessions  # central's, copied along
    before = count_events(mission.laptop_url)
    with pytest.raises(AdminNotOnSite) as not_here:
        laptop.auth.login("admin", ADMIN_PASSWORD)
    refused_exit_1(not_here.value)
    assert laptop.core.existing(User, user_id("admin")).sessions == sessions
    assert count_events(mission.laptop_url) == before


# -- central's side of the lease ----------------------------------------------------------------
def test_central_refuses_writes_to_a_site_on_mission(open_store: OpenStore, store_url: str) -> None:
    central, admin = start_central(open_store, store_url)
    for code in ("BRG01", "OTHER"):
        central.sites.register(admin, {"code": code, "name": code, "warehouses": [f"{code}-FARMACIA"]})
    set_site_mode(central, admin, "OTHER", SiteMode.ON_MISSION)
    operations = Operations(central.core)

    operations.require(admin, SiteAction.FIELD_TRANSFERS, owner_site="BRG01")  # INS: central may transfer
    operations.require(admin, SiteAction.PATIENTS, owner_site="BRG01")

    set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION)
    with pytest.raises(OperationRefused) as transfer:
        operations.require(admin, SiteAction.FIELD_TRANSFERS, owner_site="BRG01")
    assert transfer.value.template == FIELD_TRANSFER_ON_CENTRAL_RULE
    assert transfer.value.params == {"site": "BRG01"}
    refused_exit_1(transfer.value)
    with pytest.raises(OperationRefused) as leased:
        operations.require(admin, SiteAction.DISPENSING, owner_site="BRG01")
    assert leased.value.template == LEASED_RULE
    for always in Always:
        operations.require(admin, always, owner_site="BRG01")
    with pytest.raises(OperationRefused):  # site OTHER has been on mission all along
        operations.require(admin, SiteAction.FIELD_TRANSFERS, owner_site="OTHER")
    operations.require(admin, SiteAction.FIELD_TRANSFERS)  # central's own warehouses

    set_site_mode(central, admin, "BRG01", SiteMode.ON_SITE)
    operations.require(admin, SiteAction.FIELD_TRANSFERS, owner_site="BRG01")

"""Stores written by an earlier release, and `brigada upgrade`.

tests/fixtures/store-0.1.0.db is a central store written by release 0.1.0 (how: the script
beside it): central CEN, its administrator, a login, patient CEN-1, user ana and site BRG01, nine
events linked by that release's chain, a bare SHA-256 with no key. Each test works on a copy.
"""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

import adapters.bootstrap
import application.setup
import application.sync.central
import application.sync.laptop
from adapters.store import StoreLocation
from adapters.sync.server import STORE_VARIABLE
from application.errors import MenuDenied
from domain.chain import GENESIS, ChainedEvent, legacy_link, link, verify
from domain.sites.site import SiteMode
from domain.store_identity import STORE_IDENTITY_ID, StoreAheadOfSoftware, StoreIdentity, version_order
from domain.sync.sync import SyncFunction, SyncRefused
from tests.support.cli import Terminal, one_line
from tests.support.inventory import NURSE
from tests.support.security import ADMIN_PASSWORD, PASSWORDS, log_in
from tests.support.sync import Field, provisioned_field

pytestmark = pytest.mark.store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "store-0.1.0.db"
OLD_VERSION = "0.1.0"
OLD_EVENTS = 9  # events 1..9, linked by 0.1.0
RUNNING = application.setup.SOFTWARE_VERSION  # the version installed (pyproject.toml)
NEXT = "99.0.0"  # a version installed after this one, in the tests that need one
BEHIND = "this store is at version {store} and the software at {software}: run 'brigada upgrade' first"
AHEAD = (
    "this store is at version {store}, newer than the software ({software}): install version {store} "
    "or newer; a store is never downgraded"
)
Count = Callable[..., int]


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A copy of the 0.1.0 store."""
    target = tmp_path / "central.db"
    shutil.copyfile(FIXTURE, target)
    return target


@pytest.fixture
def terminal(old_store: Path) -> Terminal:
    """brigada on the 0.1.0 store, its administrator logged in."""
    terminal = Terminal(f"sqlite:///{old_store}")
    terminal.log_in("admin", ADMIN_PASSWORD)
    return terminal


def raw(path: Path, statement: str, *params: Any) -> list[Any]:
    with sqlite3.connect(path) as conn:
        return conn.execute(statement, params).fetchall()


def chained(open_store: Any, url: str) -> tuple[list[ChainedEvent], bytes, int]:
    """The store's events with their recorded links, its chain key and its legacy boundary."""
    brigada = open_store(url, create=False)
    try:
        recorder = brigada.app.keys
        return list(brigada.chain.chained_events()), recorder.chain_key(), recorder.legacy_until()
    finally:
        brigada.close()


def identity_of(open_store: Any, url: str) -> tuple[StoreIdentity, list[Any]]:
    brigada = open_store(url, create=False)
    try:
        return brigada.core.require_identity(), list(brigada.app.events.get(STORE_IDENTITY_ID))
    finally:
        brigada.close()


@contextmanager
def running(version: str) -> Iterator[None]:
    """Brigada ``version`` installed, on central and on the laptops."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (
            application.setup,
            application.sync.laptop,
            application.sync.central,
            adapters.bootstrap,
        ):
            patch.setattr(module, "SOFTWARE_VERSION", version)
        yield


# -- the 0.1.0 store's chain ------------------------------------------------------------------
def test_the_old_links_verify_unkeyed_up_to_the_boundary_and_every_later_one_keyed(
    terminal: Terminal, old_store: Path, open_store: Any
) -> None:
    assert raw(FIXTURE, "SELECT name FROM sqlite_master WHERE name = 'brigada_keys'") == []  # 0.1.0

    result = terminal("audit", "verify")

    # 9 old events and the login just recorded, which closed the 0.1.0 session opened more than
    # 12 hours before it (the verification records itself after).
    assert "Chain intact: 11 events checked" in result.stderr
    events, key, legacy_until = chained(open_store, terminal.url)
    assert legacy_until == OLD_EVENTS
    assert dict(raw(old_store, "SELECT name, value FROM brigada_keys"))["legacy-until"] == b"9".hex()
    previous: dict[str, str] = {}
    for event in events:
        assert event.recorded_link is not None and event.recorded_site is not None
        parts = (
            previous.get(event.recorded_site, GENESIS),
            event.recorded_site,
            event.originator_id,
            event.version,
            event.topic,
            event.state,
        )
        expected = legacy_link(*parts) if event.position <= OLD_EVENTS else link(key, *parts)
        assert event.recorded_link == expected, event.position
        previous[event.recorded_site] = event.recorded_link
    assert len(events) > OLD_EVENTS


def _tamper(path: Path, position: int, old: bytes, new: bytes) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER stored_events_no_update")
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
        assert old in state
        conn.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(state).replace(old, new), position)
        )


def test_an_old_event_changed_breaks_the_chain_at_it(terminal: Terminal, old_store: Path) -> None:
    terminal("audit", "verify")
    _tamper(old_store, 6, b"1980-05-02", b"1981-05-02")  # patient CEN-1's birth date

    result = terminal("audit", "verify", code=1)

    assert one_line(result) == "Chain broken at log position 6 (site CEN): an event was changed"


def test_old_links_recomputed_without_the_key_break_at_the_first_keyed_link(
    terminal: Terminal, old_store: Path, open_store: Any
) -> None:
    """What the old chain allowed (change an event, recompute the SHA-256 links after it) shows
    at the first link made with the key: it follows the old last link, not the new one."""
    terminal("audit", "verify")
    _tamper(old_store, 6, b"1980-05-02", b"1981-05-02")
    changed = {e.position: e for e in chained(open_store, terminal.url)[0]}
    with sqlite3.connect(old_store) as conn:
        conn.execute("DROP TRIGGER event_chain_no_update")
        previous = changed[5].recorded_link
        assert previous is not None
        for position in range(6, OLD_EVENTS + 1):
            event = changed[position]
            relinked = legacy_link(
                previous, "CEN", event.originator_id, event.version, event.topic, event.state
            )
            conn.execute(
                "UPDATE event_chain SET previous = ?, link = ? WHERE position = ?",
                (previous, relinked, position),
            )
            previous = relinked

    result = terminal("audit", "verify", code=1)

    assert one_line(result) == "Chain broken at log position 10 (site CEN): an event was deleted"


def test_a_store_that_starts_with_its_key_has_no_old_links(store_url: str, open_store: Any) -> None:
    """The boundary is written with the key, 0 on a new store: none can be slipped in later."""
    brigada = open_store(store_url)
    brigada.setup.initialize("central", "CEN", "admin", "Administrador", ADMIN_PASSWORD)
    admin = log_in(brigada, "admin", ADMIN_PASSWORD)

    assert brigada.app.keys.legacy_until() == 0
    assert brigada.app.keys.key("legacy-until", create=False) == b"0"
    assert brigada.audit.verify(admin)[0] is None


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_0_1_0_log_on_postgresql_verifies_too(store_url: str, open_store: Any) -> None:
    """The fixture's events and links copied as 0.1.0 wrote them into a PostgreSQL store (its
    tables as 0.1.0 made them, and an empty keys table)."""
    open_store(store_url).close()  # the tables
    location = StoreLocation.parse(store_url)
    schema = location.schema
    with sqlite3.connect(FIXTURE) as old:
        events = old.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
        links = old.execute("SELECT position, site, previous, link FROM event_chain").fetchall()
    with psycopg.connect(
        dbname=location.database, host=location.host, port=location.port, user=location.user
    ) as conn:
        for position, originator, version, topic, state in events:
            conn.execute(
                f'INSERT INTO "{schema}".brigada_events (notification_id, originator_id, '
                "originator_version, topic, state) VALUES (%s, %s, %s, %s, %s)",
                (position, originator, version, topic, bytes(state)),
            )
        for row in links:
            conn.execute(f'INSERT INTO "{schema}".brigada_chain VALUES (%s, %s, %s, %s)', row)
        conn.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
            (f'"{schema}".brigada_events', len(events)),
        )
    brigada = open_store(store_url, create=False)
    admin = log_in(brigada, "admin", ADMIN_PASSWORD)  # the first write makes the key

    broken, checked = brigada.audit.verify(admin)

    assert (broken, checked) == (None, OLD_EVENTS + 1)
    assert brigada.app.keys.legacy_until() == OLD_EVENTS


# -- brigada upgrade --------------------------------------------------------------------------
def test_upgrade_rebuilds_every_view_and_records_the_running_version(
    terminal: Terminal, old_store: Path, open_store: Any
) -> None:
    raw(old_store, "DELETE FROM view_users")  # a view the old release left wrong

    result = terminal("upgrade")

    views = {row["name"]: row for row in terminal.json("projections", "status")}
    done = f"Store upgraded from version {OLD_VERSION} to {RUNNING}: {len(views)} views rebuilt."
    assert done in result.stderr
    # 10 events of release 0.1.0, and the login's closing of the session it found 12 hours old
    assert "users: 2 rows from 11 events in the log" in result.stderr
    identity, history = identity_of(open_store, terminal.url)
    assert identity.software_version == RUNNING
    upgraded = history[-1]
    assert isinstance(upgraded, StoreIdentity.Upgraded)
    assert (upgraded.from_version, upgraded.to_version) == (OLD_VERSION, RUNNING)
    assert (upgraded.context.user, upgraded.context.site) == ("admin", "CEN")
    assert views["users"]["rows"] == 2 and views["patients"]["rows"] == 1 and views["sites"]["rows"] == 1
    assert not any(row["stale"] or row["lag"] for row in views.values())
    assert "Chain intact" in terminal("audit", "verify").stderr


def test_a_second_upgrade_has_nothing_to_do(terminal: Terminal, old_store: Path) -> None:
    terminal("upgrade")
    head = raw(old_store, "SELECT COUNT(*) FROM stored_events")

    result = terminal("upgrade")

    assert result.stderr.strip() == f"This store is already at version {RUNNING}: nothing to do."
    assert raw(old_store, "SELECT COUNT(*) FROM stored_events") == head


def test_a_store_newer_than_the_software_is_never_downgraded(terminal: Terminal, old_store: Path) -> None:
    with running("9.9.9"):
        terminal("upgrade")  # the store recorded at 9.9.9; then 9.9.9 is uninstalled
    head = raw(old_store, "SELECT COUNT(*) FROM stored_events")

    result = terminal("upgrade", code=1)

    assert one_line(result) == AHEAD.format(store="9.9.9", software=RUNNING)
    assert raw(old_store, "SELECT COUNT(*) FROM stored_events") == head


def test_only_an_administrator_upgrades_central(terminal: Terminal) -> None:
    terminal.log_in("ana", PASSWORDS["ana"])

    result = terminal("upgrade", code=1)

    assert one_line(result) == "only an administrator can upgrade central's store"


# -- brigada serve on central ------------------------------------------------------------------
@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced: the servers `brigada serve` would have started."""
    import uvicorn

    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    monkeypatch.setenv(STORE_VARIABLE, "")  # serve sets it; put back as it was
    return started


def test_serve_refuses_to_start_on_a_central_store_not_yet_upgraded(
    terminal: Terminal, uvicorn_runs: list[dict[str, Any]]
) -> None:
    result = terminal("serve", "--proxy-headers", code=1)

    assert one_line(result) == BEHIND.format(store=OLD_VERSION, software=RUNNING)
    assert uvicorn_runs == []
    terminal("upgrade")
    terminal("serve", "--proxy-headers")
    assert len(uvicorn_runs) == 1


def test_serve_refuses_to_start_on_a_store_newer_than_the_software(
    terminal: Terminal, uvicorn_runs: list[dict[str, Any]]
) -> None:
    with running("9.9.9"):
        terminal("upgrade")

    result = terminal("serve", "--proxy-headers", code=1)

    assert one_line(result) == AHEAD.format(store="9.9.9", software=RUNNING)
    assert uvicorn_runs == []


# -- a laptop on mission when a new version comes -----------------------------------------------
@pytest.fixture
def field(open_store: Any, sqlite_url: str, tmp_path: Path) -> Field:
    return provisioned_field(open_store, sqlite_url, tmp_path)


def mission_work(field: Field) -> None:
    """BRG01's laptop goes on mission and does a visit there."""
    assert field.sync().plan.new_mode is SiteMode.ON_MISSION
    nurse = field.nurse()
    number = field.laptop.encounters.open(nurse, {"chart_number": "CEN-1", "kind": "outpatient"}).number
    field.laptop.encounters.set_diagnosis(nurse, number, {"code": "I10X"})
    field.laptop.encounters.finalize(nurse, number)


def test_a_laptop_syncs_only_once_upgraded_and_its_upgrade_stays_home(
    field: Field, sqlite_url: str, count_events: Count
) -> None:
    mission_work(field)
    with running(NEXT):  # installed on central and on the laptop, neither store upgraded yet
        field.central.setup.upgrade(field.admin)
        nurse = field.nurse()
        before = count_events(sqlite_url), count_events(field.laptop_url)
        with pytest.raises(SyncRefused) as refused:
            field.sync(nurse)
        assert str(refused.value) == BEHIND.format(store=RUNNING, software=NEXT)
        assert (count_events(sqlite_url), count_events(field.laptop_url)) == before

        outcome = field.laptop.setup.upgrade(field.nurse())

        assert (outcome.from_version, outcome.to_version, outcome.upgraded) == (RUNNING, NEXT, True)
        upgraded = list(field.laptop.app.events.get(STORE_IDENTITY_ID))[-1]
        assert isinstance(upgraded, StoreIdentity.Upgraded)
        # Linked in a chain of the laptop's own: central checks the pushed site chain has no gap.
        assert (upgraded.context.site, upgraded.context.user) == ("BRG01.local", NURSE)
        recorder = field.laptop.app.keys
        chain = field.laptop.chain
        assert recorder.legacy_until() == 0
        assert verify(chain.chained_events(), chain.orphan_links(), recorder.chain_key()) is None
        end = field.sync()  # end of mission: the mission's work reaches central
        assert end.merged[SyncFunction.ENCOUNTERS] >= 3 and end.quarantined == 0
        field.sync()  # start of the next mission: the laptop rebuilt from central, still upgraded
        assert field.laptop.core.require_identity().software_version == NEXT
        field.laptop.sync.preflight(field.nurse(), field.direct())


def test_a_laptop_user_without_the_upgrade_option_cannot_upgrade(field: Field) -> None:
    field.central.users.change_access(field.admin, NURSE, grant=[], revoke=["upgrade"])
    mission_work(field)  # the laptop rebuilt from central: ana's options as central holds them
    with running(NEXT), pytest.raises(MenuDenied) as refused:
        field.laptop.setup.upgrade(field.nurse())

    assert str(refused.value) == (
        "you have no access to menu option upgrade (Upgrade the store to the installed version)"
    )


def test_the_laptop_is_told_to_install_the_same_version_as_central(field: Field) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(application.sync.laptop, "SOFTWARE_VERSION", NEXT)  # only the laptop's software
        with pytest.raises(SyncRefused) as refused:
            field.sync()

    assert str(refused.value) == (
        f"the server runs version {RUNNING}, this laptop {NEXT}: install the same version on both and "
        "run 'brigada upgrade'"
    )


# -- the domain ---------------------------------------------------------------------------------
def test_the_running_version_is_the_projects() -> None:
    """SOFTWARE_VERSION comes from the installed metadata: after changing pyproject.toml's version,
    install the project again (``pip install -e '.[dev]'``)."""
    pyproject = Path(__file__).resolve().parent.parent.parent / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["version"] == RUNNING


def test_versions_sort_as_releases_go() -> None:
    ordered = ["0+unknown", "0.1.0", "0.2.0rc1", "0.2.0", "0.2.0.post1", "0.9.1", "0.10.0", "1.0.dev3", "1.0"]
    assert sorted(ordered, key=version_order) == ordered
    assert version_order("1.0") == version_order("1.0.0") == version_order("v1.0+local")


def test_the_identity_records_an_upgrade_once_and_never_a_downgrade() -> None:
    from domain.context import recording
    from domain.store_identity import StoreRole
    from tests.support.given_when_then import context

    with recording(context()):
        identity = StoreIdentity(role=StoreRole.CENTRAL, site_code="CEN", software_version="0.1.0")
        identity.collect_events()
        assert identity.upgrade("0.2.0") is True
        assert identity.upgrade("0.2.0") is False
        with pytest.raises(StoreAheadOfSoftware):
            identity.upgrade("0.1.0")
    (event,) = identity.collect_events()
    assert isinstance(event, StoreIdentity.Upgraded) and identity.software_version == "0.2.0"

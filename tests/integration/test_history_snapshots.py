"""Snapshots change no behaviour: an aggregate loaded from its newest snapshot and the events
after it is the aggregate replayed from all its events (number series, invoice series, users),
on SQLite and PostgreSQL; a tail copied in without snapshots is snapshotted at the next save; a snapshot that
does not verify is ignored; a login closes the sessions no resume could reopen."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from application.app import SNAPSHOT_INTERVAL, BrigadaApplication
from application.brigada import Brigada
from application.replication import copy_aggregates
from domain.billing.invoice_series import InvoiceSeries, invoice_series_id
from domain.context import recording
from domain.numbering import NumberSeries, series_id
from domain.security.sections import Section
from domain.security.session import ABSOLUTE_TIMEOUT, TOO_OLD
from domain.security.user import User, user_id
from tests.support.given_when_then import NOW, TODAY, context, given, when
from tests.support.security import ADMIN_PASSWORD, log_in
from tests.support.snapshots import loaded, snapshot_versions

OpenStore = Callable[..., Brigada]


def initialized(open_store: OpenStore, url: str) -> Brigada:
    brigada = open_store(url)
    brigada.setup.initialize("central", "CEN", "admin", "Administrador", ADMIN_PASSWORD)
    return brigada


def take_numbers(app: BrigadaApplication, site: str, times: int) -> None:
    """``times`` numbers of a series, each saved on its own, as commands take them."""
    for _ in range(times):
        with recording(context(site)):
            try:
                series: NumberSeries = app.repository.get(series_id(site, "HIST"))
            except AggregateNotFoundError:  # the series is made by its first number
                series = NumberSeries(site=site, series="HIST")
            series.take()
            app.save(series)


def test_a_number_series_loaded_from_its_snapshot_is_the_series_replayed(
    open_store: OpenStore, store_url: str
) -> None:
    central = initialized(open_store, store_url)
    take_numbers(central.app, "CEN", 2 * SNAPSHOT_INTERVAL + 30)
    series = series_id("CEN", "HIST")

    from_snapshot, replayed = loaded(central.app, series), loaded(central.app, series, snapshots=False)

    assert snapshot_versions(central.app, series) == [SNAPSHOT_INTERVAL, 2 * SNAPSHOT_INTERVAL]
    assert vars(from_snapshot) == vars(replayed)
    with recording(context()):
        assert from_snapshot.take() == f"CEN-{2 * SNAPSHOT_INTERVAL + 31}"


def test_an_invoice_series_loaded_from_its_snapshot_is_the_series_replayed(
    open_store: OpenStore, sqlite_url: str
) -> None:
    central = initialized(open_store, sqlite_url)
    with recording(context()):
        series = InvoiceSeries.add("FE", 1, 5_000, TODAY, date(2027, 12, 31))
        central.app.save(series)
    for _ in range(SNAPSHOT_INTERVAL + 20):  # numbers taken one invoice at a time
        with recording(context()):
            series = central.app.repository.get(invoice_series_id("FE"))
            series.take(TODAY)
            central.app.save(series)

    from_snapshot = loaded(central.app, invoice_series_id("FE"))

    assert snapshot_versions(central.app, invoice_series_id("FE")) == [SNAPSHOT_INTERVAL]
    assert vars(from_snapshot) == vars(loaded(central.app, invoice_series_id("FE"), snapshots=False))
    assert (from_snapshot.valid_from, from_snapshot.next_number) == (TODAY, SNAPSHOT_INTERVAL + 21)


def test_a_user_loaded_from_its_snapshot_is_the_user_replayed(
    open_store: OpenStore, store_url: str, clock: Any
) -> None:
    central = initialized(open_store, store_url)
    admin = log_in(central, "admin", ADMIN_PASSWORD)
    central.users.create(admin, {"username": "ana", "full_name": "Ana"}, "lluvia-sobre-el-rio-cauca")
    central.users.change_access(admin, "ana", grant=["patient"], revoke=[])
    central.users.change_sections(admin, "ana", allow=[Section.VISIT.value], deny=[])
    with central.core.acting_as("admin"):
        ana = central.core.existing(User, user_id("ana"))
        ana.set_unlock_key("a" * 32)
        ana._expire_unlock_code(code_digest="spent-code")
        ana.enroll_totp("JBSWY3DPEHPK3PXP")
        central.core.save(ana)
    for _ in range(SNAPSHOT_INTERVAL + 10):  # logins an hour apart: some sessions open, most closed
        clock.advance(hours=1)
        with central.core.acting_as("ana"):
            ana = central.core.existing(User, user_id("ana"))
            ana.log_in(
                password_matches=True,
                on_central=True,
                session_id=uuid4(),
                token_hash="0" * 64,
                now=clock.now(),
                totp_given=True,
                totp_step=ana.last_totp_step + 1,
            )
            central.core.save(ana, catch_up=False)

    from_snapshot, replayed = (
        loaded(central.app, user_id("ana")),
        loaded(central.app, user_id("ana"), snapshots=False),
    )

    assert snapshot_versions(central.app, user_id("ana"))
    assert vars(from_snapshot) == vars(replayed)
    assert "patient" in from_snapshot.menu and from_snapshot.sections == {Section.VISIT}
    assert from_snapshot.used_unlock_codes == {"spent-code"}
    assert 0 < len(from_snapshot.sessions) <= 13
    assert all(isinstance(key, UUID) for key in from_snapshot.sessions)


def test_a_tail_copied_in_without_snapshots_is_snapshotted_at_the_next_save(
    open_store: OpenStore, sqlite_url: str, tmp_path: Any
) -> None:
    central = initialized(open_store, sqlite_url)
    take_numbers(central.app, "CEN", SNAPSHOT_INTERVAL + 50)
    other = open_store(f"sqlite:///{tmp_path}/other.db")
    series = series_id("CEN", "HIST")
    copy_aggregates(central.app, other.app, [series])  # as a rebuild copies: events, no snapshot
    assert snapshot_versions(other.app, series) == []

    take_numbers(other.app, "CEN", 1)

    assert snapshot_versions(other.app, series) == [SNAPSHOT_INTERVAL + 52]  # Started, then 151 numbers
    assert vars(loaded(other.app, series)) == vars(loaded(other.app, series, snapshots=False))
    assert loaded(other.app, series).last == SNAPSHOT_INTERVAL + 51


def test_a_snapshot_that_does_not_verify_is_ignored(
    open_store: OpenStore, sqlite_url: str, tmp_path: Any
) -> None:
    central = initialized(open_store, sqlite_url)
    take_numbers(central.app, "CEN", SNAPSHOT_INTERVAL + 5)
    series = series_id("CEN", "HIST")
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:  # the snapshots table is not append-only: edited here
        (state,) = db.execute("SELECT state FROM stored_snapshots").fetchone()
        edited = state.replace(b'"last":99}', b'"last":999}')
        assert edited != state
        db.execute("UPDATE stored_snapshots SET state = ?", (edited,))

    series_loaded = loaded(central.app, series)

    assert series_loaded.last == SNAPSHOT_INTERVAL + 5
    assert snapshot_versions(central.app, series) == []  # there, but not taken as a snapshot


def test_a_login_closes_the_sessions_opened_longer_ago_than_any_session_lasts() -> None:
    old, recent = uuid4(), uuid4()

    def logged_in(session_id: UUID, hours_ago: float) -> Callable[[User], Any]:
        def log_in(user: User) -> Any:
            at = NOW - timedelta(hours=hours_ago)
            return user.log_in(
                password_matches=True, on_central=True, session_id=session_id, token_hash="0" * 64, now=at
            )

        return log_in

    user = given(
        lambda: User(username="ana", full_name="Ana", is_admin=False, password_hash="h"),
        logged_in(old, ABSOLUTE_TIMEOUT.total_seconds() / 3600 + 1),
        logged_in(recent, 1),
    )

    events = when(user, logged_in(uuid4(), 0))

    assert [type(e).__name__ for e in events] == ["SessionClosed", "LoggedIn"]
    assert (events[0].session_id, events[0].reason) == (old, TOO_OLD)
    assert old not in user.sessions and recent in user.sessions and len(user.sessions) == 2


@pytest.mark.store  # a process of its own
def test_a_process_that_never_wrote_a_user_snapshot_resolves_its_topic() -> None:
    """Explicit topics are registered when their module loads, not when a snapshot is taken."""
    script = (
        "import application.app\n"
        "from eventsourcing.utils import resolve_topic\n"
        "from domain.security.user import User\n"
        "assert resolve_topic('brigada.User.Snapshot') is User.Snapshot\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

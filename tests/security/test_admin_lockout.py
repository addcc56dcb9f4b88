"""Nobody is locked out for good by failed attempts (issue 17): an administrator's lock lifts by
itself ADMIN_LOCKOUT (15 minutes) after the recorded lock, or earlier by another administrator's
unlock; until then each login says how many minutes are left and is still recorded. A clock set
back keeps the lock longer, never shorter. Anyone else stays locked until unlocked (seed 004).
Real SQLite stores and a fixed clock, through the use cases and through click."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.system import FixedClock
from application.brigada import Brigada
from application.context import Actor
from domain.base import context_of
from domain.security.user import ADMIN_LOCKOUT, AdminLockedForNow, LoginRefused, UserLocked
from tests.support.cli import Terminal
from tests.support.security import (
    ADMIN_PASSWORD,
    ANA_PASSWORD,
    PASSWORDS,
    WRONG,
    MakeUser,
    event_types,
    log_in,
    user,
)

JEFA = "cuaderno-azul-de-la-mision-del-sur"
WRONG_PASSWORD = "not-the-password-at-all"
LOCKED_FOR_15 = "user admin is locked for 15 more minutes after too many failed attempts"


def lock_by_wrong_passwords(central: Brigada, username: str, times: int = 3) -> UserLocked:
    """The last of ``times`` wrong passwords locks: the error it raises."""
    for _ in range(times - 1):
        with pytest.raises(LoginRefused):
            central.auth.login(username, WRONG_PASSWORD)
    with pytest.raises(UserLocked) as locked:
        central.auth.login(username, WRONG_PASSWORD)
    return locked.value


def minutes_left_refusing(central: Brigada, password: str = ADMIN_PASSWORD) -> int:
    with pytest.raises(AdminLockedForNow) as locked:
        central.auth.login("admin", password)
    return int(locked.value.params["minutes"])


@pytest.fixture
def three_attempts(central: Brigada, admin: Actor) -> None:
    central.policies.set(admin, {"max_failed_attempts": "3"})


# -- through the use cases ----------------------------------------------------------------------
@pytest.mark.usefixtures("three_attempts")
def test_the_only_administrator_is_locked_for_15_minutes_and_each_refusal_is_recorded(
    central: Brigada, clock: FixedClock
) -> None:
    locked = lock_by_wrong_passwords(central, "admin")

    assert ADMIN_LOCKOUT.total_seconds() == 15 * 60
    assert isinstance(locked, AdminLockedForNow)
    assert locked.params == {"username": "admin", "minutes": 15}
    assert event_types(central, "admin")[-2:] == ["LoginFailed", "Locked"]
    clock.advance(minutes=5)
    assert minutes_left_refusing(central) == 10  # the right password, refused all the same
    clock.advance(minutes=9, seconds=1)
    assert minutes_left_refusing(central) == 1
    assert event_types(central, "admin")[-3:] == ["Locked", "LoginFailed", "LoginFailed"]


@pytest.mark.usefixtures("three_attempts")
def test_after_15_minutes_the_right_password_logs_the_administrator_in_and_resets_the_count(
    central: Brigada, clock: FixedClock
) -> None:
    lock_by_wrong_passwords(central, "admin")
    clock.advance(minutes=10)
    minutes_left_refusing(central)

    clock.advance(minutes=5)

    assert log_in(central, "admin", ADMIN_PASSWORD).username == "admin"
    assert event_types(central, "admin")[-2:] == ["Unlocked", "LoggedIn"]
    assert (user(central, "admin").locked, user(central, "admin").failed_attempts) == (False, 0)


@pytest.mark.usefixtures("three_attempts")
def test_after_15_minutes_a_wrong_password_starts_counting_again(central: Brigada, clock: FixedClock) -> None:
    lock_by_wrong_passwords(central, "admin")
    clock.advance(minutes=15)

    with pytest.raises(LoginRefused):
        central.auth.login("admin", WRONG_PASSWORD)
    assert (user(central, "admin").locked, user(central, "admin").failed_attempts) == (False, 1)

    clock.advance(minutes=1)
    locked_again = lock_by_wrong_passwords(central, "admin", times=2)
    assert locked_again.params == {"username": "admin", "minutes": 15}  # from the new lock


@pytest.mark.usefixtures("three_attempts")
def test_a_clock_set_back_during_the_lock_keeps_it_longer_never_shorter(
    central: Brigada, clock: FixedClock
) -> None:
    lock_by_wrong_passwords(central, "admin")

    # The store's time never goes back before its newest confirmed event (the policy set just
    # before the lock): the hour the clock lost is waited out in full, the 15 minutes after it.
    clock.advance(hours=-1)
    assert minutes_left_refusing(central) == 15
    clock.advance(minutes=60)  # the clock is back at the lock's time
    assert minutes_left_refusing(central) == 15
    clock.advance(minutes=14, seconds=59)
    assert minutes_left_refusing(central) == 1

    clock.advance(seconds=1)
    assert log_in(central, "admin", ADMIN_PASSWORD).username == "admin"


@pytest.mark.usefixtures("three_attempts")
def test_a_regular_users_lock_does_not_lift_with_time(
    central: Brigada, make_user: MakeUser, clock: FixedClock
) -> None:
    make_user("ana", log_in_now=False)
    lock_by_wrong_passwords(central, "ana")

    clock.advance(days=30)

    with pytest.raises(UserLocked) as locked:
        central.auth.login("ana", PASSWORDS["ana"])
    assert type(locked.value) is UserLocked
    assert locked.value.params == {"username": "ana"}
    assert user(central, "ana").locked


@pytest.mark.usefixtures("three_attempts")
def test_another_administrator_unlocks_the_administrator_before_the_15_minutes(
    central: Brigada, admin: Actor, clock: FixedClock
) -> None:
    central.users.create(admin, {"username": "jefa", "full_name": "Jefa", "is_admin": True}, JEFA)
    lock_by_wrong_passwords(central, "admin")
    clock.advance(minutes=1)
    jefa = log_in(central, "jefa", JEFA)

    central.users.unlock(jefa, "admin")

    assert log_in(central, "admin", ADMIN_PASSWORD).username == "admin"
    unlocked = central.app.events.get(user(central, "admin").id)
    assert [(type(e).__name__, context_of(e).user) for e in unlocked][-2:] == [
        ("Unlocked", "jefa"),
        ("LoggedIn", "admin"),
    ]


# -- through the CLI ----------------------------------------------------------------------------
@pytest.fixture
def brigada(clocked_cli: Terminal) -> Terminal:
    """Central with 3 attempts allowed and the administrator logged in, on the test clock."""
    clocked_cli("policy", "password", "set", "--max-failed-attempts", "3")
    return clocked_cli


def login(brigada: Terminal, username: str, password: str, code: int = 0) -> str:
    return brigada("login", username, "--password-stdin", input=f"{password}\n", code=code).stderr


def lock_admin(brigada: Terminal) -> str:
    for _ in range(2):
        assert login(brigada, "admin", WRONG, code=1) == "Incorrect login\n"
    return login(brigada, "admin", WRONG, code=1)


def test_cli_the_locked_administrator_is_told_the_minutes_left_and_logs_in_after_them(
    brigada: Terminal, clock: FixedClock, tmp_path: Path, count_events: Callable[..., int]
) -> None:
    url = f"sqlite:///{tmp_path}/central.db"
    assert lock_admin(brigada) == f"{LOCKED_FOR_15}\n"
    failures = count_events(url, "brigada.User.LoginFailed")

    clock.advance(minutes=14, seconds=30)
    refused = login(brigada, "admin", ADMIN_PASSWORD, code=1)
    brigada("whoami", code=1)
    clock.advance(seconds=30)
    welcome = login(brigada, "admin", ADMIN_PASSWORD)

    assert refused == "user admin is locked for 1 more minute after too many failed attempts\n"
    assert count_events(url, "brigada.User.LoginFailed") == failures + 1  # recorded, as today
    assert "Welcome, admin." in welcome
    assert '"user": "admin"' in brigada("whoami", "--json").stdout


@pytest.mark.store
def test_cli_a_clock_set_back_keeps_the_administrator_locked_longer(
    brigada: Terminal, clock: FixedClock
) -> None:
    lock_admin(brigada)

    clock.advance(hours=-2)
    set_back = login(brigada, "admin", ADMIN_PASSWORD, code=1)
    clock.advance(hours=2, minutes=14)
    almost = login(brigada, "admin", ADMIN_PASSWORD, code=1)
    clock.advance(minutes=1)

    # The store's time does not go back with the clock: still 15 minutes, waited out in full.
    assert set_back == "user admin is locked for 15 more minutes after too many failed attempts\n"
    assert almost == "user admin is locked for 1 more minute after too many failed attempts\n"
    assert "Welcome, admin." in login(brigada, "admin", ADMIN_PASSWORD)


@pytest.mark.store
def test_cli_a_regular_user_stays_locked_until_an_administrator_unlocks_them(
    brigada: Terminal, clock: FixedClock
) -> None:
    brigada("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    for _ in range(3):
        login(brigada, "ana", WRONG, code=1)

    clock.advance(days=2)
    refused = login(brigada, "ana", ANA_PASSWORD, code=1)

    assert refused == (
        "user ana is locked after too many failed attempts: an administrator must unlock it "
        "('brigada user unlock', or an unlock code on a laptop)\n"
    )
    login(brigada, "admin", ADMIN_PASSWORD)
    brigada("user", "unlock", "ana")
    assert "Welcome, ana." in login(brigada, "ana", ANA_PASSWORD)


@pytest.mark.store
def test_cli_another_administrator_unlocks_the_administrator_early(
    brigada: Terminal, clock: FixedClock
) -> None:
    create = ("user", "create", "jefa", "--full-name", "Jefa", "--admin", "--password-stdin")
    brigada(*create, input=f"{JEFA}\n")
    lock_admin(brigada)
    clock.advance(minutes=2)

    login(brigada, "jefa", JEFA)
    brigada("user", "unlock", "admin")

    assert "Welcome, admin." in login(brigada, "admin", ADMIN_PASSWORD)


@pytest.mark.store
def test_cli_wrong_current_passwords_in_passwd_lock_the_administrator_for_15_minutes(
    brigada: Terminal,
) -> None:
    for _ in range(2):
        brigada("passwd", "--password-stdin", input=f"{WRONG}\n{JEFA}\n", code=1)
    locked = brigada("passwd", "--password-stdin", input=f"{WRONG}\n{JEFA}\n", code=1)

    assert locked.stderr == f"{LOCKED_FOR_15}\n"
    assert login(brigada, "admin", ADMIN_PASSWORD, code=1) == f"{LOCKED_FOR_15}\n"

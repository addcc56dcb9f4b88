"""Nobody is locked out for good by password expiry (issue 17): an administrator's password never
expires, only warns, so someone can always reset the others'; every new user gets "Change my
password" ('passwd'), and the expiry warning names 'brigada passwd' only to those who may run it.
Real SQLite stores and a fixed clock, through the use cases and through click."""

from __future__ import annotations

import json

import pytest

from adapters.system import FixedClock
from application.brigada import Brigada
from application.context import Actor
from domain.security import menu
from domain.security.user import PasswordChangeRequired, PasswordExpired
from tests.support.cli import Terminal
from tests.support.security import (
    ADMIN_PASSWORD,
    ANA_NEW,
    ANA_PASSWORD,
    PASSWORDS,
    TEMPORARY,
    MakeUser,
    log_in,
)

ADMIN_NEW = "otra-frase-larga-para-la-oficina"


# -- through the use cases ----------------------------------------------------------------------
def test_past_the_validity_period_the_administrator_logs_in_with_a_warning_and_users_are_refused(
    central: Brigada, admin: Actor, make_user: MakeUser, clock: FixedClock
) -> None:
    central.policies.set(admin, {"validity_days": "30"})
    make_user("ana", log_in_now=False)

    clock.advance(days=31)

    signed = central.auth.sign_in("admin", ADMIN_PASSWORD)
    assert (signed.password_expires_in, signed.can_change_password) == (-1, True)
    with pytest.raises(PasswordExpired) as expired:
        central.auth.login("ana", PASSWORDS["ana"])
    assert expired.value.params == {"expired_on": "2026-03-31"}


def test_the_administrator_still_there_resets_an_expired_password_and_renews_their_own(
    central: Brigada, admin: Actor, make_user: MakeUser, clock: FixedClock
) -> None:
    central.policies.set(admin, {"validity_days": "30"})
    make_user("ana", log_in_now=False)
    clock.advance(days=40)
    admin = log_in(central, "admin", ADMIN_PASSWORD)
    central.dates.confirm(admin, clock.today())  # weeks later: someone stands behind the date

    central.users.reset_password(admin, "ana", TEMPORARY)
    with pytest.raises(PasswordChangeRequired):
        central.auth.login("ana", TEMPORARY)
    assert log_in(central, "ana", TEMPORARY, new_password=ANA_NEW).username == "ana"

    central.auth.change_password(admin, ADMIN_PASSWORD, ADMIN_NEW)
    assert central.auth.sign_in("admin", ADMIN_NEW).password_expires_in is None  # 30 days left


def test_a_new_user_gets_passwd_even_like_a_user_without_it_and_can_change_their_password(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    make_user("beto", options=menu.grant(frozenset(), "patient.show"), log_in_now=False)

    ana = central.users.create(admin, {"username": "ana", "full_name": "Ana"}, PASSWORDS["ana"])
    coord = central.users.create(
        admin, {"username": "coord", "full_name": "Coord", "like": "beto"}, PASSWORDS["coord"]
    )

    assert ana.options == ["passwd"]
    assert coord.options == ["patient", "patient.show", "passwd"]
    central.auth.change_password(log_in(central, "ana", PASSWORDS["ana"]), PASSWORDS["ana"], ANA_NEW)
    assert log_in(central, "ana", ANA_NEW).username == "ana"


def test_the_warning_says_whether_the_user_may_change_their_own_password(
    central: Brigada, admin: Actor, make_user: MakeUser, clock: FixedClock
) -> None:
    central.policies.set(admin, {"validity_days": "30"})
    make_user("ana", log_in_now=False)
    make_user("beto", options=menu.grant(frozenset(), "patient.show"), log_in_now=False)
    clock.advance(days=20)

    ana, beto = central.auth.sign_in("ana", PASSWORDS["ana"]), central.auth.sign_in("beto", PASSWORDS["beto"])

    assert (ana.password_expires_in, ana.can_change_password) == (10, True)
    assert (beto.password_expires_in, beto.can_change_password) == (10, False)


def test_with_expiry_on_the_policy_names_active_users_who_cannot_change_their_password(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    make_user("ana", log_in_now=False)
    make_user("beto", options=frozenset(), log_in_now=False)  # as users created before 'passwd'
    make_user("coord", options=frozenset(), log_in_now=False)
    central.users.deactivate(admin, "coord")

    assert central.users.unable_to_change_own_password(admin) == ["beto"]


# -- through the CLI ----------------------------------------------------------------------------
@pytest.fixture
def brigada(clocked_cli: Terminal) -> Terminal:
    return clocked_cli


@pytest.mark.store
def test_cli_past_expiry_the_administrator_logs_in_resets_a_user_and_the_user_changes_it(
    brigada: Terminal, clock: FixedClock
) -> None:
    brigada("policy", "password", "set", "--validity-days", "30")
    brigada("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    clock.advance(days=31)

    expired = brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n", code=1)
    admin = brigada("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    brigada("date", "confirm", clock.today().isoformat())  # a month later: confirmed
    brigada("user", "reset-password", "ana", "--password-stdin", input=f"{TEMPORARY}\n")
    brigada("login", "ana", "--password-stdin", input=f"{TEMPORARY}\n{ANA_NEW}\n")
    brigada("passwd", "--password-stdin", input=f"{ANA_NEW}\n{ANA_PASSWORD}\n")

    assert "the password expired on 2026-03-31" in expired.stderr
    assert admin.stderr.splitlines()[-2:] == [
        "Welcome, admin.",
        "Warning: your password is past its validity period; administrators can still log in, "
        "but change it now with 'brigada passwd'.",
    ]


@pytest.mark.store
def test_cli_the_warning_names_brigada_passwd_only_to_users_who_may_run_it(
    brigada: Terminal, clock: FixedClock
) -> None:
    brigada("policy", "password", "set", "--validity-days", "30")
    for name in ("ana", "beto"):
        password = PASSWORDS[name]
        brigada("user", "create", name, "--full-name", name, "--password-stdin", input=f"{password}\n")
    brigada("user", "access", "beto", "--revoke", "passwd")
    listed = json.loads(brigada("policy", "password", "show", "--json").stdout)
    shown = brigada("policy", "password", "show").stderr
    clock.advance(days=29)

    ana = brigada("login", "ana", "--password-stdin", input=f"{PASSWORDS['ana']}\n").stderr
    beto = brigada("login", "beto", "--password-stdin", input=f"{PASSWORDS['beto']}\n").stderr
    brigada("passwd", "--password-stdin", input=f"{PASSWORDS['beto']}\n{ANA_NEW}\n", code=1)

    assert listed["cannot_change_own_password"] == ["beto"]
    assert shown.splitlines()[-1] == (
        "Warning: passwords expire, but 1 user cannot change their own password: beto "
        "(grant it with 'brigada user access USER --grant passwd')."
    )
    assert ana.splitlines()[-1] == "Warning: your password expires in 1 day; change it with 'brigada passwd'."
    assert beto.splitlines()[-1] == (
        "Warning: your password expires in 1 day; ask an administrator for a new one."
    )

"""Login under the password policy, on a real store with a fixed clock: lockout and unlock,
expiry and its 15-day warning, forced change after a reset, the history of 5, changing one's own
password, sessions ending, and the TOTP second factor."""

from __future__ import annotations

import itertools
from typing import Any

import pyotp
import pytest

from adapters.system import FixedClock
from application.brigada import Brigada
from application.context import Actor
from application.errors import NotAuthenticated, PolicyNeedsSecondFactor, WrongCurrentPassword
from domain.security.password_policy import RULE_MIN_LENGTH, RULE_REUSED, PasswordRejected, SecondFactorFirst
from domain.security.user import (
    AdminNeedsSecondFactor,
    LoginRefused,
    PasswordChangeRequired,
    PasswordExpired,
    SecondFactorRequired,
    UserLocked,
)
from tests.support.security import ADMIN_PASSWORD, PASSWORDS, MakeUser, event_types, log_in, user

ANA = PASSWORDS["ana"]


def fail(central: Brigada, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises((LoginRefused, UserLocked)):
            central.auth.login(username, "not-the-password-at-all")


# -- lockout ------------------------------------------------------------------------------------
def test_n_failed_attempts_lock_the_user_in_the_same_save_as_the_last_failure(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    central.policies.set(admin, {"max_failed_attempts": "3"})
    make_user("ana", log_in_now=False)

    fail(central, "ana", 2)
    with pytest.raises(UserLocked) as locked:
        central.auth.login("ana", "not-the-password-at-all")

    assert event_types(central, "ana")[-4:] == ["LoginFailed", "LoginFailed", "LoginFailed", "Locked"]
    assert locked.value.params == {"username": "ana"}
    assert central.users.show(admin, "ana").locked


def test_a_locked_user_is_refused_even_with_the_right_password_until_an_admin_unlocks(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    central.policies.set(admin, {"max_failed_attempts": "2"})
    make_user("ana", log_in_now=False)
    fail(central, "ana", 2)

    with pytest.raises(UserLocked):
        central.auth.login("ana", ANA)

    central.users.unlock(admin, "ana")
    assert log_in(central, "ana", ANA).username == "ana"
    assert event_types(central, "ana")[-2:] == ["Unlocked", "LoggedIn"]
    assert user(central, "ana").failed_attempts == 0


def test_a_success_resets_the_count_of_consecutive_failures(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    central.policies.set(admin, {"max_failed_attempts": "3"})
    make_user("ana", log_in_now=False)

    fail(central, "ana", 2)
    log_in(central, "ana", ANA)
    fail(central, "ana", 2)

    assert not user(central, "ana").locked
    assert user(central, "ana").failed_attempts == 2


def test_zero_attempts_means_unlimited(central: Brigada, admin: Actor, make_user: MakeUser) -> None:
    central.policies.set(admin, {"max_failed_attempts": "0"})
    make_user("ana", log_in_now=False)

    fail(central, "ana", 12)

    assert not user(central, "ana").locked
    assert log_in(central, "ana", ANA).username == "ana"


def test_locking_deactivating_and_changing_the_password_end_open_sessions(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    central.policies.set(admin, {"max_failed_attempts": "1"})
    make_user("ana", log_in_now=False)
    ticket = central.auth.login("ana", ANA)

    fail(central, "ana", 1)
    with pytest.raises(NotAuthenticated):
        central.auth.resume(ticket)

    central.users.unlock(admin, "ana")
    with pytest.raises(NotAuthenticated):  # unlocking does not bring old sessions back
        central.auth.resume(ticket)
    ticket = central.auth.login("ana", ANA)
    central.users.deactivate(admin, "ana")
    with pytest.raises(NotAuthenticated):
        central.auth.resume(ticket)
    with pytest.raises(LoginRefused):
        central.auth.login("ana", ANA)

    central.users.reactivate(admin, "ana")
    ana, ticket = central.auth.resume(central.auth.login("ana", ANA))
    central.auth.change_password(ana, ANA, "otra-clave-bastante-larga")
    with pytest.raises(NotAuthenticated):
        central.auth.resume(ticket)


# -- expiry -------------------------------------------------------------------------------------
def test_validity_warns_at_every_login_in_the_last_15_days_then_refuses(
    central: Brigada, admin: Actor, make_user: MakeUser, clock: FixedClock
) -> None:
    central.policies.set(admin, {"validity_days": "30"})
    make_user("ana", log_in_now=False)

    clock.advance(days=14)  # 16 days left
    assert central.auth.sign_in("ana", ANA).password_expires_in is None
    clock.advance(days=1)  # 15 days left
    assert central.auth.sign_in("ana", ANA).password_expires_in == 15
    assert central.auth.sign_in("ana", ANA).password_expires_in == 15  # every login
    clock.advance(days=14)
    assert central.auth.sign_in("ana", ANA).password_expires_in == 1
    clock.advance(days=1)
    with pytest.raises(PasswordExpired) as expired:
        central.auth.login("ana", ANA)
    assert expired.value.params == {"expired_on": "2026-03-31"}


def test_expiry_counts_from_the_last_change_and_no_expiry_gives_no_warning(
    central: Brigada, admin: Actor, make_user: MakeUser, clock: FixedClock
) -> None:
    ana = make_user("ana")
    clock.advance(days=25)
    central.dates.confirm(ana, clock.today())
    central.auth.change_password(ana, ANA, "otra-clave-bastante-larga")
    assert central.auth.sign_in("ana", "otra-clave-bastante-larga").password_expires_in is None

    central.policies.set(admin, {"validity_days": "30"})

    assert central.auth.sign_in("ana", "otra-clave-bastante-larga").password_expires_in is None
    clock.advance(days=15)
    assert central.auth.sign_in("ana", "otra-clave-bastante-larga").password_expires_in == 15


# -- forced change after a reset ----------------------------------------------------------------
def test_after_a_reset_the_user_must_choose_a_new_password_to_log_in(
    central: Brigada, admin: Actor, make_user: MakeUser, count_events: Any, central_url: str
) -> None:
    make_user("ana", log_in_now=False)
    central.users.reset_password(admin, "ana", "temporal-de-la-oficina")
    before = count_events(central_url)

    with pytest.raises(PasswordChangeRequired):
        central.auth.login("ana", "temporal-de-la-oficina")
    with pytest.raises(PasswordRejected):
        central.auth.login("ana", "temporal-de-la-oficina", new_password="corta")
    assert count_events(central_url) == before

    central.auth.login("ana", "temporal-de-la-oficina", new_password="mi-propia-clave-nueva")

    assert event_types(central, "ana")[-2:] == ["PasswordChanged", "LoggedIn"]
    assert not user(central, "ana").must_change
    assert log_in(central, "ana", "mi-propia-clave-nueva").username == "ana"


# -- changing one's own password ----------------------------------------------------------------
def test_changing_a_password_needs_the_current_one_and_a_wrong_one_counts_as_a_failure(
    central: Brigada, make_user: MakeUser
) -> None:
    ana = make_user("ana")

    with pytest.raises(WrongCurrentPassword):
        central.auth.change_password(ana, "not-my-password-really", "otra-clave-bastante-larga")

    assert event_types(central, "ana")[-1] == "LoginFailed"
    assert log_in(central, "ana", ANA).username == "ana"


def test_a_weak_new_password_is_refused_naming_every_rule_and_nothing_is_written(
    central: Brigada, admin: Actor, make_user: MakeUser, count_events: Any, central_url: str
) -> None:
    ana = make_user("ana")
    central.policies.set(admin, {"require_digits": "on"})
    before = count_events(central_url)

    with pytest.raises(PasswordRejected) as refused:
        central.auth.change_password(ana, ANA, "ana-pass")

    assert [m.template for m in refused.value.failures][:2] == [
        RULE_MIN_LENGTH,
        "needs a digit",
    ]
    assert count_events(central_url) == before


def test_no_reuse_refuses_the_last_5_passwords_and_then_forgets_the_oldest(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    central.policies.set(admin, {"no_reuse": "on"})
    make_user("ana", log_in_now=False)
    passwords = [ANA] + [f"clave-numero-{n}-del-rio" for n in range(1, 6)]

    def change(old: str, new: str) -> None:
        actor = log_in(central, "ana", old)
        central.auth.change_password(actor, old, new)

    for old, new in itertools.pairwise(passwords[:5]):
        change(old, new)  # history: the original and 4 more
    for reused in passwords[:5]:
        with pytest.raises(PasswordRejected) as refused:
            change(passwords[4], reused)
        assert [m.template for m in refused.value.failures] == [RULE_REUSED]

    change(passwords[4], passwords[5])  # the original falls out of the last 5

    change(passwords[5], ANA)
    assert len(user(central, "ana").password_history) == 5


def test_without_no_reuse_an_old_password_may_come_back(central: Brigada, make_user: MakeUser) -> None:
    ana = make_user("ana")
    central.auth.change_password(ana, ANA, "otra-clave-bastante-larga")
    ana = log_in(central, "ana", "otra-clave-bastante-larga")

    central.auth.change_password(ana, "otra-clave-bastante-larga", ANA)


# -- second factor ------------------------------------------------------------------------------
def secret_of(uri: str) -> str:
    return pyotp.parse_uri(uri).secret


def test_a_user_with_totp_needs_a_fresh_right_code(
    central: Brigada, make_user: MakeUser, clock: FixedClock
) -> None:
    ana = make_user("ana")
    totp = pyotp.TOTP(secret_of(central.users.enroll_totp(ana, "ana")))

    with pytest.raises(SecondFactorRequired):
        central.auth.login("ana", ANA)
    with pytest.raises(LoginRefused):
        central.auth.login("ana", ANA, totp="000000" if totp.at(clock.now()) != "000000" else "111111")
    assert event_types(central, "ana")[-1] == "LoginFailed"

    code = totp.at(clock.now())
    assert log_in(central, "ana", ANA, totp=code).username == "ana"
    assert event_types(central, "ana")[-2:] == ["SecondFactorUsed", "LoggedIn"]
    with pytest.raises(LoginRefused):  # the same code cannot be played again
        central.auth.login("ana", ANA, totp=code)
    clock.advance(seconds=30)
    assert log_in(central, "ana", ANA, totp=totp.at(clock.now())).username == "ana"


def test_the_policy_can_require_a_second_factor_for_administrators(central: Brigada, admin: Actor) -> None:
    with pytest.raises(SecondFactorFirst):
        central.policies.set(admin, {"admin_mfa": "on"})

    uri = central.users.enroll_totp(admin, "admin")
    central.policies.set(admin, {"admin_mfa": "on"})
    central.users.create(
        admin, {"username": "beto", "full_name": "Beto", "is_admin": True}, PASSWORDS["beto"]
    )

    with pytest.raises(AdminNeedsSecondFactor):
        central.auth.login("beto", PASSWORDS["beto"])
    with pytest.raises(PolicyNeedsSecondFactor):
        central.users.remove_totp(admin, "admin")
    code = pyotp.TOTP(secret_of(uri)).at(central.core.clock.now())
    assert log_in(central, "admin", ADMIN_PASSWORD, totp=code).is_admin

"""Offline unlock codes: central prints a short code bound to a user, a site and an expiry; the
laptop checks it with no network, once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.system import FixedClock
from application.brigada import Brigada
from application.context import Actor
from domain.security import unlock_codes
from domain.security.password_policy import PASSWORD_POLICY_ID
from domain.security.unlock_codes import UnlockCodeExpired, UnlockCodeInvalid, UnlockCodeUsed
from domain.security.user import LoginRefused, User, UserLocked, UserRuleRefused, user_id
from tests.support.security import PASSWORDS, MakeUser, event_types, events_of, log_in, stored_text, user

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
KEY = hashlib.sha256(b"a key").hexdigest()  # 32 bytes; fixed, so xdist workers agree
OTHER_KEY = hashlib.sha256(b"another key").hexdigest()
ANA = PASSWORDS["ana"]


# -- the code -----------------------------------------------------------------------------------
def test_a_code_is_16_base32_characters_in_groups_of_four_and_reads_back() -> None:
    hour = unlock_codes.expiry_hour(NOW, 48)
    code = unlock_codes.make(KEY, "ana", "BRG01", hour)

    assert len(code) == 19 and [len(g) for g in code.split("-")] == [4, 4, 4, 4]
    assert unlock_codes.valid_until(hour) == NOW + timedelta(hours=48)
    digest = unlock_codes.verify(code, key=KEY, username="ana", site="BRG01", now=NOW)
    assert digest == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    typed = " " + code.lower().replace("-", " ") + " "
    assert unlock_codes.verify(typed, key=KEY, username="ana", site="BRG01", now=NOW) == digest


@pytest.mark.parametrize(
    ("username", "site", "key"),
    [("beto", "BRG01", KEY), ("ana", "BRG02", KEY), ("ana", "BRG01", OTHER_KEY)],
    ids=["other user", "other site", "other key"],
)
def test_a_code_works_only_for_its_user_site_and_key(username: str, site: str, key: str) -> None:
    code = unlock_codes.make(KEY, "ana", "BRG01", unlock_codes.expiry_hour(NOW, 48))

    with pytest.raises(UnlockCodeInvalid):
        unlock_codes.verify(code, key=key, username=username, site=site, now=NOW)


@pytest.mark.parametrize("code", ["", "hello", "AAAA-AAAA-AAAA-AAAA", "AAAA-AAAA-AAAA-AAA!"])
def test_garbage_and_tampered_codes_are_invalid(code: str) -> None:
    with pytest.raises(UnlockCodeInvalid):
        unlock_codes.verify(code, key=KEY, username="ana", site="BRG01", now=NOW)


def test_a_code_expires() -> None:
    code = unlock_codes.make(KEY, "ana", "BRG01", unlock_codes.expiry_hour(NOW, 2))

    unlock_codes.verify(code, key=KEY, username="ana", site="BRG01", now=NOW + timedelta(hours=1))
    with pytest.raises(UnlockCodeExpired) as expired:
        unlock_codes.verify(code, key=KEY, username="ana", site="BRG01", now=NOW + timedelta(hours=2))
    assert expired.value.params == {"valid_until": "2026-03-01 14:00 UTC"}


# -- central and a laptop -----------------------------------------------------------------------
@pytest.fixture
def site(central: Brigada, admin: Actor, make_user: MakeUser, open_store: Any, tmp_path: Any) -> Brigada:
    """A laptop for site BRG01 provisioned with ana and central's policy (3 attempts)."""
    central.policies.set(admin, {"max_failed_attempts": "3"})
    make_user("ana", log_in_now=False)
    make_user("beto", log_in_now=False)
    laptop = open_store(f"sqlite:///{tmp_path}/brg01.db")
    laptop.setup.initialize("site", "BRG01", "coord", "Coordinación", PASSWORDS["coord"])
    for copied in (user_id("ana"), user_id("beto"), PASSWORD_POLICY_ID):
        laptop.app.recorder.insert_events(central.app.recorder.select_events(copied))
    laptop.views.catch_up()
    return laptop


def lock(site: Brigada, username: str = "ana") -> None:
    for _ in range(3):
        with pytest.raises((LoginRefused, UserLocked)):
            site.auth.login(username, "not-the-password-at-all")
    assert user(site, username).locked


def test_a_code_from_central_unlocks_the_user_on_the_laptop_and_the_login_goes_on(
    central: Brigada, admin: Actor, site: Brigada, tmp_path: Path
) -> None:
    lock(site)
    issued = central.users.unlock_code(admin, "ana", {"site": "BRG01", "valid_hours": "48"})

    ana = log_in(site, "ana", ANA, unlock_code=issued.code)

    assert ana.username == "ana"
    assert event_types(site, "ana")[-2:] == ["Unlocked", "LoggedIn"]
    unlocked = events_of(site, "ana")[-2]
    assert unlocked.code_digest == unlock_codes.digest(issued.code)
    site_db = tmp_path / "brg01.db"
    assert issued.code not in stored_text(site_db)
    assert issued.code.replace("-", "") not in stored_text(site_db)
    issue = events_of(central, "ana")[-1]
    assert isinstance(issue, User.UnlockCodeIssued)
    assert (issue.site, issue.valid_until) == ("BRG01", issued.valid_until)


def test_a_code_is_valid_once(
    central: Brigada, admin: Actor, site: Brigada, count_events: Any, tmp_path: Any
) -> None:
    code = central.users.unlock_code(admin, "ana", {"site": "BRG01"}).code
    lock(site)
    log_in(site, "ana", ANA, unlock_code=code)
    lock(site)
    before = count_events(f"sqlite:///{tmp_path}/brg01.db")

    with pytest.raises(UnlockCodeUsed):
        site.auth.login("ana", ANA, unlock_code=code)

    assert count_events(f"sqlite:///{tmp_path}/brg01.db") == before
    assert user(site, "ana").locked


@pytest.mark.parametrize(("username", "site_code"), [("beto", "BRG01"), ("ana", "BRG02")])
def test_a_code_for_another_user_or_site_is_refused(
    central: Brigada, admin: Actor, site: Brigada, username: str, site_code: str
) -> None:
    code = central.users.unlock_code(admin, username, {"site": site_code}).code
    lock(site)

    with pytest.raises(UnlockCodeInvalid):
        site.auth.login("ana", ANA, unlock_code=code)
    assert user(site, "ana").locked


def test_an_expired_code_is_refused(central: Brigada, admin: Actor, site: Brigada, clock: FixedClock) -> None:
    code = central.users.unlock_code(admin, "ana", {"site": "BRG01", "valid_hours": "1"}).code
    lock(site)
    clock.advance(hours=2)

    with pytest.raises(UnlockCodeExpired):
        site.auth.login("ana", ANA, unlock_code=code)
    assert user(site, "ana").locked


def test_a_right_code_with_a_wrong_password_unlocks_but_counts_a_failure(
    central: Brigada, admin: Actor, site: Brigada
) -> None:
    code = central.users.unlock_code(admin, "ana", {"site": "BRG01"}).code
    lock(site)

    with pytest.raises(LoginRefused):
        site.auth.login("ana", "not-the-password-at-all", unlock_code=code)

    assert event_types(site, "ana")[-2:] == ["Unlocked", "LoginFailed"]
    assert (user(site, "ana").locked, user(site, "ana").failed_attempts) == (False, 1)


def test_a_code_for_a_user_who_is_not_locked_is_refused_and_kept(
    central: Brigada, admin: Actor, site: Brigada
) -> None:
    code = central.users.unlock_code(admin, "ana", {"site": "BRG01"}).code

    with pytest.raises(UserRuleRefused):
        site.auth.login("ana", ANA, unlock_code=code)

    lock(site)
    assert log_in(site, "ana", ANA, unlock_code=code).username == "ana"


def test_an_expired_code_is_spent_for_good_and_a_clock_set_back_does_not_revive_it(
    central: Brigada, admin: Actor, site: Brigada, clock: FixedClock
) -> None:
    code = central.users.unlock_code(admin, "ana", {"site": "BRG01", "valid_hours": "1"}).code
    lock(site)
    clock.advance(hours=2)
    with pytest.raises(UnlockCodeExpired):
        site.auth.login("ana", ANA, unlock_code=code)
    assert event_types(site, "ana")[-1] == "UnlockCodeExpired"

    clock.advance(hours=-2)  # back inside the code's validity
    with pytest.raises(UnlockCodeUsed):
        site.auth.login("ana", ANA, unlock_code=code)
    assert user(site, "ana").locked


def test_a_forged_code_typed_late_spends_nothing(central: Brigada, admin: Actor, site: Brigada) -> None:
    lock(site)
    with pytest.raises(UnlockCodeInvalid):
        site.auth.login("ana", ANA, unlock_code="AAAA-BBBB-CCCC-DDDD")
    assert "UnlockCodeExpired" not in event_types(site, "ana")

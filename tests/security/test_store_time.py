"""Issue 17, points 4 and 5: time that cannot be turned back or pushed ahead, sessions held by the
store. The rules first (given/when/then on domain/store_time.py and domain/security/session.py), then the
use cases on a real store with an injected clock set back and ahead."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.config import session_dir
from adapters.security.sessions import SessionFiles
from adapters.system import FixedClock, Host
from application.brigada import Brigada
from application.context import Actor
from application.errors import NotAuthenticated, SessionExpired
from domain import store_time
from domain.base import context_of
from domain.context import EventContext
from domain.errors import InvalidValue
from domain.security import session
from domain.security.session import OpenSession, why_it_ends
from domain.security.user import LoginRefused, PasswordExpired
from domain.store_time import MAX_DAYS_AHEAD, ClockAhead, Confirmed, Dating, stamp
from tests.support.cli import Terminal
from tests.support.security import ADMIN_PASSWORD, PASSWORDS, MakeUser, log_in

DAY = date(2026, 3, 1)
AT = datetime(2026, 3, 1, 11, tzinfo=UTC)


# -- the rules ----------------------------------------------------------------------------------
def test_a_store_with_nothing_recorded_takes_the_clock() -> None:
    assert stamp(DAY, None, Dating.DATED) == (DAY, False)


def test_a_clock_set_back_dates_every_event_with_the_recorded_date() -> None:
    confirmed = Confirmed(AT, DAY)
    for dating in Dating:
        assert stamp(DAY - timedelta(days=30), confirmed, dating)[0] == DAY


def test_a_dated_change_moves_the_date_a_weekend_ahead_but_not_further() -> None:
    confirmed = Confirmed(AT, DAY)
    monday = DAY + timedelta(days=MAX_DAYS_AHEAD)
    assert stamp(monday, confirmed, Dating.DATED) == (monday, False)
    with pytest.raises(ClockAhead) as refused:
        stamp(monday + timedelta(days=1), confirmed, Dating.DATED)
    assert refused.value.params == {"today": "2026-03-05", "days": 4, "recorded": "2026-03-01"}


def test_events_of_no_one_never_move_the_date_and_stay_unconfirmed() -> None:
    confirmed = Confirmed(AT, DAY)
    assert stamp(DAY + timedelta(days=1), confirmed, Dating.NO_ONE) == (DAY, True)
    assert stamp(DAY + timedelta(days=60), confirmed, Dating.NO_ONE) == (DAY, True)


def test_bookkeeping_far_ahead_keeps_the_recorded_date_and_a_confirmation_takes_the_clock() -> None:
    confirmed, far = Confirmed(AT, DAY), DAY + timedelta(days=60)
    assert stamp(far, confirmed, Dating.BOOKKEEPING) == (DAY, True)
    assert stamp(DAY + timedelta(days=2), confirmed, Dating.BOOKKEEPING) == (DAY + timedelta(days=2), False)
    assert stamp(far, confirmed, Dating.CONFIRMING) == (far, False)


@given(
    st.integers(-400, 400),
    st.sampled_from(list(Dating)),
)
def test_no_event_is_dated_before_the_recorded_date_nor_far_ahead_unconfirmed(
    offset: int, dating: Dating
) -> None:
    confirmed = Confirmed(AT, DAY)
    try:
        day, unconfirmed = stamp(DAY + timedelta(days=offset), confirmed, dating)
    except ClockAhead:
        assert dating is Dating.DATED and offset > MAX_DAYS_AHEAD
        return
    assert day >= DAY
    assert dating is Dating.CONFIRMING or unconfirmed or day <= DAY + timedelta(days=MAX_DAYS_AHEAD)


def test_the_store_now_never_goes_before_the_newest_confirmed_event() -> None:
    confirmed = Confirmed(AT, DAY)
    assert store_time.effective_now(AT - timedelta(hours=5), confirmed) == AT
    assert store_time.effective_now(AT + timedelta(hours=5), confirmed) == AT + timedelta(hours=5)


def test_a_confirmation_must_type_the_clock_date_and_never_go_back() -> None:
    confirmed = Confirmed(AT, DAY)
    with pytest.raises(InvalidValue) as wrong:
        store_time.check_confirmation(DAY + timedelta(days=9), DAY + timedelta(days=10), confirmed)
    assert wrong.value.field == "DATE"
    with pytest.raises(InvalidValue):
        store_time.check_confirmation(DAY - timedelta(days=1), DAY - timedelta(days=1), confirmed)
    store_time.check_confirmation(DAY + timedelta(days=10), DAY + timedelta(days=10), confirmed)


def test_a_session_ends_idle_too_old_or_elsewhere() -> None:
    opened = OpenSession("hash", AT, "consultorio-1")

    def ends(minutes_idle: float, hours_open: float, computer: str = "CONSULTORIO-1") -> str | None:
        now = AT + timedelta(hours=hours_open)
        return why_it_ends(
            opened, last_seen=now - timedelta(minutes=minutes_idle), now=now, computer=computer
        )

    assert ends(14, 11) is None
    assert ends(16, 11) == session.IDLE
    assert ends(1, 12.1) == session.TOO_OLD
    assert ends(1, 1, computer="otra-pc") == session.OTHER_COMPUTER


# -- time set back ------------------------------------------------------------------------------
def test_a_clock_set_back_revives_no_expired_password(
    central: Brigada, admin: Actor, make_user: MakeUser, clock: FixedClock
) -> None:
    central.policies.set(admin, {"validity_days": "30"})
    make_user("ana", log_in_now=False)
    clock.advance(days=31)
    central.dates.confirm(admin, clock.today())  # a month later: someone stands behind the date
    with pytest.raises(PasswordExpired):
        central.auth.login("ana", PASSWORDS["ana"])

    clock.advance(days=-31)
    with pytest.raises(PasswordExpired):
        central.auth.login("ana", PASSWORDS["ana"])


def test_a_session_reported_expired_stays_closed_when_the_clock_goes_back(
    central: Brigada, make_user: MakeUser, clock: FixedClock
) -> None:
    make_user("ana", log_in_now=False)
    ticket = central.auth.login("ana", PASSWORDS["ana"])
    for _ in range(60):  # a whole day of work, a command every 14 minutes
        clock.advance(minutes=14)
        try:
            _actor, ticket = central.auth.resume(ticket)
        except SessionExpired as expired:
            assert expired.params["reason"] == "12 hours"
            break
    else:
        pytest.fail("a session outlived 12 hours")

    clock.advance(hours=-12)
    with pytest.raises(NotAuthenticated):
        central.auth.resume(ticket)


def test_a_session_idle_is_closed_for_good(central: Brigada, make_user: MakeUser, clock: FixedClock) -> None:
    make_user("ana", log_in_now=False)
    ticket = central.auth.login("ana", PASSWORDS["ana"])
    clock.advance(minutes=16)
    with pytest.raises(SessionExpired) as idle:
        central.auth.resume(ticket)
    assert idle.value.params["reason"] == "15 minutes idle"
    clock.advance(minutes=-16)
    with pytest.raises(NotAuthenticated):
        central.auth.resume(ticket)
    assert logout_reasons(central, admin_of(central)) == ["idle"]


def test_a_session_is_good_only_on_the_computer_it_was_opened_on(
    central: Brigada, make_user: MakeUser
) -> None:
    make_user("ana", log_in_now=False)
    ticket = central.auth.login("ana", PASSWORDS["ana"])
    central.core.host = Host(computer="otra-pc", ip_octet=9)
    with pytest.raises(SessionExpired) as elsewhere:
        central.auth.resume(ticket)
    assert elsewhere.value.params["reason"] == "opened on another computer"


# -- time pushed ahead --------------------------------------------------------------------------
def test_a_failed_login_with_the_clock_far_ahead_moves_nothing(
    central: Brigada, admin: Actor, make_user: MakeUser, clock: FixedClock
) -> None:
    make_user("ana", log_in_now=False)
    today = clock.today()
    clock.advance(days=60)
    with pytest.raises(LoginRefused):
        central.auth.login("ana", "not-her-password")
    with pytest.raises(LoginRefused):
        central.auth.login("nobody", "guess")
    clock.advance(days=-60)

    assert central.core.effective_today() == today
    central.policies.set(admin, {"validity_days": "90"})  # a dated change, dated today
    assert newest_context(central).business_date == today


def test_a_clock_far_ahead_needs_a_person_to_confirm_the_date_before_any_change(
    central: Brigada, admin: Actor, clock: FixedClock
) -> None:
    clock.advance(days=MAX_DAYS_AHEAD + 1)
    assert central.dates.show().needs_confirmation
    with pytest.raises(ClockAhead):
        central.policies.set(admin, {"validity_days": "90"})
    assert central.policies.current().validity_days != 90
    assert actions(central)[0] == ("access.denied", f"REGLA=clock-ahead FECHA={clock.today()}", "admin")

    with pytest.raises(InvalidValue):
        central.dates.confirm(admin, clock.today() - timedelta(days=1))
    shown = central.dates.confirm(admin, clock.today())
    assert (shown.recorded, shown.needs_confirmation) == (clock.today(), False)
    assert actions(central)[0] == ("date.confirm", f"FECHA={clock.today()} ANTERIOR={START_DAY}", "admin")

    central.policies.set(admin, {"validity_days": "90"})
    assert newest_context(central).business_date == clock.today()


# -- the session file ---------------------------------------------------------------------------
@pytest.mark.store
def test_editing_the_session_file_closes_the_session_for_good(
    clocked_cli: Terminal, clock: FixedClock
) -> None:
    run = clocked_cli
    path = only_session_file()
    original = path.read_text()
    data = json.loads(original)
    data["last_seen"] = (clock.now() + timedelta(hours=11)).isoformat()
    path.write_text(json.dumps(data))
    clock.advance(hours=11)

    refused = run("whoami", code=1)
    assert "the session file was altered" in refused.stderr
    path.write_text(original)  # the untouched file does not bring it back either
    assert "no open session" in run("whoami", code=1).stderr


@pytest.mark.store
def test_the_idle_time_is_the_store_s_to_say(clocked_cli: Terminal, clock: FixedClock) -> None:
    run = clocked_cli
    clock.advance(minutes=10)
    run("whoami")
    clock.advance(minutes=10)  # 20 since login, 10 since the last command
    run("whoami")
    clock.advance(minutes=16)
    assert "15 minutes idle" in run("whoami", code=1).stderr


@pytest.mark.store
def test_date_confirm_on_the_command_line(clocked_cli: Terminal, clock: FixedClock) -> None:
    run = clocked_cli
    clock.advance(days=20)
    run("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    refused = run("policy", "password", "set", "--validity-days", "90", code=1)
    assert "brigada date confirm" in refused.stderr
    assert "is not the computer's date" in run("date", "confirm", "2020-01-01", code=2).stderr
    run("date", "confirm", clock.today().isoformat())
    assert "no" in run("date", "show").stdout
    run("policy", "password", "set", "--validity-days", "90")


# -- helpers ------------------------------------------------------------------------------------
START_DAY = date(2026, 3, 1)


def only_session_file() -> Path:
    files = list(SessionFiles(session_dir()).folder.glob("session-*.json"))
    assert len(files) == 1
    return files[0]


def admin_of(central: Brigada) -> Actor:
    return log_in(central, "admin", ADMIN_PASSWORD)


def actions(central: Brigada) -> list[tuple[str, str, str]]:
    # admin_of logs in: its login, and the sessions over 12 hours old that a login closes, are
    # the helper's own entries.
    rows = central.audit.search(admin_of(central), {}, page=1, page_size=20).rows
    return [(row.action, row.comment, row.user) for row in rows if row.action not in ("login", "logout")]


def logout_reasons(central: Brigada, admin: Actor) -> list[str]:
    rows = central.audit.search(admin, {"action": "logout"}, page=1, page_size=20).rows
    return [json.loads(row.fields)["MOTIVO"] for row in rows if "MOTIVO" in row.fields]


def newest_context(central: Brigada) -> EventContext:
    recorder = central.app.recorder
    newest = recorder.select_notifications(start=recorder.max_notification_id(), limit=1)[0]
    return context_of(central.app.mapper.to_domain_event(newest))

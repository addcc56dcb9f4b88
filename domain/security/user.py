"""A person who logs in. Users are central's records: created on central, copied to sites.

Besides what login needs, a user holds the security state of seed 004: lockout after failed
attempts, password age and history, a forced change after a reset, menu options and visit
sections, an offline unlock key and an optional second factor (TOTP).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Snapshot as AggregateSnapshot
from eventsourcing.domain import event
from eventsourcing.utils import register_topic

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError
from domain.security import menu, unlock_codes
from domain.security.password_policy import HISTORY_SIZE
from domain.security.sections import Section
from domain.security.session import ABSOLUTE_TIMEOUT, TOO_OLD, OpenSession


class LoginRefused(DomainError):
    template = N_("Incorrect login")


class AdminNotOnSite(DomainError):
    template = N_("the administrator profile is disabled in disconnected environments")


class UserLocked(DomainError):
    template = N_(
        "user {username} is locked after too many failed attempts: an administrator must unlock "
        "it ('brigada user unlock', or an unlock code on a laptop)"
    )


class AdminLockedForNow(UserLocked):
    """An administrator's lock, which lifts by itself (ADMIN_LOCKOUT). The CLI words it with
    ngettext on ``minutes``; this template is for any other reader."""

    template = N_("user {username} is locked for {minutes} more minutes after too many failed attempts")


class PasswordExpired(DomainError):
    template = N_(
        "the password expired on {expired_on}: an administrator must reset it ('brigada user reset-password')"
    )


class PasswordChangeRequired(DomainError):
    template = N_("an administrator reset this password: choose a new one to log in")


class SecondFactorRequired(DomainError):
    template = N_("this user needs a code from the authenticator app: log in with --totp CODE")


class AdminNeedsSecondFactor(DomainError):
    template = N_(
        "the policy requires a second factor for administrators: another administrator must "
        "enrol one for you ('brigada user totp USER --enroll')"
    )


class UserRuleRefused(DomainError):
    """A state change that makes no sense in the user's current state."""


ALREADY_INACTIVE = N_("user {username} is already deactivated")
ALREADY_ACTIVE = N_("user {username} is already active")
NOT_LOCKED = N_("user {username} is not locked")
NO_UNLOCK_KEY = N_("user {username} has no unlock key (administrators never log in on a site)")
# An administrator locked by failed attempts is let in again this long after the recorded lock
# (the Locked event's timestamp), or earlier when another administrator unlocks them. A lock that
# only an administrator can lift would shut central's only administrator out for good (issue 17);
# NIST SP 800-63B (5.2.2) allows rate limiting instead of a permanent lockout. Anyone else stays
# locked until an administrator unlocks them (seed 004).
ADMIN_LOCKOUT = timedelta(minutes=15)

TOTP_ENROLLED = N_("user {username} already has a second factor: remove it first")
NO_TOTP = N_("user {username} has no second factor")


class User(BrigadaAggregate):
    TOPIC = "brigada.User"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.User.Event"

    class Created(BrigadaAggregate.Created):
        TOPIC = "brigada.User.Created"
        username: str
        full_name: str
        is_admin: bool
        password_hash: str

    class LoggedIn(Event):
        TOPIC = "brigada.User.LoggedIn"
        session_id: UUID
        token_hash: str
        opened_at: datetime

        def apply(self, user: Any) -> None:
            # Bound to the computer it was opened on (the event's context names it).
            computer = self.context.computer
            user.sessions[self.session_id] = OpenSession(self.token_hash, self.opened_at, computer)
            user.failed_attempts = 0

    class LoginFailed(Event):
        TOPIC = "brigada.User.LoginFailed"

    class LoggedOut(Event):
        TOPIC = "brigada.User.LoggedOut"
        session_id: UUID

    class SessionClosed(Event):
        """Closed for good by a rule (domain/security/session.py), not by the user."""

        TOPIC = "brigada.User.SessionClosed"
        session_id: UUID
        reason: str

    class Updated(Event):
        TOPIC = "brigada.User.Updated"
        full_name: str

    class Deactivated(Event):
        TOPIC = "brigada.User.Deactivated"

    class Reactivated(Event):
        TOPIC = "brigada.User.Reactivated"

    class PasswordChanged(Event):
        TOPIC = "brigada.User.PasswordChanged"
        password_hash: str
        set_on: date
        must_change: bool

    class Locked(Event):
        TOPIC = "brigada.User.Locked"

        def apply(self, user: Any) -> None:
            user.locked = True
            user.locked_at = self.timestamp  # as recorded: an administrator's lock lifts from it
            user.sessions = {}

    class Unlocked(Event):
        TOPIC = "brigada.User.Unlocked"
        code_digest: str | None

    class MenuChanged(Event):
        TOPIC = "brigada.User.MenuChanged"
        options: list[str]

    class SectionsChanged(Event):
        TOPIC = "brigada.User.SectionsChanged"
        sections: list[str]

    class UnlockKeySet(Event):
        TOPIC = "brigada.User.UnlockKeySet"
        key: str

    class UnlockCodeExpired(Event):
        """An authentic code typed after its expiry: spent for good, so a clock set back later
        does not make it valid again."""

        TOPIC = "brigada.User.UnlockCodeExpired"
        code_digest: str

    class UnlockCodeIssued(Event):
        TOPIC = "brigada.User.UnlockCodeIssued"
        site: str
        valid_until: datetime

    class TotpEnrolled(Event):
        TOPIC = "brigada.User.TotpEnrolled"
        secret: str

    class TotpRemoved(Event):
        TOPIC = "brigada.User.TotpRemoved"

    class SecondFactorUsed(Event):
        TOPIC = "brigada.User.SecondFactorUsed"
        time_step: int

    class Snapshot(AggregateSnapshot):
        """A user's state in JSON's types (its sets, and its sessions keyed by UUID) and back."""

        TOPIC = "brigada.User.Snapshot"

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            state = snapshot.state  # a copy of the user's attributes: replaced here, not changed
            state["sessions"] = [[key.hex, *session] for key, session in aggregate.sessions.items()]
            state["menu"] = sorted(aggregate.menu)
            state["sections"] = sorted(section.value for section in aggregate.sections)
            state["used_unlock_codes"] = sorted(aggregate.used_unlock_codes)
            return snapshot

        def mutate(self, _: None) -> Any:
            user: Any = super().mutate(_)
            user.sessions = {UUID(key): OpenSession(*session) for key, *session in user.sessions}
            user.menu = frozenset(user.menu)
            user.sections = frozenset(Section(section) for section in user.sections)
            user.used_unlock_codes = set(user.used_unlock_codes)
            return user

    @staticmethod
    def create_id(username: str) -> UUID:
        return user_id(username)

    @event(Created)
    def __init__(self, username: str, full_name: str, is_admin: bool, password_hash: str) -> None:
        self.username = username
        self.full_name = full_name
        self.is_admin = is_admin
        self.password_hash = password_hash
        self.active = True
        self.sessions: dict[UUID, OpenSession] = {}
        self.locked = False
        self.locked_at: datetime | None = None
        self.failed_attempts = 0
        self.password_set_on: date = self.created_on.date()
        self.must_change = False
        self.password_history: list[str] = [password_hash]
        self.menu: frozenset[str] = frozenset()
        self.sections: frozenset[Section] = frozenset()
        self.unlock_key: str | None = None
        self.used_unlock_codes: set[str] = set()
        self.totp_secret: str | None = None
        self.last_totp_step = -1

    # -- logging in -----------------------------------------------------------------------------
    def log_in(
        self,
        *,
        password_matches: bool,
        on_central: bool,
        session_id: UUID,
        token_hash: str,
        now: datetime,
        max_failed_attempts: int = 0,
        validity_days: int = 0,
        today: date | None = None,
        totp_given: bool = False,
        totp_step: int | None = None,
        admin_needs_totp: bool = False,
        new_password_hash: str | None = None,
    ) -> bool:
        """Record the attempt. A refused attempt is recorded too (and may lock the user); the
        caller saves, then refuses. Refusals after a right password record nothing.

        ``totp_step`` is the time step the given code matched (None: no match);
        ``new_password_hash`` is the new password's hash when this login must change it.
        """
        self._lift_lapsed_lock(now)
        if self.locked or not password_matches or not self.active:
            self._refuse_attempt(max_failed_attempts)
            return False
        if self.is_admin and not on_central:
            raise AdminNotOnSite()
        today = today or now.date()
        if self.password_expired(today, validity_days):
            expired_on = self.password_set_on + timedelta(days=validity_days)
            raise PasswordExpired(expired_on=expired_on.isoformat())
        if self.totp_secret is not None:
            if not totp_given:
                raise SecondFactorRequired()
            if totp_step is None or totp_step <= self.last_totp_step:  # wrong, or replayed
                self._refuse_attempt(max_failed_attempts)
                return False
        elif admin_needs_totp and self.is_admin:
            raise AdminNeedsSecondFactor()
        if self.must_change:
            if new_password_hash is None:
                raise PasswordChangeRequired()
            self._change_password(password_hash=new_password_hash, set_on=today, must_change=False)
        if self.totp_secret is not None and totp_step is not None:
            self._use_second_factor(time_step=totp_step)
        self._close_sessions_too_old(now)
        self.trigger_event(self.LoggedIn, session_id=session_id, token_hash=token_hash, opened_at=now)
        return True

    def _refuse_attempt(self, max_failed_attempts: int) -> None:
        self._fail_login()
        # A deactivated user is refused as "Incorrect login" whatever the count: no lock to see.
        if 0 < max_failed_attempts <= self.failed_attempts and self.active and not self.locked:
            self.trigger_event(self.Locked)

    @event(LoginFailed)
    def _fail_login(self) -> None:
        self.failed_attempts += 1

    @event(SecondFactorUsed)
    def _use_second_factor(self, time_step: int) -> None:
        self.last_totp_step = time_step

    def open_session(self, session_id: UUID) -> OpenSession | None:
        """A session that is still open."""
        if not self.active or self.locked:
            return None
        return self.sessions.get(session_id)

    def log_out(self, session_id: UUID) -> None:
        if session_id in self.sessions:
            self._log_out(session_id=session_id)

    @event(LoggedOut)
    def _log_out(self, session_id: UUID) -> None:
        self.sessions.pop(session_id, None)

    def close_session(self, session_id: UUID, reason: str) -> None:
        """Close a session for good (it expired, or was used from another computer)."""
        if session_id in self.sessions:
            self._close_session(session_id=session_id, reason=reason)

    def _close_sessions_too_old(self, now: datetime) -> None:
        """Sessions opened more than ABSOLUTE_TIMEOUT ago can never be resumed (a resume closes
        them): a login closes them, so the open sessions (and the user's state) stay as many as
        the logins of the last hours, however many logins the history holds."""
        for session_id, session in list(self.sessions.items()):
            if now - session.opened_at > ABSOLUTE_TIMEOUT:
                self._close_session(session_id=session_id, reason=TOO_OLD)

    @event(SessionClosed)
    def _close_session(self, session_id: UUID, reason: str) -> None:
        self.sessions.pop(session_id, None)

    # -- passwords ------------------------------------------------------------------------------
    def password_days_left(self, today: date, validity_days: int) -> int | None:
        """Days until the password expires (0 or less: expired); None when it never does."""
        if validity_days <= 0:
            return None
        return (self.password_set_on + timedelta(days=validity_days) - today).days

    def password_expired(self, today: date, validity_days: int) -> bool:
        """Past its validity period. An administrator's password never expires (the login warns
        instead): an expired last administrator would have nobody left to reset it."""
        left = self.password_days_left(today, validity_days)
        return not self.is_admin and left is not None and left <= 0

    def change_own_password(
        self,
        *,
        current_matches: bool,
        password_hash: str,
        today: date,
        max_failed_attempts: int = 0,
    ) -> bool:
        """A user's own change; a wrong current password counts as a failed attempt."""
        if self.locked or not self.active or not current_matches:
            self._refuse_attempt(max_failed_attempts)
            return False
        self._change_password(password_hash=password_hash, set_on=today, must_change=False)
        return True

    def reset_password(self, *, password_hash: str, today: date) -> None:
        """An administrator's reset: the user must choose a new password at the next login."""
        self._change_password(password_hash=password_hash, set_on=today, must_change=True)

    @event(PasswordChanged)
    def _change_password(self, password_hash: str, set_on: date, must_change: bool) -> None:
        self.password_hash = password_hash
        self.password_set_on = set_on
        self.must_change = must_change
        self.password_history = [*self.password_history, password_hash][-HISTORY_SIZE:]
        self.sessions = {}

    # -- the record -----------------------------------------------------------------------------
    def update(self, *, full_name: str) -> bool:
        if full_name == self.full_name:
            return False
        self._update(full_name=full_name)
        return True

    @event(Updated)
    def _update(self, full_name: str) -> None:
        self.full_name = full_name

    def deactivate(self) -> None:
        if not self.active:
            raise UserRuleRefused(ALREADY_INACTIVE, username=self.username)
        self._deactivate()

    @event(Deactivated)
    def _deactivate(self) -> None:
        self.active = False
        self.sessions = {}

    def reactivate(self) -> None:
        if self.active:
            raise UserRuleRefused(ALREADY_ACTIVE, username=self.username)
        self._reactivate()

    @event(Reactivated)
    def _reactivate(self) -> None:
        self.active = True

    # -- lockout --------------------------------------------------------------------------------
    def lock_lifts_at(self) -> datetime | None:
        """When a locked administrator's lock lifts by itself; None when not locked, or locked
        until an administrator unlocks them."""
        if not (self.locked and self.is_admin) or self.locked_at is None:
            return None
        return self.locked_at + ADMIN_LOCKOUT

    def is_locked(self, now: datetime) -> bool:
        """Locked at ``now``. A clock set back before the lock keeps it longer, never shorter."""
        lifts_at = self.lock_lifts_at()
        return self.locked and (lifts_at is None or now < lifts_at)

    def lock_refusal(self, now: datetime) -> UserLocked:
        """Why a locked user is refused: until unlocked, or (an administrator) for some minutes."""
        lifts_at = self.lock_lifts_at()
        if lifts_at is None:
            return UserLocked(username=self.username)
        minutes = math.ceil((lifts_at - now) / timedelta(minutes=1))
        return AdminLockedForNow(username=self.username, minutes=minutes)

    def _lift_lapsed_lock(self, now: datetime) -> None:
        # Recorded as an unlock (no code), so the attempt that finds it lapsed counts from zero.
        if self.locked and not self.is_locked(now):
            self._unlock(code_digest=None)

    def unlock(self, *, code_digest: str | None = None) -> None:
        if code_digest is not None and code_digest in self.used_unlock_codes:
            raise unlock_codes.UnlockCodeUsed()
        if not self.locked:
            raise UserRuleRefused(NOT_LOCKED, username=self.username)
        self._unlock(code_digest=code_digest)

    def unlock_with_code(self, code: str, *, site: str, now: datetime) -> None:
        """Unlock with a code from central, checked offline against this user's key."""
        if self.unlock_key is None:
            raise unlock_codes.UnlockCodeInvalid(username=self.username, site=site)
        key, name = self.unlock_key, self.username
        try:
            digest = unlock_codes.verify(code, key=key, username=name, site=site, now=now)
        except unlock_codes.UnlockCodeExpired:
            spent = unlock_codes.digest(code)
            if spent not in self.used_unlock_codes:  # the caller saves this, then refuses
                self._expire_unlock_code(code_digest=spent)
            raise
        self.unlock(code_digest=digest)

    @event(UnlockCodeExpired)
    def _expire_unlock_code(self, code_digest: str) -> None:
        self.used_unlock_codes.add(code_digest)

    @event(Unlocked)
    def _unlock(self, code_digest: str | None) -> None:
        self.locked = False
        self.locked_at = None
        self.failed_attempts = 0
        if code_digest is not None:
            self.used_unlock_codes.add(code_digest)

    def set_unlock_key(self, key: str) -> None:
        self._set_unlock_key(key=key)

    @event(UnlockKeySet)
    def _set_unlock_key(self, key: str) -> None:
        self.unlock_key = key

    def issue_unlock_code(self, *, site: str, hour: int) -> str:
        """A code for this user on ``site`` until ``hour``; the issue is recorded, not the code."""
        if self.unlock_key is None:
            raise UserRuleRefused(NO_UNLOCK_KEY, username=self.username)
        code = unlock_codes.make(self.unlock_key, self.username, site, hour)
        self._issue_unlock_code(site=site, valid_until=unlock_codes.valid_until(hour))
        return code

    @event(UnlockCodeIssued)
    def _issue_unlock_code(self, site: str, valid_until: datetime) -> None:
        pass

    # -- permissions ----------------------------------------------------------------------------
    def may_open(self, option_id: str) -> bool:
        """Administrators open every menu option; anyone else needs it granted."""
        return self.is_admin or menu.can_open(self.menu, option_id)

    def change_menu(self, options: frozenset[str]) -> bool:
        """Set the granted menu options; False when they are the ones already granted."""
        if not menu.is_consistent(options):
            raise ValueError(f"inconsistent menu grants: {sorted(options)}")
        if options == self.menu:
            return False
        self._change_menu(options=sorted(options))
        return True

    @event(MenuChanged)
    def _change_menu(self, options: list[str]) -> None:
        self.menu = frozenset(options)

    def change_sections(self, sections: frozenset[Section]) -> bool:
        if sections == self.sections:
            return False
        self._change_sections(sections=sorted(s.value for s in sections))
        return True

    @event(SectionsChanged)
    def _change_sections(self, sections: list[str]) -> None:
        self.sections = frozenset(Section(s) for s in sections)

    # -- second factor --------------------------------------------------------------------------
    def enroll_totp(self, secret: str) -> None:
        if self.totp_secret is not None:
            raise UserRuleRefused(TOTP_ENROLLED, username=self.username)
        self._enroll_totp(secret=secret)

    @event(TotpEnrolled)
    def _enroll_totp(self, secret: str) -> None:
        self.totp_secret = secret

    def remove_totp(self) -> None:
        if self.totp_secret is None:
            raise UserRuleRefused(NO_TOTP, username=self.username)
        self._remove_totp()

    @event(TotpRemoved)
    def _remove_totp(self) -> None:
        self.totp_secret = None


# The library registers the explicit topics of an aggregate's events, not of its snapshot class:
# without this, only a process that wrote a user's snapshot could read it back.
register_topic(User.Snapshot.TOPIC, User.Snapshot)


def user_id(username: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:user:{username.casefold()}")

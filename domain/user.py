"""A person who logs in. Users are central's records: created on central, copied to sites.

The foundation holds what login needs; the security chapter (seed 004) adds policy, lockout,
menu and section permissions.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError


class LoginRefused(DomainError):
    template = N_("Incorrect login")


class AdminNotOnSite(DomainError):
    template = N_("the administrator profile cannot log in on a disconnected site")


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

    class LoginFailed(Event):
        TOPIC = "brigada.User.LoginFailed"

    class LoggedOut(Event):
        TOPIC = "brigada.User.LoggedOut"
        session_id: UUID

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
        self.sessions: dict[UUID, tuple[str, datetime]] = {}

    def log_in(
        self,
        *,
        password_matches: bool,
        on_central: bool,
        session_id: UUID,
        token_hash: str,
        now: datetime,
    ) -> bool:
        """Record the attempt. A refused attempt is recorded too; the caller saves, then refuses."""
        if not password_matches or not self.active:
            self._fail_login()
            return False
        if self.is_admin and not on_central:
            raise AdminNotOnSite()
        self._log_in(session_id=session_id, token_hash=token_hash, opened_at=now)
        return True

    @event(LoginFailed)
    def _fail_login(self) -> None:
        pass

    @event(LoggedIn)
    def _log_in(self, session_id: UUID, token_hash: str, opened_at: datetime) -> None:
        self.sessions[session_id] = (token_hash, opened_at)

    def open_session(self, session_id: UUID) -> tuple[str, datetime] | None:
        """The token hash and opening time of a session that is still open."""
        return self.sessions.get(session_id) if self.active else None

    def log_out(self, session_id: UUID) -> None:
        if session_id in self.sessions:
            self._log_out(session_id=session_id)

    @event(LoggedOut)
    def _log_out(self, session_id: UUID) -> None:
        self.sessions.pop(session_id, None)


def user_id(username: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:user:{username.casefold()}")

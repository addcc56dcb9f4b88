"""Login, logout and the session check that every other command passes through."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import replace
from datetime import timedelta

from application.context import Actor
from application.core import Core
from application.errors import NotAuthenticated, SessionExpired
from application.ports import SessionTicket
from domain.errors import N_
from domain.user import LoginRefused, User, user_id

IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=12)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Auth:
    def __init__(self, core: Core) -> None:
        self.core = core

    def login(self, username: str, password: str) -> SessionTicket:
        """Open a session. A wrong password is recorded ("Login incorrecto") and refused."""
        identity = self.core.require_identity()
        user = self.core.get(User, user_id(username))
        matches = user is not None and self.core.hasher.verify(user.password_hash, password)
        if user is None:
            # An unknown name is refused exactly like a wrong password, and leaves no trace of
            # the name typed (it may be a password typed in the wrong box).
            raise LoginRefused()
        session_id, token = uuid.uuid4(), secrets.token_urlsafe(32)
        with self.core.acting_as(user.username):
            ok = user.log_in(
                password_matches=matches,
                on_central=identity.is_central,
                session_id=session_id,
                token_hash=token_hash(token),
                now=self.core.clock.now(),
            )
            self.core.save(user)
        if not ok:
            raise LoginRefused()
        now = self.core.clock.now()
        return SessionTicket(user.username, session_id, token, started_at=now, last_seen=now)

    def resume(self, ticket: SessionTicket | None) -> tuple[Actor, SessionTicket]:
        """Check a session: open in the store, token matching, not idle, not too old."""
        if ticket is None:
            raise NotAuthenticated()
        user = self.core.get(User, user_id(ticket.username))
        session = user.open_session(ticket.session_id) if user else None
        if session is None or not secrets.compare_digest(session[0], token_hash(ticket.token)):
            raise NotAuthenticated()
        now = self.core.clock.now()
        # The opening time comes from the store, so editing the session file extends nothing.
        if now - session[1] > ABSOLUTE_TIMEOUT:
            raise SessionExpired(reason=N_("12 hours"))
        if now - ticket.last_seen > IDLE_TIMEOUT:
            raise SessionExpired(reason=N_("15 minutes idle"))
        actor = Actor(user.username, user.id, user.is_admin, ticket.session_id)
        return actor, replace(ticket, last_seen=now)

    def logout(self, actor: Actor) -> None:
        user = self.core.get(User, actor.user_id)
        if user is None or actor.session_id is None:
            return
        with self.core.acting_as(actor.username):
            user.log_out(actor.session_id)
            self.core.save(user)

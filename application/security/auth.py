"""Login, logout, changing one's own password, and the session check that every other command
passes through."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, replace

from application.context import Actor
from application.core import Core
from application.errors import NotAuthenticated, SessionExpired, WrongCurrentPassword
from application.ports import SessionTicket
from application.security import second_factor
from application.security.access import Access
from application.security.policy import Policies
from domain.access_log import LOGIN_UNKNOWN_USER, tried_name
from domain.security import menu
from domain.security.password_policy import EXPIRY_WARNING_DAYS
from domain.security.session import ALTERED, CLOSED_BECAUSE, SESSION_KEY, why_it_ends
from domain.security.unlock_codes import UnlockCodeExpired
from domain.security.user import AdminNotOnSite, LoginRefused, User, user_id
from domain.store_time import Dating

UNKNOWN_USER = "?"  # the acting user recorded for a login under a name that does not exist


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    ticket: SessionTicket
    # Days until the password expires, when that is EXPIRY_WARNING_DAYS or fewer (seed 004); 0 or
    # less only for an administrator, whose password never expires.
    password_expires_in: int | None = None
    # Whether the user may run 'brigada passwd', so the warning never points to a refused command.
    can_change_password: bool = False


class Auth:
    def __init__(self, core: Core, access: Access | None = None, policies: Policies | None = None) -> None:
        self.core = core
        self.access = access or Access(core)
        self.policies = policies or Policies(core, self.access)
        self._decoy: str | None = None

    def login(
        self,
        username: str,
        password: str,
        *,
        totp: str | None = None,
        unlock_code: str | None = None,
        new_password: str | None = None,
    ) -> SessionTicket:
        """Open a session. A wrong password is recorded ("Login incorrecto") and refused."""
        return self.sign_in(
            username, password, totp=totp, unlock_code=unlock_code, new_password=new_password
        ).ticket

    def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = self.core.hasher.hash(secrets.token_urlsafe(24))
        return self._decoy

    def sign_in(
        self,
        username: str,
        password: str,
        *,
        totp: str | None = None,
        unlock_code: str | None = None,
        new_password: str | None = None,
    ) -> SignedIn:
        """Like ``login``, with the password-expiry warning. ``unlock_code`` (from central)
        unlocks a locked user first; ``new_password`` answers PasswordChangeRequired."""
        identity = self.core.require_identity()
        user = self.core.get(User, user_id(username))
        if user is None:
            # An unknown name is refused exactly like a wrong password, after the same argon2
            # work (so timing does not tell which names exist), and is recorded as "Login
            # incorrecto" with the name tried, cut short (it may be a password typed in the
            # wrong box): an administrator sees guessing.
            # Central's administrator on a laptop, with their password, is told why instead:
            # the laptop holds only the first byte of that password's hash.
            partial = identity.administrator_verifiers.get(username.strip().lower())
            if partial is not None:
                is_admin = self.core.hasher.matches_partial(partial, password)
            else:
                is_admin = False
                self.core.hasher.verify(self._decoy_hash(), password)
            self.core.record_access(
                UNKNOWN_USER, LOGIN_UNKNOWN_USER, {"USUARIO": tried_name(username)}, dating=Dating.NO_ONE
            )
            if is_admin:
                raise AdminNotOnSite()
            raise LoginRefused()
        settings = self.policies.current()
        # The store's time: a clock set back revives no expired password or unlock code.
        now, today = self.core.effective_now(), self.core.effective_today()
        session_id, token = uuid.uuid4(), secrets.token_urlsafe(32)
        with self.core.acting_as(user.username, dating=Dating.NO_ONE):
            if unlock_code is not None:
                try:
                    user.unlock_with_code(unlock_code, site=identity.site_code, now=now)
                except UnlockCodeExpired:
                    self.core.save(user)  # the code is spent: no clock set back revives it
                    raise
            # A locked user's password is not even checked: no guessing goes on behind a lock.
            matches = not user.is_locked(now) and self.core.hasher.verify(user.password_hash, password)
            new_hash = None
            if matches and user.must_change and new_password is not None:
                self.policies.check_new_password(
                    new_password, username=user.username, history=user.password_history
                )
                new_hash = self.core.hasher.hash(new_password)
            step = None
            if matches and totp is not None and user.totp_secret is not None:
                step = second_factor.matching_step(user.totp_secret, totp, now)
            ok = user.log_in(
                password_matches=matches,
                on_central=identity.is_central,
                session_id=session_id,
                token_hash=token_hash(token),
                now=now,
                max_failed_attempts=settings.max_failed_attempts,
                validity_days=settings.validity_days,
                today=today,
                totp_given=totp is not None,
                totp_step=step,
                admin_needs_totp=settings.admin_mfa,
                new_password_hash=new_hash,
            )
            self.core.save(user)
        if not ok:
            if user.is_locked(now):
                raise user.lock_refusal(now)
            raise LoginRefused()
        ticket = self._sealed(SessionTicket(user.username, session_id, token, started_at=now, last_seen=now))
        left = user.password_days_left(today, settings.validity_days)
        warn = left is not None and left <= EXPIRY_WARNING_DAYS
        return SignedIn(ticket, left if warn else None, user.may_open(menu.CHANGE_MY_PASSWORD))

    def resume(self, ticket: SessionTicket | None) -> tuple[Actor, SessionTicket]:
        """Check a session: open in the store, token matching, file unaltered, on the computer
        it was opened on, not idle, not too old. A session that fails the last four is closed
        for good (recorded): setting the clock back or restoring the file revives nothing."""
        if ticket is None:
            raise NotAuthenticated()
        user = self.core.get(User, user_id(ticket.username))
        session = user.open_session(ticket.session_id) if user else None
        if (
            user is None
            or session is None
            or not secrets.compare_digest(session.token_hash, token_hash(ticket.token))
        ):
            raise NotAuthenticated()
        now = self.core.effective_now()
        if not hmac.compare_digest(ticket.seal, self._sealed(ticket).seal):
            reason: str | None = ALTERED
        else:
            here = self.core.host.computer
            reason = why_it_ends(session, last_seen=ticket.last_seen, now=now, computer=here)
        if reason is not None:
            with self.core.acting_as(user.username, dating=Dating.BOOKKEEPING):
                user.close_session(ticket.session_id, reason)
                self.core.save(user)
            raise SessionExpired(reason=CLOSED_BECAUSE[reason])
        actor = Actor(user.username, user.id, user.is_admin, ticket.session_id)
        return actor, self._sealed(replace(ticket, last_seen=now))

    def _sealed(self, ticket: SessionTicket) -> SessionTicket:
        """The ticket with its seal: an HMAC of its fields under the store's session key."""
        key = self.core.app.keys.key(SESSION_KEY)
        fields = (ticket.username, ticket.session_id.hex, ticket.token, ticket.started_at, ticket.last_seen)
        message = "|".join(str(field) for field in fields).encode()
        return replace(ticket, seal=hmac.new(key, message, hashlib.sha256).hexdigest())

    def logout(self, actor: Actor) -> None:
        user = self.core.get(User, actor.user_id)
        if user is None or actor.session_id is None:
            return
        with self.core.acting_as(actor.username, dating=Dating.BOOKKEEPING):
            user.log_out(actor.session_id)
            self.core.save(user)

    def change_password(self, actor: Actor, current: str, new: str) -> None:
        """Change one's own password (current one required). Every session of the user ends,
        this one included; a wrong current password counts as a failed login."""
        self.access.require(actor, menu.CHANGE_MY_PASSWORD)
        user = self.core.get(User, actor.user_id)
        if user is None:
            raise NotAuthenticated()
        settings = self.policies.current()
        matches = not user.locked and self.core.hasher.verify(user.password_hash, current)
        new_hash = ""
        if matches:
            self.policies.check_new_password(new, username=user.username, history=user.password_history)
            new_hash = self.core.hasher.hash(new)
        now = self.core.effective_now()
        with self.core.acting_as(actor.username):
            ok = user.change_own_password(
                current_matches=matches,
                password_hash=new_hash,
                today=self.core.effective_today(),
                max_failed_attempts=settings.max_failed_attempts,
            )
            self.core.save(user)
        if not ok:
            if user.is_locked(now):
                raise user.lock_refusal(now)
            raise WrongCurrentPassword()

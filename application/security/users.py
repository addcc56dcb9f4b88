"""User administration (seed 004, "Maestros, Usuarios"): central only, administrators only.

A user who is not an administrator opens only their own record, may change their own name, and
changes no security data (menu access, sections, unlocking, passwords of others); they create and
deactivate no users. Every change is an event on the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import Field

from application.context import Actor
from application.core import Core
from application.errors import (
    NotYourself,
    PolicyNeedsSecondFactor,
    UsernameTaken,
    UserNotFound,
)
from application.security import second_factor
from application.security.access import Access
from application.security.policy import MANAGE_POLICY, Policies
from application.setup import (
    SITE_CODE_HINT,
    SITE_CODE_PATTERN,
    USERNAME_HINT,
    USERNAME_PATTERN,
    new_unlock_key,
)
from application.validation import Command, parse
from domain.errors import N_
from domain.security import menu, unlock_codes
from domain.security.sections import SECTION_LABELS, Section, section
from domain.security.user import User, user_id
from projections.security.users import UserQueries, UserRow

ADMINISTRATION = N_("user administration")


class NewUser(Command):
    username: str = Field(pattern=USERNAME_PATTERN, description=USERNAME_HINT)
    full_name: str = Field(min_length=1, max_length=120)
    is_admin: bool = False
    like: str | None = None


class UserChanges(Command):
    full_name: str = Field(min_length=1, max_length=120)


class UnlockCodeRequest(Command):
    site: str = Field(pattern=SITE_CODE_PATTERN, description=SITE_CODE_HINT)
    valid_hours: int = Field(48, ge=1, le=720)


@dataclass(frozen=True)
class UserView:
    """A user's record as shown: never a hash, a key or a secret."""

    username: str
    full_name: str
    is_admin: bool
    active: bool
    locked: bool
    failed_attempts: int
    must_change_password: bool
    password_set_on: date
    second_factor: bool
    options: list[str]
    sections: list[str]


@dataclass(frozen=True)
class MenuLine:
    option: str
    label: str
    depth: int
    granted: bool


@dataclass(frozen=True)
class SectionLine:
    section: str
    label: str
    allowed: bool


@dataclass(frozen=True)
class IssuedCode:
    username: str
    site: str
    code: str
    valid_until: datetime


def view_of(user: User) -> UserView:
    everything = user.is_admin
    return UserView(
        username=user.username,
        full_name=user.full_name,
        is_admin=user.is_admin,
        active=user.active,
        locked=user.locked,
        failed_attempts=user.failed_attempts,
        must_change_password=user.must_change,
        password_set_on=user.password_set_on,
        second_factor=user.totp_secret is not None,
        options=[o.id for o in menu.MENU if everything or o.id in user.menu],
        sections=[s.value for s in Section if everything or s in user.sections],
    )


def menu_tree(user: User) -> list[MenuLine]:
    return [MenuLine(o.id, o.label, o.depth, user.may_open(o.id)) for o in menu.MENU]


def section_lines(user: User) -> list[SectionLine]:
    return [SectionLine(s.value, SECTION_LABELS[s], user.is_admin or s in user.sections) for s in Section]


class Users:
    def __init__(self, core: Core, access: Access, policies: Policies, queries: UserQueries) -> None:
        self.core = core
        self.access = access
        self.policies = policies
        self.queries = queries

    # -- records --------------------------------------------------------------------------------
    def may_create(self, actor: Actor, data: dict[str, Any]) -> NewUser:
        """Every check of ``create`` that needs no password (who asks, the data, the name free,
        the model user): run before a password is asked for."""
        self._administer(actor, "user.create", N_("create users"))
        cmd = parse(NewUser, data)
        if self.core.get(User, user_id(cmd.username)) is not None:
            raise UsernameTaken(username=cmd.username)
        if cmd.like:
            self._load(cmd.like)
        return cmd

    def create(self, actor: Actor, data: dict[str, Any], password: str) -> UserView:
        """Create a user with the menu options and sections of ``like`` (else none), plus
        "Change my password" ('passwd')."""
        cmd = self.may_create(actor, data)
        model = self._load(cmd.like) if cmd.like else None
        self.policies.check_new_password(password, username=cmd.username)
        password_hash = self.core.hasher.hash(password)
        with self.core.acting_as(actor.username):
            user = User(
                username=cmd.username,
                full_name=cmd.full_name,
                is_admin=cmd.is_admin,
                password_hash=password_hash,
            )
            if not user.is_admin:  # administrators never log in on a site: no unlock codes
                user.set_unlock_key(new_unlock_key())
            user.change_menu(menu.for_new_user(model.menu if model else frozenset()))
            if model is not None:
                user.change_sections(model.sections)
            self.core.save(user)
        return view_of(user)

    def update(self, actor: Actor, username: str, data: dict[str, Any]) -> UserView:
        """Change a user's name: an administrator any user's, anyone else their own."""
        self.access.require(actor, "user.update")
        self.access.require_self_or_admin(actor, username)
        changes = parse(UserChanges, data)
        user = self._load(username)
        with self.core.acting_as(actor.username):
            if user.update(full_name=changes.full_name):
                self.core.save(user)
        return view_of(user)

    def deactivate(self, actor: Actor, username: str) -> UserView:
        """Deactivate a user: their sessions end and they cannot log in."""
        self._administer(actor, "user.deactivate", N_("deactivate users"))
        user = self._load(username)
        if user.id == actor.user_id:
            raise NotYourself(action=N_("deactivate"))
        with self.core.acting_as(actor.username):
            user.deactivate()
            self.core.save(user)
        return view_of(user)

    def reactivate(self, actor: Actor, username: str) -> UserView:
        self._administer(actor, "user.reactivate", N_("reactivate users"))
        user = self._load(username)
        with self.core.acting_as(actor.username):
            user.reactivate()
            self.core.save(user)
        return view_of(user)

    def list_users(self, actor: Actor) -> list[UserRow]:
        """Every user for an administrator; anyone else sees only their own row."""
        self.access.require(actor, "user.list")
        rows = self.queries.all()
        if actor.is_admin:
            return rows
        return [r for r in rows if r.user_id == actor.user_id.hex]

    def show(self, actor: Actor, username: str) -> UserView:
        self.access.require(actor, "user.show")
        self.access.require_self_or_admin(actor, username)
        return view_of(self._load(username))

    # -- passwords and lockout ------------------------------------------------------------------
    def may_reset_password(self, actor: Actor, username: str) -> User:
        """Every check of ``reset_password`` that needs no password: run before one is asked for."""
        self._administer(actor, "user.reset-password", N_("reset passwords"))
        return self._load(username)

    def reset_password(self, actor: Actor, username: str, password: str) -> UserView:
        """Give a user a new password they must change at their next login."""
        user = self.may_reset_password(actor, username)
        self.policies.check_new_password(password, username=user.username, history=user.password_history)
        password_hash = self.core.hasher.hash(password)
        with self.core.acting_as(actor.username):
            user.reset_password(password_hash=password_hash, today=self.core.clock.today())
            self.core.save(user)
        return view_of(user)

    def unlock(self, actor: Actor, username: str) -> UserView:
        self._administer(actor, "user.unlock", N_("unlock users"))
        user = self._load(username)
        with self.core.acting_as(actor.username):
            user.unlock()
            self.core.save(user)
        return view_of(user)

    def unlock_code(self, actor: Actor, username: str, data: dict[str, Any]) -> IssuedCode:
        """A single-use code that unlocks ``username`` on one site's laptop, offline."""
        self._administer(actor, "user.unlock-code", N_("issue unlock codes"))
        request = parse(UnlockCodeRequest, data)
        user = self._load(username)
        hour = unlock_codes.expiry_hour(self.core.clock.now(), request.valid_hours)
        with self.core.acting_as(actor.username):
            code = user.issue_unlock_code(site=request.site, hour=hour)
            self.core.save(user)
        return IssuedCode(user.username, request.site, code, unlock_codes.valid_until(hour))

    # -- menu access and visit sections ---------------------------------------------------------
    def access_tree(self, actor: Actor, username: str) -> list[MenuLine]:
        self.access.require(actor, "user.access")
        self.access.require_self_or_admin(actor, username)
        return menu_tree(self._load(username))

    def change_access(
        self, actor: Actor, username: str, grant: list[str], revoke: list[str]
    ) -> list[MenuLine]:
        """Grant options (with their ancestors and descendants), then revoke options (with their
        descendants)."""
        self._administer(actor, "user.access", N_("change menu access"))
        for option_id in [*grant, *revoke]:
            menu.option(option_id)
        user = self._load(username)
        options = user.menu
        for option_id in grant:
            options = menu.grant(options, option_id)
        for option_id in revoke:
            options = menu.revoke(options, option_id)
        with self.core.acting_as(actor.username):
            if user.change_menu(options):
                self.core.save(user)
        return menu_tree(user)

    def who(self, actor: Actor, option_id: str) -> list[UserRow]:
        """The users who can open a menu option (administrators always can)."""
        self.access.require(actor, "access.who")
        self.access.require_admin(actor, N_("see who can open a menu option"))
        chosen = menu.option(option_id).id
        return [row for row in self.queries.all() if row.is_admin or menu.can_open(row.option_set, chosen)]

    def unable_to_change_own_password(self, actor: Actor) -> list[str]:
        """Active users (administrators aside) who cannot change their own password: created
        before new users got 'passwd', or had it revoked. When passwords expire, only an
        administrator can renew theirs."""
        self.access.require_admin(actor, MANAGE_POLICY)
        return [
            row.username
            for row in self.queries.all()
            if row.active and not row.is_admin and not menu.can_open(row.option_set, menu.CHANGE_MY_PASSWORD)
        ]

    def section_list(self, actor: Actor, username: str) -> list[SectionLine]:
        self.access.require(actor, "user.sections")
        self.access.require_self_or_admin(actor, username)
        return section_lines(self._load(username))

    def change_sections(
        self, actor: Actor, username: str, allow: list[str], deny: list[str]
    ) -> list[SectionLine]:
        self._administer(actor, "user.sections", N_("change visit sections"))
        allowed = {section(s) for s in allow}
        denied = {section(s) for s in deny}
        user = self._load(username)
        with self.core.acting_as(actor.username):
            if user.change_sections(frozenset((user.sections | allowed) - denied)):
                self.core.save(user)
        return section_lines(user)

    # -- second factor --------------------------------------------------------------------------
    def enroll_totp(self, actor: Actor, username: str) -> str:
        """Enrol a TOTP second factor; returns the otpauth:// URI, shown this once only."""
        user = self._second_factor_target(actor, username)
        secret = second_factor.new_secret()
        with self.core.acting_as(actor.username):
            user.enroll_totp(secret)
            self.core.save(user)
        return second_factor.provisioning_uri(secret, user.username)

    def remove_totp(self, actor: Actor, username: str) -> UserView:
        user = self._second_factor_target(actor, username)
        if user.is_admin and self.policies.current().admin_mfa:
            raise PolicyNeedsSecondFactor(username=user.username)
        with self.core.acting_as(actor.username):
            user.remove_totp()
            self.core.save(user)
        return view_of(user)

    # -- shared checks --------------------------------------------------------------------------
    def _administer(self, actor: Actor, option_id: str, action: str) -> None:
        self.access.require(actor, option_id)
        self.access.require_admin(actor, action)
        self.access.require_central(actor, ADMINISTRATION)

    def _second_factor_target(self, actor: Actor, username: str) -> User:
        """Users manage their own second factor; an administrator, anyone's on central."""
        self.access.require(actor, "user.totp")
        self.access.require_self_or_admin(actor, username)
        if username.casefold() != actor.username.casefold():
            self.access.require_central(actor, ADMINISTRATION)
        return self._load(username)

    def _load(self, username: str) -> User:
        user = self.core.get(User, user_id(username.strip()))
        if user is None:
            raise UserNotFound(username=username)
        return user

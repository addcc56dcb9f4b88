"""The password policy: showing and setting it, and checking a new password against it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.validation import Command, parse
from domain.errors import N_, Message
from domain.security.password_policy import (
    DEFAULT_SETTINGS,
    PASSWORD_POLICY_ID,
    PasswordPolicy,
    PasswordPolicySettings,
)
from domain.security.passwords import check_new_password
from domain.security.user import User

MANAGE_POLICY = N_("see or change the password policy")
CHANGE_POLICY = N_("changing the password policy")


class PolicyFields(Command):
    """The switches to change; the others keep their value."""

    max_failed_attempts: int | None = Field(None, ge=0, le=1000)
    min_length: int | None = Field(None, ge=0, le=1024)
    max_length: int | None = Field(None, ge=8, le=1024)
    validity_days: int | None = Field(None, ge=0, le=3650)
    require_letters: bool | None = None
    require_digits: bool | None = None
    require_symbols: bool | None = None
    no_reuse: bool | None = None
    blocklist: bool | None = None
    admin_mfa: bool | None = None


@dataclass(frozen=True)
class PolicyView:
    settings: PasswordPolicySettings
    weaknesses: list[Message]
    changed: bool = False


class Policies:
    def __init__(self, core: Core, access: Access | None = None) -> None:
        self.core = core
        self.access = access or Access(core)

    def current(self) -> PasswordPolicySettings:
        """The settings in force: the NIST SP 800-63B profile until someone sets them."""
        policy = self.core.get(PasswordPolicy, PASSWORD_POLICY_ID)
        return policy.settings if policy is not None else DEFAULT_SETTINGS

    def show(self, actor: Actor) -> PolicyView:
        self.access.require(actor, "policy.password.show")
        self.access.require_admin(actor, MANAGE_POLICY)
        settings = self.current()
        return PolicyView(settings, settings.weaknesses())

    def set(self, actor: Actor, data: dict[str, Any], *, defaults: bool = False) -> PolicyView:
        """Change some switches (or go back to the default profile); warnings name each weaker
        setting. Administrators only, on central."""
        self.access.require(actor, "policy.password.set")
        self.access.require_admin(actor, MANAGE_POLICY)
        self.access.require_central(actor, CHANGE_POLICY)
        changes = parse(PolicyFields, data).model_dump(exclude_none=True)
        policy = self.core.get(PasswordPolicy, PASSWORD_POLICY_ID)
        admin = self.core.get(User, actor.user_id)
        with self.core.acting_as(actor.username):
            policy = policy or PasswordPolicy()
            base = DEFAULT_SETTINGS if defaults else policy.settings
            changed = policy.set(
                base.changed(**changes),
                actor_has_second_factor=admin is not None and admin.totp_secret is not None,
            )
            if changed:
                self.core.save(policy)
        return PolicyView(policy.settings, policy.settings.weaknesses(), changed)

    def check_new_password(self, password: str, *, username: str, history: Sequence[str] = ()) -> None:
        """Raise PasswordRejected naming every rule of the policy in force that it breaks."""
        settings = self.current()
        check_new_password(
            password,
            settings,
            username=username,
            is_common=settings.blocklist and self.core.blocklist.is_common(password),
            reused=settings.no_reuse
            and len(password) <= settings.max_length
            and any(self.core.hasher.verify(old, password) for old in history),
        )

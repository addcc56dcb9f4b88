"""The time-based lock settings (seed 004): shown to anyone with the option, changed by an
administrator on central (a laptop receives them when provisioned)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.validation import Command, parse
from domain.errors import N_
from domain.security.locks import LOCK_POLICY_ID, MAX_DAYS, LockPolicy, LockSettings


class LockChanges(Command):
    delete_visit: int | None = Field(None, ge=0, le=MAX_DAYS)
    change_visit_data: int | None = Field(None, ge=0, le=MAX_DAYS)
    change_paragraph: int | None = Field(None, ge=0, le=MAX_DAYS)
    change_observations: int | None = Field(None, ge=0, le=MAX_DAYS)
    delete_document: int | None = Field(None, ge=0, le=MAX_DAYS)


class Locks:
    def __init__(self, core: Core, access: Access) -> None:
        self.core = core
        self.access = access

    def current(self) -> LockSettings:
        policy = self.core.get(LockPolicy, LOCK_POLICY_ID)
        return policy.settings if policy is not None else LockSettings()

    def show(self, actor: Actor) -> LockSettings:
        self.access.require(actor, "policy.locks.show")
        return self.current()

    def set(self, actor: Actor, data: dict[str, Any]) -> LockSettings:
        """Days after which each change is locked (0 = never); the administrator is exempt."""
        self.access.require(actor, "policy.locks.set")
        self.access.require_admin(actor, N_("change the time-based locks"))
        self.access.require_central(actor, N_("changing the time-based locks"))
        changes = parse(LockChanges, data).model_dump(exclude_none=True)
        policy = self.core.get(LockPolicy, LOCK_POLICY_ID)
        with self.core.acting_as(actor.username):
            policy = policy or LockPolicy()
            policy.set(LockSettings(**{**policy.settings.as_dict(), **changes}))
            if policy.pending_events:  # nothing is recorded when nothing changes
                self.core.save(policy)
        return policy.settings

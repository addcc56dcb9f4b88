"""The user list: one row per user, with the menu options and visit sections granted.

It answers the administrator's "who can open option X" (seed 004, "Administrador, Acceso a Menú")
without loading every user. No secret (password hash, unlock key, TOTP secret) is copied here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.security.user import User
from projections.base import ByAggregate, RowStore


@dataclass(frozen=True)
class UserRow:
    user_id: str
    username: str
    full_name: str
    is_admin: bool
    active: bool
    locked: bool
    options: str  # granted menu option ids, space-separated, sorted
    sections: str  # granted visit section ids, space-separated, sorted
    created_at: str
    updated_at: str
    version: int

    @property
    def option_set(self) -> frozenset[str]:
        return frozenset(self.options.split())

    @property
    def section_set(self) -> frozenset[str]:
        return frozenset(self.sections.split())


class UsersProjection(ByAggregate):
    name = "users"
    version = 1
    topics = (
        User.Created.TOPIC,
        User.Updated.TOPIC,
        User.Deactivated.TOPIC,
        User.Reactivated.TOPIC,
        User.Locked.TOPIC,
        User.Unlocked.TOPIC,
        User.MenuChanged.TOPIC,
        User.SectionsChanged.TOPIC,
    )
    row_type = UserRow
    key_fields = ("user_id",)
    indexes = (("username",),)

    def apply(self, row: UserRow | None, event: Any) -> UserRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, User.Created):
            return UserRow(
                user_id=event.originator_id.hex,
                username=event.username,
                full_name=event.full_name,
                is_admin=event.is_admin,
                active=True,
                locked=False,
                options="",
                sections="",
                created_at=stamp,
                updated_at=stamp,
                version=event.originator_version,
            )
        if row is None:
            return None
        row = replace(row, updated_at=stamp, version=event.originator_version)
        if isinstance(event, User.Updated):
            return replace(row, full_name=event.full_name)
        if isinstance(event, User.Deactivated | User.Reactivated):
            return replace(row, active=isinstance(event, User.Reactivated))
        if isinstance(event, User.Locked | User.Unlocked):
            return replace(row, locked=isinstance(event, User.Locked))
        if isinstance(event, User.MenuChanged):
            return replace(row, options=" ".join(sorted(event.options)))
        if isinstance(event, User.SectionsChanged):
            return replace(row, sections=" ".join(sorted(event.sections)))
        return row


class UserQueries:
    """How the application reads the user list."""

    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def all(self) -> list[UserRow]:
        return self.rows.find(order_by="username")

    def by_username(self, username: str) -> UserRow | None:
        return self.rows.find_one(username=username)

"""Authorization, deny by default (seed 004; ASVS 8.2-8.3): menu options, visit sections, the
administrator-only security settings, and central-only user administration.

Administrators pass every menu and section check. Everyone else needs the option (and each of its
ancestors) or the section granted on their user record, read from the store at each check so a
revocation takes effect on the next command.
"""

from __future__ import annotations

from application.context import Actor
from application.core import Core
from application.errors import (
    AdministratorOnly,
    CentralOnly,
    MenuDenied,
    OwnRecordOnly,
    SectionDenied,
)
from domain.security import menu
from domain.security.sections import SECTION_LABELS, Section, section
from domain.security.user import User


class Access:
    def __init__(self, core: Core) -> None:
        self.core = core

    def require(self, actor: Actor, option_id: str) -> None:
        """Refuse unless ``actor`` may open the menu option."""
        chosen = menu.option(option_id)
        if actor.is_admin:
            return
        user = self.core.get(User, actor.user_id)
        if user is None or not menu.can_open(user.menu, chosen.id):
            self.core.record_denied(actor.username, {"OPCION": chosen.id})
            raise MenuDenied(option=chosen.id, label=chosen.label)

    def menu_tree(self, actor: Actor) -> tuple[menu.MenuOption, ...]:
        """The whole menu tree, depth first (seed: "Administrador, Acceso a Menú", its left side)."""
        self.require(actor, "access.tree")
        return menu.MENU

    def require_section(self, actor: Actor, wanted: Section | str) -> None:
        """Refuse unless ``actor`` may see and change the visit section."""
        chosen = section(wanted)
        if actor.is_admin:
            return
        user = self.core.get(User, actor.user_id)
        if user is None or chosen not in user.sections:
            self.core.record_denied(actor.username, {"SECCION": chosen.value})
            raise SectionDenied(section=chosen.value, label=SECTION_LABELS[chosen])

    def sections_of(self, actor: Actor) -> frozenset[Section]:
        """The visit sections ``actor`` may see (administrators: all eight)."""
        if actor.is_admin:
            return frozenset(Section)
        user = self.core.get(User, actor.user_id)
        return frozenset(user.sections) if user is not None else frozenset()

    def require_admin(self, actor: Actor, action: str) -> None:
        """``action`` is a msgid completing "only an administrator can ..."; a refusal is
        recorded (REGLA=admin-only)."""
        if not actor.is_admin:
            self.core.record_denied(actor.username, {"REGLA": "admin-only", "ACCION": action})
            raise AdministratorOnly(action=action)

    def require_self_or_admin(self, actor: Actor, username: str) -> None:
        if not actor.is_admin and username.casefold() != actor.username.casefold():
            raise OwnRecordOnly(username=actor.username)

    def require_central(self, actor: Actor, action: str) -> None:
        """``action`` is a msgid naming what is done on central only; a refusal is recorded
        (REGLA=central-only)."""
        if not self.core.require_identity().is_central:
            self.core.record_denied(actor.username, {"REGLA": "central-only", "ACCION": action})
            raise CentralOnly(action=action)

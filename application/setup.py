"""Creating a store: what it is (central or a site) and its first user; and upgrading a store to
the software installed to run it (``brigada upgrade``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from importlib import metadata

from pydantic import Field

from application.context import SYSTEM, Actor
from application.core import Core
from application.errors import StoreAlreadyInitialized
from application.projection_runner import Progress
from application.security.access import Access
from application.security.policy import Policies
from application.validation import Command, parse
from domain.errors import N_
from domain.security import menu
from domain.security.sections import ALL_SECTIONS
from domain.security.user import User
from domain.store_identity import StoreIdentity, StoreRole
from domain.store_time import Dating


def _installed_version() -> str:
    try:
        return metadata.version("brigada")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


SOFTWARE_VERSION = _installed_version()
CENTRAL_CODE = "CEN"
SITE_CODE_HINT = N_("2 to 10 capital letters or digits")
SITE_CODE_PATTERN = r"^[A-Z0-9]{2,10}$"
USERNAME_HINT = N_("3 to 32 lower-case letters, digits, dots, dashes or underscores")
USERNAME_PATTERN = r"^[a-z0-9._-]{3,32}$"
UNLOCK_KEY_BYTES = 32


def new_unlock_key() -> str:
    """A user's key for offline unlock codes (see domain.security.unlock_codes)."""
    return secrets.token_bytes(UNLOCK_KEY_BYTES).hex()


class InitializeStore(Command):
    role: StoreRole
    site_code: str = Field(pattern=SITE_CODE_PATTERN, description=SITE_CODE_HINT)
    username: str = Field(pattern=USERNAME_PATTERN, description=USERNAME_HINT)
    full_name: str = Field(min_length=1, max_length=120)


@dataclass(frozen=True)
class UpgradeOutcome:
    from_version: str
    to_version: str
    upgraded: bool  # False: the store already was at the software's version, nothing was done
    views: dict[str, int] = field(default_factory=dict)  # rows of each view rebuilt
    events: int = 0  # events in the log the views were rebuilt from


class Setup:
    def __init__(self, core: Core) -> None:
        self.core = core

    def initialize(
        self, role: str, site_code: str, username: str, full_name: str, password: str
    ) -> StoreIdentity:
        """Make this store central's or a site's, with its first user.

        On central the first user is the administrator. The administrator profile never logs in
        on a disconnected site (seed 000), so a site's first user is its coordinator, with every
        menu option and visit section and a key for offline unlock codes. The password must
        meet the password policy (the default profile: the store has no other yet).
        """
        cmd = parse(
            InitializeStore,
            {"role": role, "site_code": site_code, "username": username, "full_name": full_name},
        )
        existing = self.core.identity()
        if existing is not None:
            raise StoreAlreadyInitialized(role=existing.role.value, site=existing.site_code)
        Policies(self.core).check_new_password(password, username=cmd.username)
        password_hash = self.core.hasher.hash(password)
        with self.core.acting_as(SYSTEM, site=cmd.site_code):
            identity = StoreIdentity(
                role=cmd.role, site_code=cmd.site_code, software_version=SOFTWARE_VERSION
            )
            first_user = User(
                username=cmd.username,
                full_name=cmd.full_name,
                is_admin=cmd.role is StoreRole.CENTRAL,
                password_hash=password_hash,
            )
            if not first_user.is_admin:  # administrators pass every check and never use a key
                first_user.set_unlock_key(new_unlock_key())
                first_user.change_menu(menu.EVERYTHING)
                first_user.change_sections(ALL_SECTIONS)
            self.core.save(identity, first_user)
        return identity

    def upgrade(self, actor: Actor, progress: Progress | None = None) -> UpgradeOutcome:
        """Bring this store to the software now installed (``SOFTWARE_VERSION``), on central or
        on a laptop; run again, it has nothing to do. A store newer than the software is refused:
        a store is never downgraded.

        1. Old events: nothing is rewritten. An event class whose fields changed reads its old
           events through an upcaster (see StoreIdentity.Upgraded); every view is rebuilt from
           the whole log below, and the activity log reads every event, so an old event that the
           new software could not read stops the upgrade before the version is recorded.
        2. Views: every view is dropped and the log replayed into all of them, in one pass. A view
           whose projection version changed would be rebuilt by any catch-up (the first command
           run by the new software does it), but one pass rebuilds them all for about the price
           of one: no row written by the older software's projections is left.
        3. The new version recorded on the store's identity, last, so an upgrade cut short is
           simply run again.

        Who: on central, an administrator. On a laptop no administrator ever logs in (seed 000),
        and its field staff must be able to upgrade it, since it syncs only once upgraded: a
        user with the menu option ``upgrade``. Like every option, central grants it to the users
        it hands to the site (the site's first user has every option); upgrading changes no
        record, it only rebuilds the laptop's views and records the version.
        """
        identity = self.core.require_identity()
        if identity.is_central:
            Access(self.core).require_admin(actor, N_("upgrade central's store"))
        else:
            Access(self.core).require(actor, "upgrade")
        before = identity.software_version
        if not identity.behind(SOFTWARE_VERSION):
            identity.require_current(SOFTWARE_VERSION)  # a newer store is refused
            return UpgradeOutcome(before, before, upgraded=False)
        events = self.core.views.head()
        views = self.core.views.rebuild_all(progress)
        # Bookkeeping, not a dated change: a store upgraded after months away needs no date confirmed.
        with self.core.acting_as(actor.username, site=identity.home_chain(), dating=Dating.BOOKKEEPING):
            identity.upgrade(SOFTWARE_VERSION)
            self.core.save(identity)
        return UpgradeOutcome(before, SOFTWARE_VERSION, True, views, events)

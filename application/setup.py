"""Creating a store: what it is (central or a site) and its first user."""

from __future__ import annotations

from pydantic import Field

from application.context import SYSTEM
from application.core import Core
from application.errors import StoreAlreadyInitialized
from application.validation import Command, parse
from domain.errors import N_
from domain.passwords import check_new_password
from domain.store_identity import StoreIdentity, StoreRole
from domain.user import User

SOFTWARE_VERSION = "0.1.0"
CENTRAL_CODE = "CEN"
SITE_CODE_HINT = N_("2 to 10 capital letters or digits")
USERNAME_HINT = N_("3 to 32 lower-case letters, digits, dots, dashes or underscores")


class InitializeStore(Command):
    role: StoreRole
    site_code: str = Field(pattern=r"^[A-Z0-9]{2,10}$", description=SITE_CODE_HINT)
    username: str = Field(pattern=r"^[a-z0-9._-]{3,32}$", description=USERNAME_HINT)
    full_name: str = Field(min_length=1, max_length=120)


class Setup:
    def __init__(self, core: Core) -> None:
        self.core = core

    def initialize(
        self, role: str, site_code: str, username: str, full_name: str, password: str
    ) -> StoreIdentity:
        """Make this store central's or a site's, with its first user.

        On central the first user is the administrator. The administrator profile never logs in
        on a disconnected site (seed 000), so a site's first user is its coordinator.
        """
        cmd = parse(
            InitializeStore,
            {"role": role, "site_code": site_code, "username": username, "full_name": full_name},
        )
        existing = self.core.identity()
        if existing is not None:
            raise StoreAlreadyInitialized(role=existing.role.value, site=existing.site_code)
        check_new_password(password)
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
            self.core.save(identity, first_user)
        return identity

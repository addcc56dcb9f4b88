"""Disconnected sites: registration, parameters, modes, provisioning a laptop (seed 000), and the
sites policy every use case asks before it writes."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from pydantic import Field

from application.access import Access
from application.context import Actor
from application.core import Core
from application.operations import Operations
from application.ports import SigningKeys
from application.replication import copy_aggregates, seed_site_store
from application.setup import SOFTWARE_VERSION
from application.validation import Command, parse
from domain import site_policy
from domain.chain import CHAIN_KEY, SITE_SIGNING_KEY, SITES_MASTER_KEY, site_key
from domain.checkpoint import ChainCheckpoint
from domain.errors import N_, DomainError, NotFound
from domain.locks import LOCK_POLICY_ID
from domain.password_policy import PASSWORD_POLICY_ID
from domain.site import Site, SiteAction, SiteAlreadyRegistered, SiteMode, site_id
from domain.store_identity import STORE_IDENTITY_ID, StoreRole
from projections.patients import PatientQueries
from projections.sites import SiteQueries, SiteRow
from projections.users import UserQueries

WAREHOUSE_HINT = N_("2 to 20 capital letters, digits or dashes")


class SiteNotFound(NotFound):
    template = N_("no site with code {site}")


class NoSigningKeys:
    """Where no key maker was wired in: provisioning refuses rather than make a laptop that
    cannot prove it is its site."""

    def new_pair(self) -> tuple[bytes, str]:
        raise DomainError(N_("this installation cannot make site credentials"))


class TargetNotEmpty(DomainError):
    template = N_("the target store {store} already holds events: provisioning needs an empty one")


class RegisterSite(Command):
    code: str = Field(pattern=r"^[A-Z0-9]{2,10}$", description=N_("2 to 10 capital letters or digits"))
    name: str = Field(min_length=1, max_length=120)
    warehouses: list[str] = Field(default_factory=list)
    actions: list[SiteAction] = Field(default_factory=lambda: list(SiteAction))


class WarehouseCode(Command):
    code: str = Field(pattern=r"^[A-Z0-9-]{2,20}$", description=WAREHOUSE_HINT)


class ChangeParameters(Command):
    enable: list[SiteAction] = Field(default_factory=list)
    disable: list[SiteAction] = Field(default_factory=list)


@dataclass(frozen=True)
class ModeReport:
    site: str
    mode: SiteMode
    role: StoreRole


class Sites:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        sites: SiteQueries,
        patients: PatientQueries,
        users: UserQueries,
        extra_slices: Sequence[Callable[[str], list[UUID]]] = (),
        history: Callable[[str], list[UUID]] = lambda site: [],
        signing_keys: SigningKeys | None = None,
    ) -> None:
        self.core = core
        self.signing_keys = signing_keys or NoSigningKeys()
        self.history = history  # every aggregate with an event recorded at a site
        self.extra_slices = extra_slices  # more of a laptop's slice, by site (catalog, stock)
        self.access = access
        self.operations = operations
        self.sites = sites
        self.patients = patients
        self.users = users

    def _administer(self, actor: Actor, option: str) -> None:
        self.access.require_central(N_("site administration"))
        self.access.require_admin(actor, N_("administer sites"))
        self.access.require(actor, option)

    def _load(self, code: str) -> Site:
        site = self.core.get(Site, site_id(code))
        if site is None:
            raise SiteNotFound(site=code)
        return site

    def register(self, actor: Actor, data: dict[str, Any]) -> SiteRow:
        """Register and authorize a site, with its field warehouses and enabled actions."""
        self._administer(actor, "site.register")
        cmd = parse(RegisterSite, data)
        warehouses = [parse(WarehouseCode, {"code": w}).code for w in cmd.warehouses]
        if self.core.get(Site, site_id(cmd.code)) is not None:
            raise SiteAlreadyRegistered(site=cmd.code)
        with self.core.acting_as(actor.username):
            self.core.save(Site.register(cmd.code, cmd.name, warehouses, set(cmd.actions)))
        return self.show(actor, cmd.code)

    def add_warehouse(self, actor: Actor, code: str, warehouse: str) -> SiteRow:
        self._administer(actor, "site.warehouse")
        site = self._load(code)
        with self.core.acting_as(actor.username):
            site.add_warehouse(parse(WarehouseCode, {"code": warehouse}).code)
            self.core.save(site)
        return self.show(actor, code)

    def change_parameters(self, actor: Actor, code: str, data: dict[str, Any]) -> SiteRow:
        """Enable or disable actions; the laptop receives the change at its next sync."""
        self._administer(actor, "site.params")
        cmd = parse(ChangeParameters, data)
        site = self._load(code)
        with self.core.acting_as(actor.username):
            if site.change_parameters(set(cmd.enable), set(cmd.disable)):
                self.core.save(site)
        return self.show(actor, code)

    def revoke(self, actor: Actor, code: str) -> SiteRow:
        self._administer(actor, "site.revoke")
        site = self._load(code)
        with self.core.acting_as(actor.username):
            site.revoke()
            self.core.save(site)
        return self.show(actor, code)

    def list(self, actor: Actor) -> list[SiteRow]:
        self.access.require(actor, "site.list")
        return self.sites.all()

    def show(self, actor: Actor, code: str) -> SiteRow:
        self.access.require(actor, "site.show")
        row = self.sites.by_code(code)
        if row is None:
            raise SiteNotFound(site=code)
        return row

    def mode(self, actor: Actor) -> ModeReport:
        """This store's mode: central shows nothing of its own; a laptop shows its lease."""
        self.access.require(actor, "site.mode")
        identity = self.core.require_identity()
        site = self.core.get(Site, site_id(identity.site_code))
        mode = site.mode if site else SiteMode.ON_SITE
        return ModeReport(site=identity.site_code, mode=mode, role=identity.role)

    def set_mode(self, actor: Actor, code: str, mode: SiteMode) -> SiteRow:
        """Central's record of the lease (the sync flips it; tests and operators may too)."""
        self._administer(actor, "site.params")
        site = self._load(code)
        with self.core.acting_as(actor.username):
            site.change_mode(mode)
            site.finish_return()  # an operator's word ends a hand-back left half-done
            self.core.save(site)
        return self.show(actor, code)

    def provision(
        self,
        actor: Actor,
        code: str,
        target: Any,
        target_name: str,
        progress: Callable[[int, int], None] | None = None,
        central_url: str = "",
        central_certificate: str = "",
    ) -> int:
        """Create a laptop's store from central's slice for ``code``; returns events copied.

        ``target`` is an open, empty Brigada for the laptop's store. The laptop gets its
        credential (a key pair made here: the private key goes into the laptop's store only,
        central records the public key), its chain key, and central's address and certificate
        (``central_url``, ``central_certificate``) so a bare `brigada sync` works and pins it.
        """
        self._administer(actor, "site.provision")
        site = self._load(code)
        if site.revoked:
            raise site_policy.OperationRefused(
                N_("site {site} is revoked: it may not be provisioned"), site=code
            )
        if target.core.app.recorder.max_notification_id():
            raise TargetNotEmpty(store=target_name)
        central = self.core.require_identity()
        key_id, generation = secrets.token_hex(16), uuid4().hex
        # New keys for each provisioning (a laptop provisioned again gets others): given to the
        # laptop's store before anything is written there, never shown, never an event.
        master = self.core.app.recorder.key(SITES_MASTER_KEY)
        target.core.app.recorder.key(CHAIN_KEY, site_key(master, site.code, key_id))
        private_key, public_key = self.signing_keys.new_pair()
        target.core.app.recorder.key(SITE_SIGNING_KEY, private_key)
        with self.core.acting_as(actor.username):
            site.provision(SOFTWARE_VERSION, key_id, public_key)
            self.core.save(site)
        ids = self.slice_ids(site.code, history=False)
        done = 0

        def advance(step: int) -> None:
            nonlocal done
            done += step
            if progress:
                progress(done, len(ids))

        copied = seed_site_store(
            self.core.app,
            target,
            ids,
            site=site.code,
            central_code=central.site_code,
            generation=generation,
            software_version=SOFTWARE_VERSION,
            central_url=central_url,
            central_certificate=central_certificate,
            progress=advance,
        )
        # Central's checkpoint of the new laptop's log: its own events must follow this link.
        with self.core.acting_as(actor.username):
            genesis = target.sync.generation_start()
            self.core.save(
                ChainCheckpoint(site=site.code, generation=generation, position=genesis[0], link=genesis[1])
            )
        return copied

    def receive_site_record(self, central: Any) -> int:
        """On a laptop: record central's newer events of this site's record (its mode, its
        parameters). The laptop never writes that record itself; it mirrors central's."""
        identity = self.core.require_identity()
        copied = copy_aggregates(central.core.app, self.core.app, [site_id(identity.site_code)])
        if copied:
            self.core.views.catch_up()
        return copied

    def slice_ids(self, site: str, *, history: bool) -> list[UUID]:
        """What a laptop gets: the site record, configuration, users that may work there (no
        administrator: that profile never works on a laptop), and the patients of central and of
        this site (not other sites'); with ``history`` (the start-of-mission rebuild), also every
        record the site's own events touched, as central holds it."""
        central = self.core.require_identity().site_code
        ids = [site_id(site)]
        ids += [i for i in (PASSWORD_POLICY_ID, LOCK_POLICY_ID) if self.core.get(object, i) is not None]
        ids += [UUID(u.user_id) for u in self.users.all() if not u.is_admin]
        ids += [UUID(p.patient_id) for p in self.patients.all() if p.site in (site, central)]
        for more in self.extra_slices:
            ids += more(site)
        if history:
            ids += self.history(site)
        # Once each, in first-mention order; this store's identity is never part of a slice.
        return [i for i in dict.fromkeys(ids) if i != STORE_IDENTITY_ID]

"""Disconnected sites: registration, parameters, modes, provisioning a laptop (seed 000), and the
sites policy every use case asks before it writes."""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import Field

from application.context import Actor
from application.core import Core
from application.ports import SigningKeys
from application.replication import copy_aggregates, seed_site_store
from application.security.access import Access
from application.setup import SOFTWARE_VERSION
from application.sites.operations import WAREHOUSE_HINT, Operations, SiteNotFound
from application.validation import Command, parse, safe_text
from domain.base import BrigadaAggregate
from domain.chain import CHAIN_KEY, SITE_SIGNING_KEY, SITES_MASTER_KEY, site_key
from domain.errors import N_, DomainError, InvalidValue
from domain.security.locks import LOCK_POLICY_ID
from domain.security.password_policy import PASSWORD_POLICY_ID
from domain.security.user import User
from domain.sites import site_policy
from domain.sites.site import NoLaptopToReplace, Site, SiteAction, SiteAlreadyRegistered, SiteMode, site_id
from domain.store_identity import STORE_IDENTITY_ID, StoreRole
from domain.sync.checkpoint import ChainCheckpoint, checkpoint_id
from domain.sync.sync import SyncCrossing
from projections.clinical.patients import PatientQueries
from projections.security.users import UserQueries
from projections.sites.sites import SiteQueries, SiteRow
from projections.sync.sync import SyncRunQueries, SyncRunRow


class NoSigningKeys:
    """Where no key maker was wired in: provisioning refuses rather than make a laptop that
    cannot prove it is its site."""

    def new_pair(self) -> tuple[bytes, str]:
        raise DomainError(N_("this installation cannot make site credentials"))


class TargetNotEmpty(DomainError):
    template = N_("the target store {store} already holds events: provisioning needs an empty one")


class LaptopHoldsLease(site_policy.OperationRefused):
    """Central refuses to provision the site, or to change its mode, while its laptop holds the
    lease: the laptop may hold work central has never seen. Each template says what central
    knows of it."""


PROVISION_ON_MISSION = N_(
    "site {site} is on mission (MSN) since {since}: its laptop last synchronized on {last_sync} and "
    "central has merged {merged} events from it. Every event recorded on that laptop since then would be "
    "lost. Sync it first (end of mission) or, if it is lost, use --replace-lost-laptop --reason TEXT"
)
PROVISION_ON_MISSION_NEVER_SYNCED = N_(
    "site {site} is on mission (MSN) since {since} and its laptop never synchronized: every event recorded "
    "on it would be lost. Sync it first (end of mission) or, if it is lost, use --replace-lost-laptop "
    "--reason TEXT"
)
PROVISION_SYNC_OPEN = N_(
    "a sync of site {site} is still open (started on {started}): run 'brigada sync' again on its laptop "
    "to finish it or, if the laptop is lost, use --replace-lost-laptop --reason TEXT"
)
MODE_ON_MISSION = N_(
    "site {site} is on mission (MSN) since {since}: its laptop last synchronized on {last_sync} and "
    "central has merged {merged} events from it. It may hold events recorded since then that central has "
    "not received, and its sync is refused while the two modes differ. Sync it, or use --force --reason TEXT"
)
MODE_ON_MISSION_NEVER_SYNCED = N_(
    "site {site} is on mission (MSN) since {since} and its laptop never synchronized: it may hold events "
    "central has not received, and its sync is refused while the two modes differ. Sync it, or use --force "
    "--reason TEXT"
)
MODE_SYNC_OPEN = N_(
    "a sync of site {site} is still open (started on {started}): run 'brigada sync' again on its laptop "
    "to finish it, or use --force --reason TEXT"
)
LOST_REASON = N_("say why the laptop is considered lost")
FORCE_REASON = N_("say why the mode is changed while the laptop holds the lease")
REASON_LENGTH = N_("at most {n} characters")
MAX_REASON = 500


@dataclass(frozen=True)
class LaptopWork:
    """What central knows of what the site's current laptop may hold (never its unsynced events
    themselves): when central's mode last changed, its syncs, and a sync left open."""

    since: str  # when central's mode last changed ("-" when it never did)
    last_sync: str  # when its newest sync started ("" when it never synchronized)
    merged: int  # events central merged from it, over all its syncs
    open_run: SyncRunRow | None  # a sync of it that did not complete


def when(moment: datetime | str | None) -> str:
    """A recorded time as shown in refusals: date, hours and minutes (UTC)."""
    if moment is None or moment == "":
        return "-"
    text = moment.isoformat() if isinstance(moment, datetime) else moment
    return text[:16].replace("T", " ")


def reason_of(reason: str, template: str) -> str:
    """An administrator's reason, required, one line of bounded length."""
    reason = safe_text("--reason", " ".join(reason.split()))
    if not reason:
        raise InvalidValue("--reason", template)
    if len(reason) > MAX_REASON:
        raise InvalidValue("--reason", REASON_LENGTH, n=MAX_REASON)
    return reason


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
        self.runs = SyncRunQueries(core.views.store("sync_runs"))

    def _administer(self, actor: Actor, option: str) -> None:
        self.access.require_central(actor, N_("site administration"))
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

    def change_mode(
        self, actor: Actor, code: str, mode: SiteMode, force: bool = False, reason: str = ""
    ) -> SiteRow:
        """An administrator sets a site's mode on central (its syncs flip it). While the site's
        laptop holds the lease (on mission, or handing it back) that is refused, saying what the
        laptop may hold, unless ``force`` with a reason, recorded with the change."""
        self._administer(actor, "site.params")
        site = self._load(code)
        reason = reason_of(reason, FORCE_REASON) if force or reason.strip() else ""
        changes = mode is not site.mode or site.returning
        if changes and site.lease_mode is SiteMode.ON_MISSION and not force:
            self._refuse_on_lease(site, MODE_ON_MISSION, MODE_ON_MISSION_NEVER_SYNCED, MODE_SYNC_OPEN)
        if changes:
            with self.core.acting_as(actor.username):
                site.override_mode(mode, reason)
                self.core.save(site)
        return self.show(actor, code)

    def check_provisioning(self, actor: Actor, code: str, lost_laptop_reason: str | None = None) -> None:
        """Every refusal of ``provision`` that does not need the target store, so a caller can ask
        before it creates one."""
        self._administer(actor, "site.provision")
        self._provisionable(self._load(code), lost_laptop_reason)

    def _provisionable(self, site: Site, lost_laptop_reason: str | None) -> str | None:
        """Refuses provisioning a site whose laptop may hold work central has never seen (on
        mission, or a sync of it open) unless that laptop is replaced as lost; returns the
        reason for the replacement, if one."""
        if site.revoked:
            raise site_policy.OperationRefused(
                N_("site {site} is revoked: it may not be provisioned"), site=site.code
            )
        if lost_laptop_reason is not None:
            if not site.provisioned:
                raise NoLaptopToReplace(site=site.code)
            return reason_of(lost_laptop_reason, LOST_REASON)
        if not site.provisioned:
            return None  # no laptop: nothing it holds to lose
        work = self.laptop_work(site)
        if work.open_run is not None or site.returning:
            raise LaptopHoldsLease(
                PROVISION_SYNC_OPEN,
                site=site.code,
                started=when(work.open_run.started_at if work.open_run else None),
            )
        if site.mode is SiteMode.ON_MISSION:
            self._refuse_on_lease(site, PROVISION_ON_MISSION, PROVISION_ON_MISSION_NEVER_SYNCED, "", work)
        return None

    def _refuse_on_lease(
        self, site: Site, synced: str, never: str, sync_open: str, work: LaptopWork | None = None
    ) -> None:
        work = work or self.laptop_work(site)
        if sync_open and (site.returning or work.open_run is not None):
            started = work.open_run.started_at if work.open_run else None
            raise LaptopHoldsLease(sync_open, site=site.code, started=when(started))
        if not work.last_sync:
            raise LaptopHoldsLease(never, site=site.code, since=work.since)
        raise LaptopHoldsLease(
            synced, site=site.code, since=work.since, last_sync=work.last_sync, merged=work.merged
        )

    def laptop_work(self, site: Site) -> LaptopWork:
        every = self._runs(site.code)
        generations = set(self.laptop_generations(site, every))
        rows = [r for r in every if r.generation in generations]
        newest = max(rows, key=lambda r: r.started_at, default=None)
        return LaptopWork(
            since=when(site.mode_since),
            last_sync=when(newest.started_at) if newest else "",
            merged=sum(r.total for r in rows),
            open_run=next((r for r in rows if r.status != "completed"), None),
        )

    def laptop_generations(
        self, site: Site, runs: builtins.list[SyncRunRow] | None = None
    ) -> builtins.list[str]:
        """Every log generation central issued the site's current laptop: its provisioning's,
        then each start-of-mission rebuild's (a run started from one of them whose checkpoint
        central opened, under the run's id). Exact for a laptop provisioned since provisionings
        record their generation; for an older one, every generation pushed from that is neither a
        rebuild's nor a lost laptop's stands in for the provisioning's."""
        rows = self._runs(site.code) if runs is None else runs
        if site.generation:
            generations = [site.generation]
        else:
            rebuilt = {r.run_id for r in rows if r.crossing == SyncCrossing.START_OF_MISSION.value}
            lost = {g for laptop in site.lost_laptops for g in laptop.generations}
            generations = list(
                dict.fromkeys(r.generation for r in rows if r.generation not in rebuilt | lost)
            )
        grown = True
        while grown:  # runs of the same second may come in any order: until nothing is added
            grown = False
            for row in rows:
                if (
                    row.crossing == SyncCrossing.START_OF_MISSION.value
                    and row.generation in generations
                    and row.run_id not in generations
                    and self.core.get(ChainCheckpoint, checkpoint_id(site.code, row.run_id)) is not None
                ):
                    generations.append(row.run_id)
                    grown = True
        return generations

    def _runs(self, code: str) -> builtins.list[SyncRunRow]:
        """Every sync run of a site central recorded, newest first."""
        self.core.views.catch_up(["sync_runs"])
        return self.runs.history(code, limit=1_000_000)

    def provision(
        self,
        actor: Actor,
        code: str,
        target: Any,
        target_name: str,
        progress: Callable[[int, int], None] | None = None,
        central_url: str = "",
        central_certificate: str = "",
        lost_laptop_reason: str | None = None,
    ) -> int:
        """Create a laptop's store from central's slice for ``code``; returns events copied.

        ``target`` is an open, empty Brigada for the laptop's store. The laptop gets its
        credential (a key pair made here: the private key goes into the laptop's store only,
        central records the public key), its chain key, and central's address and certificate
        (``central_url``, ``central_certificate``) so a bare `brigada sync` works and pins it.

        Refused while the site's laptop may hold work central has never seen (on mission, or a
        sync of it open), unless ``lost_laptop_reason`` replaces that laptop as lost: its
        generations, chain key and public key are recorded on the site (what it pushes if it
        ever comes back is held in quarantine), its unsynced work is lost, and the lease comes
        back to central (INS) for the new laptop to take at its start of mission.
        """
        self._administer(actor, "site.provision")
        site = self._load(code)
        reason = self._provisionable(site, lost_laptop_reason)
        if target.core.app.recorder.max_notification_id():
            raise TargetNotEmpty(store=target_name)
        central = self.core.require_identity()
        key_id, generation = secrets.token_hex(16), uuid4().hex
        # New keys for each provisioning (a laptop provisioned again gets others): given to the
        # laptop's store before anything is written there, never shown, never an event.
        master = self.core.app.keys.key(SITES_MASTER_KEY)
        target.core.app.keys.key(CHAIN_KEY, site_key(master, site.code, key_id))
        private_key, public_key = self.signing_keys.new_pair()
        target.core.app.keys.key(SITE_SIGNING_KEY, private_key)
        lost_generations = self.laptop_generations(site) if reason is not None else []
        with self.core.acting_as(actor.username):
            if reason is not None:
                site.replace_lost_laptop(reason, lost_generations)
                site.override_mode(SiteMode.ON_SITE, reason)
            site.provision(SOFTWARE_VERSION, key_id, public_key, generation)
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
            administrators=self.administrator_verifiers(),
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

    def administrator_verifiers(self) -> dict[str, str]:
        """Central's active administrators, each with a partial verifier of the password (what a
        laptop holds so as to tell an administrator, and only one, why they cannot log in there)."""
        admins = [row for row in self.users.all() if row.is_admin and row.active]
        records = (self.core.get(User, UUID(row.user_id)) for row in admins)
        return {user.username: self.core.hasher.partial(user.password_hash) for user in records if user}

    def slice_ids(self, site: str, *, history: bool) -> builtins.list[UUID]:
        """What a laptop gets: the site record, configuration, users that may work there (no
        administrator: that profile never works on a laptop), and the patients of central and of
        this site (not other sites'); with ``history`` (the start-of-mission rebuild), also every
        record the site's own events touched, as central holds it."""
        central = self.core.require_identity().site_code
        ids = [site_id(site)]
        ids += [
            i for i in (PASSWORD_POLICY_ID, LOCK_POLICY_ID) if self.core.get(BrigadaAggregate, i) is not None
        ]
        ids += [UUID(u.user_id) for u in self.users.all() if not u.is_admin]
        ids += [UUID(p.patient_id) for p in self.patients.all() if p.site in (site, central)]
        for more in self.extra_slices:
            ids += more(site)
        if history:
            ids += self.history(site)
        # Once each, in first-mention order; this store's identity is never part of a slice.
        return [i for i in dict.fromkeys(ids) if i != STORE_IDENTITY_ID]

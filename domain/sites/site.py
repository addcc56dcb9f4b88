"""A disconnected site (seed 000): registered and authorized on central, with its field
warehouses, the actions it may perform (its parameters) and its mode, a lease on its data.

The Site aggregate is central's record and central's alone: a provisioned laptop holds a copy of
its events and receives later ones at sync, but never appends to it. Central's mode is therefore
authoritative, and the laptop's copy mirrors it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue


class SiteMode(Enum):
    ON_SITE = "INS"  # at the provider's premises, unused: the laptop refuses operations
    ON_MISSION = "MSN"  # in the field: the laptop performs its enabled actions


class SiteAction(Enum):
    """The 14 actions a disconnected site may be authorized to perform (seed 000)."""

    PATIENTS = "patients"
    APPOINTMENTS = "appointments"
    AMBULATORY_ADMISSIONS = "ambulatory-admissions"
    CARE = "care"
    PRESCRIPTIONS = "prescriptions"
    SERVICE_ORDERS = "service-orders"
    FIELD_TRANSFERS = "field-transfers"
    SUPPLY_REQUESTS = "supply-requests"
    DISPENSING = "dispensing"
    NURSING_ADMINISTRATION = "nursing-administration"
    RETURNS = "returns"
    DIAGNOSTIC_SERVICES = "diagnostic-services"
    SURGERIES = "surgeries"
    SERVICE_VOUCHERS = "service-vouchers"


ACTION_LABELS: dict[SiteAction, str] = {
    SiteAction.PATIENTS: N_("Patient management (creation, changes, contracts)"),
    SiteAction.APPOINTMENTS: N_("Planning, booking and confirming appointments"),
    SiteAction.AMBULATORY_ADMISSIONS: N_("Admissions to ambulatory hospitalization"),
    SiteAction.CARE: N_("Outpatient and ambulatory hospitalization care (finalized only)"),
    SiteAction.PRESCRIPTIONS: N_("Prescribing medicines"),
    SiteAction.SERVICE_ORDERS: N_("Service orders"),
    SiteAction.FIELD_TRANSFERS: N_("Transfers of medicines and supplies to field warehouses"),
    SiteAction.SUPPLY_REQUESTS: N_("Requests of medicines and supplies for patients"),
    SiteAction.DISPENSING: N_("Pharmacy dispensing"),
    SiteAction.NURSING_ADMINISTRATION: N_("Nursing administration of medicines and supplies"),
    SiteAction.RETURNS: N_("Returns of medicines and supplies not applied"),
    SiteAction.DIAGNOSTIC_SERVICES: N_("On-demand diagnostic services"),
    SiteAction.SURGERIES: N_("Surgeries linked to care events"),
    SiteAction.SERVICE_VOUCHERS: N_("Service vouchers"),
}


class SiteRevoked(DomainError):
    template = N_("site {site} is revoked: it may not be provisioned or synchronized")


class SiteAlreadyRegistered(DomainError):
    template = N_("site {site} is already registered")


class NoLaptopToReplace(DomainError):
    template = N_("site {site} has no laptop to replace: provision it without --replace-lost-laptop")


@dataclass(frozen=True)
class LostLaptop:
    """A laptop an administrator replaced as lost (``Site.LaptopReplaced``). Central keeps what
    it needs to recognize it if it ever comes back: the log generations it may push (each
    checked with the chain key of its own provisioning), and the public key it signs with. What
    it pushes is then held in quarantine for a person; it never takes the site's lease back."""

    key_id: str  # its provisioning's chain key (domain/chain.site_key)
    public_key: str  # its Ed25519 public key (hex), retired
    generations: tuple[str, ...]  # every log generation central issued it
    mode: SiteMode  # the site's mode on central when it was replaced: the one the laptop holds
    replaced_at: datetime
    reason: str


class Site(BrigadaAggregate):
    TOPIC = "brigada.Site"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Site.Event"

    class Registered(BrigadaAggregate.Created):
        TOPIC = "brigada.Site.Registered"
        code: str
        name: str
        warehouses: list[str]
        actions: list[str]

    class WarehouseAdded(Event):
        TOPIC = "brigada.Site.WarehouseAdded"
        warehouse: str

    class ParametersChanged(Event):
        TOPIC = "brigada.Site.ParametersChanged"
        actions: list[str]  # the full set now enabled

    class Provisioned(Event):
        TOPIC = "brigada.Site.Provisioned"
        secret_hash: str
        software_version: str
        key_id: str = ""  # names this provisioning's chain key (domain/chain.site_key)
        public_key: str = ""  # the laptop's Ed25519 public key (hex): its requests are signed
        generation: str = ""  # the new store's log generation (later ones: start-of-mission runs)

    class ModeChanged(Event):
        TOPIC = "brigada.Site.ModeChanged"
        mode: SiteMode
        reason: str = ""  # why an administrator changed it on central while the laptop held the lease

        def apply(self, site: Any) -> None:
            site.mode = self.mode
            site.mode_since = self.timestamp
            if self.mode is SiteMode.ON_MISSION:
                site.lease = site.enabled

    class LaptopReplaced(Event):
        """An administrator provisioned the site again because its laptop is lost: that laptop's
        unsynced work is recorded as lost, its credential and chain key retired."""

        TOPIC = "brigada.Site.LaptopReplaced"
        reason: str
        lost_key_id: str
        lost_public_key: str
        lost_generations: list[str]
        lost_mode: SiteMode

        def apply(self, site: Any) -> None:
            lost = LostLaptop(
                key_id=self.lost_key_id,
                public_key=self.lost_public_key,
                generations=tuple(self.lost_generations),
                mode=self.lost_mode,
                replaced_at=self.timestamp,
                reason=self.reason,
            )
            site.lost_laptops = [*site.lost_laptops, lost]

    class Revoked(Event):
        TOPIC = "brigada.Site.Revoked"

    class Returning(Event):
        """An end-of-mission sync flipped the mode to INS and the laptop has not yet confirmed
        it: until ``Returned``, central still leaves the site's data alone."""

        TOPIC = "brigada.Site.Returning"

    class Returned(Event):
        TOPIC = "brigada.Site.Returned"

    @staticmethod
    def create_id(code: str) -> UUID:
        return site_id(code)

    @event(Registered)
    def __init__(self, code: str, name: str, warehouses: list[str], actions: list[str]) -> None:
        self.code = code
        self.name = name
        self.warehouses = list(warehouses)
        self.actions = set(actions)
        self.mode = SiteMode.ON_SITE
        self.revoked = False
        self.secret_hash: str | None = None
        self.software_version: str | None = None
        self.key_id = ""
        self.public_key = ""
        self.generation = ""  # the log generation the current provisioning started
        self.returning = False
        self.mode_since: datetime | None = None  # when central's mode last changed
        self.lost_laptops: list[LostLaptop] = []
        # The actions enabled when central last handed the lease over (the mode went to MSN):
        # what central lets the laptop's pushed events do, whatever changed since.
        self.lease: frozenset[SiteAction] = frozenset()

    @classmethod
    def register(cls, code: str, name: str, warehouses: list[str], actions: set[SiteAction]) -> Site:
        if len(set(warehouses)) != len(warehouses):
            raise InvalidValue("warehouse", N_("each field warehouse must be named once"))
        return cls(code=code, name=name, warehouses=warehouses, actions=sorted(a.value for a in actions))

    @property
    def enabled(self) -> frozenset[SiteAction]:
        return frozenset(SiteAction(a) for a in self.actions)

    def _require_active(self) -> None:
        if self.revoked:
            raise SiteRevoked(site=self.code)

    def add_warehouse(self, warehouse: str) -> None:
        self._require_active()
        if warehouse in self.warehouses:
            raise InvalidValue("warehouse", N_("the site already has warehouse {name}"), name=warehouse)
        self._add_warehouse(warehouse=warehouse)

    @event(WarehouseAdded)
    def _add_warehouse(self, warehouse: str) -> None:
        self.warehouses.append(warehouse)

    def change_parameters(self, enable: set[SiteAction], disable: set[SiteAction]) -> bool:
        """Enable and disable actions; False when nothing changes (no event)."""
        self._require_active()
        both = enable & disable
        if both:
            raise InvalidValue(
                "action",
                N_("{action} cannot be enabled and disabled at once"),
                action=min(a.value for a in both),
            )
        new = (self.enabled | enable) - disable
        if new == self.enabled:
            return False
        self._change_parameters(actions=sorted(a.value for a in new))
        return True

    @event(ParametersChanged)
    def _change_parameters(self, actions: list[str]) -> None:
        self.actions = set(actions)

    def provision(self, software_version: str, key_id: str, public_key: str, generation: str = "") -> None:
        """A laptop made for the site: its chain key's id, the public key of its credential and
        its store's first log generation (a laptop provisioned again replaces them all; the old
        laptop can no longer sync)."""
        self._require_active()
        self._provision(
            secret_hash="",
            software_version=software_version,
            key_id=key_id,
            public_key=public_key,
            generation=generation,
        )

    @event(Provisioned)
    def _provision(
        self,
        secret_hash: str,
        software_version: str,
        key_id: str = "",
        public_key: str = "",
        generation: str = "",
    ) -> None:
        self.secret_hash = secret_hash
        self.software_version = software_version
        self.key_id = key_id
        self.public_key = public_key
        self.generation = generation

    @property
    def provisioned(self) -> bool:
        return self.secret_hash is not None

    def replace_lost_laptop(self, reason: str, generations: list[str]) -> None:
        """Record the current laptop as lost, before a new one is provisioned: ``generations``
        are every log generation central issued it (its provisioning's and each start-of-mission
        rebuild's since)."""
        self._require_active()
        if not self.provisioned:
            raise NoLaptopToReplace(site=self.code)
        reason = reason.strip()
        if not reason:
            raise InvalidValue("reason", N_("say why the laptop is considered lost"))
        self.trigger_event(
            self.LaptopReplaced,
            reason=reason,
            lost_key_id=self.key_id,
            lost_public_key=self.public_key,
            lost_generations=list(dict.fromkeys(generations)),
            lost_mode=self.lease_mode,
        )

    @property
    def retired_keys(self) -> list[str]:
        """The public keys of the laptops replaced as lost: a request they sign is still
        authenticated, so that what they push reaches quarantine (never the site's data)."""
        return [lost.public_key for lost in self.lost_laptops if lost.public_key]

    def lost_laptop(self, generation: str) -> LostLaptop | None:
        """The lost laptop a log generation belongs to, if any."""
        for lost in self.lost_laptops:
            if generation and generation in lost.generations:
                return lost
        return None

    def key_id_of(self, generation: str) -> str:
        """The chain key id a log generation was made with: a lost laptop's own, else the
        current provisioning's."""
        lost = self.lost_laptop(generation)
        return lost.key_id if lost is not None else self.key_id

    def change_mode(self, mode: SiteMode, reason: str = "") -> None:
        self._require_active()
        if mode is not self.mode:
            self.trigger_event(self.ModeChanged, mode=mode, reason=reason)

    def override_mode(self, mode: SiteMode, reason: str) -> None:
        """An administrator's word on central: the mode, with why (a hand-back left half-done
        is ended, and the reason recorded even when the mode itself does not change)."""
        self._require_active()
        if mode is not self.mode or self.returning:
            self.trigger_event(self.ModeChanged, mode=mode, reason=reason)
        self.finish_return()

    @property
    def lease_mode(self) -> SiteMode:
        """Who may change the site's data, as central must see it: the site keeps its lease
        while an end-of-mission sync is still handing it back."""
        return SiteMode.ON_MISSION if self.returning else self.mode

    def start_return(self) -> None:
        """The end-of-mission flip: INS on record, the lease held until ``finish_return``."""
        self.change_mode(SiteMode.ON_SITE)
        if not self.returning:
            self._start_return()

    @event(Returning)
    def _start_return(self) -> None:
        self.returning = True

    def finish_return(self) -> None:
        if self.returning:
            self._finish_return()

    @event(Returned)
    def _finish_return(self) -> None:
        self.returning = False

    def revoke(self) -> None:
        if not self.revoked:
            self._revoke()

    @event(Revoked)
    def _revoke(self) -> None:
        self.revoked = True


def site_id(code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:site:{code.upper()}")

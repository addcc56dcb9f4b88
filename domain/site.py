"""A disconnected site (seed 000): registered and authorized on central, with its field
warehouses, the actions it may perform (its parameters) and its mode, a lease on its data.

The Site aggregate is central's record and central's alone: a provisioned laptop holds a copy of
its events and receives later ones at sync, but never appends to it. Central's mode is therefore
authoritative, and the laptop's copy mirrors it.
"""

from __future__ import annotations

from enum import Enum
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

    class ModeChanged(Event):
        TOPIC = "brigada.Site.ModeChanged"
        mode: SiteMode

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
        self.returning = False
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
                "action", N_("{action} cannot be enabled and disabled at once"), action=sorted(both)[0].value
            )
        new = (self.enabled | enable) - disable
        if new == self.enabled:
            return False
        self._change_parameters(actions=sorted(a.value for a in new))
        return True

    @event(ParametersChanged)
    def _change_parameters(self, actions: list[str]) -> None:
        self.actions = set(actions)

    def provision(self, software_version: str, key_id: str, public_key: str) -> None:
        """A laptop made for the site: its chain key's id and the public key of its credential
        (a laptop provisioned again replaces both; the old laptop can no longer sync)."""
        self._require_active()
        self._provision(
            secret_hash="", software_version=software_version, key_id=key_id, public_key=public_key
        )

    @event(Provisioned)
    def _provision(
        self, secret_hash: str, software_version: str, key_id: str = "", public_key: str = ""
    ) -> None:
        self.secret_hash = secret_hash
        self.software_version = software_version
        self.key_id = key_id
        self.public_key = public_key

    def change_mode(self, mode: SiteMode) -> None:
        self._require_active()
        if mode is not self.mode:
            self._change_mode(mode=mode)

    @event(ModeChanged)
    def _change_mode(self, mode: SiteMode) -> None:
        self.mode = mode
        if mode is SiteMode.ON_MISSION:
            self.lease = self.enabled

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

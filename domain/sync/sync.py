"""End-of-mission and start-of-mission sync (seed 000): the seed's functions, central's record of
each sync (SyncRun) and of each field changed on both sides (SyncConflict).

Central writes both aggregates; a laptop holds copies of its own site's runs, so ``sync history``
reads the same rows on either side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from itertools import groupby
from operator import itemgetter
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError
from domain.sites.site import ACTION_LABELS, SiteAction, SiteMode


class SyncFunction(Enum):
    """The functions a sync moves, in the seed's order (its list of a site's actions)."""

    PATIENTS = "patients"
    APPOINTMENTS = "appointments"
    ADMISSIONS = "admissions"
    ENCOUNTERS = "encounters"
    PRESCRIPTIONS = "prescriptions"
    SERVICE_ORDERS = "service-orders"
    TRANSFERS = "transfers"
    REQUESTS = "requests"
    DISPENSING = "dispensing"
    ADMINISTRATION = "administration"
    RETURNS = "returns"
    DIAGNOSTIC_SERVICES = "diagnostic-services"
    SURGERIES = "surgeries"
    VOUCHERS = "vouchers"
    SECURITY = "security-audit"


# Each function but the last is one of the seed's site actions, and the screen names it as the
# seed does; the last holds what a laptop records whatever the action (sessions, access records,
# numbering, refused syncs).
FUNCTION_ACTIONS: dict[SyncFunction, SiteAction] = {
    SyncFunction.PATIENTS: SiteAction.PATIENTS,
    SyncFunction.APPOINTMENTS: SiteAction.APPOINTMENTS,
    SyncFunction.ADMISSIONS: SiteAction.AMBULATORY_ADMISSIONS,
    SyncFunction.ENCOUNTERS: SiteAction.CARE,
    SyncFunction.PRESCRIPTIONS: SiteAction.PRESCRIPTIONS,
    SyncFunction.SERVICE_ORDERS: SiteAction.SERVICE_ORDERS,
    SyncFunction.TRANSFERS: SiteAction.FIELD_TRANSFERS,
    SyncFunction.REQUESTS: SiteAction.SUPPLY_REQUESTS,
    SyncFunction.DISPENSING: SiteAction.DISPENSING,
    SyncFunction.ADMINISTRATION: SiteAction.NURSING_ADMINISTRATION,
    SyncFunction.RETURNS: SiteAction.RETURNS,
    SyncFunction.DIAGNOSTIC_SERVICES: SiteAction.DIAGNOSTIC_SERVICES,
    SyncFunction.SURGERIES: SiteAction.SURGERIES,
    SyncFunction.VOUCHERS: SiteAction.SERVICE_VOUCHERS,
}
FUNCTION_LABELS: dict[SyncFunction, str] = {
    **{function: ACTION_LABELS[action] for function, action in FUNCTION_ACTIONS.items()},
    SyncFunction.SECURITY: N_("Security and audit"),
}

# Movements of medicines and supplies belong to what was done, whichever record holds them.
_BY_EVENT = {
    "Dispensed": SyncFunction.DISPENSING,
    "Administered": SyncFunction.ADMINISTRATION,
    "Returned": SyncFunction.RETURNS,
}
_BY_AGGREGATE = {
    "Patient": SyncFunction.PATIENTS,
    "AgendaDay": SyncFunction.APPOINTMENTS,
    "Admission": SyncFunction.ADMISSIONS,
    "Encounter": SyncFunction.ENCOUNTERS,
    "StoredDocument": SyncFunction.ENCOUNTERS,
    "Prescription": SyncFunction.PRESCRIPTIONS,
    "ServiceOrder": SyncFunction.SERVICE_ORDERS,
    "StockLot": SyncFunction.TRANSFERS,
    "Warehouse": SyncFunction.TRANSFERS,
    "SupplyRequest": SyncFunction.REQUESTS,
    "DiagnosticService": SyncFunction.DIAGNOSTIC_SERVICES,
    "Surgery": SyncFunction.SURGERIES,
    "ServiceVoucher": SyncFunction.VOUCHERS,
    "VoucherSlot": SyncFunction.VOUCHERS,
    "SyncRefusal": SyncFunction.SECURITY,  # a refused sync, recorded on the laptop
}


def function_of(topic: str) -> SyncFunction:
    """The function an event's topic belongs to; users, access records, numbering and anything
    else a laptop records go with security and audit."""
    parts = topic.split(".")
    aggregate = parts[1] if len(parts) > 1 else ""
    if aggregate in _BY_AGGREGATE and parts[-1] in _BY_EVENT:
        return _BY_EVENT[parts[-1]]
    return _BY_AGGREGATE.get(aggregate, SyncFunction.SECURITY)


@dataclass(frozen=True)
class StepCount:
    """A step of the sync screen: the records of its function (patients, visits...) and the
    events that touch them."""

    records: int = 0
    events: int = 0


# A voucher's per-visit slot (it keeps one voucher in force per visit) is written with the voucher:
# its events count beside the voucher's, but it is no record of its own to the user.
COMPANION = "VoucherSlot"


def tally(touches: Iterable[tuple[str, UUID, int]]) -> dict[SyncFunction, StepCount]:
    """Every function, in the seed's order, zeros included, from (topic, record, events) rows
    that come grouped by record (a record's rows one after the other): a record counts once per
    function however many of its events there are. Only the current record's functions are held,
    so a mission's whole log is counted in constant memory."""
    records = dict.fromkeys(SyncFunction, 0)
    events = dict.fromkeys(SyncFunction, 0)
    for _record, rows in groupby(touches, key=itemgetter(1)):
        counted: set[SyncFunction] = set()
        for topic, _same, count in rows:
            function = function_of(topic)
            if topic.split(".")[1:2] != [COMPANION]:
                counted.add(function)
            events[function] += count
        for function in counted:
            records[function] += 1
    return {f: StepCount(records[f], events[f]) for f in SyncFunction}


class SyncCrossing(Enum):
    END_OF_MISSION = "end-of-mission"  # MSN -> INS: the mission's work reaches central
    START_OF_MISSION = "start-of-mission"  # INS -> MSN: the laptop is rebuilt from central

    @staticmethod
    def from_mode(mode: SiteMode) -> SyncCrossing:
        return SyncCrossing.END_OF_MISSION if mode is SiteMode.ON_MISSION else SyncCrossing.START_OF_MISSION

    @property
    def new_mode(self) -> SiteMode:
        return SiteMode.ON_SITE if self is SyncCrossing.END_OF_MISSION else SiteMode.ON_MISSION


class SyncRefused(DomainError):
    """The preflight refused the sync: nothing was written on either side."""


class SyncNotAllowed(SyncRefused):
    """One of the seed's conditions for a sync does not hold. Nothing moves; the laptop records
    the attempt and its reason (``SyncRefusal``), so ``sync history`` lists it."""


class VersionMismatch(SyncNotAllowed):
    """Central and the laptop run different versions of Brigada: the seed wants the same on both
    sides, each store then brought to it with ``brigada upgrade``."""

    template = N_(
        "the server runs version {server}, this laptop {laptop}: install the same version on both "
        "and run 'brigada upgrade'"
    )


class EncountersOpen(SyncNotAllowed):
    template = N_("encounters not finalized at {site}: {visits}; finalize them before syncing")


class AdmissionsOpen(SyncNotAllowed):
    """An admission is a care event too (seed 000: "eventos de atención ... finalizados"): the
    patient still admitted at the site would be left with no one to discharge them."""

    template = N_("admissions still open at {site}: {admissions}; discharge them before syncing")


class ModesDisagree(SyncNotAllowed):
    template = N_(
        "central holds site {site} in mode {central}, this laptop in {laptop}: ask central to set it"
    )


def plan_crossing(
    site: str,
    *,
    server_version: str,
    laptop_version: str,
    open_visits: list[str],
    open_admissions: list[str],
    laptop_mode: SiteMode,
    central_mode: SiteMode,
    resuming: SyncCrossing | None,
) -> SyncCrossing:
    """The seed's conditions for a sync, and which crossing it is: the same version on both
    sides, every care event at the site finished (visits finalized, admissions discharged), and
    both sides holding the same mode (unless a
    sync cut half-way is being resumed: then its own crossing goes on)."""
    if server_version != laptop_version:
        raise VersionMismatch(server=server_version, laptop=laptop_version)
    if open_visits:
        raise EncountersOpen(site=site, visits=", ".join(open_visits))
    if open_admissions:
        raise AdmissionsOpen(site=site, admissions=", ".join(open_admissions))
    if resuming is not None:
        return resuming
    if laptop_mode is not central_mode:
        raise ModesDisagree(site=site, central=central_mode.value, laptop=laptop_mode.value)
    return SyncCrossing.from_mode(laptop_mode)


class CrossingRefused(SyncNotAllowed):
    template = N_("central holds site {site} in mode {mode}: a sync cannot start the {crossing}")


def require_crossing(site: str, crossing: SyncCrossing, central_mode: SiteMode, returning: bool) -> None:
    """Central decides which crossing a new run may be, from its own record of the lease, never
    from what the laptop asks: an end of mission only on mission, a start only on site (and not
    while a hand-back is still open)."""
    if returning or crossing is not SyncCrossing.from_mode(central_mode):
        raise CrossingRefused(site=site, mode=central_mode.value, crossing=crossing.value)


class SyncRun(BrigadaAggregate):
    """One sync of one site, as central records it: started, each merged batch (in the batch's
    own transaction), the mode flip, and completion."""

    TOPIC = "brigada.SyncRun"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.SyncRun.Event"

    class Started(BrigadaAggregate.Created):
        TOPIC = "brigada.SyncRun.Started"
        site: str
        crossing: SyncCrossing
        generation: str  # the laptop store's generation that pushes
        pending: dict[str, int]  # function -> events to push, as counted at the start

    class Merged(Event):
        TOPIC = "brigada.SyncRun.Merged"
        counts: dict[str, int]  # function -> events merged by this batch
        upto: int  # the laptop's log position merged up to
        reapplied: int
        conflicts: int
        chain_head: str  # the laptop's chain link of the batch's last event
        quarantined: int = 0  # events held in quarantine (domain/sync/quarantine.py)

    class ModeFlipped(Event):
        TOPIC = "brigada.SyncRun.ModeFlipped"
        mode: SiteMode

    class Completed(Event):
        TOPIC = "brigada.SyncRun.Completed"
        rebuilt: int  # events copied into the rebuilt laptop store (start of mission)

    @event(Started)
    def __init__(self, site: str, crossing: SyncCrossing, generation: str, pending: dict[str, int]) -> None:
        self.site = site
        self.crossing = crossing
        self.generation = generation
        self.pending = dict(pending)
        self.merged: dict[str, int] = {}
        self.upto = 0
        self.chain_head: str | None = None
        self.flipped = False
        self.completed = False

    @classmethod
    def begin(
        cls, run_id: UUID, site: str, crossing: SyncCrossing, generation: str, pending: dict[str, int]
    ) -> SyncRun:
        """A run under the id the laptop chose, so a start sent again finds the same run."""
        return cls._create(
            cls.Started, id=run_id, site=site, crossing=crossing, generation=generation, pending=pending
        )

    def record_merge(
        self,
        counts: dict[str, int],
        upto: int,
        reapplied: int,
        conflicts: int,
        head: str,
        quarantined: int = 0,
    ) -> None:
        self._merged(
            counts=counts,
            upto=upto,
            reapplied=reapplied,
            conflicts=conflicts,
            chain_head=head,
            quarantined=quarantined,
        )

    @event(Merged)
    def _merged(
        self,
        counts: dict[str, int],
        upto: int,
        reapplied: int,
        conflicts: int,
        chain_head: str,
        quarantined: int = 0,
    ) -> None:
        for name, count in counts.items():
            self.merged[name] = self.merged.get(name, 0) + count
        self.upto = upto
        self.chain_head = chain_head

    def flip(self) -> None:
        if not self.flipped:
            self._flip(mode=self.crossing.new_mode)

    @event(ModeFlipped)
    def _flip(self, mode: SiteMode) -> None:
        self.flipped = True

    def complete(self, rebuilt: int) -> None:
        if not self.completed:
            self._complete(rebuilt=rebuilt)

    @event(Completed)
    def _complete(self, rebuilt: int) -> None:
        self.completed = True


class ConflictKeep(Enum):
    CENTRAL = "central"
    SITE = "site"


class ConflictAlreadyResolved(DomainError):
    template = N_("sync conflict {conflict} is already resolved")


class SyncConflict(BrigadaAggregate):
    """A shared record (a patient, a user) whose same field was changed on central and at a site
    while the site was on mission. The site's change was applied after central's (the value
    shown until someone resolves it); both values are kept here."""

    TOPIC = "brigada.SyncConflict"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.SyncConflict.Event"

    class Recorded(BrigadaAggregate.Created):
        TOPIC = "brigada.SyncConflict.Recorded"
        site: str
        aggregate_id: UUID
        record: str  # the aggregate's kind (Patient, User...)
        reference: str  # the record as people know it: chart number, user name
        fields: list[str]
        central_values: dict[str, str]
        site_values: dict[str, str]
        central_events: list[str]  # event ids of central's changes
        site_event: str  # the site's event id (its origin is kept on the re-applied event)

    class Resolved(Event):
        TOPIC = "brigada.SyncConflict.Resolved"
        keep: ConflictKeep

    @staticmethod
    def create_id(site_event: str, **_: Any) -> UUID:
        return conflict_id(site_event)

    @event(Recorded)
    def __init__(
        self,
        site: str,
        aggregate_id: UUID,
        record: str,
        reference: str,
        fields: list[str],
        central_values: dict[str, str],
        site_values: dict[str, str],
        central_events: list[str],
        site_event: str,
    ) -> None:
        self.site = site
        self.aggregate_id = aggregate_id
        self.record = record
        self.reference = reference
        self.fields = list(fields)
        self.central_values = dict(central_values)
        self.site_values = dict(site_values)
        self.central_events = list(central_events)
        self.site_event = site_event
        self.kept: ConflictKeep | None = None

    def resolve(self, keep: ConflictKeep) -> None:
        if self.kept is not None:
            raise ConflictAlreadyResolved(conflict=self.id.hex[:8])
        self._resolve(keep=keep)

    @event(Resolved)
    def _resolve(self, keep: ConflictKeep) -> None:
        self.kept = keep


def conflict_id(site_event: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:sync-conflict:{site_event}")


SYNC_ENUMS = (SyncCrossing, ConflictKeep)

# -- which fields an event changes, to tell a conflict from two changes that merge -------------
WHOLE_RECORD = "*"  # an event that closes the record (a merged chart) conflicts with any change
SECRET_FIELDS = frozenset({"password", "totp", "unlock_key"})
_BASE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "context"})
_TOUCHES: dict[str, Any] = {
    "brigada.Patient.Corrected": lambda e: {f"details.{k}" for k in e.changes},
    "brigada.Patient.ContractAssigned": lambda e: {f"contract.{e.contract_id}"},
    "brigada.Patient.ContractEnded": lambda e: {f"contract.{e.contract_id}"},
    "brigada.Patient.MergedInto": lambda e: {WHOLE_RECORD},
    "brigada.Patient.Absorbed": lambda e: set(),
    "brigada.User.LoggedIn": lambda e: set(),
    "brigada.User.LoggedOut": lambda e: set(),
    "brigada.User.LoginFailed": lambda e: set(),
    "brigada.User.SecondFactorUsed": lambda e: set(),
    "brigada.User.UnlockCodeIssued": lambda e: set(),
    "brigada.User.PasswordChanged": lambda e: {"password"},
    "brigada.User.Locked": lambda e: {"locked"},
    "brigada.User.Unlocked": lambda e: {"locked"},
    "brigada.User.Deactivated": lambda e: {"active"},
    "brigada.User.Reactivated": lambda e: {"active"},
    "brigada.User.TotpEnrolled": lambda e: {"totp"},
    "brigada.User.TotpRemoved": lambda e: {"totp"},
    "brigada.User.UnlockKeySet": lambda e: {"unlock_key"},
}


def touched(domain_event: Any) -> frozenset[str]:
    """The fields a domain event changes (by default, its own attributes)."""
    rule = _TOUCHES.get(type(domain_event).TOPIC)
    if rule is not None:
        return frozenset(rule(domain_event))
    return frozenset(k for k in vars(domain_event) if k not in _BASE_FIELDS)


def overlap(site_fields: frozenset[str], central_fields: frozenset[str]) -> list[str]:
    """The fields changed on both sides: every one of the site's if central closed the record."""
    if WHOLE_RECORD in central_fields and site_fields:
        return sorted(site_fields)
    return sorted(site_fields & central_fields)


def field_value(domain_event: Any, field: str) -> str:
    """A field's value as an event set it, for people to compare; secrets are never shown."""
    if field in SECRET_FIELDS:
        return "••••"
    if field.startswith("details."):
        return str(domain_event.changes.get(field.removeprefix("details."), ""))
    if field in (WHOLE_RECORD, "locked", "active") or field.startswith("contract."):
        topic: str = type(domain_event).TOPIC
        return topic.rsplit(".", 1)[-1]  # Locked, Unlocked, ContractEnded...
    value = getattr(domain_event, field, "")
    return value.value if isinstance(value, Enum) else str(value)

"""What central lets a laptop's pushed event do (DESIGN.md §6, "the trust boundary is central").

A laptop is a device in the field: it can be stolen, copied, or run by someone who edits its
store. So central judges every event a laptop pushes, before anything is stored, with
``authorize``: a pure function of the batch and of facts central holds (never what the laptop
says about itself). An event is

- applied as it is, when central's copy of its record is where the laptop left it;
- re-applied on central's newer version of the record ("rebase"), only for shared records a
  laptop may change and only for changes that cannot undo central's (never a user's security
  data);
- or held in quarantine with the rule that refused it, together with every later event of the
  same record (they depend on it), for a person to release or reject.

The rules, in the order they are asked:

1. the topic is one Brigada knows, and the state could be read;
2. the event was stamped at the pushing site;
3. its topic is one a laptop may record: the 14 site actions of seed 000, sessions, access
   records, refused syncs, the site's own numbering, and a user's own self-service security
   events;
4. the acting user is a non-administrator user central handed to the site;
5. a site action was recorded on mission (an end-of-mission push) and enabled in the parameters
   central held when it handed the lease over; nothing the seed forbids a laptop (emergency or
   inpatient admissions, entries into field warehouses, an administrator's reset or unlock,
   clinical laboratory, a surgery dated after the day it was recorded);
6. the record has no event held in quarantine;
7. the record belongs to the site (created there, its numbering, its agenda, its field
   warehouses' stock) or is a shared one a laptop may change (a patient; a user, only its own
   self-service events), and a record is created only once;
8. its event id is new (not among central's events of the record, nor earlier in the push), and
   its version follows central's copy and the laptop's previous event of the record in the push
   (or the record is shared and the change may be re-applied).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

from domain.access_log import LOGIN_UNKNOWN_USER, SITE_ACCESS_ACTIONS
from domain.base import BrigadaAggregate
from domain.clinical.admission import AdmissionKind
from domain.errors import N_
from domain.pharmacy.diagnostic_service import is_clinical_laboratory
from domain.pharmacy.stock_lot import StockSource
from domain.sites.site import ACTION_LABELS, SiteAction
from domain.sites.site_policy import FORBIDDEN_LABELS, Forbidden
from domain.sync.sync import SyncCrossing

UNKNOWN_USER = "?"  # the acting user of an access record for a login under a name that does not exist


class TrustRule(Enum):
    """Why central did not apply a pushed event as it is."""

    UNKNOWN_TOPIC = "unknown-topic"
    UNDECODABLE = "undecodable"
    SITE_STAMP = "site-stamp"
    NOT_A_SITE_EVENT = "not-a-site-event"
    USER_NOT_OF_SITE = "user-not-of-site"
    ADMIN_ON_SITE = "admin-on-site"
    NOT_ON_MISSION = "not-on-mission"
    ACTION_NOT_ENABLED = "action-not-enabled"
    FORBIDDEN_ON_LAPTOP = "forbidden-on-laptop"
    DEPENDS_ON_QUARANTINE = "depends-on-quarantine"
    OTHER_SITES_RECORD = "other-sites-record"
    NOT_OWN_USER = "not-own-user"
    RECORD_EXISTS = "record-exists"
    UNKNOWN_RECORD = "unknown-record"
    VERSION_GAP = "version-gap"
    VERSION_REPEATED = "version-repeated"
    CHANGED_ON_CENTRAL = "changed-on-central"
    EVENT_ID_REUSED = "event-id-reused"
    LOST_LAPTOP = "lost-laptop"  # pushed by a laptop replaced as lost: every event, whatever it is


RULE_TEXTS: dict[TrustRule, str] = {
    TrustRule.UNKNOWN_TOPIC: N_("it cannot be read as any event a site records ({topic})"),
    TrustRule.UNDECODABLE: N_("its content cannot be read"),
    TrustRule.SITE_STAMP: N_("it is stamped for site {stamped}, not for the site that pushed it"),
    TrustRule.NOT_A_SITE_EVENT: N_("a disconnected site may not record it ({topic})"),
    TrustRule.USER_NOT_OF_SITE: N_("its user {user} is not a user central handed to this site"),
    TrustRule.ADMIN_ON_SITE: N_("its user {user} is an administrator, a profile disabled on sites"),
    TrustRule.NOT_ON_MISSION: N_("it was recorded while the site was not on mission: {action}"),
    TrustRule.ACTION_NOT_ENABLED: N_("the site was not authorized for it when it left: {action}"),
    TrustRule.FORBIDDEN_ON_LAPTOP: N_("a disconnected environment may never do this: {operation}"),
    TrustRule.DEPENDS_ON_QUARANTINE: N_("an earlier event of the same record is in quarantine"),
    TrustRule.OTHER_SITES_RECORD: N_("the record belongs to {owner}, not to this site"),
    TrustRule.NOT_OWN_USER: N_("it changes user {username}, and only that user may do so from a site"),
    TrustRule.RECORD_EXISTS: N_("it creates a record that already exists on central"),
    TrustRule.UNKNOWN_RECORD: N_("it changes a record central does not hold"),
    TrustRule.VERSION_GAP: N_("its record version {version} does not follow central's {head}"),
    TrustRule.VERSION_REPEATED: N_("its record version {version} is already on central"),
    TrustRule.CHANGED_ON_CENTRAL: N_(
        "central changed the record meanwhile and this change may not be re-applied over it"
    ),
    TrustRule.EVENT_ID_REUSED: N_("its event id is already on central or in the same push"),
    TrustRule.LOST_LAPTOP: N_("its laptop was replaced as lost on {date}: a person decides"),
}


@dataclass(frozen=True)
class Origin:
    """Who a record belongs to, as its first event says."""

    kind: str  # the aggregate's name in its topics ("Patient", "StockLot"...)
    site: str  # the site it belongs to
    warehouse: str | None = None  # a stock lot's
    username: str | None = None  # a user's


@dataclass(frozen=True)
class CentralRecord:
    """Central's copy of a record a batch touches."""

    origin: Origin
    head: int  # central's newest version
    held: bool = False  # an event of it is held in quarantine
    event_ids: frozenset[str] = frozenset()  # the context event ids of its events on central


@dataclass(frozen=True)
class PushingSite:
    """What central holds about the site that pushes."""

    code: str
    crossing: SyncCrossing
    lease: frozenset[SiteAction]  # enabled when central handed the lease over
    field_warehouses: frozenset[str]
    users: Mapping[str, bool]  # the users central hands to sites: name -> is an administrator


@dataclass(frozen=True)
class PushedEvent:
    """One event of a batch. ``event`` is the decoded domain event, or None when its topic is
    unknown or its state could not be read; ``stamped_site`` is the site the raw state names
    (what the chain filed it under)."""

    position: int
    record_id: UUID
    version: int
    topic: str
    event: Any
    stamped_site: str


class Outcome(Enum):
    APPLY = "apply"  # as it is
    REBASE = "rebase"  # at ``version`` on central's newer copy, its origin kept
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Verdict:
    position: int
    outcome: Outcome
    version: int = 0  # where it is stored (APPLY, REBASE)
    rule: TrustRule | None = None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicRule:
    """What recording a topic on a laptop needs."""

    action: SiteAction | None = None  # the site action it belongs to (None: any mode)
    self_service: bool = False  # a user's event about their own record
    rebase: bool = False  # may be re-applied over central's newer copy of a shared record


def _rules() -> dict[str, TopicRule]:
    rules: dict[str, TopicRule] = {}

    def add(prefix: str, names: Iterable[str], rule: TopicRule) -> None:
        for name in names:
            rules[f"brigada.{prefix}.{name}"] = rule

    patients = TopicRule(SiteAction.PATIENTS, rebase=True)
    add("Patient", ["Registered"], TopicRule(SiteAction.PATIENTS))
    add("Patient", ["Corrected", "ContractAssigned", "ContractEnded"], patients)
    add(
        "AgendaDay",
        [
            "Planned",
            "Replanned",
            "AppointmentBooked",
            "AppointmentConfirmed",
            "AppointmentCancelled",
            "AppointmentNoShow",
        ],
        TopicRule(SiteAction.APPOINTMENTS),
    )
    add("Admission", ["Admitted", "Discharged"], TopicRule(SiteAction.AMBULATORY_ADMISSIONS))
    encounter = [
        "Opened",
        "Deleted",
        "DiagnosisSet",
        "DiagnosisRemoved",
        "DocumentAttached",
        "DocumentDeleted",
        "Finalized",
        "ObservationsChanged",
        "ParagraphAdded",
        "ParagraphChanged",
        "ParagraphDeleted",
        "Reassigned",
        "ServiceAdded",
        "ServiceRemoved",
        "VisitDataChanged",
    ]
    add("Encounter", encounter, TopicRule(SiteAction.CARE))
    add("StoredDocument", ["Stored"], TopicRule(SiteAction.CARE))
    add("Prescription", ["Prescribed"], TopicRule(SiteAction.PRESCRIPTIONS))
    add("ServiceOrder", ["Ordered"], TopicRule(SiteAction.SERVICE_ORDERS))
    add("StockLot", ["Opened", "Received", "Sent"], TopicRule(SiteAction.FIELD_TRANSFERS))
    add("SupplyRequest", ["Requested"], TopicRule(SiteAction.SUPPLY_REQUESTS))
    for kind in ("Prescription", "StockLot", "SupplyRequest"):
        add(kind, ["Dispensed"], TopicRule(SiteAction.DISPENSING))
        add(kind, ["Returned"], TopicRule(SiteAction.RETURNS))
    add("SupplyRequest", ["Administered"], TopicRule(SiteAction.NURSING_ADMINISTRATION))
    add("DiagnosticService", ["Requested", "ResultRecorded"], TopicRule(SiteAction.DIAGNOSTIC_SERVICES))
    add("Surgery", ["Linked"], TopicRule(SiteAction.SURGERIES))
    add("ServiceVoucher", ["Issued", "Voided", "Released"], TopicRule(SiteAction.SERVICE_VOUCHERS))
    add("VoucherSlot", ["Opened", "Held", "Freed"], TopicRule(SiteAction.SERVICE_VOUCHERS))
    # Numbering (chart, visit, voucher numbers...) goes with whichever action takes a number.
    add("NumberSeries", ["Started", "Advanced"], TopicRule())
    add("Access", ["Recorded"], TopicRule())
    add("SyncRefusal", ["Recorded"], TopicRule())  # a sync the laptop refused, in any mode
    # A user's own sessions and security events; those that cannot undo central's changes may
    # be re-applied over a newer copy of the user, the others (a password, an unlock) may not.
    add(
        "User",
        ["LoggedIn", "LoggedOut", "SessionClosed", "LoginFailed", "SecondFactorUsed", "Locked"],
        TopicRule(self_service=True, rebase=True),
    )
    # An unlock by an offline code follows the code central issued (UnlockCodeIssued, on central's
    # copy of the user): re-applied after it; a field central changed too becomes a conflict.
    add("User", ["Unlocked", "UnlockCodeExpired"], TopicRule(self_service=True, rebase=True))
    add("User", ["PasswordChanged"], TopicRule(self_service=True))
    return rules


LAPTOP_TOPICS: dict[str, TopicRule] = _rules()

# Records a laptop shares with central: anyone's may be changed from a site (within the topics
# above). Every other kind belongs to the site that created it, or is keyed to a site.
SHARED_KINDS = frozenset({"Patient", "User"})


def origin_of(event: Any) -> Origin:
    """Who a record belongs to, from its creating event (central's or a pushed one)."""
    kind = type(event).TOPIC.split(".")[1]
    site = getattr(event, "site", None)
    if not isinstance(site, str) or kind not in ("AgendaDay", "NumberSeries", "Warehouse"):
        site = event.context.site
    warehouse = getattr(event, "warehouse", None) if kind == "StockLot" else None
    username = getattr(event, "username", None) if kind == "User" else None
    return Origin(kind=kind, site=site, warehouse=warehouse, username=username)


def authorize(
    batch: list[PushedEvent], site: PushingSite, records: Mapping[UUID, CentralRecord]
) -> list[Verdict]:
    """A verdict for each event of a batch, in order (see the module's rules)."""
    return _Judge(site, records).judge(batch)


class _Judge:
    def __init__(self, site: PushingSite, records: Mapping[UUID, CentralRecord]) -> None:
        self.site = site
        self.records = records
        # What the batch has done so far, per record: its head, its origin, held or not.
        self.heads: dict[UUID, int] = {}
        self.origins: dict[UUID, Origin] = {}
        self.held: set[UUID] = set()
        self.event_ids: set[str] = set()
        self.pushed_versions: dict[UUID, int] = {}  # the laptop's last version of each record

    def judge(self, batch: list[PushedEvent]) -> list[Verdict]:
        verdicts = []
        for pushed in batch:
            verdict = self._verdict(pushed)
            if pushed.event is not None:
                self.event_ids.add(pushed.event.context.event_id.hex)
            self.pushed_versions[pushed.record_id] = pushed.version
            if verdict.outcome is Outcome.QUARANTINE:
                self.held.add(pushed.record_id)
            else:
                self.heads[pushed.record_id] = verdict.version
                if pushed.version == 1 and pushed.record_id not in self.origins:
                    self.origins[pushed.record_id] = origin_of(pushed.event)
            verdicts.append(verdict)
        return verdicts

    def _verdict(self, pushed: PushedEvent) -> Verdict:
        refusal = self._refusal(pushed)
        if refusal is not None:
            rule, detail = refusal
            return Verdict(pushed.position, Outcome.QUARANTINE, rule=rule, detail=detail)
        central = self.records.get(pushed.record_id)
        event_id = pushed.event.context.event_id.hex
        if event_id in self.event_ids or (central is not None and event_id in central.event_ids):
            return Verdict(pushed.position, Outcome.QUARANTINE, rule=TrustRule.EVENT_ID_REUSED)
        head = self.heads.get(pushed.record_id, central.head if central else 0)
        if pushed.version == head + 1:
            return Verdict(pushed.position, Outcome.APPLY, version=pushed.version)
        detail = {"version": str(pushed.version), "head": str(head)}
        previous = self.pushed_versions.get(pushed.record_id)
        if pushed.version > head + 1 or (previous is not None and pushed.version != previous + 1):
            return Verdict(pushed.position, Outcome.QUARANTINE, rule=TrustRule.VERSION_GAP, detail=detail)
        kind = pushed.topic.split(".")[1]
        if kind not in SHARED_KINDS:  # the site's own record: only the site writes it
            return Verdict(
                pushed.position, Outcome.QUARANTINE, rule=TrustRule.VERSION_REPEATED, detail=detail
            )
        if not LAPTOP_TOPICS[pushed.topic].rebase:
            return Verdict(pushed.position, Outcome.QUARANTINE, rule=TrustRule.CHANGED_ON_CENTRAL)
        return Verdict(pushed.position, Outcome.REBASE, version=head + 1)

    def _refusal(self, pushed: PushedEvent) -> tuple[TrustRule, dict[str, str]] | None:
        """The first rule the event breaks, before its version is looked at."""
        topic, event, site = pushed.topic, pushed.event, self.site
        if not topic.startswith("brigada.") or (event is None and topic not in LAPTOP_TOPICS):
            return TrustRule.UNKNOWN_TOPIC, {"topic": topic[:80]}
        if event is None:
            return TrustRule.UNDECODABLE, {}
        stamped = event.context.site
        if stamped != site.code or pushed.stamped_site != site.code:
            shown = stamped if stamped != site.code else pushed.stamped_site
            return TrustRule.SITE_STAMP, {"stamped": shown[:40]}
        rule = LAPTOP_TOPICS.get(topic)
        if rule is None:
            return TrustRule.NOT_A_SITE_EVENT, {"topic": topic}
        refusal = self._user(event) or self._operation(rule, event)
        if refusal is not None:
            return refusal
        if pushed.record_id in self.held or self._central(pushed.record_id, "held"):
            return TrustRule.DEPENDS_ON_QUARANTINE, {}
        return self._ownership(pushed, rule)

    def _central(self, record_id: UUID, attribute: str) -> Any:
        central = self.records.get(record_id)
        return getattr(central, attribute) if central is not None else None

    def _user(self, event: Any) -> tuple[TrustRule, dict[str, str]] | None:
        user = event.context.user
        unknown_login = type(event).TOPIC == "brigada.Access.Recorded" and event.action == LOGIN_UNKNOWN_USER
        if user == UNKNOWN_USER and unknown_login:
            return None  # a login under a name that does not exist, recorded as such
        if user not in self.site.users:
            return TrustRule.USER_NOT_OF_SITE, {"user": user[:40]}
        if self.site.users[user]:
            return TrustRule.ADMIN_ON_SITE, {"user": user}
        return None

    def _operation(self, rule: TopicRule, event: Any) -> tuple[TrustRule, dict[str, str]] | None:
        forbidden = _forbidden(event)
        if forbidden is not None:
            return TrustRule.FORBIDDEN_ON_LAPTOP, {"operation": FORBIDDEN_LABELS[forbidden]}
        if rule.action is None:
            return None
        label = ACTION_LABELS[rule.action]
        if self.site.crossing is not SyncCrossing.END_OF_MISSION:
            return TrustRule.NOT_ON_MISSION, {"action": label}
        if rule.action not in self.site.lease:
            return TrustRule.ACTION_NOT_ENABLED, {"action": label}
        return None

    def _ownership(self, pushed: PushedEvent, rule: TopicRule) -> tuple[TrustRule, dict[str, str]] | None:
        central: CentralRecord | None = self.records.get(pushed.record_id)
        known = pushed.record_id in self.origins or (central is not None and central.head > 0)
        creates = isinstance(pushed.event, BrigadaAggregate.Created)
        if creates and (known or pushed.version != 1):
            return TrustRule.RECORD_EXISTS, {}
        if pushed.version == 1:
            if not creates:
                return TrustRule.UNKNOWN_RECORD, {}
            origin = origin_of(pushed.event)
        elif pushed.record_id in self.origins:
            origin = self.origins[pushed.record_id]
        elif central is not None and central.head > 0:
            origin = central.origin
        else:
            return TrustRule.UNKNOWN_RECORD, {}
        if origin.kind != pushed.topic.split(".")[1]:
            return TrustRule.UNKNOWN_RECORD, {}
        if rule.self_service:
            if origin.username != pushed.event.context.user:
                return TrustRule.NOT_OWN_USER, {"username": origin.username or "?"}
            return None
        if origin.kind == "StockLot":
            if origin.warehouse not in self.site.field_warehouses:
                return TrustRule.OTHER_SITES_RECORD, {"owner": origin.warehouse or "?"}
            return None
        if origin.kind not in SHARED_KINDS and origin.site != self.site.code:
            return TrustRule.OTHER_SITES_RECORD, {"owner": origin.site}
        return None


def _forbidden(event: Any) -> Forbidden | None:
    """What the seed forbids a laptop, seen in an event's own fields."""
    kind = getattr(event, "kind", None)
    if type(event).TOPIC == "brigada.Admission.Admitted" and kind is not AdmissionKind.AMBULATORY:
        return (
            Forbidden.EMERGENCY_ADMISSIONS
            if kind is AdmissionKind.EMERGENCY
            else Forbidden.INPATIENT_ADMISSIONS
        )
    # A field missing from a forged state counts as the forbidden value, never as allowed.
    topic = type(event).TOPIC
    if topic == "brigada.Access.Recorded" and getattr(event, "action", None) not in SITE_ACCESS_ACTIONS:
        return Forbidden.ADMINISTRATION  # an access record naming a change or central's work
    if topic == "brigada.StockLot.Received" and getattr(event, "source", None) is not StockSource.TRANSFER:
        return Forbidden.FIELD_WAREHOUSE_ENTRIES
    if topic == "brigada.User.PasswordChanged" and getattr(event, "must_change", True) is not False:
        return Forbidden.ADMINISTRATION  # a reset by an administrator, not one's own change
    if topic == "brigada.User.Unlocked" and not getattr(event, "code_digest", None):
        return Forbidden.ADMINISTRATION  # an administrator's unlock, not one by an offline code
    if topic == "brigada.DiagnosticService.Requested":
        cups = getattr(event, "cups_code", None)
        if not isinstance(cups, str) or is_clinical_laboratory(cups):
            return Forbidden.CLINICAL_LABORATORY
    if topic == "brigada.Surgery.Linked":
        performed, context = getattr(event, "performed_on", None), getattr(event, "context", None)
        recorded = getattr(context, "business_date", None)
        if not isinstance(performed, date) or not isinstance(recorded, date) or performed > recorded:
            return Forbidden.SURGICAL_SCHEDULING  # dated after the day it was recorded: a booking
    return None

"""Time-based locks on visit data (seed 004, "Prevención de borrado o modificación").

After N days, counted by date only (the hour is ignored), a rule forbids one kind of change: deleting
a visit or changing its visit data (from the visit's date), changing or deleting a report paragraph
(from the paragraph's creation date), changing observations (from the visit's date), deleting a
document (from its attachment date). N = 0 switches a rule off. The administrator is exempt; adding
paragraphs and documents is always allowed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from enum import Enum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue

LOCK_POLICY_ID: UUID = uuid5(NAMESPACE_URL, "brigada:lock-policy")
MAX_DAYS = 36_500


class LockRule(Enum):
    DELETE_VISIT = "delete_visit"
    CHANGE_VISIT_DATA = "change_visit_data"
    CHANGE_PARAGRAPH = "change_paragraph"
    CHANGE_OBSERVATIONS = "change_observations"
    DELETE_DOCUMENT = "delete_document"


LOCK_LABELS: dict[LockRule, str] = {
    LockRule.DELETE_VISIT: N_("deleting the visit"),
    LockRule.CHANGE_VISIT_DATA: N_("changing the visit data"),
    LockRule.CHANGE_PARAGRAPH: N_("changing or deleting report paragraphs"),
    LockRule.CHANGE_OBSERVATIONS: N_("changing the observations"),
    LockRule.DELETE_DOCUMENT: N_("deleting documents"),
}


class Locked(DomainError):
    template = N_("locked: {what} is not allowed {days} days after {since} (rule: {rule})")


@dataclass(frozen=True)
class LockSettings:
    delete_visit: int = 0
    change_visit_data: int = 0
    change_paragraph: int = 0
    change_observations: int = 0
    delete_document: int = 0

    def check(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0 <= value <= MAX_DAYS:
                raise InvalidValue(f.name, N_("must be between 0 and {high} days"), high=MAX_DAYS)

    def days(self, rule: LockRule) -> int:
        return int(getattr(self, rule.value))

    def is_locked(self, rule: LockRule, since: date, today: date, exempt: bool = False) -> bool:
        """Locked once ``days`` whole days have passed since ``since`` (dates only)."""
        days = self.days(rule)
        return not exempt and days > 0 and (today - since).days >= days

    def require_open(self, rule: LockRule, since: date, today: date, exempt: bool = False) -> None:
        if self.is_locked(rule, since, today, exempt):
            raise Locked(
                what=LOCK_LABELS[rule], days=self.days(rule), since=since.isoformat(), rule=rule.value
            )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class LockPolicy(BrigadaAggregate):
    """The store's lock settings; every change records them all."""

    TOPIC = "brigada.LockPolicy"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.LockPolicy.Event"

    class Started(BrigadaAggregate.Created):
        TOPIC = "brigada.LockPolicy.Started"

    class Set(Event):
        TOPIC = "brigada.LockPolicy.Set"
        settings: dict[str, Any]

    @staticmethod
    def create_id() -> UUID:
        return LOCK_POLICY_ID

    @event(Started)
    def __init__(self) -> None:
        self.settings = LockSettings()

    def set(self, settings: LockSettings) -> bool:
        settings.check()
        if settings == self.settings:
            return False
        self._set(settings=settings.as_dict())
        return True

    @event(Set)
    def _set(self, settings: dict[str, Any]) -> None:
        self.settings = LockSettings(**settings)

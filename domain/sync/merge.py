"""Central's merge decisions, once the trust rules judged a batch (domain/sync/sync_trust.py):
what a laptop replaced as lost may get (quarantine, always), which of central's changes a
re-applied event meets, when a re-applied change becomes a conflict and with which values, what
keeping central's side records again, and whether a held event may be released on central's
record. Pure functions over decoded events; application/sync/central.py loads and stores."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.base import BrigadaAggregate
from domain.context import EventContext
from domain.errors import N_, DomainError
from domain.sync.quarantine import Quarantine, state_text
from domain.sync.sync import WHOLE_RECORD, field_value, overlap, touched
from domain.sync.sync_trust import Outcome, PushedEvent, TrustRule, Verdict


class ReleaseOutOfOrder(DomainError):
    template = N_("event {earlier} of the same record is still held: release or reject it first")


class CannotApply(DomainError):
    template = N_("event {event} cannot be applied to central's record: reject it instead")


# -- what central accepts as one of Brigada's events -------------------------------------------------
def resolvable_topic(topic: str) -> bool:
    """Only a topic naming one of Brigada's events is ever resolved (a topic is an import path)."""
    return topic.startswith("brigada.") and ":" not in topic


def is_brigada_event(decoded: Any, topic: str) -> bool:
    """A decoded pushed event reads as the event its topic names, stamped with a context."""
    return (
        isinstance(decoded, BrigadaAggregate.Event)
        and topic == type(decoded).TOPIC
        and isinstance(getattr(decoded, "context", None), EventContext)
    )


# -- judging ---------------------------------------------------------------------------------------
def lost_laptop_verdicts(pushed: Iterable[PushedEvent], replaced_on: date) -> list[Verdict]:
    """A laptop replaced as lost has every event it pushes held for a person."""
    detail = {"date": replaced_on.isoformat()}
    return [
        Verdict(p.position, Outcome.QUARANTINE, rule=TrustRule.LOST_LAPTOP, detail=dict(detail))
        for p in pushed
    ]


def hold(
    site: str, run_id: UUID, generation: str, pushed: PushedEvent, state: bytes, verdict: Verdict
) -> Quarantine:
    """A pushed event held for a person, as it was pushed (its state kept byte for byte), with the
    rule that held it and, when it could be decoded, who recorded it."""
    context = pushed.event.context if pushed.event is not None else None
    return Quarantine(
        site=site,
        run_id=run_id,
        generation=generation,
        position=pushed.position,
        record_id=pushed.record_id,
        record_version=pushed.version,
        topic=pushed.topic[:200],
        state=state_text(state),
        rule=verdict.rule.value if verdict.rule else "",
        detail=verdict.detail,
        user=context.user[:80] if context is not None else "",
        event_id=context.event_id.hex if context is not None else "",
    )


def holds_back(rule: str) -> bool:
    """Whether a held event keeps the site's later events of its record held too: a lost laptop's
    held log is a history of its own, which the current laptop's events do not depend on."""
    return rule != TrustRule.LOST_LAPTOP.value


# -- re-applying and conflicts -----------------------------------------------------------------------
def rebased(domain_event: Any, version: int, context: EventContext | None = None) -> Any:
    """The same event at another version of its record (its origin kept unless ``context``)."""
    if context is None:
        return dataclasses.replace(domain_event, originator_version=version)
    return dataclasses.replace(
        domain_event, originator_version=version, context=context, timestamp=context.recorded_at
    )


def central_changes(newer: Iterable[Any], site: str) -> list[Any]:
    """Of a record's events after the version a laptop built on, those the laptop did not know:
    recorded elsewhere than at its site."""
    return [e for e in newer if e.context.site != site]


@dataclass(frozen=True)
class ConflictingFields:
    """Fields a re-applied change and central's changes both set, each side's values, and
    central's events that set them (newest first, each once)."""

    fields: list[str]
    central_values: dict[str, str]
    site_values: dict[str, str]
    central_events: list[str]


def conflicting_fields(laptop_event: Any, theirs: Sequence[Any]) -> ConflictingFields | None:
    """The conflict a re-applied change makes with central's changes, or None when they merge.
    Central's value of a field is the one its newest change to it set (closing the whole record
    counts as setting every field)."""
    fields = overlap(touched(laptop_event), frozenset().union(*(touched(e) for e in theirs)))
    if not fields:
        return None
    central_values: dict[str, str] = {}
    central_events: list[str] = []
    for field in fields:
        for theirs_event in reversed(theirs):
            hit = touched(theirs_event)
            if field in hit or WHOLE_RECORD in hit:
                central_values[field] = field_value(
                    theirs_event, WHOLE_RECORD if WHOLE_RECORD in hit else field
                )
                central_events.append(theirs_event.context.event_id.hex)
                break
    return ConflictingFields(
        fields=fields,
        central_values=central_values,
        site_values={f: field_value(laptop_event, f) for f in fields},
        central_events=list(dict.fromkeys(central_events)),
    )


def record_kind(domain_event: Any) -> str:
    """The aggregate's name in an event's topic ("Patient", "User"...)."""
    return str(type(domain_event).TOPIC.split(".")[1])


def record_reference(aggregate: Any, record_id: UUID) -> str:
    """How people find a conflicting record: its chart number, its username, or its id's start."""
    return str(
        getattr(aggregate, "chart_number", None) or getattr(aggregate, "username", None) or record_id.hex[:8]
    )


def restored_central(
    history: Sequence[Any], central_events: Iterable[str], context: EventContext
) -> list[Any]:
    """Keeping central's side of a conflict: central's conflicting changes recorded again on top of
    the record's history, stamped ``context`` (never one that closed the whole record)."""
    wanted = set(central_events)
    version = history[-1].originator_version if history else 0
    restored = []
    for event in history:
        if event.context.event_id.hex in wanted and WHOLE_RECORD not in touched(event):
            version += 1
            restored.append(rebased(event, version, context.for_new_event()))
    return restored


# -- releasing what is held --------------------------------------------------------------------------
def require_release_in_order(held: str, still_held: Sequence[str]) -> None:
    """The held events of one record are decided in order: ``still_held`` are the ids of the
    record's events still held, oldest first."""
    if still_held and still_held[0] != held:
        raise ReleaseOutOfOrder(earlier=still_held[0][:8])


def applicable(event: Any, head: int, reviewer: str, current: Callable[[], Any], short_id: str) -> Any:
    """A held event as central would store it at ``head + 1``, its origin kept and the reviewer
    beside it: only a creation on a record central does not have, only a change on one it has, and
    only if the record's rules take it (``current`` loads central's record)."""
    creates = isinstance(event, BrigadaAggregate.Created)
    if event is None or creates != (head == 0):
        raise CannotApply(event=short_id)
    applied = rebased(event, head + 1, dataclasses.replace(event.context, reviewer=reviewer))
    try:
        applied.mutate(current() if head else None)
    except Exception as error:  # the record's rules refuse it: it stays held
        raise CannotApply(event=short_id) from error
    return applied

"""Events central did not apply (domain/sync/sync_trust.py): each one held with the rule that refused
it, until a person releases it (it is then applied, its origin kept, with the reviewer beside it)
or rejects it (it stays recorded as rejected, never applied).

One aggregate per held event, keyed by the laptop log it came from (site, generation, position),
so a batch sent again never holds the same event twice.
"""

from __future__ import annotations

import json
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue


class HoldStatus(Enum):
    HELD = "held"
    RELEASED = "released"
    REJECTED = "rejected"


class AlreadyDecided(DomainError):
    template = N_("quarantined event {event} was already {status}")


class Quarantine(BrigadaAggregate):
    TOPIC = "brigada.Quarantine"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Quarantine.Event"

    class Held(BrigadaAggregate.Created):
        TOPIC = "brigada.Quarantine.Held"
        site: str
        run_id: UUID
        generation: str
        position: int  # in the laptop's log
        record_id: UUID
        record_version: int
        topic: str
        state: str  # the stored state exactly as pushed (UTF-8 text, or hex when it is not)
        rule: str  # a sync_trust.TrustRule value
        detail: dict[str, str]
        user: str  # the acting user the event claims ("" when it cannot be read)
        event_id: str  # the event id it claims ("" when it cannot be read)

    class Released(Event):
        TOPIC = "brigada.Quarantine.Released"
        applied_version: int  # the version of the record it was applied as

    class Rejected(Event):
        TOPIC = "brigada.Quarantine.Rejected"
        reason: str

    @staticmethod
    def create_id(site: str, generation: str, position: int, **_: object) -> UUID:
        return quarantine_id(site, generation, position)

    @event(Held)
    def __init__(
        self,
        site: str,
        run_id: UUID,
        generation: str,
        position: int,
        record_id: UUID,
        record_version: int,
        topic: str,
        state: str,
        rule: str,
        detail: dict[str, str],
        user: str,
        event_id: str,
    ) -> None:
        self.site = site
        self.run_id = run_id
        self.generation = generation
        self.position = position
        self.record_id = record_id
        self.record_version = record_version
        self.topic = topic
        self.state = state
        self.rule = rule
        self.detail = dict(detail)
        self.user = user
        self.event_id = event_id
        self.status = HoldStatus.HELD

    def _require_held(self) -> None:
        if self.status is not HoldStatus.HELD:
            raise AlreadyDecided(event=self.id.hex[:8], status=self.status.value)

    def release(self, applied_version: int) -> None:
        self._require_held()
        self._release(applied_version=applied_version)

    @event(Released)
    def _release(self, applied_version: int) -> None:
        self.status = HoldStatus.RELEASED

    def reject(self, reason: str) -> None:
        self._require_held()
        if not reason.strip():
            raise InvalidValue("reason", N_("say why the event is rejected"))
        self._reject(reason=reason.strip())

    @event(Rejected)
    def _reject(self, reason: str) -> None:
        self.status = HoldStatus.REJECTED

    @property
    def stored_state(self) -> bytes:
        return stored_state(self.state)

    @property
    def short_id(self) -> str:
        return self.id.hex[:8]

    @property
    def kind(self) -> str:
        return event_kind(self.topic)


def event_kind(topic: str) -> str:
    """A held event's kind as people read it ("Patient.Corrected")."""
    return topic.removeprefix("brigada.")[:60]


def quarantine_id(site: str, generation: str, position: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:quarantine:{site}:{generation}:{position}")


def state_text(state: bytes) -> str:
    """A pushed state as text that gives back the same bytes (``stored_state``)."""
    try:
        return "u:" + state.decode("utf-8")
    except UnicodeDecodeError:
        return "x:" + state.hex()


def stored_state(text: str) -> bytes:
    return text[2:].encode("utf-8") if text.startswith("u:") else bytes.fromhex(text[2:])


SECRET_WORDS = ("password", "hash", "secret", "key", "token", "totp")


def shown_fields(state: bytes) -> dict[str, str]:
    """A held event's fields as pushed, for a person to judge: the stamped context spread out,
    secrets (password hashes, keys, tokens) shown as ••••. A state that is not a JSON object is
    shown whole, cut short."""
    try:
        data = json.loads(state)
    except ValueError:
        return {"state": state[:200].decode("utf-8", "replace")}
    if not isinstance(data, dict):
        return {"state": str(data)[:200]}
    shown: dict[str, str] = {}
    for name, value in data.items():
        context = value.get("_data_") if isinstance(value, dict) and value.get("_type_") == "ctx" else None
        if isinstance(context, dict):
            shown.update({f"context.{k}": str(v)[:200] for k, v in context.items()})
        elif any(word in name.lower() for word in SECRET_WORDS):
            shown[name] = "••••"
        else:
            shown[name] = (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))[:200]
    return shown


QUARANTINE_ENUMS = (HoldStatus,)

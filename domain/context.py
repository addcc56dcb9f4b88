"""Who, where and when: the context the application stamps on every event.

The application opens ``recording(context)`` around each command; every event triggered inside it
carries a copy of the context with its own event id. Domain methods never take these values one by
one, and an event triggered with no context open is a programming error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime


@dataclass(frozen=True)
class EventContext:
    """Stamped on every event: where it was first recorded, by whom, from which computer, when."""

    event_id: uuid.UUID
    site: str
    user: str
    computer: str
    ip_octet: int | None
    recorded_at: datetime  # aware, UTC
    business_date: date
    # Who released it from quarantine on central (domain/sync/quarantine.py); None for every other.
    reviewer: str | None = None
    # True when nobody stood behind ``recorded_at`` (domain/store_time.py): a failed login, or
    # bookkeeping while the clock was far ahead. Such an event never moves the store's time.
    unconfirmed_time: bool = False

    def for_new_event(self) -> EventContext:
        return replace(self, event_id=uuid.uuid4())

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "event_id": self.event_id.hex,
            "site": self.site,
            "user": self.user,
            "computer": self.computer,
            "ip_octet": self.ip_octet,
            "recorded_at": self.recorded_at.isoformat(),
            "business_date": self.business_date.isoformat(),
        }
        if self.reviewer is not None:
            data["reviewer"] = self.reviewer
        if self.unconfirmed_time:
            data["unconfirmed_time"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> EventContext:
        return cls(
            event_id=uuid.UUID(str(data["event_id"])),
            site=str(data["site"]),
            user=str(data["user"]),
            computer=str(data["computer"]),
            ip_octet=None if data["ip_octet"] is None else int(str(data["ip_octet"])),
            recorded_at=datetime.fromisoformat(str(data["recorded_at"])),
            business_date=date.fromisoformat(str(data["business_date"])),
            reviewer=None if data.get("reviewer") is None else str(data["reviewer"]),
            unconfirmed_time=data.get("unconfirmed_time") is True,
        )


class MissingContext(RuntimeError):
    """An event was triggered outside ``recording(...)``: a bug, never a user error."""


_current: ContextVar[EventContext | None] = ContextVar("brigada_event_context", default=None)


@contextmanager
def recording(context: EventContext) -> Iterator[EventContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current_context() -> EventContext:
    context = _current.get()
    if context is None:
        raise MissingContext("an event was triggered with no recording context open")
    return context.for_new_event()

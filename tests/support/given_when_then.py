"""Given / when / then for aggregates, without a store: given past commands, when a command, then
the new events it recorded (or the error it raised), and the aggregate rebuilt from its events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from domain.context import EventContext, recording

TODAY = date(2026, 3, 1)  # the business date of the tests' clock (tests/conftest.py START)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

E = TypeVar("E")


def context(site: str = "CEN", on: date = TODAY) -> EventContext:
    """A recording context: who, where and when the commands run."""
    return EventContext(uuid.uuid4(), site, "admin", "pc", 7, NOW, on)


def given(make: Callable[[], Any], *then: Callable[[Any], Any]) -> Any:
    """An aggregate built by ``make`` and past commands, its events already collected."""
    with recording(context()):
        aggregate = make()
        for command in then:
            command(aggregate)
    aggregate.collect_events()
    return aggregate


def when(aggregate: Any, command: Callable[[Any], Any], site: str = "CEN") -> list[Any]:
    """Run a command on an aggregate; the new events it recorded (none when it raised)."""
    with recording(context(site)):
        command(aggregate)
    return list(aggregate.collect_events())


def recorded(command: Callable[[], Any], on: date = TODAY) -> Any:
    """What ``command`` returns, run in a recording context (to make an aggregate)."""
    with recording(context(on=on)):
        return command()


def replayed(events: Sequence[Any]) -> Any:
    """The aggregate rebuilt from its events, as the store would."""
    rebuilt = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    return rebuilt


def events_of(kind: type[E], events: Iterable[object]) -> list[E]:
    """The events, each checked to be a ``kind`` (the library types them as any event): what a
    test reads a specific event's fields from."""
    found = list(events)
    typed = [event for event in found if isinstance(event, kind)]
    assert len(typed) == len(found), f"not all {kind.__name__}: {found}"
    return typed

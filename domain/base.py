"""The base aggregate: stamps every event with the recording context."""

from __future__ import annotations

from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate

from domain.context import EventContext, current_context


class BrigadaAggregate(Aggregate):
    """Every Brigada aggregate. Events carry ``context`` and take their timestamp from it."""

    TOPIC = "brigada.Aggregate"

    class Event(Aggregate.Event):
        TOPIC = "brigada.Aggregate.Event"
        context: EventContext

    class Created(Event, Aggregate.Created):
        TOPIC = "brigada.Aggregate.Created"

    @classmethod
    def _create(
        cls, event_class: type[CanInitAggregate[UUID]], *, id: UUID | None = None, **kwargs: Any
    ) -> Self:
        context = kwargs.get("context") or current_context()
        kwargs.update(context=context, timestamp=context.recorded_at)
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        context = kwargs.get("context") or current_context()
        kwargs.update(context=context, timestamp=context.recorded_at)
        super().trigger_event(event_class, **kwargs)


def uuid_of(originator_id: UUID | str) -> UUID:
    """A stored event's aggregate id: the library allows text ids, Brigada's are all UUIDs."""
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def context_of(event: object) -> EventContext:
    """The recording context of an event read back from the log, where every event is a Brigada
    aggregate's (the library's mapper gives it back typed as any event)."""
    if not isinstance(event, BrigadaAggregate.Event):
        raise TypeError(f"{type(event).__name__} is not a Brigada event")
    return event.context

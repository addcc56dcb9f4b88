"""The base aggregate: stamps every event with the recording context."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

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
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        context = kwargs.get("context") or current_context()
        kwargs.update(context=context, timestamp=context.recorded_at)
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        context = kwargs.get("context") or current_context()
        kwargs.update(context=context, timestamp=context.recorded_at)
        super().trigger_event(event_class, **kwargs)

"""A sync the laptop refused (seed 000): versions differ, a care event is not finished, the two
sides disagree on the mode, or central would not start the crossing. Nothing moves, but the
attempt and its reason are recorded on the laptop, in its own log, so ``sync history`` lists it
and the next push takes it to central."""

from __future__ import annotations

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.sites.site import SiteMode
from domain.sync.sync import SyncCrossing, SyncRefused


class SyncRefusal(BrigadaAggregate):
    TOPIC = "brigada.SyncRefusal"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.SyncRefusal.Event"

    class Recorded(BrigadaAggregate.Created):
        TOPIC = "brigada.SyncRefusal.Recorded"
        site: str
        crossing: SyncCrossing  # the one the laptop's mode asked for
        mode: SiteMode  # the laptop's
        reason: str  # the refusal's message template (an English msgid)
        params: dict[str, str]  # its parameters

    @event(Recorded)
    def __init__(
        self, site: str, crossing: SyncCrossing, mode: SiteMode, reason: str, params: dict[str, str]
    ) -> None:
        self.site = site
        self.crossing = crossing
        self.mode = mode
        self.reason = reason
        self.params = dict(params)

    @classmethod
    def of(cls, site: str, mode: SiteMode, refused: SyncRefused) -> SyncRefusal:
        return cls(
            site=site,
            crossing=SyncCrossing.from_mode(mode),
            mode=mode,
            reason=str(refused.template),
            params={name: str(value) for name, value in refused.params.items()},
        )

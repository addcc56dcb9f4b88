"""Central's checkpoint of a laptop's chain: for each log generation of a site, the last link
central verified. A generation starts from the link central saw when it made the store
(provisioning, or the start-of-mission rebuild), and every merged batch moves it on in the
batch's own transaction. A pushed log that does not continue from it is refused, so a laptop can
never rewrite what central already holds, nor drop what it recorded first.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate


class ChainCheckpoint(BrigadaAggregate):
    TOPIC = "brigada.ChainCheckpoint"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.ChainCheckpoint.Event"

    class Opened(BrigadaAggregate.Created):
        TOPIC = "brigada.ChainCheckpoint.Opened"
        site: str
        generation: str
        position: int  # the laptop log position of the link
        link: str

    class Advanced(Event):
        TOPIC = "brigada.ChainCheckpoint.Advanced"
        position: int
        link: str

    @staticmethod
    def create_id(site: str, generation: str, **_: object) -> UUID:
        return checkpoint_id(site, generation)

    @event(Opened)
    def __init__(self, site: str, generation: str, position: int, link: str) -> None:
        self.site = site
        self.generation = generation
        self.position = position
        self.link = link

    def advance(self, position: int, link: str) -> None:
        if position > self.position:
            self._advance(position=position, link=link)

    @event(Advanced)
    def _advance(self, position: int, link: str) -> None:
        self.position = position
        self.link = link


def checkpoint_id(site: str, generation: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:chain-checkpoint:{site}:{generation}")

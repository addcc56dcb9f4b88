"""Human-facing numbers (HIST, VISITA, vouchers) unique across sites without coordination.

Each site numbers its own series: the number is the site code, a dash and the site's sequence
(``BRG01-61``). A series is an aggregate with a deterministic id per (site, series), so two
commands that take the same number at once collide on the store's primary key and one retries.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate


class NumberSeries(BrigadaAggregate):
    TOPIC = "brigada.NumberSeries"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.NumberSeries.Event"

    class Started(BrigadaAggregate.Created):
        TOPIC = "brigada.NumberSeries.Started"
        site: str
        series: str

    class Advanced(Event):
        TOPIC = "brigada.NumberSeries.Advanced"
        value: int

    @staticmethod
    def create_id(site: str, series: str) -> UUID:
        return series_id(site, series)

    @event(Started)
    def __init__(self, site: str, series: str) -> None:
        self.site = site
        self.series = series
        self.last = 0

    def take(self) -> str:
        self._advance(value=self.last + 1)
        return f"{self.site}-{self.last}"

    @event(Advanced)
    def _advance(self, value: int) -> None:
        self.last = value


def series_id(site: str, series: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:series:{site}:{series}")

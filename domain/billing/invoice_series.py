"""An invoice numbering series (notes/colombia-domain.md §3): DIAN's numbering resolution, kept on
central only: a prefix, a from-to range and validity dates. Numbers are taken consecutively and
never beyond the range or outside the validity dates. The technical key and the resolution
number are not kept: sending to DIAN is out of scope.
"""

from __future__ import annotations

import re
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue

PREFIX = re.compile(r"^[A-Z]{1,4}$")
MAX_NUMBER = 10**10


class SeriesExhausted(DomainError):
    template = N_("invoice series {prefix} is exhausted: its last number {last} was already taken")


class SeriesNotValid(DomainError):
    template = N_("invoice series {prefix} is valid from {valid_from} to {valid_to}, not on {on}")


class SeriesAlreadyExists(DomainError):
    template = N_("invoice series {prefix} already exists")


class NoSeriesInForce(DomainError):
    template = N_(
        "no invoice series can number on {on}: add one valid today with numbers left "
        "(brigada invoice series add)"
    )


class InvoiceSeries(BrigadaAggregate):
    TOPIC = "brigada.InvoiceSeries"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.InvoiceSeries.Event"

    class Added(BrigadaAggregate.Created):
        TOPIC = "brigada.InvoiceSeries.Added"
        prefix: str
        first: int
        last: int
        valid_from: date
        valid_to: date

    class NumberTaken(Event):
        TOPIC = "brigada.InvoiceSeries.NumberTaken"
        value: int

    @staticmethod
    def create_id(prefix: str) -> UUID:
        return invoice_series_id(prefix)

    @event(Added)
    def __init__(self, prefix: str, first: int, last: int, valid_from: date, valid_to: date) -> None:
        self.prefix = prefix
        self.first = first
        self.last = last
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.taken: int | None = None

    @classmethod
    def add(cls, prefix: str, first: int, last: int, valid_from: date, valid_to: date) -> InvoiceSeries:
        prefix = prefix.strip().upper()
        if not PREFIX.match(prefix):
            raise InvalidValue("prefix", N_("1 to 4 capital letters"))
        if not 1 <= first <= last < MAX_NUMBER:
            raise InvalidValue("to", N_("the range must go from 1 or more up to a number not below it"))
        if valid_to < valid_from:
            raise InvalidValue("valid_to", N_("the series cannot end before it starts"))
        return cls(prefix=prefix, first=first, last=last, valid_from=valid_from, valid_to=valid_to)

    @property
    def next_number(self) -> int:
        return self.first if self.taken is None else self.taken + 1

    @property
    def exhausted(self) -> bool:
        return self.next_number > self.last

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to

    def usable_on(self, day: date) -> bool:
        return self.valid_on(day) and not self.exhausted

    def take(self, today: date) -> str:
        """The next number, as ``PREFIX-n``."""
        if not self.valid_on(today):
            raise SeriesNotValid(
                prefix=self.prefix,
                valid_from=self.valid_from.isoformat(),
                valid_to=self.valid_to.isoformat(),
                on=today.isoformat(),
            )
        if self.exhausted:
            raise SeriesExhausted(prefix=self.prefix, last=self.last)
        self._take(value=self.next_number)
        return f"{self.prefix}-{self.taken}"

    @event(NumberTaken)
    def _take(self, value: int) -> None:
        self.taken = value


def invoice_series_id(prefix: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:invoice-series:{prefix.strip().upper()}")


def series_in_force(series: list[InvoiceSeries], today: date) -> InvoiceSeries:
    """The series that numbers today: valid today with numbers left (the earliest started)."""
    usable = sorted((s for s in series if s.usable_on(today)), key=lambda s: (s.valid_from, s.prefix))
    if not usable:
        raise NoSeriesInForce(on=today.isoformat())
    return usable[0]

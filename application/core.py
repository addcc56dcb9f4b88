"""What every use case shares: the store, its views, the clock and host, and how to save."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import RecordConflictError

from application.app import BrigadaApplication
from application.context import SYSTEM, event_context
from application.errors import StoreNotInitialized
from application.ports import Clock, HostInfo, NoBlocklist, PasswordBlocklist, PasswordHasher
from application.projection_runner import ProjectionRunner
from domain import store_time
from domain.access_log import ACCESS_DENIED, Access
from domain.base import BrigadaAggregate, context_of
from domain.context import EventContext, recording
from domain.errors import N_, Conflict
from domain.security.locks import Locked
from domain.store_identity import STORE_IDENTITY_ID, StoreIdentity
from domain.store_time import Dating

CONFIRMED_PAGE = 50  # positions read at a time looking back for the newest confirmed event
CONFLICT = N_("someone changed the same record at the same time: run the command again")

A = TypeVar("A", bound=BrigadaAggregate)


class Core:
    def __init__(
        self,
        app: BrigadaApplication,
        views: ProjectionRunner,
        clock: Clock,
        host: HostInfo,
        hasher: PasswordHasher,
        blocklist: PasswordBlocklist | None = None,
    ) -> None:
        self.app = app
        self.views = views
        self.clock = clock
        self.host = host
        self.hasher = hasher
        self.blocklist = blocklist or NoBlocklist()
        self._identity: StoreIdentity | None = None
        self._confirmed: tuple[int, store_time.Confirmed | None] | None = None  # (log head, it)

    def identity(self) -> StoreIdentity | None:
        if self._identity is None:
            self._identity = self.get(StoreIdentity, STORE_IDENTITY_ID)
        return self._identity

    def require_identity(self) -> StoreIdentity:
        identity = self.identity()
        if identity is None:
            raise StoreNotInitialized()
        return identity

    def get(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate of that id if it is a ``kind``; None if there is none, or another kind."""
        try:
            aggregate: MutableOrImmutableAggregate[UUID] = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, kind):
            return None
        return aggregate

    def existing(self, kind: type[A], aggregate_id: UUID) -> A:
        """An aggregate that another record names (an invoice its series, a view row its
        aggregate), so the store has it: one that lacks it is damaged."""
        found = self.get(kind, aggregate_id)
        if found is None:
            raise LookupError(f"the store has no {kind.__name__} {aggregate_id}")
        return found

    @contextmanager
    def acting_as(
        self, username: str, site: str | None = None, *, dating: Dating = Dating.DATED
    ) -> Iterator[EventContext]:
        """Record what the block triggers as ``username``'s, dated by the store's time
        (domain/store_time.py): never before the newest confirmed date, so a clock set back
        unlocks nothing; a dated change refused while the clock is far ahead, unconfirmed."""
        site = site if site is not None else self.require_identity().site_code
        context = event_context(site, username, self.clock, self.host)
        try:
            business_date, unconfirmed = store_time.stamp(context.business_date, self.confirmed(), dating)
        except store_time.ClockAhead as refusal:
            if username != SYSTEM:
                self.record_denied(username, {"REGLA": "clock-ahead", "FECHA": refusal.params["today"]})
            raise
        context = replace(context, business_date=business_date, unconfirmed_time=unconfirmed)
        try:
            with recording(context) as context:
                yield context
        except Locked as refusal:  # a time lock refused this user's change: recorded, then raised
            if username != SYSTEM:
                self.record_denied(username, {"REGLA": str(refusal.params["rule"])})
            raise

    def confirmed(self) -> store_time.Confirmed | None:
        """The newest event of this site whose time was not left unconfirmed (cached until the
        log grows); None in a store with none."""
        identity = self.identity()
        head = self.app.recorder.max_notification_id()
        if identity is None or not head:
            return None
        if self._confirmed is None or self._confirmed[0] != head:
            self._confirmed = (head, self._newest_confirmed(identity.site_code, head))
        return self._confirmed[1]

    def _newest_confirmed(self, site: str, head: int) -> store_time.Confirmed | None:
        recorder = self.app.recorder
        up_to = head
        while up_to > 0:
            positions = self.app.keys.site_positions(site, up_to, CONFIRMED_PAGE)
            if not positions:
                return None
            for position in positions:
                found = recorder.select_notifications(start=position, limit=1)
                if not found or found[0].id != position:
                    continue
                context = context_of(self.app.mapper.to_domain_event(found[0]))
                if context.site == site and not context.unconfirmed_time:
                    return store_time.Confirmed(context.recorded_at, context.business_date)
            up_to = positions[-1] - 1
        return None

    def effective_today(self) -> date:
        """Today for the time-based locks: never before the newest confirmed business date, so
        a clock set back unlocks nothing."""
        confirmed = self.confirmed()
        today = self.clock.today()
        return today if confirmed is None else max(today, confirmed.day)

    def effective_now(self) -> datetime:
        """Now for expiries (passwords, unlock codes, sessions): never before the newest
        confirmed event."""
        return store_time.effective_now(self.clock.now(), self.confirmed())

    def record_access(
        self, username: str, action: str, fields: dict[str, str], *, dating: Dating = Dating.BOOKKEEPING
    ) -> None:
        """Record an access that changes nothing else (a view, a print, an export, a backup)."""
        with self.acting_as(username, dating=dating):
            self.save(Access(action=action, fields=fields))

    def record_denied(self, username: str, fields: dict[str, str]) -> None:
        """Record a refused attempt by a logged-in user (issue 17: an administrator sees who tried
        what): only this access record is written; the caller raises the refusal."""
        self.record_access(username, ACCESS_DENIED, fields)

    def save(self, *aggregates: Any, catch_up: bool = True) -> None:
        """Save in one transaction, then bring the views up to date (read-your-writes; a caller
        that catches them up later itself says ``catch_up=False``)."""
        try:
            self.app.save(*aggregates)
        except RecordConflictError as error:
            raise Conflict(CONFLICT) from error
        if catch_up:
            self.views.catch_up()

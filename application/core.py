"""What every use case shares: the store, its views, the clock and host, and how to save."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from application.app import BrigadaApplication
from application.context import SYSTEM, event_context
from application.errors import StoreNotInitialized
from application.ports import Clock, HostInfo, NoBlocklist, PasswordBlocklist, PasswordHasher
from application.projection_runner import ProjectionRunner
from domain.access_log import ACCESS_DENIED, Access
from domain.context import EventContext, recording
from domain.errors import N_, Conflict
from domain.locks import Locked
from domain.store_identity import STORE_IDENTITY_ID, StoreIdentity

CONFLICT = N_("someone changed the same record at the same time: run the command again")


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
        self._newest_date: tuple[int, date] | None = None  # (log head, its business date)
        # The user whose menu or section access this command last checked: a refusal by a rule
        # that does not name its actor (the sites policy) is recorded as theirs.
        self.checked_user: str | None = None

    def identity(self) -> StoreIdentity | None:
        if self._identity is None:
            self._identity = self.get(StoreIdentity, STORE_IDENTITY_ID)
        return self._identity

    def require_identity(self) -> StoreIdentity:
        identity = self.identity()
        if identity is None:
            raise StoreNotInitialized()
        return identity

    def get(self, kind: type, aggregate_id: Any) -> Any | None:
        try:
            aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, kind):
            return None
        return aggregate

    @contextmanager
    def acting_as(self, username: str, site: str | None = None) -> Iterator[EventContext]:
        site = site if site is not None else self.require_identity().site_code
        # Stamped with effective_today, so business dates never go backwards: the newest event
        # always carries the highest date, and a clock set back stays behind it however many
        # events are recorded meanwhile.
        context = replace(
            event_context(site, username, self.clock, self.host), business_date=self.effective_today()
        )
        try:
            with recording(context) as context:
                yield context
        except Locked as refusal:  # a time lock refused this user's change: recorded, then raised
            if username != SYSTEM:
                self.record_denied(username, {"REGLA": str(refusal.params["rule"])})
            raise

    def effective_today(self) -> date:
        """Today for the time-based locks: never before the newest business date already
        recorded, so a clock set back unlocks nothing."""
        today = self.clock.today()
        head = self.app.recorder.max_notification_id()
        if head:
            if self._newest_date is None or self._newest_date[0] != head:
                newest = self.app.recorder.select_notifications(start=head, limit=1)
                if newest:
                    recorded = self.app.mapper.to_domain_event(newest[0]).context.business_date
                    self._newest_date = (head, recorded)
            if self._newest_date is not None and self._newest_date[0] == head:
                today = max(today, self._newest_date[1])
        return today

    def record_access(self, username: str, action: str, fields: dict[str, str]) -> None:
        """Record an access that changes nothing else (a view, a print, an export, a backup)."""
        with self.acting_as(username):
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

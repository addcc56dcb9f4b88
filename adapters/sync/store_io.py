"""What sync needs from a store beyond the event API: a site's own events with their chain links,
the aggregates a site's history touches, and a laptop store rebuilt beside the current one and
swapped in atomically (the old one kept as a backup)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent

from adapters.recorders import log_tables
from adapters.store import StoreLocation
from application.brigada import Brigada
from application.sync.sync_port import LoggedEvent
from domain.chain import GENESIS, site_of

PAGE_OF_COUNTS = 1000  # (topic, record, events) rows fetched at a time for the sync screen
WRITERS_LOCK = 0x42524748  # the advisory lock class of writers taking turns (with the schema's hash)


class SqlSiteLog:
    """A store's log read straight from its tables, each event beside its recorded chain link."""

    def __init__(self, location: StoreLocation, engine: sa.Engine) -> None:
        self.engine = engine
        self.location = location
        self.events, self.position, self.chain = log_tables(location.kind, location.schema)

    @contextmanager
    def writers_in_turn(self) -> Iterator[None]:
        """On PostgreSQL, the writers that take it (central's merges met by another writer) run
        one at a time, across every process on the store (`brigada serve --workers N`): an
        advisory lock of this store's schema, held on a connection of its own. SQLite writes one
        at a time already."""
        if self.location.kind != "postgresql":
            yield
            return
        key = {"kind": WRITERS_LOCK, "schema": self.location.schema}
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:kind, hashtext(:schema))"), key)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:kind, hashtext(:schema))"), key)
                conn.commit()

    def events_of_site(self, site: str, after: int, limit: int) -> tuple[list[LoggedEvent], int]:
        """The next events recorded at ``site`` after log position ``after`` (at most ``limit``
        log rows read), and the last position read. An event with no link (slipped in behind the
        application's back) comes with None, so central refuses it. Read with the driver's own
        cursor: this is the sync's hot loop, and SQLAlchemy's rows cost three times the query."""
        mark = "?" if self.position == "rowid" else "%s"
        last = (
            f"SELECT MAX(p) FROM (SELECT e.{self.position} AS p FROM {self.events} e"
            f" WHERE e.{self.position} > {mark} ORDER BY e.{self.position} LIMIT {int(limit)}) AS page"
        )
        page = (
            f"SELECT e.{self.position}, e.originator_id, e.originator_version, e.topic, e.state,"
            f" c.previous, c.link FROM {self.events} e LEFT JOIN {self.chain} c"
            f" ON c.position = e.{self.position} WHERE e.{self.position} > {mark}"
            f" AND e.{self.position} <= {mark} AND (c.site = {mark} OR c.site IS NULL)"
            f" ORDER BY e.{self.position}"
        )
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(last, (after,))
            head = cursor.fetchone()  # MAX() answers one row, NULL over no events
            reached = head[0] if head is not None else None
            if reached is None:
                return [], after
            cursor.execute(page, (after, reached, site))
            rows = cursor.fetchall()
        finally:
            connection.close()
        found = []
        for position, originator, version, topic, state, previous, chain_link in rows:
            state = bytes(state)
            if chain_link is None and site_of(state) != site:
                continue  # another site's event without a link: that site's chain, not this one's
            originator = originator if isinstance(originator, UUID) else UUID(originator)
            found.append(
                LoggedEvent(position, StoredEvent(originator, version, topic, state), previous, chain_link)
            )
        return found, reached

    def events_of(self, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        """The stored events of several aggregates, each after a version (None: all), in the
        order asked, in one query (a rebuilt laptop asks for 200 records at a time)."""
        if not wanted:
            return []
        sqlite = self.position == "rowid"
        marks = ", ".join(["?" if sqlite else "%s"] * len(wanted))
        statement = (
            f"SELECT originator_id, originator_version, topic, state FROM {self.events}"
            f" WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version"
        )
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(statement, [i.hex if sqlite else i for i, _after in wanted])
            rows = cursor.fetchall()
        finally:
            connection.close()
        found: dict[UUID, list[StoredEvent]] = {}
        for originator, version, topic, state in rows:
            originator = originator if isinstance(originator, UUID) else UUID(originator)
            found.setdefault(originator, []).append(StoredEvent(originator, version, topic, bytes(state)))
        return [
            event
            for aggregate_id, after in wanted
            for event in found.get(aggregate_id, [])
            if after is None or event.originator_version > after
        ]

    def heads_and_origins(self, ids: list[UUID]) -> dict[UUID, tuple[int, StoredEvent]]:
        """For each record that exists: its newest version and its first event (what central
        needs to judge a pushed batch), a few hundred records per query. Each record's rows are
        found through the primary key, its head by a backward index scan: the cost does not grow
        with central's log (PostgreSQL planned the grouped IN list as a scan of the whole table,
        80 ms a query at 250,000 events)."""
        found: dict[UUID, tuple[int, StoredEvent]] = {}
        sqlite = self.position == "rowid"
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join(["?" if sqlite else "%s"] * len(chunk))
            statement = (
                f"SELECT f.originator_id, (SELECT MAX(h.originator_version) FROM {self.events} h"
                " WHERE h.originator_id = f.originator_id) AS head, f.topic, f.state"
                f" FROM {self.events} f WHERE f.originator_id IN ({marks}) AND f.originator_version = 1"
            )
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute(statement, [i.hex if sqlite else i for i in chunk])
                rows = cursor.fetchall()
            finally:
                connection.close()
            for originator, head, topic, state in rows:
                originator = originator if isinstance(originator, UUID) else UUID(originator)
                found[originator] = (head, StoredEvent(originator, 1, topic, bytes(state)))
        return found

    def identity_link(self, site: str, identity_id: UUID) -> tuple[int, str]:
        """Where a laptop log generation starts: the position and link of ``site``'s chain at the
        store identity's last event (the laptop's own events follow it)."""
        statement = sa.text(
            f"SELECT c.position, c.link FROM {self.chain} c WHERE c.site = :site AND c.position <="
            f" (SELECT MAX(e.{self.position}) FROM {self.events} e WHERE e.originator_id = :identity)"
            " ORDER BY c.position DESC LIMIT 1"
        )
        identity = identity_id.hex if self.position == "rowid" else identity_id
        with self.engine.connect() as conn:
            row = conn.execute(statement, {"site": site, "identity": identity}).first()
        return (row.position, row.link) if row else (0, GENESIS)

    def count_by_record(self, site: str, after: int, leave_out: UUID) -> Iterator[tuple[str, UUID, int]]:
        """How many linked events of ``site`` after ``after`` there are per topic and record
        (one query on the chain's (site, position) index), leaving out one aggregate (the store's
        identity), a record's rows one after the other and streamed from the cursor: the sync
        screen counts records and events per function from them, holding one record at a time."""
        statement = sa.text(
            f"SELECT e.topic, e.originator_id, COUNT(*) AS n FROM {self.chain} c"
            f" JOIN {self.events} e ON e.{self.position} = c.position"
            " WHERE c.site = :site AND c.position > :after AND e.originator_id <> :leave_out"
            " GROUP BY e.originator_id, e.topic ORDER BY e.originator_id"
        )
        leave = leave_out.hex if self.position == "rowid" else leave_out
        with self.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=PAGE_OF_COUNTS).execute(
                statement, {"site": site, "after": after, "leave_out": leave}
            )
            for row in rows:
                record = row.originator_id
                yield row.topic, record if isinstance(record, UUID) else UUID(record), row.n

    def aggregates_of_site(self, site: str) -> list[UUID]:
        """Every aggregate with an event recorded at ``site``, by first appearance in the log."""
        statement = sa.text(
            f"SELECT e.originator_id, MIN(c.position) AS first FROM {self.chain} c"
            f" JOIN {self.events} e ON e.{self.position} = c.position WHERE c.site = :site"
            " GROUP BY e.originator_id ORDER BY first"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(statement, {"site": site}).all()
        return [r.originator_id if isinstance(r.originator_id, UUID) else UUID(r.originator_id) for r in rows]


class StoreRebuilds:
    """A fresh store beside a laptop's current one, and the swap that puts it in its place.

    SQLite: ``<name>.rebuild.db`` next to the file; the swap hard-links the current file to
    ``<name>.backup-<time>.db`` and renames the fresh file over the current name, so at every
    moment the current name holds a whole store. PostgreSQL: a ``<schema>_rebuild`` schema; the
    swap renames both schemas in one transaction.
    """

    def __init__(self, current: Brigada, url: str, opener: Callable[[str, bool], Brigada]) -> None:
        self.current = current
        self.location = StoreLocation.parse(url)
        self.opener = opener

    @property
    def fresh_url(self) -> str:
        if self.location.kind == "sqlite":
            assert self.location.path is not None
            path = self.location.path
            return f"sqlite:///{path.with_name(path.stem + '.rebuild' + path.suffix)}"
        return self._schema_url(f"{self.location.schema}_rebuild")

    def fresh(self) -> Brigada:
        """An empty store for the rebuild; a half-built one from an interrupted run is discarded
        first (it was never in use)."""
        fresh = StoreLocation.parse(self.fresh_url)
        if fresh.kind == "sqlite":
            fresh.remove()
        else:
            with self._admin_engine().begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{fresh.schema}" CASCADE'))
        return self.opener(self.fresh_url, True)

    def swap(self, fresh: Brigada) -> str:
        """Put the fresh store in the current one's place; returns where the old one was kept.
        Both are closed first."""
        self.current.close()
        fresh.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        if self.location.kind == "sqlite":
            assert self.location.path is not None
            path = self.location.path
            new = StoreLocation.parse(self.fresh_url).path
            assert new is not None
            backup = path.with_name(f"{path.stem}.backup-{stamp}{path.suffix}")
            for file in (path, new):
                _checkpoint(file)
            os.link(path, backup)
            os.replace(new, path)
            return str(backup)
        backup_schema = f"{self.location.schema}_backup_{stamp}"
        with self._admin_engine().begin() as conn:
            conn.execute(sa.text(f'ALTER SCHEMA "{self.location.schema}" RENAME TO "{backup_schema}"'))
            conn.execute(
                sa.text(f'ALTER SCHEMA "{self.location.schema}_rebuild" RENAME TO "{self.location.schema}"')
            )
        return self._schema_url(backup_schema)

    def reopen(self) -> Brigada:
        return self.opener(self.location.url, False)

    def _schema_url(self, schema: str) -> str:
        base = self.location.url.split("?", 1)[0]
        return f"{base}?schema={schema}"

    def _admin_engine(self) -> sa.Engine:
        return self.location.sqlalchemy_engine()


def _checkpoint(path: Path) -> None:
    """Fold an SQLite file's write-ahead log into it and leave no -wal file that could be
    replayed onto whatever file later takes its name."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

"""eventsourcing's own recorders, made append-only in the database itself, and writing each
event's tamper-evidence link (domain/chain.py) in the same transaction as the event.

Beside the events each store keeps its keys (``brigada_keys``, insert-only): ``chain``, the key
its links are computed with, and on central ``sites``, the master key each site's chain key is
derived from. Keys are never events: events are copied to laptops, and keys must not be.

A store written before the keyed chain (release 0.1.0) holds links but no key. Whenever a store's
chain key is made (its first insert, or the first read of the key), the last position its chain
table already holds is recorded with it as ``legacy-until`` (domain/chain.py: links up to there
are checked with the old unkeyed formula); a store that starts with its key records 0, so the
boundary of every store is written once, with its key, and never changes."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any, Literal, overload
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder

from domain.chain import CHAIN_KEY, GENESIS, LEGACY_UNTIL, legacy_position, legacy_value, link, site_of

APPEND_ONLY = "stored events are append-only"
SQLITE_CHAIN = "event_chain"
KEYS = "brigada_keys"


class KeyMismatch(RuntimeError):
    """A store already holds another key under that name: keys are never replaced."""


class StoreKeys:
    """Reading and adding a store's keys inside a transaction; ``execute(sql, params)`` runs a
    statement on the transaction's cursor and returns its first row (or None)."""

    def __init__(
        self,
        execute: Callable[[str, tuple[Any, ...]], Any],
        mark: str,
        table: str = KEYS,
        chain: str = SQLITE_CHAIN,
    ) -> None:
        self.execute = execute
        self.select = f"SELECT value FROM {table} WHERE name = {mark}"
        self.insert = f"INSERT INTO {table} (name, value) VALUES ({mark}, {mark}) ON CONFLICT DO NOTHING"
        self.last_linked = f"SELECT MAX(position) AS last FROM {chain}"

    def get(self, name: str) -> bytes | None:
        row = self.execute(self.select, (name,))
        return None if row is None else bytes.fromhex(_first(row, "value"))

    def get_or_create(self, name: str, value: bytes | None = None) -> bytes:
        found = self.get(name)
        if found is None:
            if name == CHAIN_KEY:  # links already there were made without a key (release 0.1.0)
                row = self.execute(self.last_linked, ())
                last = _first(row, "last") if row is not None else None
                self.execute(self.insert, (LEGACY_UNTIL, legacy_value(last or 0).hex()))
            self.execute(self.insert, (name, (value or secrets.token_bytes(32)).hex()))
            found = self.get(name)
            assert found is not None
        if value is not None and found != value:
            raise KeyMismatch(name)
        return found


def _first(row: Any, column: str) -> Any:
    """A column of a row read by ``StoreKeys.execute`` (a dict on PostgreSQL, a tuple on SQLite)."""
    return row[column] if isinstance(row, dict) else row[0]


def log_tables(kind: str, schema: str) -> tuple[str, str, str]:
    """(events table, its log position column, chain table) of a store, for reading with SQL."""
    if kind == "sqlite":
        return "stored_events", "rowid", SQLITE_CHAIN
    return f'"{schema}".brigada_events', "notification_id", f'"{schema}".brigada_chain'


def _id_text(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def chain_rows(
    key: bytes,
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    last_link: Any,
    sites: Sequence[str | None] | None = None,
) -> list[tuple[int, str, str, str]]:
    """(position, site, previous link, link) for each new event; ``last_link(site)`` reads the
    newest link already stored for a site. ``sites``: each event's site where the caller knows
    it is the one its state is stamped with (central's merge checked it: ``site_of`` of the
    pushed state), None where the state is read for it."""
    latest: dict[str, str] = {}
    rows = []
    known = sites if sites is not None else [None] * len(stored_events)
    for event, position, given in zip(stored_events, positions, known, strict=True):
        site = given if given is not None else site_of(event.state)
        if site not in latest:
            latest[site] = last_link(site) or GENESIS
        previous = latest[site]
        latest[site] = link(
            key,
            previous,
            site,
            _id_text(event.originator_id),
            event.originator_version,
            event.topic,
            event.state,
        )
        rows.append((position, site, previous, latest[site]))
    return rows


class KeyedStore:
    """What both recorders add for keys: read one, or add one (never replace it)."""

    @overload
    def key(self, name: str, value: bytes | None = None, *, create: Literal[True] = True) -> bytes: ...
    @overload
    def key(self, name: str, value: bytes | None = None, *, create: bool) -> bytes | None: ...
    def key(self, name: str, value: bytes | None = None, *, create: bool = True) -> bytes | None:
        """The store's key ``name``; with ``value``, add it (refused if another is there);
        without, make a random one if there is none (unless ``create`` is False)."""
        return self._key(name, value, create=create)

    def _key(self, name: str, value: bytes | None, *, create: bool) -> bytes | None:
        raise NotImplementedError

    def site_positions(self, site: str, up_to: int, limit: int) -> list[int]:
        """The log positions of ``site``'s events at or before ``up_to``, newest first (the
        chain table's site index: the store's time reads its own site's events only)."""
        raise NotImplementedError

    def chain_key(self) -> bytes:
        return self.key(CHAIN_KEY)

    def legacy_until(self) -> int:
        """The last log position linked before the store had its chain key (0: none)."""
        self.chain_key()  # a store without a key gets it, and its boundary, now
        return legacy_position(self.key(LEGACY_UNTIL, create=False))


class AppendOnlySQLiteProcessRecorder(SQLiteProcessRecorder, KeyedStore):
    def _key(self, name: str, value: bytes | None, *, create: bool) -> bytes | None:
        with self.datastore.transaction(commit=True) as c:
            keys = _sqlite_keys(c)
            return keys.get_or_create(name, value) if create or value is not None else keys.get(name)

    def site_positions(self, site: str, up_to: int, limit: int) -> list[int]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position FROM {SQLITE_CHAIN} WHERE site=? AND position<=? "
                "ORDER BY position DESC LIMIT ?",
                (site, up_to, limit),
            )
            return [row[0] for row in c.fetchall()]

    def construct_create_table_statements(self) -> list[str]:
        tables = (self.events_table_name, SQLITE_CHAIN, KEYS)
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {SQLITE_CHAIN} (position INTEGER PRIMARY KEY, "
            "site TEXT NOT NULL, previous TEXT NOT NULL, link TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {KEYS} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {SQLITE_CHAIN}_site ON {SQLITE_CHAIN} (site, position)",
            *(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
                for table in tables
                for verb in ("UPDATE", "DELETE")
            ),
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The events in one statement (the library inserts them one by one), then the
        tracking record and the chain's links, in the caller's transaction. ``sites`` (a keyword):
        see ``chain_rows``."""
        if not stored_events:
            return super()._insert_events(c, stored_events, **kwargs)
        positions = self._insert_rows(c, stored_events)
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None:
            self._insert_tracking(c, tracking)
        if positions:
            # The inserts above hold the write lock, so no other writer can interleave here.
            def last_link(site: str) -> str | None:
                c.execute(
                    f"SELECT link FROM {SQLITE_CHAIN} WHERE site=? ORDER BY position DESC LIMIT 1",
                    (site,),
                )
                row = c.fetchone()
                return row[0] if row else None

            key = _sqlite_keys(c).get_or_create(CHAIN_KEY)
            rows = chain_rows(key, stored_events, positions, last_link, kwargs.get("sites"))
            c.executemany(f"INSERT INTO {SQLITE_CHAIN} VALUES (?, ?, ?, ?)", rows)
        return positions

    def _insert_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """One ``executemany`` and the log positions it gave. The insert takes the write lock
        first, so no other writer comes between it and the read of the last position, and
        SQLite gives a table without AUTOINCREMENT the rowids after its largest, in order (checked
        on the first event)."""
        c.executemany(
            self.insert_events_statement,
            [(_id_text(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events],
        )
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        last = c.fetchone()[0]
        first = last - len(stored_events) + 1
        event = stored_events[0]
        c.execute(
            f"SELECT rowid FROM {self.events_table_name} WHERE originator_id=? AND originator_version=?",
            (_id_text(event.originator_id), event.originator_version),
        )
        if c.fetchone()[0] != first:
            raise ProgrammingError("the events inserted did not take consecutive log positions")
        return list(range(first, last + 1))


def _sqlite_keys(c: SQLiteCursor) -> StoreKeys:
    def execute(statement: str, params: tuple[Any, ...]) -> Any:
        c.execute(statement, params)
        return c.fetchone()

    return StoreKeys(execute, "?")

"""Shared by the activity-log tests: raw SQL on a store's tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from adapters.store import StoreLocation
from domain.chain import GENESIS, link, site_of

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


# -- raw SQL, bypassing the application ---------------------------------------------------------
class RawStore:
    """The store's events and chain tables through a plain driver, as an attacker would see them."""

    def __init__(self, url: str) -> None:
        self.location = StoreLocation.parse(url)
        self.sqlite = self.location.kind == "sqlite"
        if self.sqlite:
            self.events, self.chain, self.position, self.mark = (
                "stored_events",
                "event_chain",
                "rowid",
                "?",
            )
        else:
            schema = self.location.schema
            self.events, self.chain = f'"{schema}".brigada_events', f'"{schema}".brigada_chain'
            self.position, self.mark = "notification_id", "%s"

    def run(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        sql = statement.format(events=self.events, chain=self.chain, pos=self.position, p=self.mark)
        if self.sqlite:
            conn = sqlite3.connect(str(self.location.path))
            try:
                with conn:
                    cursor = conn.execute(sql, params)
                    return cursor.fetchall() if cursor.description else []
            finally:
                conn.close()
        with psycopg.connect(POSTGRES_SERVER) as pg:
            result = pg.execute(sql.encode(), params)
            return result.fetchall() if result.description else []

    def positions(self) -> list[int]:
        return [row[0] for row in self.run("SELECT {pos} FROM {events} ORDER BY {pos}")]

    def link_positions(self) -> list[int]:
        return [row[0] for row in self.run("SELECT position FROM {chain} ORDER BY position")]

    def site_positions(self, site: str) -> list[int]:
        rows = self.run("SELECT position FROM {chain} WHERE site = {p} ORDER BY position", site)
        return [row[0] for row in rows]

    def state(self, position: int) -> bytes:
        return bytes(self.run("SELECT state FROM {events} WHERE {pos} = {p}", position)[0][0])

    def lift_append_only(self, chain_too: bool = False) -> None:
        """What an attacker with the database's own rights does first."""
        if self.sqlite:
            tables = ["stored_events", *(["event_chain"] if chain_too else [])]
            for table in tables:
                self.run(f"DROP TRIGGER {table}_no_update")
                self.run(f"DROP TRIGGER {table}_no_delete")
            return
        self.run("ALTER TABLE {events} DISABLE TRIGGER USER")
        if chain_too:
            self.run("DROP TRIGGER brigada_chain_append_only ON {chain}")

    def replace_in_state(self, position: int, old: str, new: str) -> None:
        if self.sqlite:
            statement = (
                "UPDATE {events} SET state = CAST(replace(CAST(state AS TEXT), {p}, {p}) AS BLOB)"
                " WHERE {pos} = {p}"
            )
        else:
            statement = (
                "UPDATE {events} SET state = convert_to(replace(convert_from(state, 'UTF8'),"
                " {p}, {p}), 'UTF8') WHERE {pos} = {p}"
            )
        before = self.state(position)
        self.run(statement, old, new, position)
        assert self.state(position) != before, "the tampering changed nothing"

    def delete_event(self, position: int) -> None:
        self.run("DELETE FROM {events} WHERE {pos} = {p}", position)

    def delete_link(self, position: int) -> None:
        self.run("DELETE FROM {chain} WHERE position = {p}", position)

    def relink(self, key: bytes) -> None:
        """Every link recomputed in log order with ``key`` (one chain per site), as whoever
        rewrote the log would, to make it consistent again."""
        rows = self.run(
            "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} ORDER BY {pos}"
        )
        self.run("DELETE FROM {chain}")
        latest: dict[str, str] = {}
        for position, originator, version, topic, state in rows:
            state = bytes(state)
            site = site_of(state)
            previous = latest.get(site, GENESIS)
            originator = (
                originator.hex
                if hasattr(originator, "hex") and not isinstance(originator, str)
                else originator
            )
            latest[site] = link(key, previous, site, originator, version, topic, state)
            self.run(
                "INSERT INTO {chain} VALUES ({p}, {p}, {p}, {p})", position, site, previous, latest[site]
            )

    def insert_copy(self, position: int) -> int:
        """A stored row copied under a new version, with no link: the new row's log position."""
        self.run(
            "INSERT INTO {events} (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version + 1000, topic, state FROM {events}"
            " WHERE {pos} = {p}",
            position,
        )
        return self.positions()[-1]


@pytest.fixture
def raw_store() -> Callable[[str], RawStore]:
    """RawStore(url): the store's events and chain through a plain driver."""
    return RawStore

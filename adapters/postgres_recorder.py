"""The PostgreSQL recorder of adapters/recorders.py, in a module of its own: psycopg and
eventsourcing's PostgreSQL module are loaded only for a postgresql:// store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from adapters.recorders import APPEND_ONLY, KEYS, KeyedStore, StoreKeys, chain_rows
from domain.chain import CHAIN_KEY

# An insert of this many events or more goes through COPY (a sync's merge, a rebuilt store's
# copy); a command's few events take the library's one statement.
BULK_FROM = 50


class AppendOnlyPostgresProcessRecorder(PostgresProcessRecorder, KeyedStore):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str, tracking_table_name: str
    ) -> None:
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        schema = Identifier(self.datastore.schema)
        self.chain_table_name = self.events_table_name.replace("_events", "") + "_chain"
        chain = Identifier(self.chain_table_name)
        function = Identifier(f"{self.events_table_name}_append_only")
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} (position bigint PRIMARY KEY, "
                "site text NOT NULL, previous text NOT NULL, link text NOT NULL)"
            ).format(schema=schema, chain=chain),
            SQL("CREATE INDEX IF NOT EXISTS {index} ON {schema}.{chain} (site, position)").format(
                index=Identifier(f"{self.chain_table_name}_site"), schema=schema, chain=chain
            ),
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{keys} (name text PRIMARY KEY, value text NOT NULL)"
            ).format(schema=schema, keys=Identifier(KEYS)),
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
            ).format(schema=schema, function=function, message=SQL(APPEND_ONLY)),
            *(
                SQL(
                    "CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE OR TRUNCATE "
                    "ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}()"
                ).format(
                    trigger=Identifier(f"{table}_append_only"),
                    schema=schema,
                    table=Identifier(table),
                    function=function,
                )
                for table in (self.events_table_name, self.chain_table_name, KEYS)
            ),
        ]
        self.sql_last_link = SQL(
            "SELECT link FROM {schema}.{chain} WHERE site = %s ORDER BY position DESC LIMIT 1"
        ).format(schema=schema, chain=chain)
        self.sql_insert_link = SQL("INSERT INTO {schema}.{chain} VALUES (%s, %s, %s, %s)").format(
            schema=schema, chain=chain
        )
        # The bulk path: the rows copied into a temporary table of the connection (emptied at
        # each commit), then inserted in one statement under the table lock.
        self.sql_create_incoming = SQL(
            "CREATE TEMPORARY TABLE IF NOT EXISTS brigada_incoming (originator_id {type} NOT NULL, "
            "originator_version bigint NOT NULL, topic text NOT NULL, state bytea NOT NULL, "
            "ord integer NOT NULL) ON COMMIT DELETE ROWS"
        ).format(type=SQL(self.datastore.originator_id_type))
        self.sql_copy_incoming = SQL("COPY pg_temp.brigada_incoming FROM STDIN (FORMAT BINARY)")
        self.sql_insert_incoming = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM pg_temp.brigada_incoming "
            "ORDER BY ord RETURNING notification_id"
        ).format(schema=schema, table=Identifier(self.events_table_name))
        self.sql_copy_chain = SQL(
            "COPY {schema}.{chain} (position, site, previous, link) FROM STDIN (FORMAT BINARY)"
        ).format(schema=schema, chain=chain)
        self.sql_site_positions = SQL(
            "SELECT position FROM {schema}.{chain} WHERE site = %s AND position <= %s "
            "ORDER BY position DESC LIMIT %s"
        ).format(schema=schema, chain=chain)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Many events at once through ``COPY`` (see ``_insert_in_bulk``), a few through the
        library's statement. ``sites`` (a keyword): see adapters/recorders.py ``chain_rows``."""
        if len(stored_events) < BULK_FROM:
            return super().insert_events(stored_events, **kwargs)
        return self._insert_in_bulk(stored_events, **kwargs)

    def _insert_in_bulk(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        """In one transaction: the tracking record, the events copied into a temporary table and
        inserted from it in one statement under the EXCLUSIVE table lock (as the library's insert
        takes it: log positions in commit order), their chain links copied in."""
        tracking: Tracking | None = kwargs.get("tracking")
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            if tracking is not None:
                self._insert_tracking(curs, tracking)
            curs.execute(self.sql_create_incoming)
            with curs.copy(self.sql_copy_incoming) as copy:
                copy.set_types([self.datastore.originator_id_type, "int8", "text", "bytea", "int4"])
                for number, event in enumerate(stored_events):
                    copy.write_row(
                        (event.originator_id, event.originator_version, event.topic, event.state, number)
                    )
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(self.sql_insert_incoming)
            # One statement takes its positions from the sequence in the order it inserts.
            positions = sorted(row["notification_id"] for row in curs.fetchall())
            if len(positions) != len(stored_events):
                raise ProgrammingError(f"{len(positions)} events inserted of {len(stored_events)}")

            rows = self._chain_rows(curs, stored_events, positions, kwargs.get("sites"))
            with curs.copy(self.sql_copy_chain) as copy:
                copy.set_types(["int8", "text", "text", "text"])
                for row in rows:
                    copy.write_row(row)
        return positions

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Any:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events and positions:
            # Still inside the insert's transaction and its EXCLUSIVE table lock.
            rows = self._chain_rows(curs, stored_events, positions, kwargs.get("sites"))
            curs.executemany(self.sql_insert_link, rows)
        return positions

    def _chain_rows(
        self, curs: Any, stored_events: Sequence[StoredEvent], positions: Sequence[int], sites: Any
    ) -> list[tuple[int, str, str, str]]:
        """The new events' chain rows, each site's chain continued from its newest stored link."""

        def last_link(site: str) -> str | None:
            curs.execute(self.sql_last_link, (site,))
            row = curs.fetchone()
            return row["link"] if row else None

        return chain_rows(
            self._keys(curs).get_or_create(CHAIN_KEY), stored_events, positions, last_link, sites
        )

    def site_positions(self, site: str, up_to: int, limit: int) -> list[int]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.sql_site_positions, (site, up_to, limit))
            return [row["position"] for row in curs.fetchall()]

    def _key(self, name: str, value: bytes | None, *, create: bool) -> bytes | None:
        with self.datastore.transaction(commit=True) as curs:
            keys = self._keys(curs)
            return keys.get_or_create(name, value) if create or value is not None else keys.get(name)

    def _keys(self, curs: Any) -> StoreKeys:
        schema = self.datastore.schema

        def execute(statement: str, params: tuple[Any, ...]) -> Any:
            curs.execute(statement, params, prepare=False)
            # Inside an insert the cursor may be in pipeline mode: description is not known yet.
            return curs.fetchone() if statement.startswith("SELECT") else None

        return StoreKeys(execute, "%s", f'"{schema}".{KEYS}', f'"{schema}".{self.chain_table_name}')

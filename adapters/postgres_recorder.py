"""The PostgreSQL recorder of adapters/recorders.py, in a module of its own: psycopg and
eventsourcing's PostgreSQL module are loaded only for a postgresql:// store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg.sql import SQL, Identifier

from adapters.recorders import APPEND_ONLY, KEYS, KeyedStore, StoreKeys, chain_rows
from domain.chain import CHAIN_KEY


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
        self.sql_site_positions = SQL(
            "SELECT position FROM {schema}.{chain} WHERE site = %s AND position <= %s "
            "ORDER BY position DESC LIMIT %s"
        ).format(schema=schema, chain=chain)

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Any:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events and positions:
            # Still inside the insert's transaction and its EXCLUSIVE table lock.
            def last_link(site: str) -> str | None:
                curs.execute(self.sql_last_link, (site,))
                row = curs.fetchone()
                return row["link"] if row else None

            key = self._keys(curs).get_or_create(CHAIN_KEY)
            rows = chain_rows(key, stored_events, positions, last_link)
            curs.executemany(self.sql_insert_link, rows)
        return positions

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

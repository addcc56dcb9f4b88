"""eventsourcing's own recorders, with the events table made append-only in the database itself."""

from __future__ import annotations

from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from psycopg.sql import SQL, Identifier

APPEND_ONLY = "stored events are append-only"


class AppendOnlySQLiteProcessRecorder(SQLiteProcessRecorder):
    def construct_create_table_statements(self) -> list[str]:
        table = self.events_table_name
        return [
            *super().construct_create_table_statements(),
            *(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
                for verb in ("UPDATE", "DELETE")
            ),
        ]


class AppendOnlyPostgresProcessRecorder(PostgresProcessRecorder):
    def __init__(self, datastore, *, events_table_name: str, tracking_table_name: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        function = Identifier(f"{self.events_table_name}_append_only")
        trigger = Identifier(f"{self.events_table_name}_append_only")
        self.sql_create_statements += [
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
            ).format(schema=schema, function=function, message=SQL(APPEND_ONLY)),
            SQL(
                "CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE OR TRUNCATE "
                "ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}()"
            ).format(trigger=trigger, schema=schema, table=table, function=function),
        ]

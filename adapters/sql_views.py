"""Views as SQL tables (SQLAlchemy Core), one per projection, with a tracking row each.

A batch's rows and the view's new position are written in one transaction, and only if the view
is still at the position the batch started from: two processes never apply the same events twice.
"""

from __future__ import annotations

import sqlite3
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from projections.base import Key, Projection, Query, RowReads

TRACKING = "view_tracking"
CHUNK = 500

_TYPES: dict[Any, Any] = {
    str: sa.Text,
    int: sa.BigInteger,
    bool: sa.Boolean,
    date: sa.Date,
    datetime: sa.DateTime(timezone=True),
    Decimal: sa.Numeric(18, 4),
    float: sa.Float,
}


def _column_type(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if args else annotation
    return _TYPES[base]


def _nullable(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlViewStorage:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.metadata = sa.MetaData()
        self.tracking = sa.Table(
            TRACKING,
            self.metadata,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("position", sa.BigInteger, nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
        )
        self.tracking.create(engine, checkfirst=True)
        t = self.tracking
        # A view moves from the position its batch started from, or not at all.
        self.move = (
            t.update()
            .where(t.c.name == sa.bindparam("view_name"), t.c.position == sa.bindparam("old_position"))
            .values(position=sa.bindparam("new_position"), version=sa.bindparam("view_version"))
        )

    def row_store(self, projection: Projection) -> SqlRowStore:
        return SqlRowStore(self, projection)

    def close(self) -> None:
        self.engine.dispose()

    def tracked(self) -> dict[str, tuple[int, int | None]]:
        """Every view's (position, version), in one read."""
        t = self.tracking
        with self.engine.connect() as conn:
            return {row.name: (row.position, row.version) for row in conn.execute(sa.select(t))}

    def advance(self, moves: list[tuple[str, int]], new: int) -> None:
        """Move views that had nothing to read from their positions to ``new``, in one transaction
        (a view another process moved meanwhile is left as it is)."""
        with self.engine.begin() as conn:
            self._advance(conn, moves, new)

    def _advance(self, conn: sa.Connection, moves: list[tuple[str, int]], new: int) -> None:
        t = self.tracking
        statement = (
            t.update()
            .where(t.c.name == sa.bindparam("view_name"), t.c.position == sa.bindparam("old_position"))
            .values(position=sa.bindparam("new_position"))
        )
        params = [{"view_name": name, "old_position": old, "new_position": new} for name, old in moves]
        if params:
            conn.execute(statement, params)

    def write_together(self, writes: list[Write], moves: list[tuple[str, int]], new: int) -> bool:
        """Several views' batches and the idle views' moves in one transaction; nothing is written
        (False) if any of the written views was moved meanwhile by another process."""
        with self.engine.begin() as conn:
            for store, upserts, deletes, old, reached in writes:
                if not store.write_in(conn, upserts, deletes, old, reached):
                    conn.rollback()
                    return False
            self._advance(conn, moves, new)
        return True


Write = tuple["SqlRowStore", Mapping[Key, Any], Iterable[Key], int, int]


def _values(row: Any) -> dict[str, Any]:
    return dict(row.__dict__)  # rows are plain (frozen) dataclasses: their fields, in order


class SqlRowStore(RowReads):
    def __init__(self, storage: SqlViewStorage, projection: Projection) -> None:
        self.storage = storage
        self.engine = storage.engine
        self.projection = projection
        hints = typing.get_type_hints(projection.row_type)
        self.field_names = [f.name for f in fields(projection.row_type)]
        # A single integer key (a log position) is SQLite's rowid itself: the table is kept in
        # key order, and every index holds the key.
        rowid_key = (
            len(projection.key_fields) == 1 and _column_type(hints[projection.key_fields[0]]) is sa.BigInteger
        )
        columns = [
            sa.Column(
                name,
                sa.BigInteger().with_variant(sa.Integer(), "sqlite")
                if rowid_key and name in projection.key_fields
                else _column_type(hints[name]),
                primary_key=name in projection.key_fields,
                nullable=_nullable(hints[name]),
                autoincrement=False,
            )
            for name in self.field_names
        ]
        self.table = sa.Table(f"view_{projection.name}", storage.metadata, *columns)
        rowid = rowid_key and self.engine.dialect.name == "sqlite"
        for i, index_columns in enumerate(projection.indexes):
            if rowid and len(index_columns) > 1 and index_columns[-1] == projection.key_fields[0]:
                # Every SQLite index ends with the rowid: (x, position) is (x), a column smaller.
                index_columns = index_columns[:-1]
            sa.Index(f"ix_view_{projection.name}_{i}", *(self.table.c[c] for c in index_columns))
        self.key_columns = [self.table.c[k] for k in projection.key_fields]
        self.text_index = _text_index(self.engine, self.table, projection) if rowid_key else None
        with self.engine.begin() as conn:
            self.table.create(conn, checkfirst=True)
            self._create_indexes(conn)  # a rebuild that stopped half-way left them out
            self._create_text_index(conn)
            self._ensure_tracking(conn)
        # Statements built once (building one costs more than running it on a small view).
        keys: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
        single = len(self.key_columns) == 1
        matching = self.key_columns[0].in_(keys) if single else sa.tuple_(*self.key_columns).in_(keys)
        self._key_value: Any = (lambda key: key[0]) if single else tuple
        self._load = sa.select(self.table).where(matching)
        self._delete = self.table.delete().where(matching)
        self._insert = self.table.insert()
        # Rows never replaced (appends) are inserted; others replaced in one statement where the
        # database can (not under a text index: its triggers must see the delete), else deleted
        # and inserted.
        self._upsert = None if self.text_index else _upsert(self.engine.dialect.name)
        self._replaces = self._upsert is not None or projection.appends
        self._write_rows = (
            self._insert if projection.appends or self._upsert is None else self._upsert(self.table)
        )
        # Rows whose every column the driver takes as it is (text, integers: no conversion of
        # SQLAlchemy's on the way) are written by the driver's own executemany, as tuples.
        dialect = self.engine.dialect
        self._driver_rows: str | None = None
        plain = all(c.type.dialect_impl(dialect).bind_processor(dialect) is None for c in self.table.columns)
        # On PostgreSQL such rows are copied in (COPY: a tenth of the time of INSERTs).
        self._copy: str | None = None
        if plain and dialect.name == "postgresql" and dialect.driver == "psycopg":
            quote = dialect.identifier_preparer.quote
            names = ", ".join(quote(name) for name in self.field_names)
            self._copy = f"COPY {quote(self.table.name)} ({names}) FROM STDIN"
        if plain and dialect.paramstyle in ("qmark", "format", "pyformat"):
            statement = str(self._write_rows.compile(dialect=dialect))
            if dialect.paramstyle == "pyformat":  # psycopg: one positional marker per column
                for name in self.field_names:
                    statement = statement.replace(f"%({name})s", "%s")
            self._driver_rows = statement
        self._selects: dict[Any, Any] = {}

    # -- substring index (SQLite FTS5, trigrams) ------------------------------------------------
    def _create_text_index(self, conn: sa.Connection) -> None:
        if self.text_index is None:
            return
        fts, table, key = self.text_index, self.table.name, self.key_columns[0].name
        columns = list(self.projection.text_indexed)
        triggers = [f"{fts}_{name}" for name in ("ai", "ad", "au")]
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name IN (?, ?, ?, ?)", (fts, *triggers)
        ).scalar()
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({', '.join(columns)},"
            f" content='{table}', content_rowid='{key}', tokenize='trigram')"
        )
        names = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        remove = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.{key}, {old});"
        add = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.{key}, {new});"
        for name, when, body in (
            ("ai", "INSERT", add),
            ("ad", "DELETE", remove),
            ("au", "UPDATE", remove + add),
        ):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS {fts}_{name} AFTER {when} ON {table} BEGIN {body} END"
            )
        if found != 4:  # new, or rows were written without it (a rebuild that stopped): index them
            conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        """For a rebuild into the emptied view: its secondary indexes and text index are built
        once at the end, from all the rows, rather than row by row. Reads meanwhile are slower,
        never wrong (they wait for the end, or find the rows without the indexes' help)."""
        with self.engine.begin() as conn:
            for index in self.table.indexes:
                index.drop(conn, checkfirst=True)
            if self.text_index:
                for name in ("ai", "ad", "au"):
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {self.text_index}_{name}")
        try:
            yield
        finally:
            with self.engine.begin() as conn:
                self._create_indexes(conn)
                self._create_text_index(conn)

    def _create_indexes(self, conn: sa.Connection) -> None:
        for index in self.table.indexes:
            index.create(conn, checkfirst=True)

    # -- tracking -------------------------------------------------------------------------------
    def _ensure_tracking(self, conn: sa.Connection) -> None:
        t = self.storage.tracking
        found = conn.execute(sa.select(t.c.name).where(t.c.name == self.projection.name)).first()
        if found is None:
            conn.execute(
                t.insert().values(name=self.projection.name, position=0, version=self.projection.version)
            )

    def _tracking(self) -> tuple[int, int | None]:
        t = self.storage.tracking
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.c.position, t.c.version).where(t.c.name == self.projection.name)
            ).first()
        return (row[0], row[1]) if row else (0, None)

    def position(self) -> int:
        return self._tracking()[0]

    def stored_version(self) -> int | None:
        return self._tracking()[1]

    # -- rows -----------------------------------------------------------------------------------
    def _to_row(self, record: Any) -> Any:
        return self.projection.row_type(*record)  # columns are the row's fields, in order

    def load(self, keys: Iterable[Key]) -> dict[Key, Any]:
        found: dict[Key, Any] = {}
        key_of = self.projection.key_of
        with self.engine.connect() as conn:
            for chunk in _chunks(list(keys)):
                for record in conn.execute(self._load, {"keys": [self._key_value(k) for k in chunk]}):
                    row = self._to_row(record)
                    found[key_of(row)] = row
        return found

    def write(self, upserts: Mapping[Key, Any], deletes: Iterable[Key], old: int, new: int) -> bool:
        with self.engine.begin() as conn:
            if not self.write_in(conn, upserts, deletes, old, new):
                conn.rollback()
                return False
        return True

    def write_in(
        self, conn: sa.Connection, upserts: Mapping[Key, Any], deletes: Iterable[Key], old: int, new: int
    ) -> bool:
        """The batch inside the caller's transaction; False (and nothing written) if the view is
        no longer at ``old``."""
        moved = conn.execute(
            self.storage.move,
            {
                "view_name": self.projection.name,
                "old_position": old,
                "new_position": new,
                "view_version": self.projection.version,
            },
        )
        if moved.rowcount != 1:
            return False
        # Rows are replaced in one statement where the database can; otherwise delete, then insert.
        gone = list(deletes) if self._replaces else [*upserts.keys(), *deletes]
        for chunk in _chunks(gone):
            conn.execute(self._delete, {"keys": [self._key_value(k) for k in chunk]})
        if self._copy is not None:
            if upserts:
                with conn.connection.driver_connection.cursor() as cursor, cursor.copy(self._copy) as copy:  # type: ignore[union-attr]
                    for row in upserts.values():
                        copy.write_row(tuple(row.__dict__.values()))
            return True
        if self._driver_rows is not None:
            if upserts:
                rows = [tuple(row.__dict__.values()) for row in upserts.values()]
                conn.exec_driver_sql(self._driver_rows, rows)
            return True
        values = [_values(row) for row in upserts.values()]
        for chunk in _chunks(values, 1000):
            conn.execute(self._write_rows, chunk)
        return True

    def reset(self) -> None:
        t = self.storage.tracking
        with self.engine.begin() as conn:
            if self.text_index:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.text_index}")
            self.table.drop(conn, checkfirst=True)  # its triggers go with it
            self.table.create(conn)
            self._create_text_index(conn)
            self._ensure_tracking(conn)
            conn.execute(
                t.update()
                .where(t.c.name == self.projection.name)
                .values(position=0, version=self.projection.version)
            )

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()

    def select(self, query: Query) -> list[Any]:
        params = self._params(query)
        with self.engine.connect() as conn:
            return [self._to_row(r) for r in conn.execute(self._statement(query, params), params)]

    def _params(self, query: Query) -> dict[str, Any]:
        """This query's values, by the names its statement binds."""
        params: dict[str, Any] = {}
        for k, v in query.equals.items():
            if v is not None:  # None is IS NULL, not = NULL
                params[f"eq_{k}"] = v
        for k, (low, high) in query.ranges.items():
            if low is not None:
                params[f"low_{k}"] = low
            if high is not None:
                params[f"high_{k}"] = high
        for k, fragments in query.contains.items():
            for i, fragment in enumerate(fragments):
                params[f"has_{k}_{i}"] = f"%{_escaped(fragment)}%"
        params.update(self._indexed_text(query))
        if query.limit:
            params["page_limit"] = query.limit
        if query.offset:
            params["page_offset"] = query.offset
        return params

    def _indexed_text(self, query: Query) -> dict[str, str]:
        """The fragment the text index looks up (the longest: the fewest matches, as a rule),
        when there is an index, the page is in key order, the fragment has a trigram and no other
        criterion is given (an equality or a range has an index of its own, read in key order)."""
        if not self.text_index or query.order_by != self.key_columns[0].name or query.equals or query.ranges:
            return {}
        usable = [
            (len(fragment), f"fts_{k}_{i}", fragment)
            for k, fragments in query.contains.items()
            if k in self.projection.text_indexed
            for i, fragment in enumerate(fragments)
            if len(fragment) >= 3 and not any(c in fragment for c in "%_")
        ]
        if not usable:
            return {}
        _length, name, fragment = max(usable)
        return {name: f"%{fragment}%"}  # finds candidates; the has_ condition still decides

    def _statement(self, query: Query, params: dict[str, Any]) -> Any:
        """The statement for a query's shape, built once per shape."""
        nulls = tuple(k for k, v in query.equals.items() if v is None)
        shape = (tuple(params), nulls, query.order_by, query.descending)
        statement = self._selects.get(shape)
        if statement is None:
            statement = self._selects[shape] = self._build_select(query, params)
        return statement

    def _build_select(self, query: Query, params: dict[str, Any]) -> Any:
        table = self.table
        key = self.key_columns[0]
        statement = sa.select(table).where(
            *(
                table.c[k].is_(None) if v is None else table.c[k] == sa.bindparam(f"eq_{k}")
                for k, v in query.equals.items()
            ),
            *(
                table.c[k] >= sa.bindparam(f"low_{k}")
                for k, (low, _high) in query.ranges.items()
                if low is not None
            ),
            *(
                table.c[k] <= sa.bindparam(f"high_{k}")
                for k, (_low, high) in query.ranges.items()
                if high is not None
            ),
            *(
                # What icontains(fragment, autoescape=True) does, with the value bound later.
                sa.func.lower(table.c[k]).like(sa.func.lower(sa.bindparam(f"has_{k}_{i}")), escape="/")
                for k, fragments in query.contains.items()
                for i in range(len(fragments))
            ),
        )
        indexed = [name for name in params if name.startswith("fts_")]
        if indexed:
            # The text index lists candidates newest (or oldest) first, in key order: the page
            # is read from it until full, rows looked up by key, every criterion checked.
            name = indexed[0]
            column = name.split("_", 1)[1].rsplit("_", 1)[0]
            index = sa.table(self.text_index or "", sa.column("rowid"), sa.column(column))
            statement = statement.join_from(table, index, index.c.rowid == key).where(
                index.c[column].like(sa.bindparam(name))
            )
            statement = statement.order_by(index.c.rowid.desc() if query.descending else index.c.rowid)
            if query.limit:
                statement = statement.limit(sa.bindparam("page_limit"))
            if query.offset:
                statement = statement.offset(sa.bindparam("page_offset"))
            return statement
        if query.order_by:
            order = table.c[query.order_by]
            statement = statement.order_by(order.desc() if query.descending else order)
        if query.limit:
            statement = statement.limit(sa.bindparam("page_limit"))
        if query.offset:
            statement = statement.offset(sa.bindparam("page_offset"))
        if query.limit and [query.order_by] == [c.name for c in self.key_columns]:
            # A page in key order: find its keys first (an index holding the filtered column and
            # the key answers that alone), then read only the page's rows.
            page = statement.with_only_columns(key).subquery()
            statement = (
                sa.select(table)
                .where(key.in_(sa.select(page.c[key.name])))
                .order_by(key.desc() if query.descending else key)
            )
        return statement

    def all_rows(self) -> list[Any]:
        query = sa.select(self.table).order_by(*self.key_columns)
        with self.engine.connect() as conn:
            return [self._to_row(r) for r in conn.execute(query)]


def _escaped(fragment: str) -> str:
    """A LIKE pattern's literal text, with '/' as the escape character (as autoescape does)."""
    return fragment.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _upsert(dialect: str) -> Callable[[sa.Table], Any] | None:
    """INSERT OR REPLACE on SQLite (the old row is deleted and the new one inserted, as a delete
    then an insert would, so a replaced row still moves to the end of the table); None elsewhere
    (delete, then insert)."""
    if dialect == "sqlite":
        return lambda table: table.insert().prefix_with("OR REPLACE")
    return None


def _text_index(engine: sa.Engine, table: sa.Table, projection: Projection) -> str | None:
    """The FTS5 table indexing the projection's text columns by trigram, on SQLite builds that
    have FTS5 and the trigram tokenizer (3.34+); None elsewhere (a scan answers instead)."""
    if not projection.text_indexed or engine.dialect.name != "sqlite":
        return None
    if tuple(int(n) for n in sqlite3.sqlite_version.split(".")[:2]) < (3, 34):
        return None
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE temp.brigada_fts_probe USING fts5(x, tokenize='trigram')"
            )
            conn.exec_driver_sql("DROP TABLE temp.brigada_fts_probe")
    except sa.exc.OperationalError:
        return None
    return f"{table.name}_text"

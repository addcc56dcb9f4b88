"""Views as SQL tables (SQLAlchemy Core), one per projection, with a tracking row each.

A batch's rows and the view's new position are written in one transaction, and only if the view
is still at the position the batch started from: two processes never apply the same events twice.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator, Mapping
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
        t = self.tracking
        with self.engine.begin() as conn:
            for name, old in moves:
                conn.execute(t.update().where(t.c.name == name, t.c.position == old).values(position=new))


class SqlRowStore(RowReads):
    def __init__(self, storage: SqlViewStorage, projection: Projection) -> None:
        self.storage = storage
        self.engine = storage.engine
        self.projection = projection
        hints = typing.get_type_hints(projection.row_type)
        self.field_names = [f.name for f in fields(projection.row_type)]
        columns = [
            sa.Column(
                name,
                _column_type(hints[name]),
                primary_key=name in projection.key_fields,
                nullable=_nullable(hints[name]),
            )
            for name in self.field_names
        ]
        self.table = sa.Table(f"view_{projection.name}", storage.metadata, *columns)
        for i, index_columns in enumerate(projection.indexes):
            sa.Index(f"ix_view_{projection.name}_{i}", *(self.table.c[c] for c in index_columns))
        self.key_columns = [self.table.c[k] for k in projection.key_fields]
        self.table.create(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            self._ensure_tracking(conn)

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
        return self.projection.row_type(**{name: record[name] for name in self.field_names})

    def _key_filter(self, keys: list[Key]) -> Any:
        if len(self.key_columns) == 1:
            return self.key_columns[0].in_([k[0] for k in keys])
        return sa.tuple_(*self.key_columns).in_(keys)

    def load(self, keys: Iterable[Key]) -> dict[Key, Any]:
        found: dict[Key, Any] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(keys)):
                for record in conn.execute(sa.select(self.table).where(self._key_filter(chunk))).mappings():
                    row = self._to_row(record)
                    found[self.projection.key_of(row)] = row
        return found

    def write(self, upserts: Mapping[Key, Any], deletes: Iterable[Key], old: int, new: int) -> bool:
        t = self.storage.tracking
        with self.engine.begin() as conn:
            moved = conn.execute(
                t.update()
                .where(t.c.name == self.projection.name, t.c.position == old)
                .values(position=new, version=self.projection.version)
            )
            if moved.rowcount != 1:
                conn.rollback()
                return False
            touched = [*upserts.keys(), *deletes]
            for chunk in _chunks(touched):
                conn.execute(self.table.delete().where(self._key_filter(chunk)))
            values = [{n: getattr(row, n) for n in self.field_names} for row in upserts.values()]
            for chunk in _chunks(values, 1000):
                conn.execute(self.table.insert(), chunk)
        return True

    def reset(self) -> None:
        t = self.storage.tracking
        with self.engine.begin() as conn:
            self.table.drop(conn, checkfirst=True)
            self.table.create(conn)
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
        table = self.table
        statement = sa.select(table).where(
            *(table.c[k] == v for k, v in query.equals.items()),
            *(table.c[k] >= low for k, (low, _high) in query.ranges.items() if low is not None),
            *(table.c[k] <= high for k, (_low, high) in query.ranges.items() if high is not None),
            *(
                table.c[k].icontains(fragment, autoescape=True)  # the same on every database
                for k, fragments in query.contains.items()
                for fragment in fragments
            ),
        )
        if query.order_by:
            column = table.c[query.order_by]
            statement = statement.order_by(column.desc() if query.descending else column)
        if query.limit:
            statement = statement.limit(query.limit)
        if query.offset:
            statement = statement.offset(query.offset)
        with self.engine.connect() as conn:
            return [self._to_row(r) for r in conn.execute(statement).mappings()]

    def all_rows(self) -> list[Any]:
        query = sa.select(self.table).order_by(*self.key_columns)
        with self.engine.connect() as conn:
            return [self._to_row(r) for r in conn.execute(query).mappings()]

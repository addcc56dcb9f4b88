"""The speed-ups in the SQL views answer exactly as the plain queries did.

SQLite views keyed by a log position keep it as the rowid, read a page's keys before its rows, and
(the activity log) look texts up in an FTS5 trigram index, which is rebuilt once at the end of a
rebuild. Each page here is compared with the one plain SQL query the views ran before (every
criterion in one WHERE, ``lower(column) LIKE lower(pattern) ESCAPE '/'``, ORDER BY, LIMIT, OFFSET).
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql_views import SqlRowStore, SqlViewStorage
from projections.audit.activity_log import ActivityLogProjection, ActivityRow
from projections.base import Query

pytestmark = pytest.mark.store

WORDS = ["HIST=BRG03-12", "VISITA=7", "PAR=TRATAMIENTO", "CARPETA=/copias/año_1", "DX=J069", "100%"]
FRAGMENTS = ["hist=brg03", "HIST=BRG03-12", "VISITA=7", "tratamiento", "AÑO", "año_1", "/copias", "_", "%"]
FRAGMENTS += ["0%", "DX", "=", "zzz-none", "RG0"]


def rows(count: int, seed: int) -> list[ActivityRow]:
    rng = random.Random(seed)
    return [
        ActivityRow(
            position=n,
            event_id=f"{n:032x}",
            recorded_at=f"2026-0{1 + n % 3}-{1 + n % 28:02d}T10:00:00+00:00",
            user=rng.choice(["ana", "beto"]),
            computer="pc",
            ip_octet=None if n % 7 == 0 else n % 5,
            site=rng.choice(["CEN", "BRG01"]),
            action=rng.choice(["login", "patient.view"]),
            comment=" ".join(rng.sample(WORDS, rng.randint(0, 3))),
            fields="{}",
        )
        for n in range(1, count + 1)
    ]


def plain(path: Path, query: Query) -> list[int]:
    """The page as the single query the views used to run."""
    where, params = [], []
    for name, value in query.equals.items():
        where.append(f'"{name}" IS ?' if value is None else f'"{name}" = ?')
        params.append(value)
    for name, (low, high) in query.ranges.items():
        for operator, bound in ((">=", low), ("<=", high)):
            if bound is not None:
                where.append(f'"{name}" {operator} ?')
                params.append(bound)
    for name, fragments in query.contains.items():
        for fragment in fragments:
            escaped = fragment.replace("/", "//").replace("%", "/%").replace("_", "/_")
            where.append(f"lower(\"{name}\") LIKE lower('%' || ? || '%') ESCAPE '/'")
            params.append(escaped)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = f" ORDER BY {query.order_by} {'DESC' if query.descending else 'ASC'}"
    page = f" LIMIT {query.limit or -1} OFFSET {query.offset}"
    with sqlite3.connect(path) as conn:
        found = conn.execute(f"SELECT position FROM view_activity_log{clause}{order}{page}", params)
        return [row[0] for row in found]


def queries() -> list[Query]:
    found = []
    for fragment in FRAGMENTS:
        for descending in (True, False):
            for offset in (0, 3):
                contains = {"comment": [fragment]}
                found.append(
                    Query(
                        contains=contains, order_by="position", descending=descending, limit=5, offset=offset
                    )
                )
    found += [
        Query(
            contains={"comment": ["VISITA=7", "hist=brg03"]}, order_by="position", descending=True, limit=4
        ),
        Query(
            equals={"user": "ana"},
            contains={"comment": ["DX=J"]},
            order_by="position",
            descending=True,
            limit=4,
        ),
        Query(equals={"ip_octet": None}, order_by="position", descending=True, limit=6),
        Query(
            ranges={"recorded_at": ("2026-02-01", "2026-02-15")},
            order_by="position",
            descending=True,
            limit=9,
        ),
        Query(ranges={"recorded_at": (None, "2026-01-10")}, order_by="position", limit=9, offset=2),
        Query(contains={"comment": ["PAR"]}, order_by="recorded_at", descending=True, limit=50),
        Query(contains={"comment": ["tratamiento"]}, order_by="position", descending=True),
    ]
    return found


@pytest.fixture
def store(tmp_path: Path) -> tuple[SqlRowStore, Path]:
    path = tmp_path / "views.db"
    return SqlViewStorage(sa.create_engine(f"sqlite:///{path}")).row_store(ActivityLogProjection()), path


def write(store: SqlRowStore, written: list[ActivityRow], start: int = 0) -> None:
    for first in range(0, len(written), 100):
        batch = written[first : first + 100]
        assert store.write(
            {(r.position,): r for r in batch}, (), old=start + first, new=start + first + len(batch)
        )


def check(store: SqlRowStore, path: Path) -> None:
    assert store.text_index is not None  # this SQLite has FTS5 trigrams: the index path is tested
    for query in queries():
        got = [row.position for row in store.select(query)]
        assert got == plain(path, query), query


def test_pages_match_the_plain_query(store: tuple[SqlRowStore, Path]) -> None:
    rows_store, path = store
    write(rows_store, rows(400, seed=1))
    check(rows_store, path)


def test_pages_match_after_a_rebuild_and_after_more_rows(store: tuple[SqlRowStore, Path]) -> None:
    rows_store, path = store
    written = rows(600, seed=2)
    rows_store.reset()
    with rows_store.rebuilding():
        write(rows_store, written[:400])
    write(rows_store, written[400:], start=400)  # catch-up after the rebuild: through the triggers
    check(rows_store, path)
    rows_store.write({}, [(5,), (6,)], old=600, new=601)  # deleted rows leave the index too
    check(rows_store, path)


def test_a_rebuild_that_stopped_leaves_no_row_unindexed(tmp_path: Path) -> None:
    path = tmp_path / "views.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    first = SqlViewStorage(engine).row_store(ActivityLogProjection())
    rebuild: Any = first.rebuilding()
    rebuild.__enter__()  # the process dies inside: no indexes, no triggers
    write(first, rows(300, seed=3))
    again = SqlViewStorage(engine).row_store(ActivityLogProjection())  # the next process
    check(again, path)

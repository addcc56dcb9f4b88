"""Activity-log search: first-page latency per criterion over a large log, next to raw SQL.

    python benchmarks/audit_search.py [--entries N] [--quick] [--keep FILE]

Fills an SQLite store with N activity-log entries (default 1,000,000; --quick: 20,000) the way
the application records them: Access events built by the domain, each inside its own recording
context (a year of entries from 20 sites, 200 users, 60 computers, any IP octet, 14 actions, the
seed's comment formats), saved in batches through ``app.save`` (one transaction per batch, hash
chain included), then projected into the activity log by the views' own catch-up.

Then, for each criterion alone, it times the first page (``audit.search(actor, criteria,
page=1)``: 50 rows, newest first; median of 5 after one warm-up) and the same page read with a
hand-written ``SELECT ... ORDER BY position DESC LIMIT 51`` on the same table through the
sqlite3 module, and prints both and their ratio. The raw figure is the floor for the query plan
SQLite picks; the ratio is the application's overhead (validation, SQLAlchemy, a connection per
query, row objects).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock, Host
from application.audit.audit import AuditCriteria
from application.brigada import Brigada
from application.context import Actor
from application.validation import parse
from domain.access_log import Access
from domain.context import EventContext, recording

BATCH = 5_000
PASSWORD = "benchmark-password-123"
START = datetime(2025, 6, 1, 11, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
SITES = ["CEN", *(f"BRG{n:02d}" for n in range(1, 20))]
USERS = [f"user{n:03d}" for n in range(200)]  # ten per site
COMPUTERS = [f"pc-{site.lower()}-{n}" for site in SITES for n in (1, 2, 3)]
CHARTS_PER_SITE = 5_000
PARAGRAPHS = ["TRATAMIENTO", "DIAGNOSTICOS", "EVOLUCION", "ANTECEDENTES", "EXPLORACION"]
FORMS = ["JUSTIFICANTE DE ASISTENCIA A CONSULTA", "CONSENTIMIENTO INFORMADO", "REMISION"]
REPORTS = ["IMPRESO BASICO", "INFORME DE ALTA", "EPICRISIS"]

Fields = Callable[[random.Random, str], dict[str, str]]


def _hist(rng: random.Random, site: str) -> str:
    return f"{site}-{rng.randint(1, CHARTS_PER_SITE)}"


def _visit(rng: random.Random) -> str:
    return str(rng.randint(1, 200_000))


def _in_visit(key: str, choices: list[str]) -> Fields:
    """HIST=(chart) VISITA=(visit) KEY=(one of choices): the seed's format for visit actions."""

    def fields(rng: random.Random, site: str) -> dict[str, str]:
        return {"HIST": _hist(rng, site), "VISITA": _visit(rng), key: rng.choice(choices)}

    return fields


# action code -> (weight, how its comment is made): the seed's actions and formats.
ACTIONS: dict[str, tuple[float, Fields]] = {
    "login": (10, lambda r, s: {}),
    "logout": (9, lambda r, s: {}),
    "login.failed": (1, lambda r, s: {}),
    "patient.view": (20, lambda r, s: {"HIST": _hist(r, s)}),
    "patient.search": (8, lambda r, s: {"RESULTADOS": str(r.randint(0, 50))}),
    "paragraph.view": (15, _in_visit("PAR", PARAGRAPHS)),
    "paragraph.print": (4, _in_visit("PAR", PARAGRAPHS)),
    "chart.view": (8, _in_visit("HC", ["DIAGNOSTICOS", "ANTECEDENTES"])),
    "report.print": (5, _in_visit("INF", REPORTS)),
    "report.zip": (1, _in_visit("INF", REPORTS)),
    "forms.print": (3, _in_visit("FORM", FORMS)),
    "visit.delete": (0.5, lambda r, s: {"HIST": _hist(r, s), "VISITA": _visit(r)}),
    "invoice.issued": (4, lambda r, s: {"VISITA": _visit(r), "FRA": f"FA-{r.randint(1, 90_000)}"}),
    "backup": (0.05, lambda r, s: {"CARPETA": f"/copias/{s.lower()}"}),
}
CODES = list(ACTIONS)
WEIGHTS = [weight for weight, _fields in ACTIONS.values()]

# What each criterion searches for (values the generator makes).
CRITERIA: list[tuple[str, dict[str, Any]]] = [
    ("none", {}),
    ("date range (1 week)", {"date_from": "2025-11-10", "date_to": "2025-11-16"}),
    ("date range (1 month)", {"date_from": "2025-11-01", "date_to": "2025-11-30"}),
    ("action", {"action": "login.failed"}),
    ("ip", {"ip": 42}),
    ("computer", {"computer": "pc-brg07-2"}),
    ("user", {"user": "user123"}),
    ("site", {"site": "BRG11"}),
    ("one text", {"texts": ["HIST=BRG03-1234"]}),
    ("three texts", {"texts": ["HIST=BRG03-", "VISITA=1", "PAR=TRATAMIENTO"]}),
]


def contexts(rng: random.Random, entries: int, start_position: int) -> Iterator[EventContext]:
    """Who, where and when for each entry: time grows with the log, a year in all."""
    step = YEAR / max(entries, 1)
    for n in range(entries):
        user_number = rng.randrange(len(USERS))
        site = SITES[user_number // 10]
        # Users mostly work at their own site, on its computers.
        computer = rng.choice(COMPUTERS[SITES.index(site) * 3 : SITES.index(site) * 3 + 3])
        at = START + step * (start_position + n)
        yield EventContext(
            event_id=uuid.uuid4(),
            site=site,
            user=USERS[user_number],
            computer=computer,
            ip_octet=rng.randint(1, 254),
            recorded_at=at,
            business_date=at.date(),
        )


def fill(brigada: Brigada, entries: int, progress: bool) -> tuple[float, float]:
    """Record ``entries`` accesses as events, then project them; (seconds saving, seconds projecting)."""
    rng = random.Random(2026)
    started = time.perf_counter()
    batch: list[Access] = []
    for done, context in enumerate(contexts(rng, entries, 0), start=1):
        code = rng.choices(CODES, WEIGHTS)[0]
        with recording(context):
            batch.append(Access(action=code, fields=ACTIONS[code][1](rng, context.site)))
        if len(batch) == BATCH or done == entries:
            brigada.app.save(*batch)
            batch = []
            if progress and done % 100_000 < BATCH:
                print(f"  {done:>9,} events saved ({time.perf_counter() - started:.0f} s)", flush=True)
    saved = time.perf_counter() - started
    started = time.perf_counter()
    brigada.views.catch_up()
    return saved, time.perf_counter() - started


@dataclass(frozen=True)
class Figure:
    label: str
    rows: int
    app_ms: float
    raw_ms: float


def median_ms(run: Callable[[], Any], repeats: int = 5) -> tuple[float, Any]:
    result = run()  # warm-up (and the result, to check both sides agree)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def fetch_all(connection: sqlite3.Connection, statement: str, params: list[Any]) -> list[Any]:
    return connection.execute(statement, params).fetchall()


def raw_sql(data: dict[str, Any]) -> tuple[str, list[Any]]:
    """The same first page, written by hand."""
    criteria = parse(AuditCriteria, data)
    where, params = [], []
    for column, value in (
        ("action", criteria.action),
        ("ip_octet", criteria.ip),
        ("computer", criteria.computer),
        ("user", criteria.user),
        ("site", criteria.site),
    ):
        if value is not None:
            where.append(f'"{column}" = ?')
            params.append(value)
    query = criteria.query(1, 50)
    for low, high in query.ranges.values():
        for operator, bound in ((">=", low), ("<=", high)):
            if bound is not None:
                where.append(f"recorded_at {operator} ?")
                params.append(bound)
    for text in criteria.texts:
        where.append("comment LIKE ? ESCAPE '/'")
        params.append("%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT * FROM view_activity_log{clause} ORDER BY position DESC LIMIT 51", params


def measure(brigada: Brigada, actor: Actor, path: Path) -> list[Figure]:
    figures = []
    raw = sqlite3.connect(path)
    try:
        for label, data in CRITERIA:
            app_ms, page = median_ms(partial(brigada.audit.search, actor, data, page=1))
            statement, params = raw_sql(data)
            raw_ms, rows = median_ms(partial(fetch_all, raw, statement, params))
            assert [r.position for r in page.rows] == [r[0] for r in rows[:50]], label
            figures.append(Figure(label, len(page.rows), app_ms, raw_ms))
    finally:
        raw.close()
    return figures


def query_plans(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        plans = []
        for label, data in CRITERIA:
            statement, params = raw_sql(data)
            steps = raw.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
            plans.append((label, "; ".join(step[-1] for step in steps)))
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 entries (CI checks it runs)")
    parser.add_argument("--keep", type=Path, help="build the store at this path and keep it")
    parser.add_argument("--plans", action="store_true", help="also print SQLite's query plans")
    args = parser.parse_args()
    entries = 20_000 if args.quick else args.entries

    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "audit-bench.db"
        clock = FixedClock(START + YEAR + timedelta(days=1))
        brigada = open_brigada(f"sqlite:///{path}", create=True, clock=clock, host=Host("bench-pc", 10))
        try:
            brigada.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
            actor, _ticket = brigada.auth.resume(brigada.auth.login("admin", PASSWORD))
            to_record = entries - brigada.views.head()
            print(f"activity log search, SQLite, {entries:,} entries")
            saved, projected = fill(brigada, to_record, progress=not args.quick)
            rows = brigada.views.store("activity_log").count()
            size = path.stat().st_size / 1e6
            print(
                f"filled through the application: {to_record:,} Access events saved in batches of"
                f" {BATCH:,} in {saved:.1f} s ({to_record / saved:,.0f}/s), projected in"
                f" {projected:.1f} s ({to_record / projected:,.0f}/s); {rows:,} log rows; {size:,.0f} MB"
            )
            assert rows == brigada.views.head() == entries
            figures = measure(brigada, actor, path)
            print(f"first page (50 rows, newest first), median of 5, {datetime.now(UTC):%Y-%m-%d}")
            print(f"{'criterion':<22} {'rows':>5} {'app ms':>9} {'raw SQL ms':>11} {'app/raw':>8}")
            for f in figures:
                ratio = f.app_ms / f.raw_ms if f.raw_ms else float("inf")
                print(f"{f.label:<22} {f.rows:>5} {f.app_ms:>9.2f} {f.raw_ms:>11.2f} {ratio:>8.1f}")
            if args.plans:
                for label, plan in query_plans(path):
                    print(f"plan {label:<22} {plan}")
        finally:
            brigada.close()


if __name__ == "__main__":
    main()

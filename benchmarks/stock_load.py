"""Loading a stock lot after many movements, next to loading a fresh one, in the same run.

    python benchmarks/stock_load.py [--movements N] [--quick] [--postgres URL | --no-postgres]

Stock is held per (warehouse, item, lot): each is its own aggregate, and a long one is snapshotted
every STOCK_LOT_SNAPSHOT_INTERVAL events (application/app.py). The run records N movements (sends of
one unit) on one lot, a handful on a sibling lot of the same item and warehouse, and two events on
a fresh lot; then it times cold loads (no aggregate cache, as in a new process), median of repeats:

  fresh:            the lot with 2 events;
  sibling:          a lot next to the long one (finer-grained aggregates: its load never sees the
                    long lot's movements, as one aggregate per warehouse or item would);
  long:             the lot with N movements, as the application loads it (latest snapshot + the
                    events after it);
  long, worst case: the version just before a snapshot (the latest snapshot + 99 events);
  long, replayed:   the same lot with snapshots ignored (every event replayed): what they save.

The ratios to "fresh" are what to compare between machines; tests never assert timings.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock, Host
from application.app import STOCK_LOT_SNAPSHOT_INTERVAL
from application.context import event_context
from domain.context import recording
from domain.pharmacy.stock_lot import StockLot, StockSource

BATCH = 1_000
REPEATS = 25


def fill(url: str, movements: int) -> tuple[Any, dict[str, UUID]]:
    clock = FixedClock(datetime(2026, 3, 4, 14, 0, tzinfo=UTC))
    host = Host("bench-pc", 10)
    brigada = open_brigada(url, create=True, clock=clock, host=host)
    brigada.setup.initialize("central", "CEN", "admin", "Admin", "benchmark-password-123")
    app = brigada.app
    expiry = date(2027, 12, 31)
    with recording(event_context("CEN", "admin", clock, host)):
        lots = {
            name: StockLot(warehouse="CEN-FARMACIA", item="19943528-1", lot=name, expiry=expiry)
            for name in ("LONG", "SIBLING", "FRESH")
        }
        lots["LONG"].receive(movements, StockSource.PURCHASE, "FAC-1")
        lots["SIBLING"].receive(100, StockSource.PURCHASE, "FAC-1")
        lots["FRESH"].receive(10, StockSource.PURCHASE, "FAC-1")
        for _ in range(8):
            lots["SIBLING"].send(1, "TRA CEN-1")
        app.save(*lots.values())
        long_lot, done = lots["LONG"], 0
        started = time.perf_counter()
        while done < movements:
            step = min(BATCH, movements - done)
            for _ in range(step):
                long_lot.send(1, "TRA CEN-1")
            app.save(long_lot)  # snapshots are taken as the versions pass each interval
            done += step
        elapsed = time.perf_counter() - started
    print(f"  recorded {movements:,} movements on one lot in {elapsed:.1f} s ({movements / elapsed:,.0f}/s)")
    return brigada, {name: lot.id for name, lot in lots.items()}


def cold_load(
    app: Any, lot_id: UUID, use_snapshots: bool = True, version: int | None = None, repeats: int = REPEATS
) -> tuple[float, Any]:
    """Median seconds to load the lot as a new process would: no aggregate cache (the library's
    LRUCache.clear() leaves its entries in place, so the cache is set aside instead)."""
    repository = app.repository
    saved = repository.snapshot_store, repository.cache
    repository.snapshot_store = saved[0] if use_snapshots else None
    repository.cache = None
    try:
        times, loaded = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            loaded = repository.get(lot_id, version=version)
            times.append(time.perf_counter() - started)
        return statistics.median(times), loaded
    finally:
        repository.snapshot_store, repository.cache = saved


def measure(label: str, url: str, movements: int) -> None:
    print(f"{label}:")
    brigada, ids = fill(url, movements)
    app = brigada.app
    fresh, _ = cold_load(app, ids["FRESH"])
    sibling, _ = cold_load(app, ids["SIBLING"])
    long, loaded = cold_load(app, ids["LONG"])
    # The most a load replays: the version just before the next snapshot.
    worst_version = (movements // STOCK_LOT_SNAPSHOT_INTERVAL) * STOCK_LOT_SNAPSHOT_INTERVAL - 1
    worst, _ = cold_load(app, ids["LONG"], version=worst_version)
    replayed, check = cold_load(app, ids["LONG"], use_snapshots=False, repeats=3)
    assert loaded.on_hand == check.on_hand == 0 and loaded.version == check.version == movements + 2
    print(f"  {'lot':<18} {'events':>9} {'load ms':>10} {'x fresh':>9}")
    rows = [
        ("fresh", 2, fresh),
        ("sibling", 10, sibling),
        ("long", movements + 2, long),
        ("long, worst case", worst_version, worst),
        ("long, replayed", movements + 2, replayed),
    ]
    for name, events, seconds in rows:
        print(f"  {name:<18} {events:>9,} {seconds * 1000:>10.2f} {seconds / fresh:>9.1f}")
    print(f"  snapshots make the long lot load {replayed / long:,.0f}x faster than replaying it")
    brigada.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="a CI-sized run (checks it runs)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    movements = 2_000 if args.quick else args.movements
    print(
        f"cold loads of a stock lot, median of {REPEATS}; snapshot every {STOCK_LOT_SNAPSHOT_INTERVAL} events"
    )
    with tempfile.TemporaryDirectory() as folder:
        measure("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", movements)
    if not args.no_postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        try:
            measure("postgres", f"{args.postgres}?schema={schema}", movements)
        finally:
            import psycopg

            with psycopg.connect(args.postgres) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()

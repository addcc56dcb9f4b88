"""Brigada's benchmarks in one table; every figure is measured in the same run as its reference.

    python benchmarks/run.py [--quick] [--record] [--label TEXT] [--postgres URL | --no-postgres]
                             [--central-events N] [--log-entries N] [--profile S|M|L]

Sections (each a function returning rows; append one to SECTIONS to add a benchmark):
  rebuild   projection rebuild, events/s for each view, for all views one by one, and for all
            views in one pass over the log (``rebuild_all``), next to a raw read and decode
            (``mapper.to_domain_event``) of the same events, on a central store holding many
            sites' history (benchmarks/generate.py central); SQLite, and PostgreSQL too;
  commands  command latency p50/p99 on a laptop store during a mission (benchmarks/generate.py
            mission), with the projections' catch-up and without it (the same commands, the
            catch-up's own time taken out); a cheap password hasher;
  search    the activity log's first page at 1,000,000 entries, per criterion, next to raw SQL
            (benchmarks/audit_search.py's store and criteria);
  sync      end-of-mission merge next to the same rows written the plainest fastest way
            (executemany in one transaction on SQLite, COPY on PostgreSQL; Brigada's recorder
            beside it), start-of-mission rebuild next to the same raw write, peak memory of the
            sync at 20,000 and 100,000 events; the end-of-mission sync over HTTPS (`brigada
            serve` on 127.0.0.1) next to the same sync in-process and next to its push alone
            (benchmarks/sync.py);
  growth    merges into a central of 250,000 events next to merges into a fresh one, in pairs
            (benchmarks/growth.py);
  startup   whole `brigada` processes' CPU (--help, whoami, patient register on a laptop store)
            next to ``python -c pass``, interleaved, medians (benchmarks/cli_startup.py);
  invoicing `invoice from-vouchers` at 1,000 vouchers (--quick: 50), invoices written in batches
            next to one a transaction, today's path, on SQLite and PostgreSQL (benchmarks/invoicing.py);
  history   whole processes on stores with a long history (a number series, a stock lot, a user's
            logins: 50,000 events) next to the same on a short one (benchmarks/history.py).

Rows that are an issue's goals carry their bound; the run ends with the goals again, each marked
met or missed (benchmarks/rows.py).

``--quick`` (CI: it checks that everything runs, not how fast) uses small stores. ``--record``
appends the table to benchmarks/RESULTS.md with the date and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import audit_search
import cli_startup
import generate
import growth
import history
import invoicing
import sync
from projection_rebuild import raw_read_decode
from rows import Row

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock, Host
from application.brigada import Brigada

RESULTS = Path(__file__).parent / "RESULTS.md"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Settings:
    quick: bool
    folder: Path
    postgres: str | None
    central_events: int
    log_entries: int
    profile: generate.Profile
    patients: int  # timed on the laptop
    repeats: int  # rebuild rounds per view (best kept)


Section = Callable[[Settings], list[Row]]


# -- projection rebuild ---------------------------------------------------------------------------
def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def rebuild_rows(label: str, brigada: Brigada, repeats: int) -> list[Row]:
    """Each view: the raw read and the rebuild one after the other, ``repeats`` times, the best of
    each kept (the two are measured close together, so a noisy neighbour hits both alike)."""
    section, rows, total_events, total_raw, total_rebuild = f"rebuild {label}", [], 0, 0.0, 0.0
    for name in brigada.views.names():
        topics = brigada.views.projections[name].topics
        raw = rebuild = float("inf")
        events = 0
        for _round in range(repeats):
            seconds, events = timed(partial(raw_read_decode, brigada, topics))
            raw = min(raw, seconds)
            rebuild = min(rebuild, timed(partial(brigada.views.rebuild, name))[0])
        total_events += events
        total_raw += raw
        total_rebuild += rebuild
        if events >= 100:  # smaller views (users, sites...) are all set-up: timed in the total only
            rows.append(_rate_row(section, f"{name} ({events:,} ev)", events, rebuild, raw))
    all_views = f"all views one by one ({total_events:,} ev)"
    rows.append(_rate_row(section, all_views, total_events, total_rebuild, total_raw))
    # Every view in one pass (projections rebuild without NAME): one read and decode of the log.
    raw = rebuild = float("inf")
    events = 0
    for _round in range(repeats):
        seconds, events = timed(lambda: raw_read_decode(brigada, ()))
        raw = min(raw, seconds)
        rebuild = min(rebuild, timed(brigada.views.rebuild_all)[0])
    rows.append(_rate_row(section, f"all views in one pass ({events:,} ev in the log)", events, rebuild, raw))
    return rows


def _rate_row(section: str, measure: str, events: int, rebuild: float, raw: float) -> Row:
    """A rebuild's rate next to the raw read+decode of the same events (issue 19: >= 0.5)."""
    return Row(
        section,
        measure,
        f"{events / rebuild:,.0f} ev/s",
        f"raw read+decode {events / raw:,.0f} ev/s",
        f"{raw / rebuild:.2f}",
        goal=">= 0.5",
    )


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{url}?schema={schema}"
    finally:
        with psycopg.connect(url) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def rebuild_section(settings: Settings) -> list[Row]:
    repeats = 1 if settings.quick else settings.repeats
    print(f"rebuild: a central store of {settings.central_events:,} events", file=sys.stderr, flush=True)
    template = generate.TINY if settings.quick else generate.TEMPLATE
    url = f"sqlite:///{settings.folder / 'central.db'}"
    central = generate.build_central(url, settings.central_events, template=template)
    try:
        rows = rebuild_rows("sqlite", central, repeats)
    finally:
        central.close()
    if settings.postgres:
        events = min(settings.central_events, 200_000)
        print(f"rebuild: PostgreSQL, {events:,} events", file=sys.stderr, flush=True)
        with postgres_schema(settings.postgres) as url:
            central = generate.build_central(url, events, template=template)
            try:
                rows += rebuild_rows("postgres", central, 1)
            finally:
                central.close()
    return rows


# -- command latency ------------------------------------------------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def commands_section(settings: Settings) -> list[Row]:
    profile = generate.TINY if settings.quick else settings.profile
    print(
        f"commands: mission {profile.name}, {settings.patients} patients timed", file=sys.stderr, flush=True
    )
    mission = generate.prepare(
        profile, f"sqlite:///{settings.folder / 'm-central.db'}", f"sqlite:///{settings.folder / 'laptop.db'}"
    )
    runner = mission.laptop.views
    catch_up = runner.catch_up
    spent = [0.0]

    def timed_catch_up(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            catch_up(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    runner.catch_up = timed_catch_up  # type: ignore[method-assign]  # timed on this instance only
    with_views: dict[str, list[float]] = {}
    without: dict[str, list[float]] = {}

    def timed(label: str, command: Callable[[], Any]) -> Any:
        spent[0] = 0.0
        started = time.perf_counter()
        result = command()
        elapsed = time.perf_counter() - started
        with_views.setdefault(label, []).append(elapsed * 1000)
        without.setdefault(label, []).append((elapsed - spent[0]) * 1000)
        return result

    try:
        generate.run_mission(mission, patients=min(10, settings.patients))  # warm-up
        generate.run_mission(mission, patients=mission.done + settings.patients, timed=timed)
        head = mission.laptop.views.head()
    finally:
        mission.close()
    rows = []
    for label, times in with_views.items():
        bare = without[label]
        rows.append(
            Row(
                f"commands {profile.name}",
                f"{label} (n={len(times)})",
                f"p50 {statistics.median(times):.1f} / p99 {percentile(times, 0.99):.1f} ms",
                f"without catch-up p50 {statistics.median(bare):.1f} / p99 {percentile(bare, 0.99):.1f} ms",
            )
        )
    rows.append(Row(f"commands {profile.name}", "laptop log at the end", f"{head:,} events"))
    return rows


# -- activity-log search --------------------------------------------------------------------------
def search_section(settings: Settings) -> list[Row]:
    entries = settings.log_entries
    print(f"search: activity log of {entries:,} entries", file=sys.stderr, flush=True)
    path = settings.folder / "audit.db"
    clock = FixedClock(audit_search.START + audit_search.YEAR + timedelta(days=1))
    brigada = open_brigada(
        f"sqlite:///{path}",
        create=True,
        clock=clock,
        host=Host("bench-pc", 10),
        hasher=generate.CheapHasher(),
    )
    try:
        brigada.setup.initialize("central", "CEN", "admin", "Administrador", audit_search.PASSWORD)
        actor, _ticket = brigada.auth.resume(brigada.auth.login("admin", audit_search.PASSWORD))
        audit_search.fill(brigada, entries - brigada.views.head(), progress=False)
        figures = audit_search.measure(brigada, actor, path)
    finally:
        brigada.close()
    return [
        Row(
            f"search {entries:,}",
            f"{f.label} ({f.rows} rows)",
            f"{f.app_ms:.1f} ms",
            f"raw SQL {f.raw_ms:.1f} ms",
            f"{f.app_ms / f.raw_ms:.1f}" if f.raw_ms else "",
        )
        for f in figures
    ]


SECTIONS: list[tuple[str, Section]] = [
    ("rebuild", rebuild_section),
    ("commands", commands_section),
    ("search", search_section),
    ("sync", sync.sync_section),
    ("growth", growth.growth_section),
    ("startup", cli_startup.startup_section),
    ("invoicing", invoicing.invoicing_section),
    ("history", history.history_section),
]


# -- output ---------------------------------------------------------------------------------------
HEADERS = ("section", "measure", "figure", "reference (same run)", "ratio")


def table(rows: list[Row]) -> str:
    return _markdown([HEADERS, *((r.section, r.measure, r.figure, r.reference, r.ratio) for r in rows)])


GOAL_HEADERS = ("goal", "measure", "reference (same run)", "ratio", "bound", "verdict")


def goals(rows: list[Row]) -> str:
    """Every row that is a goal, again, with its bound and whether the ratio meets it."""
    return _markdown(
        [
            GOAL_HEADERS,
            *(
                (r.section, r.measure, r.reference, r.ratio, r.goal, r.verdict() or "not measured")
                for r in rows
                if r.goal
            ),
        ]
    )


def _markdown(cells: list[tuple[str, ...]]) -> str:
    headers = cells[0]
    widths = [max(len(c[i]) for c in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) + " |" for cell in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine(postgres: str | None) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{memory / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    pg = "PostgreSQL not measured"
    if postgres:
        import psycopg

        with psycopg.connect(postgres) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            pg = f"PostgreSQL {row[0] if row else '?'}"
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {pg}; {platform.system()} {platform.release()}"
    )


def load_average() -> str:
    """The machine's 1, 5 and 15-minute load averages (``/proc/loadavg``), or "unknown"."""
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def record(rows: list[Row], label: str, settings: Settings, seconds: float, loads: list[str]) -> None:
    mode = "quick" if settings.quick else "full"
    heading = f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {label} ({mode} run, {seconds:.0f} s)"
    load = "Load average (1 / 5 / 15 min) " + ", ".join(loads) + "."
    text = f"{heading}\n\n{machine(settings.postgres)}\n\n{load}\n\n{table(rows)}\n"
    if any(r.goal for r in rows):
        text += f"\nGoals:\n\n{goals(rows)}\n"
    previous = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(previous.rstrip("\n") + "\n\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small stores, under a minute (CI)")
    parser.add_argument("--record", action="store_true", help=f"append the table to {RESULTS.name}")
    parser.add_argument("--label", default="", help="what this run is (in RESULTS.md)")
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--central-events", type=int, help="default 1,000,000 (--quick: 5,000)")
    parser.add_argument("--log-entries", type=int, help="default 1,000,000 (--quick: 5,000)")
    parser.add_argument("--profile", choices=sorted(generate.PROFILES), default="M")
    parser.add_argument("--patients", type=int, help="patients timed (default 200; --quick: 5)")
    parser.add_argument("--repeats", type=int, default=1, help="rebuild rounds per view, best kept")
    parser.add_argument("--only", action="append", choices=[name for name, _s in SECTIONS])
    args = parser.parse_args()
    quick = args.quick
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            quick=quick,
            folder=Path(folder),
            postgres=None if args.no_postgres else args.postgres,
            central_events=args.central_events or (5_000 if quick else 1_000_000),
            log_entries=args.log_entries or (5_000 if quick else 1_000_000),
            profile=generate.PROFILES[args.profile],
            patients=args.patients or (5 if quick else 200),
            repeats=args.repeats,
        )
        started = time.perf_counter()
        loads = [f"at the start {load_average()}"]
        rows: list[Row] = []
        for name, section in SECTIONS:
            if args.only and name not in args.only:
                continue
            rows += section(settings)
            loads.append(f"after {name} {load_average()}")
        seconds = time.perf_counter() - started
    print(table(rows))
    if any(r.goal for r in rows):
        print("\ngoals (issue 19):\n" + goals(rows))
    if args.record:
        record(rows, args.label or "run", settings, seconds, loads)


if __name__ == "__main__":
    main()

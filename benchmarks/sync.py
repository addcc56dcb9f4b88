"""Sync throughput next to raw inserts of the same rows, in the same run, and its peak memory.

    python benchmarks/sync.py [--quick] [--sizes 20000,100000] [--postgres URL | --no-postgres]
                              [--profile] [--keep DIR] [--rounds N]

Builds a mission with generate.py's profile L (--quick: TINY): central set up and stocked, BRG01's
laptop provisioned and on mission (MSN), provisioned again as ``site provision --central-url
--central-cert`` does (central's https address and the certificate of the `brigada serve` the runs
start, made for 127.0.0.1), 150 patients (--quick: 5) seen through the use cases. Then
the laptop's own events (those of records it created) are replicated, copy after copy, with fresh
aggregate and event ids (uuid5 of the copy and the original id), visit and chart numbers moved
past the originals' and dates spread over the profile's days, inserted through the laptop's
recorder in batches (it writes each event's chain link), in whole copies (no visit left open)
until the laptop holds at least each size's count of events recorded at the site (default 20,000
and 100,000; --quick 1,500 and 3,000).

For each central (SQLite, then PostgreSQL; the laptop is always SQLite), on the largest size:

  end of mission:   ``laptop.sync.run`` (MSN -> INS) against a fresh copy of central, timed per
                    stage (preflight, push through ``central.merge``, flip, completion with
                    central's views catching up), next to the raw reference: the same stored rows,
                    read beforehand, and their chain rows (computed beforehand) written the fastest
                    plain way the database offers, into tables shaped like the store's (primary
                    keys and indexes), in one transaction: ``executemany`` on SQLite, ``COPY``
                    on PostgreSQL (``raw_bulk``); beside it, Brigada's recorder
                    (``recorder.insert_events`` in the sync's batches, no chain check, no
                    tracking) into another fresh copy of central, labelled as what it is;
  over HTTPS:       the same sync in-process (``DirectCentral``) and through the laptop's HTTPS
                    transport (``central_for``) to `brigada serve` on 127.0.0.1 (its own process,
                    started on a fresh copy of central and warmed by one signed call), alternated
                    (in-process, HTTPS, in-process, HTTPS ...; --rounds, default 2, --quick 1),
                    each run in a process of its own from a fresh copy of the laptop: each stage's
                    best time, in-process / HTTPS, the whole sync over its push (the goal: <= 2),
                    HTTPS over the raw reference, and central's own time answering the requests
                    (the server's access log);
  start of mission: the rebuild's part of a sync (INS -> MSN): ``central.slice`` and
                    ``seed_site_store`` into a fresh laptop store, from the central just merged,
                    next to the raw reference (the same stored events, read beforehand, and their
                    chain rows, by ``executemany`` in one transaction into SQLite tables shaped
                    like a laptop's) and Brigada's recorder in the rebuild's batches.

Then, each in a process of its own, the end-of-mission sync of every size against SQLite central
under tracemalloc: its peak traced memory (all stages, the push's and the flip's), the process's
RSS before it and its peak RSS during it (VmHWM, reset just before; tracemalloc's own bookkeeping
included). A streaming sync's peak does not grow with the size of the mission (the goal: the
traced peak at the largest size <= 1.2x the peak at the smallest).

"x raw time" is a row's seconds over its raw reference's (the row without one). Ratios are what to
compare between machines; nothing here asserts a timing. ``--profile`` prints cProfile's top
functions of the END sync (SQLite central). For benchmarks/run.py: ``sync_section(settings)``
returns rows with run.py's Row fields (there, ratio = events/s over the raw reference's; the
push's goal: >= 0.5).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import itertools
import json
import pstats
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from eventsourcing.persistence import StoredEvent
from generate import (
    PROFILES,
    SITE,
    TINY,
    Mission,
    SiteCopier,
    log_in,
    open_store,
    prepare,
    run_mission,
    template_events,
)
from rows import Row as RunRow

from adapters.bootstrap import central_for
from adapters.store import StoreLocation
from adapters.sync.serve_process import ServeProcess, certificate_in, free_port, start_serve
from adapters.sync.store_io import SqlSiteLog, StoreRebuilds
from adapters.system import FixedClock
from application.brigada import Brigada
from application.replication import CHUNK as REBUILD_CHUNK
from application.replication import seed_site_store
from application.setup import SOFTWARE_VERSION
from application.sync.central import DirectCentral
from application.sync.laptop import PAGE
from domain.base import uuid_of
from domain.chain import GENESIS, SITES_MASTER_KEY, link
from domain.sites.site import SiteMode
from domain.store_identity import STORE_IDENTITY_ID
from domain.sync.sync import SyncFunction

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
OPERATOR = "staff000"  # who runs the sync


class Plan(TypedDict):
    profile: str
    patients: int
    sizes: tuple[int, ...]


FULL: Plan = {"profile": "L", "patients": 150, "sizes": (20_000, 100_000)}
QUICK: Plan = {"profile": "TINY", "patients": 5, "sizes": (1_500, 3_000)}
NUMBER = re.compile(rb"\b" + SITE.encode() + rb"-(\d+)\b")  # visit, chart ... numbers


# -- the mission ---------------------------------------------------------------------------------
@dataclass
class Master:
    """The built stores, closed, to copy from: central before any sync, one laptop per size."""

    folder: Path
    central: Path
    laptops: dict[int, Path]
    clock: datetime  # the laptop's clock after the mission
    build_seconds: float = 0.0

    def save(self) -> Path:
        meta = self.folder / "master.json"
        data = {
            "folder": str(self.folder),
            "central": str(self.central),
            "laptops": {str(k): str(v) for k, v in self.laptops.items()},
            "clock": self.clock.isoformat(),
        }
        meta.write_text(json.dumps(data))
        return meta

    @classmethod
    def load(cls, meta: Path) -> Master:
        data = json.loads(meta.read_text())
        laptops = {int(k): Path(v) for k, v in data["laptops"].items()}
        clock = datetime.fromisoformat(data["clock"])
        return cls(Path(data["folder"]), Path(data["central"]), laptops, clock)


def build(folder: Path, quick: bool, sizes: tuple[int, ...], progress: bool) -> Master:
    """The mission through the application, then each size's laptop by replication."""
    plan = QUICK if quick else FULL
    started = time.perf_counter()
    profile = TINY if plan["profile"] == "TINY" else PROFILES[plan["profile"]]
    first = f"sqlite:///{folder / 'laptop-first.db'}"  # provisioned without an address, then again
    mission = prepare(profile, f"sqlite:///{folder / 'central.db'}", first)
    base = provision_addressed(mission, folder)
    run_mission(mission, plan["patients"])
    mission.laptop.views.catch_up()
    originals = template_events(mission.laptop)
    copier = SiteCopier(mission.laptop, originals)
    clock = mission.clock.current
    mission.close()
    if progress:
        print(
            f"  mission {profile.name}: {plan['patients']} patients through the application,"
            f" {len(originals):,} events to replicate ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    laptops = {}
    for size in sizes:
        path = folder / f"laptop-{size}.db"
        backup(base, path)
        laptop = open_store(f"sqlite:///{path}", FixedClock(clock), "laptop-brg01", 23)
        have = sum(len(page) for page in site_events(path, laptop))
        copies = -(-max(size - have, 0) // len(originals))
        for batch in replicas(copier, copies, profile.days):
            laptop.app.recorder.insert_events(batch)
        laptop.views.catch_up()
        laptop.close()
        laptops[size] = path
        if progress:
            print(f"  laptop with {size:,} site events ({time.perf_counter() - started:.0f} s)", flush=True)
    return Master(folder, folder / "central.db", laptops, clock, time.perf_counter() - started)


def provision_addressed(mission: Mission, folder: Path) -> Path:
    """The laptop provisioned again into a new store, this time as ``brigada site provision
    --central-url --central-cert`` does it (generate.py provisions without an address): with
    central's https address and the certificate `brigada serve` will present (made for 127.0.0.1,
    in ``folder``/tls), the site back on site (INS) meanwhile, as generate.py provisions it. It
    replaces the mission's laptop (the staff log in again), which recorded only their log-ins; each
    sync over HTTPS is given its own server's port. Returns the new store's path."""
    cert, _key = certificate_in(folder / "tls")
    path = folder / "laptop-addressed.db"
    laptop = open_store(f"sqlite:///{path}", mission.clock, "laptop-brg01", 23)
    address = f"https://127.0.0.1:{free_port()}"
    central, admin = mission.central, mission.admin
    # The first laptop holds no work: the administrator takes the lease back by hand.
    central.sites.change_mode(admin, SITE, SiteMode.ON_SITE, force=True, reason="laptop replaced")
    pem = cert.read_text()
    central.sites.provision(admin, SITE, laptop, str(path), central_url=address, central_certificate=pem)
    central.sites.change_mode(admin, SITE, SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(central)
    mission.laptop.close()
    mission.laptop, mission.laptop_url = laptop, f"sqlite:///{path}"
    mission.staff = [log_in(laptop, actor.username) for actor in mission.staff]
    return path


def replicas(copier: SiteCopier, copies: int, days: int) -> Iterator[list[StoredEvent]]:
    """Whole copies of the originals (no visit left open) with new ids and numbers, the copies'
    dates spread over the mission's days, in batches of 5,000."""
    batch: list[StoredEvent] = []
    site = copier.site
    for number in range(1, copies + 1):
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"brigada-bench-sync/{number}")
        table: dict[bytes, bytes] = {site: site}
        for hex_id in copier.ids:
            new = uuid.uuid5(namespace, hex_id)
            table[hex_id.encode()] = new.hex.encode()
            table[str(uuid.UUID(hex_id)).encode()] = str(new).encode()
        shift = timedelta(days=number * days // (copies + 1))
        for text in copier.dates:
            table[text.encode()] = (date.fromisoformat(text) + shift).isoformat().encode()
        offset = number * 1_000_000

        def swap(match: re.Match[bytes], table: dict[bytes, bytes] = table) -> bytes:
            found = match.group(0)
            return table.get(found, found)  # central's ids and other dates stay as they are

        def renumber(match: re.Match[bytes], offset: int = offset) -> bytes:
            return site + b"-" + str(int(match.group(1)) + offset).encode()

        for event in copier.events:
            state = NUMBER.sub(renumber, copier.pattern.sub(swap, event.state))
            batch.append(
                StoredEvent(
                    originator_id=uuid.uuid5(namespace, uuid_of(event.originator_id).hex),
                    originator_version=event.originator_version,
                    topic=event.topic,
                    state=state,
                )
            )
            if len(batch) == 5_000:
                yield batch
                batch = []
    if batch:
        yield batch


def site_events(path: Path, laptop: Brigada) -> list[list[StoredEvent]]:
    """What the laptop's sync pushes, in its batches: the site's events after the slice."""
    after = laptop.core.require_identity().slice_end
    location = StoreLocation.parse(f"sqlite:///{path}")
    engine = location.sqlalchemy_engine()
    try:
        return list(_pages(SqlSiteLog(location, engine), after))
    finally:
        engine.dispose()


def _pages(log: SqlSiteLog, after: int) -> Iterator[list[StoredEvent]]:
    while True:
        events, last = log.events_of_site(SITE, after, PAGE)
        if last == after:
            return
        own = [e.stored for e in events if e.stored.originator_id != STORE_IDENTITY_ID]
        if own:
            yield own
        after = last


def backup(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite store (its write-ahead log included)."""
    target.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


# -- fresh stores ----------------------------------------------------------------------------------
@dataclass
class Stores:
    """Fresh copies of central (SQLite files or PostgreSQL schemas), dropped at the end."""

    master: Master
    kind: str  # "sqlite" | "postgresql"
    postgres: str = POSTGRES
    schemas: list[str] = field(default_factory=list)
    made: int = 0
    _central_events: list[list[StoredEvent]] | None = None
    _sites_key: bytes | None = None

    def url(self, name: str) -> str:
        self.made += 1
        if self.kind == "sqlite":
            return f"sqlite:///{self.master.folder / f'{name}-{self.made}.db'}"
        schema = f"bench_sync_{uuid.uuid4().hex[:10]}"
        self.schemas.append(schema)
        return f"{self.postgres}?schema={schema}"

    def central(self) -> str:
        """A fresh central identical to the master's (SQLite: a file copy; PostgreSQL: its events
        copied in log order, byte for byte, and its views caught up)."""
        url = self.url("central")
        if self.kind == "sqlite":
            path = StoreLocation.parse(url).path
            assert path is not None
            backup(self.master.central, path)
            return url
        if self._central_events is None:
            source = open_store(f"sqlite:///{self.master.central}", self.clock(), "srv-central", 10)
            self._central_events = list(log_pages(source, 5_000))
            self._sites_key = source.app.keys.key(SITES_MASTER_KEY, create=False)
            source.close()
        target = open_store(url, self.clock(), "srv-central", 10)
        # The key the laptop's chain key derives from travels with central, as a backup would.
        target.app.keys.key(SITES_MASTER_KEY, self._sites_key)
        for batch in self._central_events:
            target.app.recorder.insert_events(batch)
        target.views.catch_up()
        target.close()
        return url

    def clock(self) -> FixedClock:
        return FixedClock(self.master.clock)

    def drop(self) -> None:
        if self.schemas:
            with psycopg.connect(self.postgres, autocommit=True) as conn:
                for schema in self.schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self.schemas.clear()


def operator(laptop: Brigada) -> Any:
    """The staff member who runs the sync, logged in on the laptop (generate.py grants the staff
    every menu option, "sync" included)."""
    return log_in(laptop, OPERATOR)


def log_pages(brigada: Brigada, size: int) -> Iterator[list[StoredEvent]]:
    recorder, position = brigada.app.recorder, 0
    while True:
        page = recorder.select_notifications(start=position, limit=size, inclusive_of_start=False)
        if not page:
            return
        yield [
            StoredEvent(
                originator_id=n.originator_id,
                originator_version=n.originator_version,
                topic=n.topic,
                state=bytes(n.state),
            )
            for n in page
        ]
        position = page[-1].id


def rebuilder(laptop: Brigada, url: str, clock: FixedClock) -> StoreRebuilds:
    return StoreRebuilds(laptop, url, lambda url, create: open_store(url, clock, "laptop-brg01", 23))


class Stopwatch:
    """The sync's progress, timed: when each stage began."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = [("start", time.perf_counter())]

    def planned(self, plan: Any) -> None:
        self.marks.append(("push", time.perf_counter()))

    def merged(self, function: SyncFunction, count: int) -> None:
        pass

    def stage(self, stage: str, done: int = 0, total: int = 0) -> None:
        if stage != self.marks[-1][0]:
            self.marks.append((stage, time.perf_counter()))

    def spans(self) -> dict[str, float]:
        """Each stage's seconds (call when the sync has returned)."""
        marks = [*self.marks, ("end", time.perf_counter())]
        names = {
            "start": "preflight",
            "push": "push (central.merge)",
            "flip": "flip (and the laptop records it)",
            "complete": "complete (central's views catch up)",
        }
        return {names.get(a[0], a[0]): b[1] - a[1] for a, b in itertools.pairwise(marks)}


# -- the measurements ----------------------------------------------------------------------------
class MemoryFigure(TypedDict):
    """One size's end-of-mission sync under tracemalloc (written by its child process as JSON)."""

    events: int
    peak_mb: float
    stages: dict[str, float]
    rss_before_mb: float
    rss_mb: float
    seconds: float


@dataclass
class Row:
    what: str
    events: int
    seconds: float
    raw: float | None = None  # seconds of the raw reference this row is compared with

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")

    def cells(self) -> list[str]:
        ratio = f"{self.seconds / self.raw:.1f}" if self.raw else ""
        return [self.what, f"{self.events:,}", f"{self.seconds:.2f}", f"{self.rate:,.0f}", ratio]


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Results:
    """What a run measured: per central, the END sync and the rebuild, each next to its raw
    reference (the row without ``raw``); the memory of each size's END sync."""

    merges: dict[str, list[Row]] = field(default_factory=dict)
    rebuilds: dict[str, list[Row]] = field(default_factory=dict)
    https: dict[str, Transports] = field(default_factory=dict)
    memory: list[MemoryFigure] = field(default_factory=list)

    def tables(self) -> list[Table]:
        found = []
        for kind, rows in self.merges.items():
            title = f"sync, end of mission: laptop (SQLite) -> central ({NAMES[kind]})"
            found.append(Table(title, COLUMNS, [r.cells() for r in rows]))
            if kind in self.https:
                found.append(https_table(kind, self.https[kind]))
            title = f"sync, start-of-mission rebuild: central ({NAMES[kind]}) -> fresh laptop (SQLite)"
            found.append(Table(title, COLUMNS, [r.cells() for r in self.rebuilds[kind]]))
        if self.memory:
            found.append(
                Table(
                    "sync, end of mission, memory (SQLite central, a process of its own, under tracemalloc)",
                    ["events", "s", "traced peak MB", "in push", "in views", "RSS before MB", "peak RSS MB"],
                    [
                        [
                            f"{f['events']:,}",
                            f"{f['seconds']:.1f}",
                            f"{f['peak_mb']:.1f}",
                            f"{f['stages'].get('push', 0.0):.1f}",
                            f"{f['stages'].get('complete', 0.0):.1f}",
                            f"{f['rss_before_mb']:.1f}",
                            f"{f['rss_mb']:.1f}",
                        ]
                        for f in self.memory
                    ],
                )
            )
        return found


NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
RAW_LABEL = {
    "sqlite": "raw executemany, one transaction (events + chain rows)",
    "postgresql": "raw COPY, one transaction (events + chain rows)",
}
COLUMNS = ["what", "events", "s", "events/s", "x raw time"]
STAGES = [
    "preflight",
    "push (central.merge)",
    "flip (and the laptop records it)",
    "complete (central's views catch up)",
]


def https_table(kind: str, found: Transports) -> Table:
    """Each stage's best time in-process and over HTTPS, their ratio, and HTTPS over the raw insert."""

    def cells(what: str, local: float | None, remote: float) -> list[str]:
        return [
            what,
            f"{local:.2f}" if local is not None else "",
            f"{remote:.2f}",
            f"{local / remote:.2f}" if local is not None and remote else "",
            f"{remote / found.raw:.1f}",
        ]

    rows = [cells("sync.run, END (MSN -> INS)", found.best(IN_PROCESS), found.best(HTTPS))]
    rows += [cells(f"  {s}", found.best(IN_PROCESS, s), found.best(HTTPS, s)) for s in STAGES]
    rows += [
        cells("central answering the requests (serve log)", None, found.served()),
        cells("  of which /v1/sync/merge", None, found.served("/v1/sync/merge")),
        cells("  of which /v1/sync/complete", None, found.served("/v1/sync/complete")),
        cells(RAW_LABEL[kind], None, found.raw),
        cells(f"Brigada's recorder, {PAGE:,} a batch (insert_events)", None, found.recorder),
    ]
    pairs = ", ".join(f"{p:.2f}" for p in found.pairs())
    title = (
        f"sync, end of mission in-process (DirectCentral) and over HTTPS (brigada serve, 127.0.0.1):"
        f" laptop (SQLite) -> central ({NAMES[kind]}), {found.events:,} events, best of {found.rounds}"
        f" alternated (whole sync in-process / HTTPS, each round: {pairs})"
    )
    columns = ["what", "in-process s", "HTTPS s", "in-process / HTTPS", "HTTPS x raw time"]
    return Table(title, columns, rows)


def run_rows(results: Results) -> list[RunRow]:
    """The figures as benchmarks/run.py's rows; ratio = events/s over the raw reference's, as
    run.py's other sections give it. Goals (issue 19): the push >= 0.5 of the raw reference; the
    whole end-of-mission sync over HTTPS <= 2x its push; the sync's peak memory at the largest
    size <= 1.2x its peak at the smallest."""
    rows = []
    push = STAGES[1]
    for kind in results.merges:
        for label, found in (("END merge", results.merges[kind]), ("rebuild", results.rebuilds[kind])):
            raw = next(r for r in found if r.raw is None)
            for row in found:
                if row.raw is None:
                    continue
                rows.append(
                    RunRow(
                        f"sync {label} {kind}",
                        f"{row.what.strip()} ({row.events:,} ev)",
                        f"{row.rate:,.0f} ev/s",
                        f"{raw.what} {raw.rate:,.0f} ev/s",
                        f"{raw.seconds / row.seconds:.2f}",
                        ">= 0.5" if row.what.strip() == push else "",
                    )
                )
    for kind, transports in results.https.items():
        events = f"{transports.events:,} ev"
        local, remote = transports.best(IN_PROCESS), transports.best(HTTPS)
        local_push, remote_push = transports.best(IN_PROCESS, push), transports.best(HTTPS, push)
        section = f"sync HTTPS {kind}"
        pairs = ", ".join(f"{p:.2f}" for p in transports.pairs()) if transports.rounds > 1 else ""
        reference = f"{RAW_LABEL[kind]} {transports.events / transports.raw:,.0f} ev/s"
        rows += [
            RunRow(
                section,
                f"END sync.run over HTTPS, 127.0.0.1 ({events}, best of {transports.rounds}"
                + (f"; each round {pairs})" if pairs else ")"),
                f"{transports.events / remote:,.0f} ev/s",
                f"in-process DirectCentral {transports.events / local:,.0f} ev/s",
                f"{local / remote:.2f}",
            ),
            RunRow(
                section,
                f"END sync.run over HTTPS ({events}), seconds over its push's",
                f"{remote:.2f} s",
                f"its push (central.merge) {remote_push:.2f} s",
                f"{remote / remote_push:.2f}",
                "<= 2",
            ),
            RunRow(
                section,
                f"push over HTTPS ({events})",
                f"{transports.events / remote_push:,.0f} ev/s",
                f"in-process push {transports.events / local_push:,.0f} ev/s",
                f"{local_push / remote_push:.2f}",
            ),
            RunRow(
                section,
                f"push over HTTPS ({events})",
                f"{transports.events / remote_push:,.0f} ev/s",
                reference,
                f"{transports.raw / remote_push:.2f}",
            ),
            RunRow(
                section,
                f"END sync.run over HTTPS ({events})",
                f"{transports.events / remote:,.0f} ev/s",
                reference,
                f"{transports.raw / remote:.2f}",
            ),
        ]
    for figure in results.memory:
        rows.append(
            RunRow(
                "sync memory",
                f"END sync, {figure['events']:,} ev (tracemalloc on)",
                f"peak {figure['peak_mb']:.1f} MB traced",
                f"RSS {figure['rss_before_mb']:.0f} MB, peak {figure['rss_mb']:.0f} MB",
            )
        )
    if len(results.memory) > 1:
        small, large = results.memory[0], results.memory[-1]
        rows.append(
            RunRow(
                "sync memory",
                f"END sync's traced peak at {large['events']:,} ev over its peak at {small['events']:,} ev",
                f"{large['peak_mb']:.1f} MB",
                f"{small['peak_mb']:.1f} MB",
                f"{large['peak_mb'] / small['peak_mb']:.2f}",
                "<= 1.2",
            )
        )
    return rows


def end_of_mission(stores: Stores, size: int, profile: bool = False) -> tuple[list[Row], str, Any]:
    """The sync's merge and the raw inserts; returns the rows, central's URL after the merge and
    the laptop's identity (for the rebuild)."""
    master, clock = stores.master, stores.clock()
    laptop_url = (
        stores.url("laptop") if stores.kind == "sqlite" else f"sqlite:///{master.folder}/laptop-pg.db"
    )
    laptop_path = StoreLocation.parse(laptop_url).path
    assert laptop_path is not None
    backup(master.laptops[size], laptop_path)
    central_url = stores.central()
    laptop = open_store(laptop_url, clock, "laptop-brg01", 23)
    central = open_store(central_url, clock, "srv-central", 10)
    identity = laptop.core.require_identity()
    actor = operator(laptop)
    watch = Stopwatch()
    rebuilds = StoreRebuilds(
        laptop, laptop_url, lambda url, create: open_store(url, clock, "laptop-brg01", 23)
    )
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    outcome = laptop.sync.run(actor, DirectCentral(central.sync_central, OPERATOR), rebuilds, watch)
    if profiler:
        profiler.disable()
    total = time.perf_counter() - started
    spans = watch.spans()
    merged = sum(outcome.merged.values())
    assert outcome.plan.new_mode.value == "INS" and merged >= size and not outcome.conflicts, outcome
    # The same rows, read beforehand, in the same batches.
    engine = StoreLocation.parse(laptop_url).sqlalchemy_engine()
    pages = list(_pages(SqlSiteLog(StoreLocation.parse(laptop_url), engine), identity.slice_end))
    engine.dispose()
    rows_read = sum(len(p) for p in pages)
    assert rows_read == merged, (rows_read, merged)
    laptop.close()
    central.close()

    recorder_central = open_store(stores.central(), clock, "srv-central", 10)
    started = time.perf_counter()
    for page in pages:
        recorder_central.app.recorder.insert_events(page)
    recorder = time.perf_counter() - started
    recorder_central.close()
    raw = raw_bulk(stores.kind, pages, master.folder, stores.postgres)
    rows = [Row("sync.run, END (MSN -> INS)", merged, total, raw)]
    rows += [Row(f"  {name}", merged, seconds, raw) for name, seconds in spans.items()]
    rows += [
        Row(RAW_LABEL[stores.kind], merged, raw),
        Row(f"Brigada's recorder, {PAGE:,} a batch (insert_events)", merged, recorder, raw),
    ]
    if profiler:
        report(profiler)
    return rows, central_url, identity


def raw_bulk(kind: str, pages: list[list[StoredEvent]], folder: Path, postgres: str = POSTGRES) -> float:
    """The raw reference: the same rows (the events and their chain rows) written the fastest
    plain way the database offers, into tables shaped like a store's (its primary keys and
    indexes), in one transaction: ``executemany`` on SQLite, ``COPY`` on PostgreSQL. The chain
    rows (keyed links over the events, one chain for the site) are computed beforehand: only the
    writing is timed. Returns the seconds."""
    events = [e for page in pages for e in page]
    ids = [uuid_of(e.originator_id) for e in events]
    key, previous, links = b"k" * 32, GENESIS, []
    for position, (event, originator) in enumerate(zip(events, ids, strict=True), start=1):
        made = link(key, previous, SITE, originator.hex, event.originator_version, event.topic, event.state)
        links.append((position, SITE, previous, made))
        previous = made
    if kind == "sqlite":
        path = folder / f"raw-bulk-{uuid.uuid4().hex[:6]}.db"
        rows = [(i.hex, e.originator_version, e.topic, e.state) for i, e in zip(ids, events, strict=True)]
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT,"
                " state BLOB, PRIMARY KEY (originator_id, originator_version))"
            )
            conn.execute(
                "CREATE TABLE event_chain (position INTEGER PRIMARY KEY, site TEXT NOT NULL,"
                " previous TEXT NOT NULL, link TEXT NOT NULL)"
            )
            conn.execute("CREATE INDEX event_chain_site ON event_chain (site, position)")
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO event_chain VALUES (?, ?, ?, ?)", links)
            conn.execute("COMMIT")
            seconds = time.perf_counter() - started
        path.unlink()
        return seconds
    schema = f"bench_raw_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            conn.execute(
                f'CREATE TABLE "{schema}".events (originator_id uuid NOT NULL, originator_version bigint'
                " NOT NULL, topic text, state bytea, notification_id bigserial,"
                " PRIMARY KEY (originator_id, originator_version))"
            )
            conn.execute(f'CREATE UNIQUE INDEX ON "{schema}".events (notification_id)')
            conn.execute(
                f'CREATE TABLE "{schema}".chain (position bigint PRIMARY KEY, site text NOT NULL,'
                " previous text NOT NULL, link text NOT NULL)"
            )
            conn.execute(f'CREATE INDEX ON "{schema}".chain (site, position)')
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cursor:
                columns = "(originator_id, originator_version, topic, state)"
                with cursor.copy(f'COPY "{schema}".events {columns} FROM STDIN (FORMAT BINARY)') as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for originator, event in zip(ids, events, strict=True):
                        copy.write_row((originator, event.originator_version, event.topic, event.state))
                with cursor.copy(f'COPY "{schema}".chain FROM STDIN (FORMAT BINARY)') as copy:
                    copy.set_types(["int8", "text", "text", "text"])
                    for row in links:
                        copy.write_row(row)
            return time.perf_counter() - started
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# -- in-process and over HTTPS, alternated ----------------------------------------------------------
SERVED = re.compile(r"POST (/v1/sync/[\w-]+) site=\S+ status=(\d+) (\d+)ms")
IN_PROCESS, HTTPS = "in-process", "HTTPS"


@dataclass
class Timed:
    """One END sync from a fresh copy of the laptop into a fresh copy of central."""

    transport: str  # IN_PROCESS (DirectCentral) or HTTPS (`brigada serve`, another process)
    seconds: float
    spans: dict[str, float]  # the Stopwatch's stages
    served: dict[str, float] = field(default_factory=dict)  # HTTPS: central's seconds per path


@dataclass
class Transports:
    """The END sync in-process and over HTTPS, alternated, next to the END table's raw references."""

    events: int
    runs: list[Timed]
    raw: float  # the same rows written the fastest plain way (end_of_mission's reference)
    recorder: float  # Brigada's recorder.insert_events of them, in the sync's batches

    def best(self, transport: str, stage: str | None = None) -> float:
        """The fastest run's seconds (or the fastest of a stage's)."""
        return min(
            r.seconds if stage is None else r.spans.get(stage, 0.0)
            for r in self.runs
            if r.transport == transport
        )

    def served(self, path: str | None = None) -> float:
        """Central's least time answering the requests of a run (or those to one path)."""
        runs = [r for r in self.runs if r.transport == HTTPS]
        return min(sum(s for p, s in r.served.items() if path in (None, p)) for r in runs)

    def pairs(self) -> list[float]:
        """In-process seconds over HTTPS seconds, for each round (the two runs side by side)."""
        local = [r.seconds for r in self.runs if r.transport == IN_PROCESS]
        remote = [r.seconds for r in self.runs if r.transport == HTTPS]
        return [a / b for a, b in zip(local, remote, strict=True)]

    @property
    def rounds(self) -> int:
        return len(self.runs) // 2


def transports(stores: Stores, size: int, rounds: int, merge: list[Row]) -> Transports:
    """``rounds`` times: the END sync in-process, then over HTTPS (alternated, so that a noisy
    neighbour hits both alike), each in a process of its own (both start cold, as `brigada sync`
    does, and so does the server: each run needs a fresh central, so a server of its own);
    ``merge``: end_of_mission's rows, for the raw references."""
    raw = next(r for r in merge if r.raw is None)
    recorder = next(r for r in merge if r.what.startswith("Brigada's recorder"))
    meta = stores.master.folder / "master.json"
    runs = []
    for _round in range(rounds):
        for transport in (IN_PROCESS, HTTPS):
            command = [sys.executable, __file__, "--timed-child", str(meta), "--size", str(size)]
            command += ["--transport", transport, "--kind", stores.kind, "--postgres", stores.postgres]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"{transport} sync failed:\n{done.stderr[-3000:]}")
            runs.append(Timed(**json.loads(done.stdout.strip().splitlines()[-1])))
    return Transports(raw.events, runs, raw.seconds, recorder.seconds)


def timed_child(meta: Path, size: int, transport: str, kind: str, postgres: str) -> Timed:
    stores = Stores(Master.load(meta), kind, postgres)
    try:
        return timed_sync(stores, size, transport)
    finally:
        stores.drop()


def timed_sync(stores: Stores, size: int, transport: str) -> Timed:
    """``laptop.sync.run`` from a fresh copy of the laptop against a fresh copy of central: in
    process through ``DirectCentral`` (central's store opened beforehand), or through the laptop's
    HTTPS transport (``central_for``) to `brigada serve` running on that copy, started beforehand
    and warmed by one signed ``status`` call (the server opens central's store at its first signed
    request; a running server has it open)."""
    master, clock = stores.master, stores.clock()
    laptop_url = f"sqlite:///{master.folder / f'timed-laptop-{uuid.uuid4().hex[:8]}.db'}"
    laptop_path = StoreLocation.parse(laptop_url).path
    assert laptop_path is not None
    backup(master.laptops[size], laptop_path)
    central_url = stores.central()
    laptop = open_store(laptop_url, clock, "laptop-brg01", 23)
    actor = operator(laptop)
    rebuilds = rebuilder(laptop, laptop_url, clock)
    server: ServeProcess | None = None
    central: Brigada | None = None
    port: Any = None
    try:
        if transport == HTTPS:
            server = start_serve(central_url, master.folder / "tls")
            port = central_for(laptop, OPERATOR, server.url)
            identity = laptop.core.require_identity()
            port.status(identity.site_code, identity.generation or "", SOFTWARE_VERSION)
        else:
            central = open_store(central_url, clock, "srv-central", 10)
            port = DirectCentral(central.sync_central, OPERATOR)
        watch = Stopwatch()
        started = time.perf_counter()
        outcome = laptop.sync.run(actor, port, rebuilds, watch)
        seconds = time.perf_counter() - started
        spans = watch.spans()
        merged = sum(outcome.merged.values())
        assert outcome.plan.new_mode.value == "INS" and merged >= size and not outcome.conflicts, outcome
    finally:
        if server is not None:
            if port is not None:
                port.close()
            server.stop()
        if central is not None:
            central.close()
        laptop.close()
    served: dict[str, float] = {}
    if server is not None:
        for path, status, ms in SERVED.findall(server.log())[1:]:  # the warm-up's status left out
            assert status == "200", (path, status)
            served[path] = served.get(path, 0.0) + int(ms) / 1000
    for url in (laptop_url, central_url):
        StoreLocation.parse(url).remove()
    return Timed(transport, seconds, spans, served)


def start_of_mission(stores: Stores, central_url: str, identity: Any) -> list[Row]:
    """The rebuild's part of a start-of-mission sync from the central just merged, and a raw copy
    of the same stored events into an empty store."""
    clock = stores.clock()
    central = open_store(central_url, clock, "srv-central", 10)
    direct = DirectCentral(central.sync_central, OPERATOR)
    site = identity.site_code

    def read(wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        return direct.read(site, wanted)

    started = time.perf_counter()
    ids = direct.slice(site)
    sliced = time.perf_counter() - started
    fresh_url = (
        stores.url("rebuild") if stores.kind == "sqlite" else f"sqlite:///{stores.master.folder}/rb-pg.db"
    )
    fresh = open_store(fresh_url, clock, "laptop-brg01", 23)
    views = fresh.core.views
    catch_up, spent = views.catch_up, [0.0]

    def timed_catch_up(*args: Any, **kwargs: Any) -> Any:
        begun = time.perf_counter()
        try:
            return catch_up(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - begun

    views.catch_up = timed_catch_up  # type: ignore[method-assign]  # timed on this instance only
    started = time.perf_counter()
    copied = seed_site_store(
        read,
        fresh,
        ids,
        site=site,
        central_code=identity.central_code or "",
        generation=uuid.uuid4().hex,
        software_version=identity.software_version,
    )
    seeded = time.perf_counter() - started
    fresh.close()
    # The same stored events, read beforehand, in the rebuild's batches.
    batches = [
        [
            e
            for aggregate_id in ids[i : i + REBUILD_CHUNK]
            for e in central.app.recorder.select_events(aggregate_id)
        ]
        for i in range(0, len(ids), REBUILD_CHUNK)
    ]
    central.close()
    assert sum(len(b) for b in batches) == copied
    empty_url = (
        stores.url("raw-copy") if stores.kind == "sqlite" else f"sqlite:///{stores.master.folder}/rc-pg.db"
    )
    empty = open_store(empty_url, clock, "laptop-brg01", 23)
    started = time.perf_counter()
    for batch in batches:
        if batch:
            empty.app.recorder.insert_events(batch)
    recorder = time.perf_counter() - started
    empty.close()
    raw = raw_bulk("sqlite", batches, stores.master.folder)  # the rebuilt laptop is SQLite
    for url in (fresh_url, empty_url):
        StoreLocation.parse(url).remove()
    return [
        Row(f"central.slice + seed_site_store ({len(ids):,} records)", copied, sliced + seeded, raw),
        Row("  central.slice", copied, sliced, raw),
        Row("  copy_aggregates", copied, seeded - spent[0], raw),
        Row("  identity, fresh store's views", copied, spent[0], raw),
        Row(RAW_LABEL["sqlite"], copied, raw),
        Row(f"Brigada's recorder, {REBUILD_CHUNK} records a batch (insert_events)", copied, recorder, raw),
    ]


# -- memory, in a process of its own ---------------------------------------------------------------
class MemoryWatch(Stopwatch):
    """The sync's progress: tracemalloc's peak of each stage."""

    def __init__(self) -> None:
        super().__init__()
        self.peaks: dict[str, float] = {}

    def planned(self, plan: Any) -> None:
        self._close()
        super().planned(plan)

    def stage(self, stage: str, done: int = 0, total: int = 0) -> None:
        if stage != self.marks[-1][0]:
            self._close()
        super().stage(stage, done, total)

    def _close(self) -> None:
        self.peaks[self.marks[-1][0]] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.reset_peak()


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak since the last reset) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_child(meta: Path, size: int) -> MemoryFigure:
    """The end-of-mission sync of one size against a fresh SQLite central, under tracemalloc."""
    master = Master.load(meta)
    stores = Stores(master, "sqlite")
    clock = stores.clock()
    laptop_url = stores.url(f"mem-laptop-{size}")
    path = StoreLocation.parse(laptop_url).path
    assert path is not None
    backup(master.laptops[size], path)
    central_url = stores.central()
    laptop = open_store(laptop_url, clock, "laptop-brg01", 23)
    central = open_store(central_url, clock, "srv-central", 10)
    actor = operator(laptop)
    rebuilds = rebuilder(laptop, laptop_url, clock)
    before = rss_mb("VmRSS")
    # The peak RSS from here (ru_maxrss would carry the parent's peak over from the fork).
    Path("/proc/self/clear_refs").write_text("5")
    watch = MemoryWatch()
    tracemalloc.start()
    started = time.perf_counter()
    outcome = laptop.sync.run(actor, DirectCentral(central.sync_central, OPERATOR), rebuilds, watch)
    seconds = time.perf_counter() - started
    watch._close()
    peak = max(watch.peaks.values())
    tracemalloc.stop()
    after = rss_mb("VmHWM")
    laptop.close()
    central.close()
    for url in (laptop_url, central_url):
        StoreLocation.parse(url).remove()
    return {
        "events": sum(outcome.merged.values()),
        "peak_mb": peak,
        "stages": watch.peaks,
        "rss_before_mb": before,
        "rss_mb": after,
        "seconds": seconds,
    }


def memory(meta: Path) -> list[MemoryFigure]:
    master = Master.load(meta)
    found = []
    for size in sorted(master.laptops):
        done = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(meta), "--size", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        found.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return found


# -- the run ---------------------------------------------------------------------------------------
def report(profiler: cProfile.Profile) -> None:
    stats = pstats.Stats(profiler)
    for key in ("cumulative", "tottime"):
        print(f"\n-- cProfile of the END sync, top 30 by {key}")
        stats.sort_stats(key).print_stats(30)


def measure(
    quick: bool,
    sizes: tuple[int, ...] | None = None,
    postgres: str | None = POSTGRES,
    keep: Path | None = None,
    profile: bool = False,
    progress: bool = True,
    rounds: int | None = None,
) -> Results:
    plan = QUICK if quick else FULL
    sizes = tuple(sorted(sizes or plan["sizes"]))
    rounds = (1 if quick else 2) if rounds is None else rounds
    results = Results()
    with tempfile.TemporaryDirectory() as temporary:
        folder = keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        meta = folder / "master.json"
        built = meta.exists() and (folder / "tls" / "central.crt").exists()
        if keep and built and set(Master.load(meta).laptops) == set(sizes):
            master = Master.load(meta)  # built by an earlier run with --keep
        else:
            if progress:
                print(f"building the mission and laptops of {', '.join(f'{s:,}' for s in sizes)} site events")
            master = build(folder, quick, sizes, progress)
            meta = master.save()
        for kind in ["sqlite", *(["postgresql"] if postgres else [])]:
            stores = Stores(master, kind, postgres or POSTGRES)
            try:
                merged, central_url, identity = end_of_mission(
                    stores, sizes[-1], profile and kind == "sqlite"
                )
                results.merges[kind] = merged
                results.rebuilds[kind] = start_of_mission(stores, central_url, identity)
                if rounds:
                    results.https[kind] = transports(stores, sizes[-1], rounds, merged)
                if progress:
                    show(results.tables()[-3 if rounds else -2 :])
            finally:
                stores.drop()
        results.memory = memory(meta)
        if progress:
            show(results.tables()[-1:])
    return results


def sync_section(settings: Any) -> list[RunRow]:
    """A section for benchmarks/run.py (``settings``: its Settings; quick, folder and postgres are
    read). The rows have run.py's Row fields."""
    folder = Path(settings.folder) / "sync"
    return run_rows(measure(settings.quick, postgres=settings.postgres, keep=folder, progress=False))


def sections(quick: bool, postgres: str | None = POSTGRES) -> list[RunRow]:
    """The same rows, measured in a folder of their own."""
    return run_rows(measure(quick, postgres=postgres, progress=False))


def show(found: list[Table]) -> None:
    for section in found:
        widths = [max(len(c), *(len(r[i]) for r in section.rows)) for i, c in enumerate(section.columns)]
        print(f"\n{section.title}")
        for cells in [section.columns, *section.rows]:
            aligned = [
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ]
            print("  " + "  ".join(aligned))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a CI-sized run (checks it runs)")
    parser.add_argument("--sizes", help="site events per laptop, comma-separated (default 20000,100000)")
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the END sync (SQLite central)")
    parser.add_argument(
        "--keep", type=Path, help="build the stores in this folder and keep them (reused when there)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="END syncs in-process then over HTTPS, alternated, this many times (0: none; default 2,"
        " --quick 1)",
    )
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timed-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--transport", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.size)))
        return
    if args.timed_child:
        found = timed_child(args.timed_child, args.size, args.transport, args.kind, args.postgres)
        print(json.dumps(vars(found)))
        return
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    started = time.perf_counter()
    postgres = None if args.no_postgres else args.postgres
    measure(args.quick, sizes, postgres, args.keep, args.profile, rounds=args.rounds)
    print(f"\n{datetime.now().astimezone():%Y-%m-%d %H:%M}, {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()

"""Central as it grows (issue 19, point 7): a merge into a central holding many sites' history
next to the same merge into a fresh central, in pairs, in the same run.

    python benchmarks/growth.py [--quick] [--grown N] [--size N] [--rounds N]
                                [--postgres URL | --no-postgres] [--profile] [--keep DIR]

Built once: benchmarks/sync.py's mission (profile L, --quick TINY) and its laptop replicated to
``--size`` site events (default 20,000; --quick 1,500); the mission's central as the laptop left it
(the fresh central), and the same central grown to ``--grown`` events (default 250,000; --quick
5,000) by other sites' history: benchmarks/generate.py's template mission copied once per site
(``SiteCopier``, as ``build_central`` does), inserted through the recorder (chain links
included), the sites' missions spread over the year before, central's views caught up. On
PostgreSQL both centrals are the SQLite ones' logs copied event by event in log order into a
database each, views caught up, analyzed (as autovacuum does on a running central); each run's
central is a ``CREATE DATABASE ... TEMPLATE`` of one.

Then, ``--rounds`` times (default 3, --quick 1): the end-of-mission sync (``laptop.sync.run``, MSN
-> INS, in-process) from a fresh copy of the laptop into a fresh copy of the fresh central, then
the same into a fresh copy of the grown central (every other pair the grown one first). Each
pair's push (``central.merge``) seconds grown / fresh; the median of the pairs is the figure (goal
<= 1.2), next to the sync's other stages and the whole sync for information. ``--profile`` runs
one more pair with the push and the flip each under a cProfile of its own (dumped in the folder as
STAGE-KIND-WHICH.prof) and prints the functions whose time grew (and shrank) the most from the
fresh central to the grown one.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
import sync
from generate import TEMPLATE, TINY, Profile, SiteCopier, open_store, prepare, run_mission, template_events
from rows import Row

from adapters.store import StoreLocation
from application.sync.central import DirectCentral
from domain.chain import SITES_MASTER_KEY

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
PUSH = "push (central.merge)"
FRESH, GROWN = "fresh", "grown"


@dataclass(frozen=True)
class Plan:
    size: int  # the laptop's site events
    grown: int  # events in the grown central
    rounds: int
    template: Profile  # the other sites' mission


FULL = Plan(size=20_000, grown=250_000, rounds=3, template=TEMPLATE)
QUICK = Plan(size=1_500, grown=5_000, rounds=1, template=TINY)


# -- building ----------------------------------------------------------------------------------------
@dataclass
class Built:
    master: sync.Master  # the mission: its central (the fresh one) and the laptop
    size: int
    grown: Path  # the SQLite central grown by other sites' history
    heads: dict[str, int]  # events in each central


def build(folder: Path, plan: Plan, quick: bool, progress: bool) -> Built:
    """The stores, or those an earlier run with --keep built in ``folder`` for the same plan."""
    meta = folder / "growth.json"
    if meta.exists():
        saved = json.loads(meta.read_text())
        if saved["plan"] == [plan.size, plan.grown, plan.template.name]:
            master = sync.Master.load(folder / "master.json")
            return Built(master, plan.size, Path(saved["grown"]), saved["heads"])
    if progress:
        print(f"growth: the mission and a laptop of {plan.size:,} site events", file=sys.stderr, flush=True)
    master = sync.build(folder, quick, (plan.size,), progress=False)
    fresh = open_store(f"sqlite:///{master.central}", master_clock(master), "srv-central", 10)
    fresh.views.catch_up()
    fresh_head = fresh.views.head()
    fresh.close()
    grown = folder / "central-grown.db"
    sync.backup(master.central, grown)
    if progress:
        print(f"growth: central grown to {plan.grown:,} events", file=sys.stderr, flush=True)
    grown_head = grow(grown, plan, folder, master_clock(master))
    built = Built(master, plan.size, grown, {FRESH: fresh_head, GROWN: grown_head})
    master.save()
    saved = {"plan": [plan.size, plan.grown, plan.template.name], "grown": str(grown), "heads": built.heads}
    meta.write_text(json.dumps(saved))
    return built


def master_clock(master: sync.Master) -> Any:
    return sync.Stores(master, "sqlite").clock()


def grow(path: Path, plan: Plan, folder: Path, clock: Any) -> int:
    """Other sites' history into the central at ``path``: the template mission copied once per
    site (S0001, S0002 ...), the copies' missions spread over the year before this one, until the
    central holds ``plan.grown`` events; its views caught up. Returns its events."""
    mission = prepare(plan.template, f"sqlite:///{folder}/g-central.db", f"sqlite:///{folder}/g-laptop.db")
    run_mission(mission)
    stored = template_events(mission.laptop)
    copier = SiteCopier(mission.laptop, stored)
    mission.close()
    central = open_store(f"sqlite:///{path}", clock, "srv-central", 10)
    try:
        recorder = central.app.recorder
        sites = -(-max(plan.grown - (recorder.max_notification_id() or 0), 0) // len(stored))
        for number in range(1, sites + 1):
            batch = list(copier.copy(number, day_offset=(number * 365) // max(sites, 1) - 400))
            for start in range(0, len(batch), 5_000):
                recorder.insert_events(batch[start : start + 5_000])
        central.views.catch_up()
        return central.views.head()
    finally:
        central.close()


# -- fresh copies of each central ----------------------------------------------------------------
@dataclass
class Centrals:
    """Copies of the fresh and the grown central: SQLite files, or PostgreSQL databases made from a
    template database of each (built once from the SQLite centrals' logs)."""

    built: Built
    kind: str  # "sqlite" | "postgresql"
    postgres: str = POSTGRES
    templates: dict[str, str] = field(default_factory=dict)  # PostgreSQL: which -> database
    databases: list[str] = field(default_factory=list)
    made: int = 0

    def sources(self) -> dict[str, Path]:
        return {FRESH: self.built.master.central, GROWN: self.built.grown}

    def prepare(self) -> None:
        """PostgreSQL: a template database of each central, its log copied in log order."""
        if self.kind != "postgresql":
            return
        for which, path in self.sources().items():
            database = self._create(f"bench_growth_tpl_{which}_{uuid.uuid4().hex[:8]}")
            self.templates[which] = database
            source = open_store(f"sqlite:///{path}", master_clock(self.built.master), "srv-central", 10)
            key = source.app.keys.key(SITES_MASTER_KEY, create=False)
            target = open_store(self._url(database), master_clock(self.built.master), "srv-central", 10)
            try:
                if key is not None:  # the laptop's chain key derives from it, as a backup would keep
                    target.app.keys.key(SITES_MASTER_KEY, key)
                for batch in sync.log_pages(source, 5_000):
                    target.app.recorder.insert_events(batch)
                target.views.catch_up()
            finally:
                source.close()
                target.close()
            # What autovacuum does on a running central (and the copies keep its statistics).
            with psycopg.connect(self._url(database), autocommit=True) as conn:
                conn.execute("ANALYZE")

    def copy(self, which: str) -> str:
        """A fresh copy of central ``which`` (FRESH or GROWN); its URL."""
        self.made += 1
        if self.kind == "sqlite":
            path = self.built.master.folder / f"run-{which}-{self.made}.db"
            sync.backup(self.sources()[which], path)
            return f"sqlite:///{path}"
        name = f"bench_growth_{which}_{uuid.uuid4().hex[:8]}"
        return self._url(self._create(name, template=self.templates[which]))

    def remove(self, url: str) -> None:
        location = StoreLocation.parse(url)
        if location.kind == "sqlite":
            location.remove()
            return
        self._drop(location.database)

    def drop(self) -> None:
        for database in list(self.databases):
            self._drop(database)

    def _url(self, database: str) -> str:
        location = StoreLocation.parse(self.postgres)
        return f"postgresql://{location.user}@{location.host}:{location.port}/{database}"

    def _create(self, database: str, template: str | None = None) -> str:
        with psycopg.connect(self.postgres, autocommit=True) as conn:
            like = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{database}"{like}')
        self.databases.append(database)
        return database

    def _drop(self, database: str) -> None:
        with psycopg.connect(self.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if database in self.databases:
            self.databases.remove(database)


# -- one sync ----------------------------------------------------------------------------------------
class StageProfiler(sync.Stopwatch):
    """The sync's stages, timed, with a cProfile of each stage named in ``profilers`` (on only
    while that stage runs)."""

    def __init__(self, profilers: dict[str, cProfile.Profile] | None = None) -> None:
        super().__init__()
        self.profilers = profilers or {}

    def planned(self, plan: Any) -> None:
        self._switch("push")
        super().planned(plan)

    def stage(self, stage: str, done: int = 0, total: int = 0) -> None:
        if stage != self.marks[-1][0]:
            self._switch(stage)
        super().stage(stage, done, total)

    def _switch(self, stage: str) -> None:
        running = self.profilers.get(self.marks[-1][0])
        if running is not None:
            running.disable()
        starting = self.profilers.get(stage)
        if starting is not None:
            starting.enable()


def synced(
    centrals: Centrals, which: str, profilers: dict[str, cProfile.Profile] | None = None
) -> dict[str, float]:
    """The end-of-mission sync from a fresh copy of the laptop into a fresh copy of central
    ``which``: each stage's seconds and the whole sync's (``"sync"``)."""
    master = centrals.built.master
    clock = master_clock(master)
    laptop_path = master.folder / f"run-laptop-{uuid.uuid4().hex[:8]}.db"
    sync.backup(master.laptops[centrals.built.size], laptop_path)
    laptop_url = f"sqlite:///{laptop_path}"
    central_url = centrals.copy(which)
    laptop = open_store(laptop_url, clock, "laptop-brg01", 23)
    central = open_store(central_url, clock, "srv-central", 10)
    try:
        actor = sync.operator(laptop)
        watch = StageProfiler(profilers)
        started = time.perf_counter()
        outcome = laptop.sync.run(
            actor,
            DirectCentral(central.sync_central, sync.OPERATOR),
            sync.rebuilder(laptop, laptop_url, clock),
            watch,
        )
        seconds = time.perf_counter() - started
        spans = watch.spans()  # now: the last stage ends with the sync
        merged = sum(outcome.merged.values())
        assert outcome.plan.new_mode.value == "INS" and merged >= centrals.built.size, outcome
        assert not outcome.conflicts, outcome
    finally:
        laptop.close()
        central.close()
    StoreLocation.parse(laptop_url).remove()
    centrals.remove(central_url)
    return {**spans, "sync": seconds, "events": float(merged)}


@dataclass
class Pairs:
    kind: str
    runs: list[tuple[dict[str, float], dict[str, float]]]  # (fresh, grown) each round

    def ratios(self, stage: str) -> list[float]:
        return [grown[stage] / fresh[stage] for fresh, grown in self.runs]

    def median(self, which: int, stage: str) -> float:
        return statistics.median(run[which][stage] for run in self.runs)


def pairs(centrals: Centrals, rounds: int, progress: bool) -> Pairs:
    runs = []
    for number in range(rounds):
        if number % 2:  # every other pair the grown central first: neither always runs second
            grown = synced(centrals, GROWN)
            fresh = synced(centrals, FRESH)
        else:
            fresh = synced(centrals, FRESH)
            grown = synced(centrals, GROWN)
        runs.append((fresh, grown))
        if progress:
            print(
                f"growth {centrals.kind}: round {number + 1}, push {fresh[PUSH]:.2f} s fresh,"
                f" {grown[PUSH]:.2f} s grown ({grown[PUSH] / fresh[PUSH]:.2f})",
                file=sys.stderr,
                flush=True,
            )
    return Pairs(centrals.kind, runs)


def rows(found: Pairs, built: Built) -> list[Row]:
    section = f"growth {found.kind}"
    events = int(found.runs[0][0]["events"])
    fresh_head, grown_head = built.heads[FRESH], built.heads[GROWN]
    found_rows = []
    for stage, goal in ((PUSH, "<= 1.2"), *((s, "") for s in sync.STAGES if s != PUSH), ("sync", "")):
        ratios = found.ratios(stage)
        each = ", ".join(f"{r:.2f}" for r in ratios)
        name = "whole END sync" if stage == "sync" else stage
        found_rows.append(
            Row(
                section,
                f"{name}, {events:,} ev into a central of {grown_head:,} ev"
                f" (median of {len(ratios)} pairs: {each})",
                f"{found.median(1, stage):.2f} s",
                f"into a fresh central ({fresh_head:,} ev) {found.median(0, stage):.2f} s",
                f"{statistics.median(ratios):.2f}",
                goal,
            )
        )
    return found_rows


# -- where the difference goes -------------------------------------------------------------------------
def compare(stage: str, fresh: cProfile.Profile, grown: cProfile.Profile, top: int = 25) -> None:
    """The functions whose own and cumulative time grew the most from the fresh central's stage to
    the grown one's (and those that shrank the most), with their calls."""
    a: dict[Any, Any] = pstats.Stats(fresh).stats  # type: ignore[attr-defined]
    b: dict[Any, Any] = pstats.Stats(grown).stats  # type: ignore[attr-defined]
    none = (0, 0, 0.0, 0.0)
    for index, label in ((2, "own time"), (3, "cumulative time")):
        print(f"\n-- {stage}, {label}: grown - fresh (s), fresh s, grown s, calls fresh / grown")
        growth = sorted(
            ((b.get(k, none)[index] - a.get(k, none)[index], k) for k in {*a, *b}), key=lambda x: -x[0]
        )
        for delta, key in [*growth[:top], (None, None), *growth[-top // 2 :]]:
            if key is None:
                print("  ... and those that shrank the most:")
                continue
            before, after = a.get(key, none), b.get(key, none)
            where = f"{Path(key[0]).name}:{key[1]}({key[2]})"
            print(
                f"  {delta:7.3f}  {before[index]:7.3f}  {after[index]:7.3f}"
                f"  {before[1]:>8} / {after[1]:<8} {where}"
            )


def profiled(centrals: Centrals, stages: tuple[str, ...] = ("push", "flip")) -> None:
    """One more pair, each stage in ``stages`` under a cProfile of its own; the stages compared."""
    found: dict[str, dict[str, cProfile.Profile]] = {}
    for which in (FRESH, GROWN):
        found[which] = {stage: cProfile.Profile() for stage in stages}
        spans = synced(centrals, which, found[which])
        print(f"\n{centrals.kind} {which}: push {spans[PUSH]:.2f} s under cProfile")
        for stage, profiler in found[which].items():
            profiler.dump_stats(centrals.built.master.folder / f"{stage}-{centrals.kind}-{which}.prof")
    for stage in stages:
        compare(stage, found[FRESH][stage], found[GROWN][stage])


# -- the run -------------------------------------------------------------------------------------------
def measure(
    quick: bool,
    postgres: str | None,
    folder: Path,
    plan: Plan | None = None,
    profile: bool = False,
    progress: bool = True,
) -> list[Row]:
    plan = plan or (QUICK if quick else FULL)
    built = build(folder, plan, quick, progress)
    found = []
    for kind in ["sqlite", *(["postgresql"] if postgres else [])]:
        centrals = Centrals(built, kind, postgres or POSTGRES)
        try:
            centrals.prepare()
            found += rows(pairs(centrals, plan.rounds, progress), built)
            if profile:
                profiled(centrals)
        finally:
            centrals.drop()
    return found


def growth_section(settings: Any) -> list[Row]:
    """A section for benchmarks/run.py (``settings``: its Settings; quick, folder and postgres)."""
    folder = Path(settings.folder) / "growth"
    folder.mkdir(parents=True, exist_ok=True)
    return measure(settings.quick, settings.postgres, folder, progress=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a CI-sized run (checks it runs)")
    parser.add_argument("--grown", type=int, help="events in the grown central (default 250,000)")
    parser.add_argument("--size", type=int, help="the laptop's site events (default 20,000)")
    parser.add_argument("--rounds", type=int, help="pairs (default 3, --quick 1)")
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile one more pair's push and flip")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (a later run reuses it)")
    args = parser.parse_args()
    base = QUICK if args.quick else FULL
    plan = Plan(
        size=args.size or base.size,
        grown=args.grown or base.grown,
        rounds=args.rounds or base.rounds,
        template=base.template,
    )
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        folder.mkdir(parents=True, exist_ok=True)
        found = measure(args.quick, None if args.no_postgres else args.postgres, folder, plan, args.profile)
    for row in found:
        print(f"{row.section} | {row.measure} | {row.figure} | {row.reference} | {row.ratio} | {row.goal}")
    print(f"{time.perf_counter() - started:.0f} s in all", file=sys.stderr)


if __name__ == "__main__":
    main()

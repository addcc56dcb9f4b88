"""Costs flat in history: a whole `brigada` process on a store with a long history, next to the
same command on a store with a short one, in the same run (issue 19, point 5).

    python benchmarks/history.py [--quick] [--long N] [--repeats N]

A central and a laptop of site BRG01 are made with the CLI, as benchmarks/cli_startup.py makes
them (its ``Stores``), and copied byte for byte: the short pair and the long pair start equal.
Each pair then gets its history in-process, through the application and its aggregates, in
batches of a thousand events per transaction, the views caught up once at the end (the events
are the ones the commands write; only their grouping in transactions differs, which changes
nothing a later load reads):

  short: 50 patients registered on the laptop; central's administrator with a few logins; a
         lot with a few movements;
  long:  N patients (default 50,000) on the laptop (the chart-number series HIST at N); N more
         logins of the administrator, an hour apart (each login closes the sessions more than
         12 hours old, as a login does); N movements (sends of one unit) on the lot.

Each command then runs as a process of its own, its CPU from the operating system's accounting
(``child_cpu`` of cli_startup.py), ``--repeats`` times (default 11, --quick 2), the short store's
run and the long one's interleaved; figures are medians, the ratio long over short. The goal:
at most 1.1 (within 10 %). For benchmarks/run.py: ``history_section(settings)``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from cli_startup import ADMIN_PASSWORD, Stores, brigada_script, child_cpu, registration
from generate import CheapHasher
from rows import Row

from adapters.bootstrap import open_brigada
from adapters.security.sessions import SessionFiles
from domain.clinical.patient import Patient, PatientDetails
from domain.numbering import NumberSeries, series_id
from domain.pharmacy.stock_lot import StockLot, lot_id
from domain.security.user import User, user_id
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone

GOAL = "<= 1.1"
SHORT = 50
BATCH = 1_000
SITE = "BRG01"
WAREHOUSE, ITEM, LOT, EXPIRY = "CEN-BODEGA", "19943528-1", "L-LARGO", "2030-12-31"


def batches(total: int) -> Iterator[int]:
    done = 0
    while done < total:
        step = min(BATCH, total - done)
        yield step
        done += step


def add_patients(laptop_url: str, patients: int) -> None:
    """``patients`` registrations' events on the laptop: the HIST series advanced and a Patient
    each (document numbers apart from the ones the timed runs register)."""
    brigada = open_brigada(laptop_url, hasher=CheapHasher())
    core, numbers = brigada.core, count(1)
    try:
        for step in batches(patients):
            with core.acting_as("ana"):
                series = core.get(NumberSeries, series_id(SITE, "HIST")) or NumberSeries(
                    site=SITE, series="HIST"
                )
                registered = []
                for _ in range(step):
                    details = PatientDetails(
                        document_type=DocumentType("CC"),
                        document_number=str(2_000_000_000 + next(numbers)),
                        first_name="Maria",
                        middle_name="",
                        first_surname="Rojas",
                        second_surname="",
                        birth_date=date(1975, 1, 9),
                        sex=Sex("F"),
                        municipality="05001",
                        zone=Zone("02"),
                        coverage_status=CoverageStatus("04"),
                    )
                    registered.append(Patient.register(series.take(), details, today=core.clock.today()))
                core.save(series, *registered, catch_up=False)
        brigada.views.catch_up()
    finally:
        brigada.close()


def add_history(central_url: str, logins: int, movements: int) -> None:
    """Central: ``logins`` logins of the administrator an hour apart, ending a day ago; a
    warehouse and an item for the timed receipts, and ``movements`` sends of the lot."""
    brigada = open_brigada(central_url, hasher=CheapHasher())
    core = brigada.core
    try:
        admin, _ticket = brigada.auth.resume(brigada.auth.login("admin", ADMIN_PASSWORD))
        brigada.inventory.create_warehouse(admin, {"code": WAREHOUSE, "name": "Bodega de prueba"})
        item = {"kind": "medicine", "code": ITEM, "name": "Acetaminofen", "form": "tableta"}
        brigada.catalog.add_item(
            admin,
            {**item, "concentration": "500 mg", "dispensing_unit": "tableta", "marketing_auth": "INVIMA 1"},
        )
        receipt = {"warehouse": WAREHOUSE, "item": ITEM, "lot": LOT, "expiry": EXPIRY, "reference": "FAC-1"}
        brigada.inventory.receive(admin, {**receipt, "quantity": movements + 1_000})
        opened = core.clock.now() - timedelta(hours=logins + 24)
        for step in batches(logins):
            with core.acting_as("admin"):
                user = core.existing(User, user_id("admin"))
                for _ in range(step):
                    opened += timedelta(hours=1)
                    user.log_in(
                        password_matches=True,
                        on_central=True,
                        session_id=uuid.uuid4(),
                        token_hash="0" * 64,
                        now=opened,
                    )
                core.save(user, catch_up=False)
        for step in batches(movements):
            with core.acting_as("admin"):
                lot = core.existing(StockLot, lot_id(WAREHOUSE, ITEM, LOT))
                for _ in range(step):
                    lot.send(1, "TRA CEN-1")
                core.save(lot, catch_up=False)
        brigada.views.catch_up()
    finally:
        brigada.close()


def copy_stores(made: Stores, folder: Path) -> Stores:
    """A byte copy of ``made`` (closed stores: every CLI process has ended) under ``folder``, its
    sessions' files named for the copies' URLs (a session is sealed with the store's own key,
    which the copy holds)."""
    folder.mkdir()
    copy = Stores(folder)
    for name in ("central.db", "laptop.db"):
        shutil.copyfile(made.folder / name, folder / name)
    for source, target in ((made.central, copy.central), (made.laptop, copy.laptop)):
        files = SessionFiles(made.folder / "home" / "sessions"), SessionFiles(folder / "home" / "sessions")
        files[1].folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files[0].path_for(source), files[1].path_for(target))
    return copy


def make(folder: Path, long: int) -> tuple[Stores, Stores]:
    """The short and the long pair: one pair made with the CLI, copied, then each filled."""
    short_folder = folder / "short"
    short_folder.mkdir()
    short = Stores(short_folder)
    short.make()
    longer = copy_stores(short, folder / "long")
    started = time.perf_counter()
    add_patients(short.laptop, SHORT)
    add_history(short.central, 3, 5)
    add_patients(longer.laptop, long)
    add_history(longer.central, long, long)
    print(f"  stores filled in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return short, longer


Commands = dict[str, Callable[[Stores], list[str]]]


def commands() -> Commands:
    script, numbers = brigada_script(), count(1)
    receipt = ["--warehouse", WAREHOUSE, "--item", ITEM, "--lot", LOT, "--expiry", EXPIRY, "--quantity", "1"]
    return {
        "patient register (laptop)": lambda s: [script, "--store", s.laptop, *registration(next(numbers))],
        "inventory receive (the lot)": lambda s: [
            script,
            "--store",
            s.central,
            "inventory",
            "receive",
            *receipt,
        ],
        "whoami (central's administrator)": lambda s: [script, "--store", s.central, "whoami"],
    }


def measure(
    folder: Path, long: int, repeats: int, warm: bool = True
) -> dict[str, tuple[list[float], list[float]]]:
    """CPU seconds of each command's runs on the short stores and on the long ones."""
    print(
        f"history: stores with {SHORT} and {long:,} patients, logins, movements", file=sys.stderr, flush=True
    )
    short_stores, long_stores = make(folder, long)
    found: dict[str, tuple[list[float], list[float]]] = {}
    for name, argv in commands().items():
        for stores in (short_stores, long_stores)[: 2 if warm else 0]:  # warm the file cache
            child_cpu(argv(stores), stores.env)
        runs: tuple[list[float], list[float]] = ([], [])
        for _round in range(repeats):
            runs[0].append(child_cpu(argv(short_stores), short_stores.env))
            runs[1].append(child_cpu(argv(long_stores), long_stores.env))
        found[name] = runs
    return found


WHAT = {
    "patient register (laptop)": "patients",
    "inventory receive (the lot)": "movements on the lot",
    "whoami (central's administrator)": "logins of the user",
}


def rows(found: dict[str, tuple[list[float], list[float]]], long: int) -> list[Row]:
    result = []
    for name, (short_runs, long_runs) in found.items():
        short, longer = statistics.median(short_runs), statistics.median(long_runs)
        few = SHORT if name.startswith("patient") else ("a few")
        result.append(
            Row(
                "history",
                f"brigada {name}, {long:,} {WHAT[name]} (median of {len(long_runs)})",
                f"{longer * 1000:.0f} ms CPU",
                f"{few} {WHAT[name]}: {short * 1000:.0f} ms CPU",
                f"{longer / short:.2f}",
                goal=GOAL,
            )
        )
    return result


def history_section(settings: Any) -> list[Row]:
    """benchmarks/run.py's section: ``settings.quick`` and ``settings.folder`` used."""
    long = 2_000 if settings.quick else 50_000
    folder = Path(settings.folder) / "history"
    folder.mkdir()
    quick = settings.quick
    return rows(measure(folder, long, 2 if quick else 11, warm=not quick), long)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2,000 of each, 2 runs, no warm-up (checks it runs)"
    )
    parser.add_argument("--long", type=int, help="patients, logins and movements of the long stores")
    parser.add_argument("--repeats", type=int, help="runs of each command (default 11, --quick 2)")
    args = parser.parse_args()
    long = args.long or (2_000 if args.quick else 50_000)
    repeats = args.repeats or (2 if args.quick else 11)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        found = rows(measure(Path(folder), long, repeats, warm=not args.quick), long)
    for row in found:
        print(f"{row.measure:75} {row.figure:>12}   {row.ratio}   ({row.reference})")
    print(f"({(datetime.now(UTC) - started).total_seconds():.0f} s)")


if __name__ == "__main__":
    main()

"""How much CPU a whole `brigada` process spends, next to the bare interpreter's, in the same run.

    python benchmarks/cli_startup.py [--quick] [--repeats N]

Each command runs as a process of its own (the installed console script beside this interpreter),
``--repeats`` times (default 15, --quick 3), interleaved with ``python -c pass`` run by the same
interpreter: one round runs every command once, the reference first. A process's CPU is the
growth of ``resource.getrusage(RUSAGE_CHILDREN)`` (user + system) across it; each figure is the
median of its runs, and its ratio is that over the reference's median. The goals (issue 19, point
4): ``--help`` at most 4x the bare interpreter, ``whoami`` 8x, ``patient register`` on a
laptop store 15x.

The stores are made with the CLI in a temporary folder: an SQLite central (``init --central``,
the administrator logged in: ``whoami`` runs there), a site BRG01 with a user ``ana`` who may
register patients, BRG01's laptop store (``site provision``), put on mission (``site mode --set
MSN`` on central, the site's record then copied to the laptop as a sync would), ``ana`` logged
in on it. Every registration has a document number of its own. For benchmarks/run.py:
``startup_section(settings)`` returns rows with run.py's Row fields.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from itertools import count
from pathlib import Path
from typing import Any

from rows import Row

from adapters.bootstrap import open_brigada

ADMIN_PASSWORD = "a-long-password-1234"
PASSWORD = "camina-lejos-por-la-vereda-verde-42"
GOALS = {"--help": 4.0, "whoami": 8.0, "patient register (laptop)": 15.0}
REFERENCE = "python -c pass"


class Stores:
    """The central and laptop stores, made with the CLI in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.central = f"sqlite:///{folder / 'central.db'}"
        self.laptop = f"sqlite:///{folder / 'laptop.db'}"
        self.env = {
            **os.environ,
            "BRIGADA_HOME": str(folder / "home"),
            "BRIGADA_CONFIG": str(folder / "config.toml"),  # not there: no configured store
        }
        self.env.pop("BRIGADA_STORE", None)

    def run(self, store: str, *args: str, input: str | None = None) -> None:
        done = subprocess.run(
            [brigada_script(), "--store", store, *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"brigada {' '.join(args)} failed: {done.stderr.strip()}")

    def make(self) -> None:
        central, laptop = self.central, self.laptop
        self.run(central, "init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
        self.run(central, "login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
        self.run(central, "site", "register", "BRG01", "--name", "Uno", "--action", "patients")
        ana = ["user", "create", "ana", "--full-name", "Ana", "--password-stdin"]
        self.run(central, *ana, input=f"{PASSWORD}\n")
        self.run(central, "user", "access", "ana", "--grant", "patient")
        tls = self.folder / "tls"
        self.run(central, "serve", "--new-certificate", str(tls))
        address = ["--central-url", "https://127.0.0.1:8443", "--central-cert", str(tls / "central.crt")]
        self.run(central, "site", "provision", "BRG01", "--to", laptop, *address)
        self.run(central, "site", "mode", "BRG01", "--set", "MSN")
        self.mirror_site_record()
        self.run(laptop, "login", "ana", "--password-stdin", input=f"{PASSWORD}\n")

    def mirror_site_record(self) -> None:
        """What the sync would do for the mode: the laptop records central's newer site events."""
        central, laptop = open_brigada(self.central), open_brigada(self.laptop)
        try:
            laptop.sites.receive_site_record(central)
        finally:
            laptop.close()
            central.close()


def brigada_script() -> str:
    return str(Path(sys.executable).parent / "brigada")


def registration(number: int) -> list[str]:
    return [
        "patient", "register", "--document-type", "CC", "--document-number", str(1_061_000_000 + number),
        "--first-name", "Jose", "--first-surname", "Pena", "--birth-date", "1980-05-02", "--sex", "M",
        "--municipality", "05001", "--zone", "02", "--coverage", "04",
    ]  # fmt: skip


def child_cpu(argv: list[str], env: dict[str, str]) -> float:
    """User + system CPU seconds of one process run to its end (its exit code must be 0)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}... failed: {done.stderr.decode().strip()}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(folder: Path, repeats: int) -> dict[str, list[float]]:
    """CPU seconds of each command's runs, the reference's first; rounds interleaved."""
    stores = Stores(folder)
    stores.make()
    script, numbers = brigada_script(), count(1)
    commands: dict[str, Any] = {
        REFERENCE: lambda: [sys.executable, "-c", "pass"],
        "--help": lambda: [script, "--help"],
        "whoami": lambda: [script, "--store", stores.central, "whoami"],
        "patient register (laptop)": lambda: [script, "--store", stores.laptop, *registration(next(numbers))],
    }
    for argv in commands.values():  # warm the file cache and the bytecode before timing
        child_cpu(argv(), stores.env)
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _round in range(repeats):
        for name, argv in commands.items():
            seconds[name].append(child_cpu(argv(), stores.env))
    return seconds


def rows(seconds: dict[str, list[float]]) -> list[Row]:
    reference = statistics.median(seconds[REFERENCE])
    found = []
    for name, runs in seconds.items():
        if name == REFERENCE:
            continue
        median = statistics.median(runs)
        ratio = median / reference
        found.append(
            Row(
                "cli startup",
                f"brigada {name} (median of {len(runs)})",
                f"{median * 1000:.0f} ms CPU",
                f"{REFERENCE} {reference * 1000:.0f} ms CPU",
                f"{ratio:.1f}x",
                goal=f"<= {GOALS[name]:g}",
            )
        )
    return found


def startup_section(settings: Any) -> list[Row]:
    """benchmarks/run.py's section: ``settings.quick`` and ``settings.folder`` used."""
    print("cli startup: whole processes next to python -c pass", file=sys.stderr, flush=True)
    folder = Path(settings.folder) / "cli-startup"
    folder.mkdir()
    return rows(measure(folder, 3 if settings.quick else 15))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of each command (checks it runs)")
    parser.add_argument("--repeats", type=int, help="runs of each command (default 15, --quick 3)")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 15)
    with tempfile.TemporaryDirectory() as folder:
        found = rows(measure(Path(folder), repeats))
    for row in found:
        print(f"{row.measure:45} {row.figure:>12}   {row.ratio}   ({row.reference})")


if __name__ == "__main__":
    main()

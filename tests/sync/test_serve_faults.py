"""Faults around `brigada serve`, a real process on 127.0.0.1 over HTTPS.

Kills: the laptop's `brigada sync` process, or the server, killed with SIGKILL at a random instant
of a sync (a seeded random.Random: the same instants on every run), the server restarted on the
same port, the sync run again (unless the laptop had recorded it completed): it ends where an
uninterrupted sync of the same mission ends. Both crossings. The missions are built once and
copied for each trial; an uninterrupted sync of each is measured first, and the instants are drawn
within it. A few trials in every run, many in the slow one; and on purpose the instant they keep
finding: central recorded the end of the run, and its answer never reached the laptop.

Load: eight laptops end their missions at once, each `brigada sync` a process of its own, through
one server of two workers on PostgreSQL. Every sync succeeds, every laptop event reaches central
exactly once, no run is left open, nothing is held, the server logs no traceback. What two workers
do at the same instant, on purpose: open central's store, and merge two sites' changes to the same
shared record.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

import application.sync.laptop
from adapters.bootstrap import open_brigada
from adapters.security.sessions import SessionFiles
from adapters.store import StoreLocation
from adapters.sync.client import CentralUnreachable
from adapters.sync.serve_process import certificate_in, free_port
from adapters.sync.server import Service
from adapters.sync.store_io import SqlSiteLog, StoreRebuilds
from application.brigada import Brigada
from application.faults import FAULT_VARIABLE
from application.ports import SessionTicket
from application.setup import SOFTWARE_VERSION
from application.sync.central import DirectCentral
from application.sync.laptop import SyncOutcome
from domain.access_log import SYNC_AUTH_FAILED, Access
from domain.base import context_of
from domain.sites.site import SiteMode
from domain.store_identity import STORE_IDENTITY_ID
from domain.sync.sync import SyncCrossing
from tests.support.cli import Terminal
from tests.support.hashing import QuickArgon2Hasher, quick_hashing_in_the_cli
from tests.support.inventory import NURSE, NURSE_PASSWORD, stocked_central, template_stores
from tests.support.security import log_in
from tests.support.serve import Server, over_http, served_field, start_server
from tests.support.sites import JOSE, site_row
from tests.support.sync import Field, finalized_visit, provisioned_field

pytestmark = pytest.mark.store

SITE = "BRG01"
LOAD_SITES = [f"BRG{n:02d}" for n in range(1, 9)]
END, START = SyncCrossing.END_OF_MISSION.value, SyncCrossing.START_OF_MISSION.value
SEED = 20260301
CI_TRIALS = 4
SLOW_TRIALS = 32
# The laptop pushes its log this many rows a batch (the application's PAGE is 2000): the mission
# below then takes several merges, so that a kill can fall between two of them.
PAGE, SMALL_PAGE = application.sync.laptop.PAGE, 100
CENTRAL_PATIENTS = 240  # in every laptop's slice: the start-of-mission rebuild reads them
MISSION_PATIENTS = 300  # registered on the laptop during the mission, beside a few visits
MISSION_VISITS = 6
BOOKKEEPING = {"SyncRun", "ChainCheckpoint"}  # one Merged per batch: the count follows the batches
# `brigada ...` with the laptop's push in batches of argv[1] log rows. It imports its modules,
# then waits for a line on stdin (``go``): the command itself starts at a known instant.
READY_CLI = (
    "import sys, application.sync.laptop; from cli.main import main; "
    "application.sync.laptop.PAGE = int(sys.argv.pop(1)); sys.argv[0] = 'brigada'; "
    "sys.stdin.readline(); main()"
)


# -- the laptop's CLI, a process of its own -------------------------------------------------------
def laptop_cli(store: str, *args: str, page: int = PAGE) -> subprocess.Popen[str]:
    """`brigada --store STORE ARGS`, ready to start (``go``)."""
    env = {**os.environ, "BRIGADA_LANG": "en"}
    env.pop(FAULT_VARIABLE, None)
    return subprocess.Popen(
        [sys.executable, "-c", READY_CLI, str(page), "--store", store, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def go(*processes: subprocess.Popen[str]) -> float:
    """Start the commands; the instant they started."""
    for process in processes:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died already: its exit says why
            process.stdin.write("go\n")
            process.stdin.flush()
    return time.monotonic()


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def all_finished(processes: list[subprocess.Popen[str]], timeout: float) -> list[Ran]:
    """Every process's exit, within ``timeout`` seconds for all of them: a process still running
    then (a deadlock, a lost answer waited for) fails the test, every process killed first."""
    deadline = time.monotonic() + timeout
    ran = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            ran.append(Ran(process.returncode, stdout, stderr))
    except subprocess.TimeoutExpired:
        pytest.fail(f"a sync still runs after {timeout} s (a deadlock?)")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    return ran


def no_traceback(*logs: str) -> None:
    for log in logs:
        assert "Traceback" not in log, log
        assert " status=500 " not in log, log


def answered(server: Server) -> list[str]:
    """The sync requests the server answered so far, in order (its access log)."""
    return [line.split()[4] for line in server.log().splitlines() if " POST /v1/sync/" in line]


def last_answer(server: Server) -> float:
    """When the server answered its last sync request (time.time() seconds, from its log)."""
    stamps = [line[:23] for line in server.log().splitlines() if " POST /v1/sync/" in line]
    return datetime.strptime(stamps[-1], "%Y-%m-%d %H:%M:%S,%f").timestamp()


# -- where a sync ends ----------------------------------------------------------------------------
def event_ids(brigada: Brigada, site: str | None = None) -> Counter[str]:
    """The context event ids of a store's events (with ``site``: those recorded there, the
    store's identity left out), each with how many times it is stored."""
    app = brigada.app
    found: Counter[str] = Counter()
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        context = context_of(app.mapper.to_domain_event(notification))
        if site is None or (context.site == site and notification.originator_id != STORE_IDENTITY_ID):
            found[context.event_id.hex] += 1
    return found


def topics(brigada: Brigada) -> tuple[tuple[str, int], ...]:
    """How many events of each kind a store holds (an access record by its action), the sync's
    bookkeeping left out, and so are central's records of requests that proved nothing: a laptop
    killed while sending one leaves a half-sent request that central logs as a failed
    authentication (SYNC_AUTH_FAILED), evidence of the kill and not of where the sync ended."""
    counted: Counter[str] = Counter()
    for n in brigada.app.recorder.select_notifications(start=1, limit=1_000_000):
        if n.topic.split(".")[1] in BOOKKEEPING:
            continue
        if n.topic == "brigada.Access.Recorded":
            action = cast(Access.Recorded, brigada.app.mapper.to_domain_event(n)).action
            if action != SYNC_AUTH_FAILED:
                counted[f"{n.topic}:{action}"] += 1
            continue
        counted[n.topic] += 1
    return tuple(sorted(counted.items()))


@dataclass(frozen=True)
class Ending:
    """Where a sync of BRG01 ended, as far as that must not depend on how it got there."""

    mode: str
    central: tuple[tuple[str, int], ...]
    laptop: tuple[tuple[str, int], ...]
    conflicts: int


def converged(laptop_url: str, central_url: str, crossing: str) -> Ending:
    """test_sync_cli.converged for a laptop synced through `brigada serve`, and what it ended with:
    central and the laptop agree on the new mode, the newest run is the crossing's and it completed,
    none is open, central holds every event of the laptop exactly once (and no event twice),
    nothing is held in quarantine, and nothing is left to push."""
    new_mode = "INS" if crossing == END else "MSN"
    laptop = open_brigada(laptop_url, hasher=QuickArgon2Hasher())
    hub = open_brigada(central_url, hasher=QuickArgon2Hasher())
    try:
        runs = hub.sync.runs.history(SITE)
        assert [(r.crossing, r.status) for r in runs][:1] == [(crossing, "completed")], runs[:2]
        assert hub.sync.runs.open_run(SITE) is None
        assert site_row(hub, SITE).mode == new_mode
        assert site_row(laptop, SITE).mode == new_mode
        if crossing == START:
            assert laptop.core.require_identity().generation == runs[0].run_id
        on_central = event_ids(hub)
        assert max(on_central.values()) == 1, "an event is twice on central"
        for event_id in event_ids(laptop, SITE):
            assert on_central[event_id] == 1, event_id
        assert hub.sync_central.quarantine.list(None, True) == []
        ending = Ending(new_mode, topics(hub), topics(laptop), len(hub.sync_central.conflicts.list(True)))
        before = laptop.core.app.recorder.max_notification_id() or 0
        nurse = log_in(laptop, NURSE, NURSE_PASSWORD)
        made = laptop.core.app.recorder.max_notification_id() or 0
        plan, _status, _run = laptop.sync.preflight(nurse, DirectCentral(hub.sync_central, NURSE))
        # the login just made: its own event and the closing of the nurse's sessions too old to resume
        assert made - before >= 1
        assert plan.total == made - before
        return ending
    finally:
        laptop.close()
        hub.close()


# -- a laptop's sync in this process, through the server ------------------------------------------
def sessions() -> SessionFiles:
    return SessionFiles(Path(os.environ["BRIGADA_HOME"]) / "sessions")


def sync_here(laptop_url: str, url: str, wrap: Callable[[Any], Any] = lambda central: central) -> SyncOutcome:
    """What `brigada sync` does, in this process: the laptop's store opened, the operator's session
    (`brigada login`) resumed, the sync run through the server at ``url`` (its transport passed
    through ``wrap``), every store closed whatever happens."""
    laptop = open_brigada(laptop_url, hasher=QuickArgon2Hasher())
    opened = [laptop]

    def opener(url: str, create: bool) -> Brigada:
        opened.append(open_brigada(url, create=create, hasher=QuickArgon2Hasher()))
        return opened[-1]

    try:
        actor, _ticket = laptop.auth.resume(sessions().load(laptop_url))
        central = wrap(over_http(laptop, actor.username, url))
        try:
            return laptop.sync.run(actor, central, StoreRebuilds(laptop, laptop_url, opener))
        finally:
            central.close()
    finally:
        for brigada in opened:
            with contextlib.suppress(Exception):  # closed already by a swap
                brigada.close()


# -- the missions: built once, copied for each trial ----------------------------------------------
@dataclass
class Mission:
    """Central (SQLite) and BRG01's laptop just before a sync of ``crossing``, as files (with the
    certificate central serves and ana's session on the laptop), and what an uninterrupted sync
    of it took and ended with."""

    folder: Path
    crossing: str
    ticket: SessionTicket | None = None
    window: float = 0.0  # `brigada sync` started (go) to central's last answer, in seconds
    seconds: float = 0.0  # the sync itself (SyncOutcome.seconds)
    ending: Ending | None = None

    def copy(self, into: Path) -> tuple[str, str]:
        """A copy of the mission in ``into``, ana logged in on the laptop: the URLs of central's
        store and of the laptop's."""
        into.mkdir(parents=True, exist_ok=True)
        for name in ("central.db", "brg01.db"):
            for suffix in ("", "-wal"):
                if (self.folder / f"{name}{suffix}").exists():
                    shutil.copyfile(self.folder / f"{name}{suffix}", into / f"{name}{suffix}")
        shutil.copytree(self.folder / "tls", into / "tls", ignore=shutil.ignore_patterns("*.log"))
        laptop_url = f"sqlite:///{into / 'brg01.db'}"
        if self.ticket is not None:  # a session of its own (a session file cannot be forged)
            Terminal(laptop_url).log_in(NURSE, NURSE_PASSWORD)
        return f"sqlite:///{into / 'central.db'}", laptop_url


def build_mission(folder: Path) -> None:
    """Central with many patients, and BRG01's laptop on mission (a start-of-mission sync) where
    patients were registered and visits finalized; every store closed."""
    cert, _key = certificate_in(folder / "tls")
    with template_stores() as opener:
        # The port changes from copy to copy: each sync is given central's address.
        address = ("https://127.0.0.1", cert.read_text())
        field = provisioned_field(opener, f"sqlite:///{folder / 'central.db'}", folder, address=address)
        for n in range(CENTRAL_PATIENTS):
            field.central.patients.register(field.admin, {**JOSE, "document_number": f"70{n:06d}"})
        field.sync()  # the start of the mission (direct transport)
        nurse = field.nurse()
        for n in range(MISSION_PATIENTS):
            field.laptop.patients.register(nurse, {**JOSE, "document_number": f"80{n:06d}"})
        for _n in range(MISSION_VISITS):
            finalized_visit(field)


def logged_in(mission: Mission) -> Mission:
    """ana logged in on the mission's laptop (`brigada login`): each copy resumes her session."""
    laptop_url = f"sqlite:///{mission.folder / 'brg01.db'}"
    Terminal(laptop_url).log_in(NURSE, NURSE_PASSWORD)
    ticket = sessions().load(laptop_url)
    assert ticket is not None
    mission.ticket = ticket
    return mission


def uninterrupted(mission: Mission, folder: Path, keep: Path | None = None) -> None:
    """Measure an uninterrupted `brigada sync` of the mission and record where it ends; with
    ``keep``, the stores it left are copied there first (the next mission)."""
    central_url, laptop_url = mission.copy(folder)
    port = free_port()
    sync = laptop_cli(laptop_url, "sync", "--json", "--central", f"https://127.0.0.1:{port}", page=SMALL_PAGE)
    try:
        server = start_server(central_url, folder / "tls", port=port)
        try:
            go(sync)
            started = time.time()
            (ran,) = all_finished([sync], 120)
            mission.window = last_answer(server) - started
        finally:
            server.stop()
    finally:
        if sync.poll() is None:
            sync.kill()
    assert ran.code == 0, ran.stderr
    mission.seconds = float(json.loads(ran.stdout)["seconds"])
    no_traceback(server.log())
    if keep is not None:
        Mission(folder, mission.crossing).copy(keep)
    mission.ending = converged(laptop_url, central_url, mission.crossing)


@pytest.fixture(scope="module")
def missions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Mission]:
    """An end of mission, and a start of mission (the laptop just back from that one, its history
    in its slice), each measured once uninterrupted."""
    root = tmp_path_factory.mktemp("missions")
    with pytest.MonkeyPatch.context() as patch, quick_hashing_in_the_cli():
        patch.setenv("BRIGADA_HOME", str(root / "home"))
        patch.setenv("BRIGADA_CONFIG", str(root / "no-config.toml"))
        patch.setenv("BRIGADA_LANG", "en")
        patch.delenv("BRIGADA_STORE", raising=False)
        build_mission(root / "end")
        end = logged_in(Mission(root / "end", END))
        uninterrupted(end, root / "measured-end", keep=root / "start")
        start = logged_in(Mission(root / "start", START))
        uninterrupted(start, root / "measured-start")
    return {END: end, START: start}


# -- one trial: a kill at a random instant, then the sync again -----------------------------------
@dataclass
class Trial:
    crossing: str
    victim: str  # "laptop" or "server"
    delay: float  # seconds into the sync
    answered: list[str] = field(default_factory=list)  # the requests answered before the kill
    # How the killed sync ended: "completed" (before the kill), "finished" (killed once the laptop
    # had recorded the run completed: only its last words were lost), "killed", "unreachable".
    first: str = ""

    @property
    def mid_sync(self) -> bool:
        return bool(self.answered) and self.first in ("killed", "unreachable")


def finished_here(laptop_url: str, crossing: str) -> bool:
    """Whether the laptop records the newest run of the crossing as completed (`brigada sync
    history`, on the laptop): the operator runs the sync again only when it does not."""
    laptop = open_brigada(laptop_url, hasher=QuickArgon2Hasher())
    try:
        newest = laptop.sync.runs.history(SITE)[:1]
        return [(run.crossing, run.status) for run in newest] == [(crossing, "completed")]
    finally:
        laptop.close()


def kill_the_laptop(trial: Trial, sync: subprocess.Popen[str], server: Server, laptop_url: str) -> None:
    """`brigada sync`, killed ``delay`` seconds after it started."""
    go(sync)
    with contextlib.suppress(subprocess.TimeoutExpired):
        sync.wait(trial.delay)
    if sync.poll() is None:
        sync.kill()
    trial.answered = answered(server)
    _out, err = sync.communicate(timeout=30)
    if sync.returncode == 0:
        assert "Sync completed successfully" in err
        trial.first = "completed"
    else:
        assert sync.returncode == -9, err  # killed: any other exit is a failure of its own
        trial.first = "finished" if finished_here(laptop_url, trial.crossing) else "killed"


def kill_the_server(trial: Trial, laptop_url: str, server: Server) -> None:
    """The laptop syncs (in this process, with fast retries), the server is killed ``delay``
    seconds into the sync: the sync fails, central cannot be reached."""
    killer = threading.Timer(trial.delay, server.kill)

    def started(central: Any) -> Any:
        central.backoff = 0.01
        killer.start()  # as the sync itself starts
        return central

    try:
        sync_here(laptop_url, server.url, started)
        trial.first = "completed"
    except CentralUnreachable as error:
        assert "cannot reach central at" in str(error)
        trial.first = "unreachable"
    finally:
        with contextlib.suppress(RuntimeError):  # started, unless the sync failed before
            killer.start()
        killer.join()
        trial.answered = answered(server)


def run_trial(mission: Mission, trial: Trial, folder: Path) -> None:
    central_url, laptop_url = mission.copy(folder)
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    sync = (
        laptop_cli(laptop_url, "sync", "--central", url, page=SMALL_PAGE)
        if trial.victim == "laptop"
        else None
    )
    servers: list[Server] = []
    try:
        servers.append(start_server(central_url, folder / "tls", port=port))
        if sync is not None:
            kill_the_laptop(trial, sync, servers[0], laptop_url)
        else:
            kill_the_server(trial, laptop_url, servers[0])
            killed_log = servers[0].log()  # the restarted server writes the same file
            no_traceback(killed_log)
            servers.append(start_server(central_url, folder / "tls", port=port))
        if trial.first in ("killed", "unreachable"):
            sync_here(laptop_url, url)
    finally:
        if sync is not None and sync.poll() is None:
            sync.kill()
        for server in servers:
            server.stop()
    no_traceback(servers[-1].log())
    assert converged(laptop_url, central_url, mission.crossing) == mission.ending


def planned(count: int, rng: random.Random, missions: dict[str, Mission]) -> list[Trial]:
    """``count`` trials, each crossing and each victim in turn, at random instants spread over the
    uninterrupted sync (the k-th of a crossing's and victim's m trials at a random instant of its
    k-th m-th): for the laptop, `brigada sync` from its start to central's last answer; for the
    server, the sync itself."""
    trials = []
    for n in range(count):
        kind = n % 4
        crossing, victim = (END, START)[kind % 2], ("laptop", "server")[kind // 2]
        mission = missions[crossing]
        span = mission.window if victim == "laptop" else mission.seconds
        share = len(range(kind, count, 4))
        trials.append(Trial(crossing, victim, round(span * (n // 4 + rng.random()) / share, 3)))
    return trials


def run_trials(
    count: int, seed: int, missions: dict[str, Mission], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[Trial]:
    """Every trial, one after the other; the trials that did not converge are listed at the end."""
    monkeypatch.setattr(application.sync.laptop, "PAGE", SMALL_PAGE)  # the syncs in this process too
    for mission in missions.values():
        print(f"{mission.crossing}: `brigada sync` {mission.window:.2f} s, the sync {mission.seconds:.2f} s")
    done, failed = [], []
    for number, trial in enumerate(planned(count, random.Random(seed), missions)):
        try:
            run_trial(missions[trial.crossing], trial, tmp_path / f"trial-{number}")
        except Exception as error:
            failed.append(f"trial {number} {trial}: {type(error).__name__}: {one_line(error)}")
        done.append(trial)
        print(f"trial {number}: {trial.crossing}, {trial.victim} killed at {trial.delay} s", end=" ")
        print(f"after {len(trial.answered)} answers ({trial.answered[-1:]}): {trial.first}")
    assert failed == [], f"seed {seed}:\n" + "\n".join(failed)
    return done


def one_line(error: Exception | str) -> str:
    return " ".join(str(error).split())[:500]


def test_a_sync_killed_at_a_random_instant_converges_when_run_again(
    missions: dict[str, Mission], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_trials(CI_TRIALS, SEED, missions, tmp_path, monkeypatch)


@pytest.mark.slow
def test_many_syncs_killed_at_random_instants_converge_when_run_again(
    missions: dict[str, Mission], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = run_trials(SLOW_TRIALS, SEED + 1, missions, tmp_path, monkeypatch)
    # The instants fell in the middle of syncs, not only before or after them.
    assert sum(trial.mid_sync for trial in done) >= len(done) // 3
    for crossing in (END, START):
        for victim in ("laptop", "server"):
            assert any(t.mid_sync for t in done if (t.crossing, t.victim) == (crossing, victim))


# -- the answer to the last step lost -------------------------------------------------------------
class ServerDiesAfterComplete:
    """The laptop's transport: central records the end of the run, then the server is killed
    before the laptop hears back (its retries find nobody)."""

    def __init__(self, central: Any, server: Server) -> None:
        self.central = central
        self.server = server

    def __getattr__(self, name: str) -> Any:
        return getattr(self.central, name)

    def complete(self, *args: Any) -> Any:
        self.central.complete(*args)
        self.server.kill()
        return self.central.complete(*args)


@pytest.mark.parametrize("crossing", [END, START])
def test_a_sync_whose_last_answer_is_lost_ends_its_own_crossing_when_run_again(
    crossing: str, open_store: Any, sqlite_url: str, tmp_path: Path
) -> None:
    """Central completed the run, then the server died before answering: the laptop's sync fails
    (central cannot be reached). Run again once central is back, it ends where an uninterrupted
    sync ends: the same crossing, not the next one."""
    with served_field(open_store, sqlite_url, tmp_path) as field:
        if crossing == END:
            field.sync()
            finalized_visit(field)
        server = field.server
        field.transport = lambda operator: ServerDiesAfterComplete(over_http(field.laptop, operator), server)
        nurse = field.nurse()  # her session, resumed by the sync run again (no second login)
        with pytest.raises(CentralUnreachable):
            field.sync(nurse)
        with contextlib.suppress(Exception):  # a rebuilt laptop's old store is closed already
            field.laptop.close()
        field.laptop = open_store(field.laptop_url, create=False)
        restarted = start_server(sqlite_url, tmp_path / "tls", port=int(server.url.rsplit(":", 1)[1]))
        try:
            field.transport = lambda operator: over_http(field.laptop, operator)
            again = field.sync(nurse)
        finally:
            restarted.stop()
        field.laptop.close()
        no_traceback(restarted.log())

    assert again.plan.crossing.value == crossing
    converged(field.laptop_url, sqlite_url, crossing)


# -- load ---------------------------------------------------------------------------------------
def site_field(
    central: Brigada, admin: Any, code: str, folder: Path, address: tuple[str, str], open_store: Any
) -> Field:
    """Site ``code``'s laptop (its own SQLite file) provisioned from central with central's
    https address and certificate; it syncs through `brigada serve`."""
    laptop_url = f"sqlite:///{folder / code.lower()}.db"
    laptop = open_store(laptop_url)
    url, certificate = address
    central.sites.provision(
        admin, code, laptop, f"{code.lower()}.db", central_url=url, central_certificate=certificate
    )
    field = Field(central, admin, laptop, laptop_url, open_store)
    field.transport = lambda operator: over_http(field.laptop, operator)
    return field


def register_site(central: Brigada, admin: Any, code: str) -> None:
    warehouse = f"{code}-FARMACIA"
    central.sites.register(admin, {"code": code, "name": f"Brigada {code}", "warehouses": [warehouse]})
    central.inventory.create_warehouse(admin, {"code": warehouse, "name": "Farmacia", "site": code})


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_eight_laptops_end_their_missions_at_once_through_one_server_of_two_workers(
    open_store: Any, store_url: str, tmp_path: Path
) -> None:
    central, admin = stocked_central(open_store, store_url)
    central.patients.register(admin, JOSE)
    for code in LOAD_SITES[1:]:
        register_site(central, admin, code)
    cert, _key = certificate_in(tmp_path / "tls")
    port = free_port()
    address = (f"https://127.0.0.1:{port}", cert.read_text())
    fields = [site_field(central, admin, code, tmp_path, address, open_store) for code in LOAD_SITES]
    server = start_server(store_url, tmp_path / "tls", port=port, workers=2)
    syncs: list[subprocess.Popen[str]] = []
    try:
        # Each laptop's `brigada sync`, a process of its own, imports its modules meanwhile.
        syncs = [laptop_cli(field.laptop_url, "sync", "--json") for field in fields]
        for n, field in enumerate(fields):
            assert field.sync().plan.new_mode is SiteMode.ON_MISSION  # each mission starts
            finalized_visit(field)
            field.laptop.patients.register(field.nurse(), {**JOSE, "document_number": f"5550{n}"})
            field.laptop.close()
            Terminal(field.laptop_url).log_in(NURSE, NURSE_PASSWORD)

        go(*syncs)  # the eight ends of mission, at once
        ends = all_finished(syncs, timeout=120)
    finally:
        for sync in syncs:
            if sync.poll() is None:
                sync.kill()
        server.stop()

    assert {code: one_line(ran.stderr) for code, ran in zip(LOAD_SITES, ends, strict=True) if ran.code} == {}
    assert [json.loads(ran.stdout)["quarantined"] for ran in ends] == [0] * len(LOAD_SITES)
    central.views.catch_up()
    on_central = event_ids(central)
    assert max(on_central.values()) == 1, "an event is twice on central"
    for code, field in zip(LOAD_SITES, fields, strict=True):
        laptop = open_store(field.laptop_url, create=False)
        mission = event_ids(laptop, code)
        assert mission and all(on_central[event_id] == 1 for event_id in mission), code
        assert central.sync.runs.open_run(code) is None
        assert site_row(central, code).mode == site_row(laptop, code).mode == "INS"
    assert central.sync_central.quarantine.list(None, True) == []
    no_traceback(server.log())
    assert server.log().count("Started server process") == 2


# -- two workers at the same instant --------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_workers_opening_central_at_the_same_instant_all_open_it(open_store: Any, store_url: str) -> None:
    """Each worker of `brigada serve` opens central's store (its Service) at its first request:
    four workers whose first requests arrive together open it at the same instant, three times
    over. Every one opens it (a failure reaches the laptop as a refusal, HTTP 409)."""
    central, _admin = stocked_central(open_store, store_url)
    central.close()
    failures: list[str] = []

    def open_it(service: Service, together: threading.Barrier) -> None:
        together.wait(30)
        try:
            service.open()
        except Exception as error:
            failures.append(one_line(error))

    for _round in range(3):
        services = [Service(store_url) for _n in range(4)]
        together = threading.Barrier(len(services))
        threads = [threading.Thread(target=open_it, args=(service, together)) for service in services]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
                assert not thread.is_alive(), "opening the store hangs"
        finally:
            for service in services:
                with contextlib.suppress(Exception):
                    service.close()
    assert failures == []


class HeldAtMerge:
    """The laptop's transport, its first merge held until the test lets it go."""

    def __init__(self, central: Any, arrived: threading.Semaphore, go: threading.Event) -> None:
        self.central = central
        self.arrived = arrived
        self.go = go
        self.held = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.central, name)

    def merge(self, *args: Any) -> Any:
        if not self.held:
            self.held = True
            self.arrived.release()
            assert self.go.wait(60)
        return self.central.merge(*args)


def postgres(store_url: str, **options: Any) -> psycopg.Connection[Any]:
    location = StoreLocation.parse(store_url)
    return psycopg.connect(
        dbname=location.database, host=location.host, port=location.port, user=location.user, **options
    )


def waiting_to_write(store_url: str, count: int, timeout: float) -> bool:
    """Whether ``count`` sessions wait for the lock on the store's events table (within
    ``timeout`` seconds)."""
    events = f'"{StoreLocation.parse(store_url).schema}".brigada_events'
    deadline = time.monotonic() + timeout
    with postgres(store_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            query = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass"
            row = conn.execute(query, (events,)).fetchone()
            if row and row[0] >= count:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_two_sites_pushing_the_same_shared_record_at_the_same_instant_both_sync(
    open_store: Any, store_url: str, tmp_path: Path
) -> None:
    """Each laptop's nurse logs in there: both push an event of user ana, a record central shares
    with every site. Two server processes on one PostgreSQL store (what --workers 2 runs) judge
    the two merges at the same instant: central's events table is held locked by the test until
    both merges have read central's copy of ana and wait to write. Both syncs succeed."""
    central, admin = stocked_central(open_store, store_url)
    register_site(central, admin, "BRG02")
    cert, _key = certificate_in(tmp_path / "tls")
    address = ("https://127.0.0.1", cert.read_text())
    fields = [site_field(central, admin, code, tmp_path, address, open_store) for code in (SITE, "BRG02")]
    arrived, release = threading.Semaphore(0), threading.Event()
    outcomes: dict[str, Any] = {}

    def sync(field: Field, server: Server) -> None:
        actor = field.nurse()  # an event of ana's record, recorded at this laptop's site
        transport = HeldAtMerge(over_http(field.laptop, actor.username, server.url), arrived, release)
        field.transport = lambda operator: transport
        try:
            outcomes[field.laptop_url] = field.sync(actor)
        except Exception as error:
            outcomes[field.laptop_url] = error
            arrived.release()

    servers: list[Server] = []
    try:
        for field in fields:  # each server opens central's store, one after the other
            servers.append(start_server(store_url, tmp_path / "tls"))
            identity = field.laptop.core.require_identity()
            assert identity.generation is not None
            first = over_http(field.laptop, NURSE, servers[-1].url)
            first.status(identity.site_code, identity.generation, SOFTWARE_VERSION)
            first.close()
        threads = [threading.Thread(target=sync, args=pair) for pair in zip(fields, servers, strict=True)]
        for thread in threads:
            thread.start()
        assert arrived.acquire(timeout=60) and arrived.acquire(timeout=60)
        with postgres(store_url) as lock:
            lock.execute(
                f'LOCK TABLE "{StoreLocation.parse(store_url).schema}".brigada_events IN EXCLUSIVE MODE'
            )
            release.set()
            waiting_to_write(store_url, 2, timeout=10)  # fewer wait if the merges take turns
        for thread in threads:
            thread.join(120)
            assert not thread.is_alive(), "a sync hangs"
    finally:
        release.set()
        for server in servers:
            server.stop()

    failed = {
        url: one_line(outcome) for url, outcome in outcomes.items() if not isinstance(outcome, SyncOutcome)
    }
    assert failed == {}
    no_traceback(*(server.log() for server in servers))


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_writers_met_by_others_take_turns_across_processes_of_one_store(store_url: str) -> None:
    """The turn central's merges take once another writer met them is an advisory lock of the
    store's schema: a second holder (another worker's engine) waits until the first lets go;
    another store's writers do not."""
    location = StoreLocation.parse(store_url)
    other = StoreLocation.parse(f"{store_url.split('?')[0]}?schema=t_{uuid.uuid4().hex}")
    engines = [location.sqlalchemy_engine() for _ in range(2)] + [other.sqlalchemy_engine()]
    first, second, elsewhere = (
        SqlSiteLog(loc, e) for loc, e in zip((location, location, other), engines, strict=True)
    )
    order: list[str] = []

    def takes_its_turn() -> None:
        with second.writers_in_turn():
            order.append("second")

    try:
        with first.writers_in_turn():
            waiting = threading.Thread(target=takes_its_turn)
            waiting.start()
            with elsewhere.writers_in_turn():
                order.append("another store")
            waiting.join(0.5)
            order.append("first lets go")
        waiting.join(10)
    finally:
        for engine in engines:
            engine.dispose()
    assert order == ["another store", "first lets go", "second"]

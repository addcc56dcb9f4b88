"""Shared fixtures: isolated user state, real stores (SQLite and PostgreSQL), a fixed clock,
quick password hashing (tests/support/hashing.py).

PostgreSQL listens on 127.0.0.1:5432 on every development and CI machine (DESIGN.md §8). A
developer without it gets a skip; with CI=true a missing server fails the run instead, so the
PostgreSQL half of the suite can never go quietly missing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from adapters.bootstrap import open_brigada
from adapters.store import StoreLocation
from adapters.system import FixedClock, Host
from application.brigada import Brigada
from tests.support.hashing import QuickArgon2Hasher, quick_hashing_in_the_cli

IN_CI = os.environ.get("CI", "").strip().lower() == "true"

settings.register_profile("dev", max_examples=30)
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if IN_CI else "dev")

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
# Noon UTC, so the business date is the same wherever the tests run.
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# A test needs a store when it asks for one of these fixtures (pytest counts the fixtures they ask
# for too) or its module says `pytestmark = pytest.mark.store`; `make test-fast` runs the others.
STORE_FIXTURES = frozenset({"open_store", "store_url", "sqlite_url", "count_events", "central"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STORE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.store)


class StoreInPureTest(AssertionError):
    """A test not marked `store` opened a database or started a process."""


@contextmanager
def no_store_for(item: pytest.Item) -> Iterator[None]:
    """Keeps the `store` marker honest: while a test without it is set up (fixtures of every
    scope it triggers included) and run, opening SQLite or PostgreSQL or starting a process
    fails, so `make test-fast` can never quietly depend on a store."""
    if item.get_closest_marker("store") is not None:
        yield
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise StoreInPureTest(f"{item.nodeid} opens a store or starts a process: mark it store")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", refuse)
        patch.setattr(psycopg.Connection, "connect", refuse)
        patch.setattr(subprocess.Popen, "__init__", refuse)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with no_store_for(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with no_store_for(item):
        return (yield)


@pytest.fixture(autouse=True)
def isolated_user_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the developer's own sessions, stores or config."""
    home = tmp_path / "brigada-home"
    monkeypatch.setenv("BRIGADA_HOME", str(home))
    monkeypatch.setenv("BRIGADA_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("BRIGADA_STORE", raising=False)
    monkeypatch.delenv("BRIGADA_DEBUG", raising=False)
    monkeypatch.setenv("BRIGADA_LANG", "en")
    return home


@pytest.fixture(autouse=True)
def quick_hashing_in_cli_runs() -> Iterator[None]:
    """Commands run in-process hash passwords cheaply too (stores opened by the tests themselves
    are given the quick hasher: the open_store fixture)."""
    with quick_hashing_in_the_cli():
        yield


@pytest.fixture
def session_files(isolated_user_state: Path) -> Callable[[], list[Path]]:
    """The session files written under $BRIGADA_HOME/sessions so far."""

    def _list() -> list[Path]:
        folder = isolated_user_state / "sessions"
        return sorted(folder.iterdir()) if folder.exists() else []

    return _list


# -- stores -------------------------------------------------------------------------------------
_postgres_problem: list[str] = []


def _postgres_reachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (checked once per run)."""
    if not _postgres_problem:
        try:
            with psycopg.connect(POSTGRES_SERVER, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _postgres_problem.append("")
        except psycopg.Error as error:
            _postgres_problem.append(str(error).strip().splitlines()[0])
    return _postgres_problem[0] or None


def require_postgres() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_SERVER} is unreachable: {problem}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: PostgreSQL tests must run, not skip)")
    pytest.skip(message)


def drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store location: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.db"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex}"
    try:
        yield f"{POSTGRES_SERVER}?schema={schema}"
    finally:
        drop_schema(schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.db"


@pytest.fixture
def count_events() -> Callable[..., int]:
    return stored_event_count


def stored_event_count(url: str, *topic_prefixes: str) -> int:
    """Rows in the events table, read with raw SQL (not through the application); with prefixes
    (``"brigada.Patient."``), only the events whose topic starts with one of them."""
    topics = stored_topics(url)
    if topic_prefixes:
        return sum(1 for topic in topics if topic.startswith(topic_prefixes))
    return len(topics)


def stored_topics(url: str) -> list[str]:
    location = StoreLocation.parse(url)
    if location.kind == "sqlite":
        assert location.path is not None
        if not location.path.exists():
            return []
        with sqlite3.connect(location.path) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'stored_events'")
            if found.fetchone() is None:
                return []
            return [row[0] for row in conn.execute("SELECT topic FROM stored_events")]
    with psycopg.connect(
        dbname=location.database, host=location.host, port=location.port, user=location.user
    ) as pg:
        table = pg.execute(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name = 'brigada_events'",
            (location.schema,),
        )
        if table.fetchone() is None:
            return []
        rows = pg.execute(f'SELECT topic FROM "{location.schema}".brigada_events')
        return [row[0] for row in rows]


# -- the application ----------------------------------------------------------------------------
@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def host() -> Host:
    return Host(computer="test-pc", ip_octet=7)


OpenStore = Callable[..., Brigada]


@pytest.fixture
def open_store(clock: FixedClock, host: Host) -> Iterator[OpenStore]:
    """Open (by default create) a store with the test clock and host, hashing passwords quickly;
    all are closed at the end."""
    opened: list[Brigada] = []

    def _open(url: str, *, create: bool = True) -> Brigada:
        brigada = open_brigada(url, create=create, clock=clock, host=host, hasher=QuickArgon2Hasher())
        opened.append(brigada)
        return brigada

    yield _open
    for brigada in reversed(opened):
        brigada.close()

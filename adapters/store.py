"""Opening a store from its URL: the event log (eventsourcing's recorders) and the SQL views
(SQLAlchemy Core) in the same database.

    sqlite:///relative/path.db     sqlite:////absolute/path.db
    postgresql://user[:password]@host[:port]/database[?schema=name]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

import sqlalchemy as sa
from eventsourcing.persistence import InterfaceError, OperationalError

from application.app import BrigadaApplication
from domain.errors import N_, DomainError

RECORDERS = "adapters.recorders"


class StoreUnreachable(DomainError):
    """The store cannot be opened (exit code 5)."""

    template = N_("cannot open the store {store}: {reason}")


SECRET_WORDS = ("pass", "pwd", "token", "secret", "key", "code")  # query names whose values are hidden


def redacted(url: str) -> str:
    """``url`` fit for a message or a log: a password in it, and the value of any query parameter
    named like a secret, shown as ***; what cannot be parsed keeps only its scheme."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url.split(":", 1)[0][:20] + ":***" if ":" in url else "***"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret = [any(word in name.lower() for word in SECRET_WORDS) for name, _value in pairs]
    if "@" in url and parts.username is None:  # credentials urlsplit did not make out
        head, _at, tail = url.rpartition("@")
        return (head.split("://", 1)[0] + "://" if "://" in head else "") + f"***@{tail}"
    if parts.password is None and not any(secret):
        return url
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{port}" if port else "")
    query = "&".join(
        f"{name}=***" if hidden else f"{name}={value}"
        for (name, value), hidden in zip(pairs, secret, strict=True)
    )
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


class UnsupportedStore(DomainError):
    template = N_("unsupported store URL {store}: use sqlite:///FILE or postgresql://USER@HOST/DB")


class StoreMissing(DomainError):
    template = N_("there is no store at {store}: create it with 'brigada init'")


@dataclass(frozen=True)
class StoreLocation:
    url: str
    kind: str  # "sqlite" | "postgresql"
    path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = ""
    schema: str = "public"

    @classmethod
    def parse(cls, url: str) -> StoreLocation:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0]
        if scheme == "sqlite":
            raw = url.split(":///", 1)[1] if ":///" in url else ""
            if not raw:
                raise UnsupportedStore(store=redacted(url))
            return cls(url=url, kind="sqlite", path=Path(unquote(raw)))
        if scheme in ("postgresql", "postgres"):
            query = parse_qs(parts.query)
            return cls(
                url=url,
                kind="postgresql",
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 5432,
                user=unquote(parts.username or "postgres"),
                password=unquote(parts.password or ""),
                database=parts.path.lstrip("/") or "postgres",
                schema=query.get("schema", ["public"])[0],
            )
        raise UnsupportedStore(store=redacted(url))

    def remove(self) -> None:
        """Delete an SQLite store that holds nothing (a refused ``init``)."""
        if self.kind == "sqlite" and self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def exists(self) -> bool:
        return self.kind != "sqlite" or (self.path is not None and self.path.exists())

    def event_store_env(self) -> dict[str, str]:
        prefix = BrigadaApplication.name.upper() + "_"
        common = {"CREATE_TABLE": "y"}
        if self.kind == "sqlite":
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.path),
                "SQLITE_LOCK_TIMEOUT": "10",
                "PROCESS_RECORDER_TOPIC": f"{RECORDERS}:AppendOnlySQLiteProcessRecorder",
            }
        else:
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": self.database,
                "POSTGRES_HOST": self.host,
                "POSTGRES_PORT": str(self.port),
                "POSTGRES_USER": self.user,
                "POSTGRES_PASSWORD": self.password,
                "POSTGRES_SCHEMA": self.schema,
                "POSTGRES_CONNECT_TIMEOUT": "5",
                "POSTGRES_POOL_SIZE": "2",
                "POSTGRES_ENABLE_DB_FUNCTIONS": "",  # the plpgsql insert can skip events (notes §6)
                "PROCESS_RECORDER_TOPIC": "adapters.postgres_recorder:AppendOnlyPostgresProcessRecorder",
            }
        env.update(common)
        # Prefixed keys win inside eventsourcing, so set both and ignore the caller's environment.
        return {**env, **{prefix + k: v for k, v in env.items()}}

    def sqlalchemy_engine(self) -> sa.Engine:
        if self.kind == "sqlite":
            engine = sa.create_engine(
                f"sqlite:///{self.path}", connect_args={"timeout": 10}, poolclass=sa.pool.NullPool
            )
            return engine
        url = sa.URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.database,
        )
        return sa.create_engine(
            url,
            connect_args={"options": f"-csearch_path={self.schema}", "connect_timeout": 5},
            pool_size=2,
        )

    def display(self) -> str:
        if self.kind == "sqlite":
            return str(self.path)
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}?schema={self.schema}"


SCHEMA_LOCK = 0x42524947  # "BRIG": the advisory lock under which a PostgreSQL store's tables are made


@contextmanager
def schema_lock(location: StoreLocation) -> Iterator[None]:
    """On PostgreSQL, one process at a time creates a store's tables, triggers and functions
    (`brigada serve --workers N` opens the store in each worker at once: CREATE ... IF NOT EXISTS
    and CREATE OR REPLACE TRIGGER race and deadlock otherwise). SQLite needs nothing."""
    if location.kind != "postgresql":
        yield
        return
    try:
        engine = location.sqlalchemy_engine()
        conn = engine.connect()
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
    except (sa.exc.OperationalError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StoreUnreachable(store=location.display(), reason=reason) from error
    try:
        yield
    finally:
        conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
        conn.close()
        engine.dispose()


def open_event_store(location: StoreLocation, *, create: bool) -> tuple[BrigadaApplication, sa.Engine]:
    """Open (or, with ``create``, make) a store's event log and its SQL engine."""
    if not create and not location.exists():
        raise StoreMissing(store=location.display())
    try:
        if location.kind == "sqlite":
            assert location.path is not None
            if create:
                location.path.parent.mkdir(parents=True, exist_ok=True)
        engine = location.sqlalchemy_engine()
        if location.kind == "postgresql":
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"'))
        app = BrigadaApplication(env=location.event_store_env())
    except (InterfaceError, OperationalError, sa.exc.OperationalError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StoreUnreachable(store=location.display(), reason=reason) from error
    if location.kind == "sqlite" and location.path is not None:
        os.chmod(location.path, 0o600)
    return app, engine

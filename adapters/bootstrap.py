"""Wiring: a store URL in, a ready Brigada out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from adapters.audit.audit_io import SqlChainReader, StoreBackups
from adapters.security.blocklist import CommonPasswords
from adapters.sql_views import SqlViewStorage
from adapters.store import StoreLocation, open_event_store, schema_lock
from adapters.sync.signing_keys import Ed25519Keys
from adapters.system import Argon2Hasher, Host, SystemClock, this_host
from application.brigada import Brigada
from application.context import Actor
from application.ports import Clock, PasswordHasher
from application.setup import SOFTWARE_VERSION
from domain.chain import SITE_SIGNING_KEY
from domain.errors import N_, DomainError, InvalidValue

if TYPE_CHECKING:  # httpx and the wire format load only for a sync, and sync's use cases with it
    from sqlalchemy import Engine

    from adapters.sync.client import HttpCentral
    from adapters.sync.store_io import StoreRebuilds
    from application.brigada import StoreLog
    from application.sync.laptop import SyncOutcome, SyncPlan, SyncProgress


def open_brigada(
    url: str,
    *,
    create: bool = False,
    clock: Clock | None = None,
    host: Host | None = None,
    hasher: PasswordHasher | None = None,
) -> Brigada:
    location = StoreLocation.parse(url)
    with schema_lock(location):  # processes opening one PostgreSQL store create its tables in turn
        app, engine = open_event_store(location, create=create)
        storage = SqlViewStorage(engine)
    brigada = Brigada(
        app=app,
        storage=storage,
        clock=clock or SystemClock(),
        host=host or this_host(),
        hasher=hasher or Argon2Hasher(),
        chain=SqlChainReader(location, engine),
        backups=StoreBackups(location),
        site_log=lambda: site_log(location, engine),
        blocklist=CommonPasswords(),
        signing_keys=Ed25519Keys(),
    )
    brigada.views.catch_up()
    return brigada


def site_log(location: StoreLocation, engine: Engine) -> StoreLog:
    """The store's log as sync reads it (made when a sync or a site's slice first reads it)."""
    from adapters.sync.store_io import SqlSiteLog

    return SqlSiteLog(location, engine)


class NotAddressed(DomainError):
    template = N_(
        "this laptop store holds no credential or no address of central: provision it from central "
        "('brigada site provision CODE --to URL --central-url https://... --central-cert FILE')"
    )


def central_for(laptop: Brigada, operator: str, url: str | None = None) -> HttpCentral:
    """Central as a provisioned laptop reaches it: `brigada serve` at the address recorded at
    provisioning (or ``url``, which must be https too), its certificate pinned, every request
    signed with the laptop's key."""
    from adapters.sync.client import HttpCentral

    identity = laptop.core.require_identity()
    private_key = laptop.app.keys.key(SITE_SIGNING_KEY, create=False)
    if identity.is_central or private_key is None or not identity.central_certificate:
        raise NotAddressed()
    address = url or identity.central_url
    if not address.lower().startswith("https://"):
        raise InvalidValue(
            "--central", N_("central's https:// address (brigada serve), never a database URL")
        )
    return HttpCentral(address, identity.central_certificate, identity.site_code, operator, private_key)


def laptop_stores(laptop: Brigada, url: str) -> StoreRebuilds:
    """Where a start-of-mission sync rebuilds the laptop's store at ``url`` and swaps it in."""
    from adapters.sync.store_io import StoreRebuilds

    return StoreRebuilds(laptop, url, lambda fresh_url, create: open_brigada(fresh_url, create=create))


@contextmanager
def reaching_central(laptop: Brigada, operator: str, url: str | None = None) -> Iterator[HttpCentral]:
    """Central as ``central_for`` reaches it, its connection closed when the caller is done."""
    central = central_for(laptop, operator, url)
    try:
        yield central
    finally:
        central.close()


def preflight_sync(laptop: Brigada, actor: Actor, central_url: str | None = None) -> SyncPlan:
    """What a sync of this laptop would move (`brigada sync --dry-run`): nothing written."""
    with reaching_central(laptop, actor.username, central_url) as central:
        return laptop.sync.preflight(actor, central)[0]


def sync_laptop(
    laptop: Brigada, url: str, actor: Actor, progress: SyncProgress, central_url: str | None = None
) -> SyncOutcome:
    """`brigada sync` for the laptop store at ``url``: over HTTPS to `brigada serve`, the store
    rebuilt from central and swapped in when the crossing asks for it (``outcome.laptop``)."""
    with reaching_central(laptop, actor.username, central_url) as central:
        return laptop.sync.run(actor, central, laptop_stores(laptop, url), progress)


def require_serving_store(url: str) -> None:
    """The store `brigada serve` may serve: central's, at this software's version. Opened and
    closed here, so the refusal comes before any worker starts (a worker would refuse later)."""
    central = open_brigada(url)
    try:
        identity = central.core.require_identity()
        if not identity.is_central:
            raise InvalidValue("--store", N_("brigada serve runs on central's store"))
        # Laptops sync only with the same version, each store brought to it: so central's too.
        identity.require_current(SOFTWARE_VERSION)
    finally:
        central.close()


def serve_sync(
    url: str,
    *,
    address: str,
    port: int,
    tls_cert: str | None,
    tls_key: str | None,
    proxy_headers: bool,
    workers: int,
) -> None:
    """Central's sync service under uvicorn until it is stopped; each worker process opens the
    store at ``url`` (adapters/sync/server.py reads it from the environment)."""
    import uvicorn

    from adapters.sync.server import STORE_VARIABLE  # the server opens stores through this module

    os.environ[STORE_VARIABLE] = url
    uvicorn.run(
        "adapters.sync.server:app_from_environment",
        factory=True,
        host=address,
        port=port,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="*" if proxy_headers else None,
        workers=workers,
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=30,
    )

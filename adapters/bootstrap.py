"""Wiring: a store URL in, a ready Brigada out."""

from __future__ import annotations

from adapters.audit.audit_io import SqlChainReader, StoreBackups
from adapters.security.blocklist import CommonPasswords
from adapters.sql_views import SqlViewStorage
from adapters.store import StoreLocation, open_event_store, schema_lock
from adapters.sync.client import HttpCentral
from adapters.sync.site_credentials import Ed25519Keys
from adapters.sync.store_io import SqlSiteLog
from adapters.system import Argon2Hasher, Host, SystemClock, this_host
from application.brigada import Brigada
from application.ports import Clock
from domain.chain import SITE_SIGNING_KEY
from domain.errors import N_, DomainError, InvalidValue


def open_brigada(
    url: str, *, create: bool = False, clock: Clock | None = None, host: Host | None = None
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
        hasher=Argon2Hasher(),
        chain=SqlChainReader(location, engine),
        backups=StoreBackups(location),
        site_log=SqlSiteLog(location, engine),
        blocklist=CommonPasswords(),
        signing_keys=Ed25519Keys(),
    )
    brigada.views.catch_up()
    return brigada


class NotAddressed(DomainError):
    template = N_(
        "this laptop store holds no credential or no address of central: provision it from central "
        "('brigada site provision CODE --to URL --central-url https://... --central-cert FILE')"
    )


def central_for(laptop: Brigada, operator: str, url: str | None = None) -> HttpCentral:
    """Central as a provisioned laptop reaches it: `brigada serve` at the address recorded at
    provisioning (or ``url``, which must be https too), its certificate pinned, every request
    signed with the laptop's key."""
    identity = laptop.core.require_identity()
    private_key = laptop.app.recorder.key(SITE_SIGNING_KEY, create=False)
    if identity.is_central or private_key is None or not identity.central_certificate:
        raise NotAddressed()
    address = url or identity.central_url
    if not address.lower().startswith("https://"):
        raise InvalidValue(
            "--central", N_("central's https:// address (brigada serve), never a database URL")
        )
    return HttpCentral(address, identity.central_certificate, identity.site_code, operator, private_key)

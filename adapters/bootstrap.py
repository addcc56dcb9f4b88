"""Wiring: a store URL in, a ready Brigada out."""

from __future__ import annotations

from adapters.audit_io import SqlChainReader, StoreBackups
from adapters.blocklist import CommonPasswords
from adapters.sql_views import SqlViewStorage
from adapters.store import StoreLocation, open_event_store
from adapters.sync_io import SqlSiteLog
from adapters.system import Argon2Hasher, Host, SystemClock, this_host
from application.brigada import Brigada
from application.ports import Clock


def open_brigada(
    url: str, *, create: bool = False, clock: Clock | None = None, host: Host | None = None
) -> Brigada:
    location = StoreLocation.parse(url)
    app, engine = open_event_store(location, create=create)
    brigada = Brigada(
        app=app,
        storage=SqlViewStorage(engine),
        clock=clock or SystemClock(),
        host=host or this_host(),
        hasher=Argon2Hasher(),
        chain=SqlChainReader(location, engine),
        backups=StoreBackups(location),
        site_log=SqlSiteLog(location, engine),
        blocklist=CommonPasswords(),
    )
    brigada.views.catch_up()
    return brigada

"""Sites tests' stores and patients: a central store, a coordinator, raw reads of the events."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any
from uuid import UUID

from adapters.store import StoreLocation
from application.brigada import Brigada
from application.context import Actor
from domain.sites.site import SiteMode
from projections.sites.sites import SiteRow
from tests.support.security import ADMIN_PASSWORD, ANA_PASSWORD, log_in

OpenStore = Callable[..., Brigada]  # the open_store fixture
Count = Callable[..., int]  # the count_events fixture: (url, *topic prefixes) -> stored events

# Menu options a field coordinator works with; granted on central, copied to the laptop.
ANA_OPTIONS = ["patient", "passwd", "site.mode", "site.show", "site.list"]
ANA_SECTIONS = ["visit", "history"]

JOSE: dict[str, Any] = {
    "document_type": "CC",
    "document_number": "1032456789",
    "first_name": "José",
    "first_surname": "Peña",
    "birth_date": "1980-05-02",
    "sex": "M",
    "municipality": "05001",
    "zone": "02",
    "coverage_status": "04",
}
MARIA: dict[str, Any] = {
    "document_type": "TI",
    "document_number": "1011223344",
    "first_name": "María",
    "first_surname": "Muñoz",
    "birth_date": "2012-02-14",
    "sex": "F",
    "municipality": "52835",
    "zone": "01",
    "coverage_status": "01",
}
PEDRO: dict[str, Any] = {
    "document_type": "CC",
    "document_number": "98765432",
    "first_name": "Pedro",
    "first_surname": "Ríos",
    "birth_date": "1975-11-30",
    "sex": "M",
    "municipality": "27001",
    "zone": "01",
    "coverage_status": "02",
}


def start_central(open_store: OpenStore, url: str) -> tuple[Brigada, Actor]:
    """A fresh central store at ``url`` and its administrator, logged in."""
    central = open_store(url)
    central.setup.initialize("central", "CEN", "admin", "Administrador", ADMIN_PASSWORD)
    return central, log_in(central, "admin", ADMIN_PASSWORD)


def add_coordinator(central: Brigada, admin: Actor, username: str = "ana") -> None:
    """A non-administrator with a few menu options and visit sections."""
    central.users.create(admin, {"username": username, "full_name": username.title()}, ANA_PASSWORD)
    central.users.change_access(admin, username, grant=ANA_OPTIONS, revoke=[])
    central.users.change_sections(admin, username, ANA_SECTIONS, [])


def aggregate_ids(sqlite_url: str) -> set[UUID]:
    """Every aggregate with an event in an SQLite store, read with raw SQL."""
    location = StoreLocation.parse(sqlite_url)
    assert location.kind == "sqlite" and location.path is not None
    with sqlite3.connect(location.path) as conn:
        return {UUID(row[0]) for row in conn.execute("SELECT DISTINCT originator_id FROM stored_events")}


def stored_events(brigada: Brigada, aggregate_id: UUID) -> list[tuple[int, str, bytes]]:
    """An aggregate's stored events as (version, topic, state bytes), as the recorder holds them."""
    return [
        (e.originator_version, e.topic, bytes(e.state))
        for e in brigada.app.recorder.select_events(aggregate_id)
    ]


BY_HAND = "la misión terminó sin sincronizar"  # why the test sets the mode itself


def set_site_mode(brigada: Brigada, actor: Actor, code: str, mode: SiteMode) -> None:
    """What a test does instead of the sync that would flip a site's mode: the administrator's
    `brigada site mode` on central, forced with a reason when it takes the lease back from the
    site's laptop (a real operator's way when no end-of-mission sync comes)."""
    back = mode is SiteMode.ON_SITE
    brigada.sites.change_mode(actor, code, mode, force=back, reason=BY_HAND if back else "")


def site_row(brigada: Brigada, code: str) -> SiteRow:
    """The site's row in the store's sites view, which the test expects there."""
    row = brigada.sites.sites.by_code(code)
    assert row is not None, f"no site {code} in the view"
    return row

"""A central store and BRG01's laptop, provisioned (INS), synchronized through the application
with the direct transport, as `brigada sync` does; a first sync (on mission), a finalized visit,
and the context event ids each side recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.store import StoreLocation
from adapters.sync.store_io import StoreRebuilds
from application.brigada import Brigada
from application.context import Actor
from application.sync.central import DirectCentral
from application.sync.laptop import SyncOutcome
from domain.base import context_of
from domain.sites.site import SiteMode
from domain.store_identity import STORE_IDENTITY_ID
from projections.sync.sync import SyncRunRow
from projections.sync.sync_refusals import SyncRefusalRow
from tests.support.inventory import CENTRAL_WAREHOUSE, FIELD, NURSE, NURSE_PASSWORD, stocked_central, transfer
from tests.support.security import log_in
from tests.support.sites import JOSE

OpenStore = Callable[..., Brigada]


@dataclass
class Field:
    """Central (stocked, BRG01's field warehouse stocked) and BRG01's laptop, provisioned."""

    central: Brigada
    admin: Actor
    laptop: Brigada
    laptop_url: str
    open_store: OpenStore
    # How the laptop reaches central: the direct transport (the sync logic's test double), or
    # `brigada serve` over HTTPS (tests/sync/serve_support.served_field).
    transport: Callable[[str], Any] | None = None
    server: Any = None  # the `brigada serve` process, when there is one

    def nurse(self) -> Actor:
        return log_in(self.laptop, NURSE, NURSE_PASSWORD)

    def direct(self, operator: str = NURSE) -> DirectCentral:
        return DirectCentral(self.central.sync_central, operator)

    def stores(self) -> StoreRebuilds:
        return StoreRebuilds(
            self.laptop, self.laptop_url, lambda url, create: self.open_store(url, create=create)
        )

    def sync(self, actor: Actor | None = None) -> SyncOutcome:
        actor = actor or self.nurse()
        central = self.transport(actor.username) if self.transport else self.direct(actor.username)
        try:
            outcome = self.laptop.sync.run(actor, central, self.stores())
        finally:
            getattr(central, "close", lambda: None)()
        if outcome.laptop is not None:
            self.laptop = outcome.laptop
        return outcome


def provisioned_field(
    open_store: OpenStore,
    central_url: str,
    tmp_path: Path,
    name: str = "brg01",
    address: tuple[str, str] = ("", ""),
) -> Field:
    """``address``: central's https URL and certificate, recorded on the laptop (for a laptop
    that syncs through `brigada serve`)."""
    central, admin = stocked_central(open_store, central_url)
    central.patients.register(admin, JOSE)
    for item, lot, quantity in (("19943528-1", "A1", 30), ("19943528-1", "B2", 50)):
        transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, item, lot, quantity)
    laptop_url = f"sqlite:///{tmp_path}/{name}.db"
    laptop = open_store(laptop_url)
    url, certificate = address
    central.sites.provision(
        admin, "BRG01", laptop, f"{name}.db", central_url=url, central_certificate=certificate
    )
    return Field(central, admin, laptop, laptop_url, open_store)


def on_mission(field: Field) -> Field:
    outcome = field.sync()
    assert outcome.plan.new_mode is SiteMode.ON_MISSION
    return field


def finalized_visit(field: Field, chart: str = "CEN-1") -> str:
    nurse = field.nurse()
    number = field.laptop.encounters.open(nurse, {"chart_number": chart, "kind": "outpatient"}).number
    field.laptop.encounters.set_diagnosis(nurse, number, {"code": "I10X"})
    field.laptop.encounters.finalize(nurse, number)
    return number


def site_event_ids(field: Field) -> list[str]:
    """Context event ids of what the laptop recorded at its site (its identity stays home)."""
    app = field.laptop.app
    head = app.recorder.max_notification_id() or 0
    ids = []
    for notification in app.recorder.select_notifications(start=1, limit=head + 1):
        context = context_of(app.mapper.to_domain_event(notification))
        if context.site == "BRG01" and notification.originator_id != STORE_IDENTITY_ID:
            ids.append(context.event_id.hex)
    return ids


def central_event_ids(field: Field) -> list[str]:
    app = field.central.app
    head = app.recorder.max_notification_id() or 0
    return [
        context_of(app.mapper.to_domain_event(n)).event_id.hex
        for n in app.recorder.select_notifications(start=1, limit=head + 1)
    ]


def log_generation(brigada: Brigada) -> str:
    """The provisioned store's log generation (a store not provisioned yet has none)."""
    generation = brigada.core.require_identity().generation
    assert generation is not None, "the store is not provisioned"
    return generation


def runs_only(history: Sequence[SyncRunRow | SyncRefusalRow]) -> list[SyncRunRow]:
    """A sync history the test expects to hold runs only, none refused."""
    runs = [row for row in history if isinstance(row, SyncRunRow)]
    assert len(runs) == len(history), history
    return runs


def sqlite_file(url: str) -> Path:
    """The file of an SQLite store's URL."""
    path = StoreLocation.parse(url).path
    assert path is not None, f"{url} is not an SQLite store"
    return path

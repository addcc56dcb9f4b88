"""A central store and BRG01's laptop, provisioned (INS), synchronized through the application
with the direct transport, as `brigada sync` does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inventory_support import (
    CENTRAL_WAREHOUSE,
    FIELD,
    JOSE,
    NURSE,
    NURSE_PASSWORD,
    stocked_central,
    transfer,
)
from security_support import log_in

from adapters.sync.store_io import StoreRebuilds
from application.brigada import Brigada
from application.context import Actor
from application.sync.central import DirectCentral
from application.sync.laptop import SyncOutcome

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

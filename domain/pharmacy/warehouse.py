"""Warehouses ("bodegas"): ordinary ones on central, and field warehouses ("bodegas
desconectadas"), each belonging to one disconnected site and listed on that site's record.

Seed 000 decides where stock may move: entries (purchases) go into ordinary warehouses on central
only; a field warehouse receives stock by transfer only; on a laptop, stock moves only in the
site's own field warehouses. The stock itself is held by StockLot (domain/pharmacy/stock_lot.py).
"""

from __future__ import annotations

from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError
from domain.sites.site import SiteAction
from domain.sites.site_policy import Forbidden, Operation, OperationRefused, label


class WarehouseKind(Enum):
    ORDINARY = "ordinary"
    FIELD = "field"  # bodega desconectada: belongs to a disconnected site


WAREHOUSE_ENUMS: tuple[type[Enum], ...] = (WarehouseKind,)

CENTRAL_ONLY_TRANSFERS_RULE = N_(
    "Central may only transfer medicines and supplies to and from {warehouse}, a field warehouse "
    "of site {site} (not: {operation})"
)
NOT_A_FIELD_WAREHOUSE_RULE = N_(
    "A disconnected environment may never do this: {operation} "
    "({warehouse} is not a field warehouse of site {site})"
)


class FieldWarehouseEntry(DomainError):
    template = N_(
        "{warehouse} is a field warehouse of site {site}: "
        "it receives stock by transfer only, never by an entry"
    )


class WarehouseExists(DomainError):
    template = N_("warehouse {warehouse} already exists")


class NotListedOnSite(DomainError):
    template = N_(
        "site {site} does not list field warehouse {warehouse}: add it with 'brigada site warehouse'"
    )


class Warehouse(BrigadaAggregate):
    TOPIC = "brigada.Warehouse"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Warehouse.Event"

    class Created(BrigadaAggregate.Created):
        TOPIC = "brigada.Warehouse.Created"
        code: str
        name: str
        kind: WarehouseKind
        site: str | None

    @staticmethod
    def create_id(code: str) -> UUID:
        return warehouse_id(code)

    @event(Created)
    def __init__(self, code: str, name: str, kind: WarehouseKind, site: str | None) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.site = site

    @classmethod
    def create(cls, code: str, name: str, site: str | None, site_warehouses: list[str] | None) -> Warehouse:
        """A field warehouse when ``site`` is given; it must be listed on that site's record
        (``site_warehouses``), which is what marks it disconnected."""
        if site is None:
            return cls(code=code, name=name, kind=WarehouseKind.ORDINARY, site=None)
        if site_warehouses is None or code not in site_warehouses:
            raise NotListedOnSite(site=site, warehouse=code)
        return cls(code=code, name=name, kind=WarehouseKind.FIELD, site=site)

    @property
    def is_field(self) -> bool:
        return self.kind is WarehouseKind.FIELD

    @property
    def entry_operation(self) -> Forbidden:
        """The sites-policy rule an entry falls under on a laptop (where it is always refused)."""
        return Forbidden.FIELD_WAREHOUSE_ENTRIES if self.is_field else Forbidden.CONNECTED_WAREHOUSE_MOVEMENTS

    def require_entry(self) -> None:
        """Purchases go into ordinary warehouses only."""
        if self.is_field:
            raise FieldWarehouseEntry(warehouse=self.code, site=self.site)

    def require_movable_on(
        self, on_central: bool, site: str, operation: Operation = SiteAction.FIELD_TRANSFERS
    ) -> None:
        """On a laptop stock moves only in that site's own field warehouses; central only
        transfers to and from a field warehouse (seed 000, mode INS), it never dispenses or takes
        returns there."""
        if on_central and self.is_field and operation is not SiteAction.FIELD_TRANSFERS:
            raise OperationRefused(
                CENTRAL_ONLY_TRANSFERS_RULE, warehouse=self.code, site=self.site, operation=label(operation)
            )
        if on_central or (self.is_field and self.site == site):
            return
        raise OperationRefused(
            NOT_A_FIELD_WAREHOUSE_RULE,
            operation=label(Forbidden.CONNECTED_WAREHOUSE_MOVEMENTS),
            warehouse=self.code,
            site=site,
        )


def warehouse_id(code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:warehouse:{code.strip().upper()}")

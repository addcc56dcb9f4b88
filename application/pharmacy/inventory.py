"""Warehouses and stock (seed 000, notes/colombia-domain.md §6): creating warehouses, entries
(purchases) into ordinary warehouses on central, transfers by lot, and the stock and kardex views.

Where stock may move is the sites policy's and the warehouse's to say: on central, a field
warehouse's stock moves only while its site is on site (INS); on a laptop, only in the site's own
field warehouses and only on mission (MSN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BeforeValidator, Field

from application.context import Actor
from application.core import Core
from application.pharmacy.catalog import Catalog
from application.security.access import Access
from application.sites.operations import WAREHOUSE_HINT, Operations, SiteNotFound
from application.validation import Command, parse
from domain.errors import N_, NotFound
from domain.numbering import NumberSeries, series_id
from domain.pharmacy.stock_lot import StockLot, StockSource, lot_id
from domain.pharmacy.stock_lot import transfer as transfer_lot
from domain.pharmacy.warehouse import Warehouse, WarehouseExists, warehouse_id
from domain.sites.site import Site, SiteAction, site_id
from domain.sites.site_policy import Always, Forbidden, Operation
from projections.pharmacy.kardex import KardexLine, KardexQueries
from projections.pharmacy.stock import StockQueries
from projections.pharmacy.warehouses import WarehouseQueries, WarehouseRow

TRANSFER_SERIES = "TRA"
LOT_HINT = N_("1 to 30 letters, digits, dots, slashes or dashes")


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


WarehouseCode = Annotated[
    str, BeforeValidator(_upper), Field(pattern=r"^[A-Z0-9-]{2,20}$", description=WAREHOUSE_HINT)
]
ItemCode = Annotated[str, BeforeValidator(_upper), Field(min_length=2, max_length=20)]
LotCode = Annotated[
    str, BeforeValidator(_upper), Field(pattern=r"^[A-Z0-9][A-Z0-9./-]{0,29}$", description=LOT_HINT)
]
Quantity = Annotated[int, Field(ge=1, le=1_000_000)]


class WarehouseNotFound(NotFound):
    template = N_("no warehouse with code {warehouse}")


class LotNotFound(NotFound):
    template = N_("{warehouse} has no lot {lot} of {item}")


class NewWarehouse(Command):
    code: WarehouseCode
    name: str = Field(min_length=1, max_length=120)
    site: Annotated[str | None, BeforeValidator(_upper)] = Field(
        None, pattern=r"^[A-Z0-9]{2,10}$", description=N_("2 to 10 capital letters or digits")
    )


class Receipt(Command):
    warehouse: WarehouseCode
    item: ItemCode
    lot: LotCode
    expiry: date
    quantity: Quantity
    reference: str = Field("", max_length=40, pattern=r"^[^\x00-\x1f]*$", description=N_("text on one line"))


class Transfer(Command):
    source: WarehouseCode
    target: WarehouseCode
    item: ItemCode
    lot: LotCode
    quantity: Quantity


@dataclass(frozen=True)
class StockLine:
    warehouse: str
    item: str
    name: str
    lot: str
    expiry: date
    expired: bool
    on_hand: int


class Inventory:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        catalog: Catalog,
        warehouses: WarehouseQueries,
        stock: StockQueries,
        kardex: KardexQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.catalog = catalog
        self.warehouses = warehouses
        self.stock_rows = stock
        self.kardex_rows = kardex

    # -- shared with the pharmacy ---------------------------------------------------------------
    def warehouse(self, code: str) -> Warehouse:
        found = self.core.get(Warehouse, warehouse_id(code))
        if found is None:
            raise WarehouseNotFound(warehouse=code.strip().upper())
        return found

    def lot(self, warehouse: str, item: str, lot: str) -> StockLot:
        found = self.core.get(StockLot, lot_id(warehouse, item, lot))
        if found is None:
            raise LotNotFound(warehouse=warehouse, lot=lot, item=item)
        return found

    def lots_of(self, warehouse: str, item: str) -> list[StockLot]:
        """The item's lots in the warehouse that hold stock, loaded (the view only lists them)."""
        return [
            self.lot(warehouse, item, row.lot)
            for row in self.stock_rows.lots(warehouse, item, with_stock=True)
        ]

    def require_movable(self, actor: Actor, operation: Operation, *warehouses: Warehouse) -> None:
        """Stock may move in these warehouses here and now: on a laptop each must be one of the
        site's field warehouses; then the sites policy decides (central: each field warehouse's
        site must be on site)."""
        identity = self.core.require_identity()
        for warehouse in warehouses:
            warehouse.require_movable_on(identity.is_central, identity.site_code, operation)
        owners: Sequence[str | None] = sorted({w.site for w in warehouses if w.is_field and w.site})
        for owner in owners or [None]:
            self.operations.require(actor, operation, owner_site=owner)

    # -- warehouses -----------------------------------------------------------------------------
    def create_warehouse(self, actor: Actor, data: dict[str, Any]) -> WarehouseRow:
        """Create a warehouse on central; with a site, a field warehouse of that site (listed on
        the site's record: an administrator's create adds it there when it is not yet)."""
        self.access.require(actor, "warehouse.create")
        cmd = parse(NewWarehouse, data)
        self.operations.require(actor, Forbidden.CONFIGURATION)
        if self.core.get(Warehouse, warehouse_id(cmd.code)) is not None:
            raise WarehouseExists(warehouse=cmd.code)
        site = self._site(actor, cmd.site, cmd.code) if cmd.site else None
        with self.core.acting_as(actor.username):
            if site is not None and cmd.code not in site.warehouses:
                site.add_warehouse(cmd.code)
            warehouse = Warehouse.create(cmd.code, cmd.name, cmd.site, site.warehouses if site else None)
            self.core.save(*(a for a in (site, warehouse) if a is not None))
        return self._row(cmd.code)

    def _site(self, actor: Actor, code: str, warehouse: str) -> Site:
        site = self.core.get(Site, site_id(code))
        if site is None:
            raise SiteNotFound(site=code)
        if warehouse not in site.warehouses:  # listing it on the site is site administration
            self.access.require_admin(actor, N_("administer sites"))
            self.access.require(actor, "site.warehouse")
        return site

    def _row(self, code: str) -> WarehouseRow:
        found = [row for row in self.warehouses.all() if row.code == code]
        if not found:
            raise WarehouseNotFound(warehouse=code)
        return found[0]

    def list_warehouses(self, actor: Actor) -> list[WarehouseRow]:
        self.access.require(actor, "warehouse.list")
        self.operations.require(actor, Always.READ)
        return self.warehouses.all()

    # -- movements ------------------------------------------------------------------------------
    def receive(self, actor: Actor, data: dict[str, Any]) -> StockLine:
        """An entry (purchase) of a lot into an ordinary warehouse, on central only."""
        self.access.require(actor, "inventory.receive")
        cmd = parse(Receipt, data)
        warehouse = self.warehouse(cmd.warehouse)
        self.operations.require(actor, warehouse.entry_operation)
        warehouse.require_entry()
        item = self.catalog.item(cmd.item)
        with self.core.acting_as(actor.username):
            lot = self.core.get(StockLot, lot_id(warehouse.code, item.code, cmd.lot))
            if lot is None:
                lot = StockLot(warehouse=warehouse.code, item=item.code, lot=cmd.lot, expiry=cmd.expiry)
            lot.require_expiry(cmd.expiry)
            lot.receive(cmd.quantity, StockSource.PURCHASE, cmd.reference)
            self.core.save(lot)
        return self._line(lot, item.name)

    def transfer(self, actor: Actor, data: dict[str, Any]) -> tuple[str, StockLine, StockLine]:
        """Move units of one lot between warehouses: sent and received in one save. Returns the
        transfer's number and both lots after it."""
        self.access.require(actor, "inventory.transfer")
        cmd = parse(Transfer, data)
        source, target = self.warehouse(cmd.source), self.warehouse(cmd.target)
        self.require_movable(actor, SiteAction.FIELD_TRANSFERS, source, target)
        item = self.catalog.item(cmd.item)
        sent_from = self.lot(source.code, item.code, cmd.lot)
        today, site = self.core.effective_today(), self.core.require_identity().site_code
        with self.core.acting_as(actor.username):
            into = self.core.get(StockLot, lot_id(target.code, item.code, cmd.lot))
            into = into or StockLot(
                warehouse=target.code, item=item.code, lot=cmd.lot, expiry=sent_from.expiry
            )
            into.require_expiry(sent_from.expiry)
            series = self.core.get(NumberSeries, series_id(site, TRANSFER_SERIES))
            series = series or NumberSeries(site=site, series=TRANSFER_SERIES)
            number = series.take()
            transfer_lot(sent_from, into, cmd.quantity, f"{TRANSFER_SERIES} {number}", today, target.is_field)
            self.core.save(series, sent_from, into)
        return number, self._line(sent_from, item.name), self._line(into, item.name)

    # -- reading --------------------------------------------------------------------------------
    def stock(self, actor: Actor, warehouse: str | None = None, item: str | None = None) -> list[StockLine]:
        """Stock by lot and expiry (lots with nothing on hand left out)."""
        self.access.require(actor, "inventory.stock")
        self.operations.require(actor, Always.READ)
        names, today = self.catalog.queries.names(), self.core.effective_today()
        rows = self.stock_rows.lots(_upper(warehouse), _upper(item), with_stock=True)
        return [
            StockLine(
                r.warehouse, r.item, names.get(r.item, ""), r.lot, r.expiry, r.expiry < today, r.on_hand
            )
            for r in rows
        ]

    def kardex(self, actor: Actor, item: str, warehouse: str | None = None) -> list[KardexLine]:
        """Every movement of an item with the running balance of its warehouse."""
        self.access.require(actor, "inventory.kardex")
        self.operations.require(actor, Always.READ)
        return self.kardex_rows.kardex(_upper(item), _upper(warehouse))

    def _line(self, lot: StockLot, name: str) -> StockLine:
        today = self.core.effective_today()
        return StockLine(lot.warehouse, lot.item, name, lot.lot, lot.expiry, lot.expired(today), lot.on_hand)

    def slice_ids(self, site: str) -> list[UUID]:
        """What a laptop receives: every warehouse's record (so a movement in one that is not the
        site's is refused by its rule, not as unknown) and every lot of its field warehouses, with
        its history."""
        own = [row.code for row in self.warehouses.of_site(site)]
        lots = [UUID(row.lot_id) for row in self.stock_rows.in_warehouses(own)]
        return [UUID(row.warehouse_id) for row in self.warehouses.all()] + lots

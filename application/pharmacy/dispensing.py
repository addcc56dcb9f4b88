"""The medication chain (seed 000): requests of medicines and supplies for patients in ambulatory
hospitalization, pharmacy dispensing against a request or a prescription (FEFO), nursing
administration, and returns of what was not applied, back to the lot it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field

from application.context import Actor
from application.core import Core
from application.pharmacy.catalog import Catalog
from application.pharmacy.inventory import Inventory, ItemCode, LotCode, Quantity, WarehouseCode
from application.pharmacy.orders import Orders
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.errors import N_
from domain.pharmacy import dispensing as pharmacy
from domain.pharmacy import prescription, supply_request
from domain.pharmacy.clinical_order import order_id
from domain.pharmacy.dispensing import MedicationOrder
from domain.pharmacy.prescription import Prescription
from domain.pharmacy.stock_lot import fefo_plan
from domain.pharmacy.supply_request import SupplyRequest
from domain.pharmacy.warehouse import Warehouse
from domain.sites.site import SiteAction
from domain.sites.site_policy import Always
from projections.pharmacy.orders import PRESCRIPTION, REQUEST, OrderRow

ORDER_TYPES: dict[str, tuple[type, str]] = {
    REQUEST: (SupplyRequest, supply_request.SERIES),
    PRESCRIPTION: (Prescription, prescription.SERIES),
}


class RequestLine(Command):
    item: ItemCode
    quantity: Quantity


class NewRequest(Command):
    lines: list[RequestLine] = Field(min_length=1, max_length=supply_request.MAX_LINES)


class Dispensing(Command):
    item: ItemCode
    quantity: Quantity | None = None  # default: all that is left to dispense
    warehouse: WarehouseCode | None = None
    lot: LotCode | None = None


class ItemQuantity(Command):
    item: ItemCode
    quantity: Quantity
    lot: LotCode | None = None


@dataclass(frozen=True)
class LotMovement:
    warehouse: str
    lot: str
    expiry: date
    quantity: int


@dataclass(frozen=True)
class ItemStatus:
    item: str
    requested: int
    dispensed: int
    administered: int
    returned: int
    pending: int  # left to dispense
    in_hand: int  # dispensed, neither administered nor returned


@dataclass(frozen=True)
class ChainResult:
    """What a dispensing, administration or return did, and where the item stands after it."""

    number: str
    movements: list[LotMovement]
    status: ItemStatus


def item_status(order: MedicationOrder, item: str) -> ItemStatus:
    ledger = order.ledger
    totals = {what: ledger.total(item, what) for what in ("dispensed", "administered", "returned")}
    in_hand = totals["dispensed"] - totals["administered"] - totals["returned"]
    return ItemStatus(
        item, ledger.requested.get(item, 0), **totals, pending=ledger.pending(item), in_hand=in_hand
    )


class Pharmacy:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        catalog: Catalog,
        inventory: Inventory,
        orders: Orders,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.catalog = catalog
        self.inventory = inventory
        self.orders = orders

    def _order(self, kind: str, number: str) -> tuple[Any, OrderRow]:
        row = self.orders.row(kind, number)
        aggregate_type, series = ORDER_TYPES[kind]
        return self.core.get(aggregate_type, order_id(series, row.number)), row

    def request(self, actor: Actor, visit_number: str, data: dict[str, Any]) -> OrderRow:
        """Request medicines and supplies for the patient of an ambulatory-hospitalization visit."""
        _encounter, visit = self.orders.visit(
            actor,
            "pharmacy.request",
            visit_number,
            SiteAction.SUPPLY_REQUESTS,
            N_("requesting medicines and supplies"),
            ambulatory_only=True,
        )
        cmd = parse(NewRequest, data)
        lines = [(self.catalog.item(line.item), line.quantity) for line in cmd.lines]
        with self.core.acting_as(actor.username):
            numbers, number = self.orders.next_number(supply_request.SERIES)
            self.core.save(numbers, SupplyRequest.request(number, visit, lines, actor.username))
        return self.orders.row(REQUEST, number)

    def dispense(self, actor: Actor, kind: str, number: str, data: dict[str, Any]) -> ChainResult:
        """Dispense an item of a request or prescription: from the lot named, or FEFO (earliest
        expiry first, expired lots never) from the warehouse."""
        self.access.require(actor, "pharmacy.dispense")
        cmd = parse(Dispensing, data)
        order, row = self._order(kind, number)
        item = self.catalog.item(cmd.item)
        warehouse = self._warehouse(cmd.warehouse, item.code)
        self.inventory.require_movable(actor, SiteAction.DISPENSING, warehouse)
        self.operations.require(actor, SiteAction.DISPENSING, owner_site=row.site)
        order.ledger.require_item(item.code)
        quantity = pharmacy.default_quantity(order.ledger, item.code, cmd.quantity)
        today = self.core.effective_today()
        if cmd.lot:
            plan = [(self.inventory.lot(warehouse.code, item.code, cmd.lot), quantity)]
        else:
            plan = fefo_plan(
                warehouse.code, item.code, self.inventory.lots_of(warehouse.code, item.code), quantity, today
            )
        with self.core.acting_as(actor.username):
            pharmacy.dispense(order, plan, today)
            self.core.save(order, *(lot for lot, _quantity in plan))
        movements = [LotMovement(lot.warehouse, lot.lot, lot.expiry, q) for lot, q in plan]
        return ChainResult(order.number, movements, item_status(order, item.code))

    def administer(self, actor: Actor, number: str, data: dict[str, Any]) -> ChainResult:
        """Nursing applies what was dispensed for a request (never more, never an expired lot)."""
        self.access.require(actor, "pharmacy.administer")
        cmd = parse(ItemQuantity, data)
        order, row = self._order(REQUEST, number)
        self.operations.require(actor, SiteAction.NURSING_ADMINISTRATION, owner_site=row.site)
        item = self.catalog.item(cmd.item)
        tally = order.ledger.in_hand(item.code, cmd.lot)
        lot = self.inventory.lot(tally.warehouse, item.code, tally.lot)
        with self.core.acting_as(actor.username):
            order.administer(tally, cmd.quantity, lot.expiry, self.core.effective_today())
            self.core.save(order)
        movement = LotMovement(tally.warehouse, tally.lot, lot.expiry, cmd.quantity)
        return ChainResult(order.number, [movement], item_status(order, item.code))

    def return_unused(self, actor: Actor, kind: str, number: str, data: dict[str, Any]) -> ChainResult:
        """Return what was dispensed and not applied to the lot it came from."""
        self.access.require(actor, "pharmacy.return")
        cmd = parse(ItemQuantity, data)
        order, row = self._order(kind, number)
        self.operations.require(actor, SiteAction.RETURNS, owner_site=row.site)
        item = self.catalog.item(cmd.item)
        tally = order.ledger.in_hand(item.code, cmd.lot)
        self.inventory.require_movable(actor, SiteAction.RETURNS, self.inventory.warehouse(tally.warehouse))
        lot = self.inventory.lot(tally.warehouse, item.code, tally.lot)
        with self.core.acting_as(actor.username):
            pharmacy.return_unused(order, tally, lot, cmd.quantity)
            self.core.save(order, lot)
        movement = LotMovement(lot.warehouse, lot.lot, lot.expiry, cmd.quantity)
        return ChainResult(order.number, [movement], item_status(order, item.code))

    def _warehouse(self, code: str | None, item: str) -> Warehouse:
        """The warehouse named, or the only one that may serve here (a laptop: the site's field
        warehouses; central: its ordinary ones), or the only one of those with the item in stock."""
        if code:
            return self.inventory.warehouse(code)
        identity = self.core.require_identity()
        site = "" if identity.is_central else identity.site_code  # central's warehouses have no site
        own = [w.code for w in self.inventory.warehouses.all() if w.site == site]
        holding = (
            {row.warehouse for row in self.inventory.stock_rows.lots(item=item, with_stock=True)}
            if len(own) > 1
            else set()
        )
        return self.inventory.warehouse(pharmacy.default_warehouse(own, holding))

    # -- reading --------------------------------------------------------------------------------
    def show(self, actor: Actor, kind: str, number: str) -> list[ItemStatus]:
        """Each item of a request or prescription: requested, dispensed, administered, returned."""
        self.access.require(actor, "pharmacy.show")
        self.operations.require(actor, Always.READ)
        order, _row = self._order(kind, number)
        return [item_status(order, item) for item in sorted(order.ledger.requested)]

    def listing(self, actor: Actor, kind: str, visit_number: str | None = None) -> list[OrderRow]:
        """Requests (or prescriptions) with what was dispensed, administered and returned."""
        self.access.require(actor, "pharmacy.list")
        self.operations.require(actor, Always.READ)
        return self.orders.queries.listing(kind, visit_number)

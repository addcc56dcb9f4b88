"""The catalog and its prices: one row per medicine, supply or service, and one row per payer
contract's price list (its prices as JSON: code -> unit value)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from domain.pharmacy.catalog import CatalogItem
from domain.pharmacy.price_list import PriceList
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class CatalogRow:
    item_id: str
    kind: str  # medicine | supply | service
    code: str
    name: str
    form: str
    concentration: str
    dispensing_unit: str
    marketing_auth: str
    added_at: str


@dataclass(frozen=True)
class PriceListRow:
    price_list_id: str
    payer_nit: str
    contract: str
    prices: str  # JSON: code -> unit value as text
    updated_at: str


@dataclass(frozen=True)
class PriceRow:
    payer_nit: str
    contract: str
    code: str
    unit_value: Decimal


class CatalogProjection(ByAggregate):
    name = "catalog"
    version = 1
    topics = (CatalogItem.Added.TOPIC,)
    row_type = CatalogRow
    key_fields = ("item_id",)
    indexes = (("code",), ("kind", "code"))

    def apply(self, row: CatalogRow | None, event: Any) -> CatalogRow | None:
        return CatalogRow(
            item_id=event.originator_id.hex,
            kind=event.kind.value,
            code=event.code,
            name=event.name,
            form=event.form,
            concentration=event.concentration,
            dispensing_unit=event.dispensing_unit,
            marketing_auth=event.marketing_auth,
            added_at=event.context.recorded_at.isoformat(),
        )


class PriceListsProjection(ByAggregate):
    name = "price_lists"
    version = 1
    topics = (PriceList.Started.TOPIC, PriceList.PriceSet.TOPIC)
    row_type = PriceListRow
    key_fields = ("price_list_id",)
    indexes = (("payer_nit", "contract"),)

    def apply(self, row: PriceListRow | None, event: Any) -> PriceListRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, PriceList.Started):
            return PriceListRow(event.originator_id.hex, event.payer_nit, event.contract, "{}", stamp)
        if row is None:
            return None
        prices = json.loads(row.prices)
        prices[event.code] = str(event.unit_value)
        return replace(row, prices=json.dumps(prices, sort_keys=True), updated_at=stamp)


class CatalogQueries:
    def __init__(self, items: RowStore, price_lists: RowStore) -> None:
        self.items = items
        self.price_lists = price_lists

    def listing(self, services: bool) -> list[CatalogRow]:
        """Medicines and supplies (by code), or services and procedures."""
        if services:
            return self.items.find(kind="service", order_by="code")
        return [row for row in self.items.find(order_by="code") if row.kind != "service"]

    def by_code(self, code: str, stocked: bool) -> CatalogRow | None:
        rows = self.items.find(code=code.strip().upper())
        found = [row for row in rows if (row.kind != "service") == stocked]
        return found[0] if found else None

    def names(self) -> dict[str, str]:
        """Medicine and supply codes to their names (for stock and kardex lists)."""
        return {row.code: row.name for row in self.items.find() if row.kind != "service"}

    def prices(self, payer_nit: str | None = None, contract: str | None = None) -> list[PriceRow]:
        equals = {k: v for k, v in (("payer_nit", payer_nit), ("contract", contract)) if v}
        rows = self.price_lists.select(Query(equals=equals, order_by="payer_nit"))
        return [
            PriceRow(row.payer_nit, row.contract, code, Decimal(value))
            for row in sorted(rows, key=lambda r: (r.payer_nit, r.contract))
            for code, value in sorted(json.loads(row.prices).items())
        ]

    def all_ids(self) -> list[str]:
        """Every catalog item and price list (a laptop receives them all)."""
        return [r.item_id for r in self.items.find()] + [r.price_list_id for r in self.price_lists.find()]

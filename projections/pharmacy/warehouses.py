"""Warehouses: one row each, ordinary or field (with its site)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.pharmacy.warehouse import Warehouse
from projections.base import ByAggregate, RowStore


@dataclass(frozen=True)
class WarehouseRow:
    warehouse_id: str
    code: str
    name: str
    kind: str  # ordinary | field
    site: str  # "" for an ordinary warehouse
    created_at: str


class WarehousesProjection(ByAggregate):
    name = "warehouses"
    version = 1
    topics = (Warehouse.Created.TOPIC,)
    row_type = WarehouseRow
    key_fields = ("warehouse_id",)
    indexes = (("code",), ("site",))

    def apply(self, row: WarehouseRow | None, event: Any) -> WarehouseRow | None:
        return WarehouseRow(
            warehouse_id=event.originator_id.hex,
            code=event.code,
            name=event.name,
            kind=event.kind.value,
            site=event.site or "",
            created_at=event.context.recorded_at.isoformat(),
        )


class WarehouseQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def all(self) -> list[WarehouseRow]:
        return self.rows.find(order_by="code")

    def of_site(self, site: str) -> list[WarehouseRow]:
        return self.rows.find(site=site, order_by="code")

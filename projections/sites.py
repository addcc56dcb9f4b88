"""Registered disconnected sites: one row each (central's list; a laptop holds its own)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.site import Site
from projections.base import Key, Projection, RowStore


@dataclass(frozen=True)
class SiteRow:
    site_id: str
    code: str
    name: str
    mode: str
    actions: str  # enabled action ids, space-separated, sorted
    warehouses: str  # field warehouses, space-separated, in registration order
    revoked: bool
    provisioned: bool
    software_version: str
    registered_at: str
    updated_at: str


class SitesProjection(Projection):
    name = "sites"
    version = 1
    topics = (
        Site.Registered.TOPIC,
        Site.WarehouseAdded.TOPIC,
        Site.ParametersChanged.TOPIC,
        Site.Provisioned.TOPIC,
        Site.ModeChanged.TOPIC,
        Site.Revoked.TOPIC,
    )
    row_type = SiteRow
    key_fields = ("site_id",)
    indexes = (("code",),)

    def key(self, event: Any) -> Key:
        return (event.originator_id.hex,)

    def apply(self, row: SiteRow | None, event: Any) -> SiteRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, Site.Registered):
            return SiteRow(
                site_id=event.originator_id.hex,
                code=event.code,
                name=event.name,
                mode="INS",
                actions=" ".join(sorted(event.actions)),
                warehouses=" ".join(event.warehouses),
                revoked=False,
                provisioned=False,
                software_version="",
                registered_at=stamp,
                updated_at=stamp,
            )
        if row is None:
            return None
        if isinstance(event, Site.WarehouseAdded):
            row = replace(row, warehouses=f"{row.warehouses} {event.warehouse}".strip())
        elif isinstance(event, Site.ParametersChanged):
            row = replace(row, actions=" ".join(sorted(event.actions)))
        elif isinstance(event, Site.Provisioned):
            row = replace(row, provisioned=True, software_version=event.software_version)
        elif isinstance(event, Site.ModeChanged):
            row = replace(row, mode=event.mode.value)
        elif isinstance(event, Site.Revoked):
            row = replace(row, revoked=True)
        return replace(row, updated_at=stamp)


class SiteQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def all(self) -> list[SiteRow]:
        return self.rows.find(order_by="code")

    def by_code(self, code: str) -> SiteRow | None:
        found = self.rows.find(code=code.upper())
        return found[0] if found else None

"""Registered disconnected sites: one row each (central's list; a laptop holds its own)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from domain.sites.site import Site, SiteMode
from projections.base import ByAggregate, RowStore


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
    mode_since: str = ""  # when central's mode last changed
    # An end-of-mission sync flipped the mode and has not finished (the Site's ``returning``;
    # that word is SQL's).
    handing_back: bool = False
    # The actions enabled when central last handed the lease over (the mode went to MSN),
    # space-separated, sorted: what the laptop works with until its next start of mission.
    lease: str = ""
    lost_laptops: str = "[]"  # JSON: each laptop replaced as lost (when, by whom, why)

    @property
    def holds_lease(self) -> bool:
        """The site's laptop holds the lease on its data (on mission, or handing it back)."""
        return self.mode == SiteMode.ON_MISSION.value or self.handing_back

    @property
    def pending(self) -> tuple[list[str], list[str]]:
        """Parameter changes made on central while the laptop holds the lease: (enabled, disabled)
        since it was handed over. They take effect at the next start of mission."""
        if not self.holds_lease:
            return [], []
        now, leased = set(self.actions.split()), set(self.lease.split())
        return sorted(now - leased), sorted(leased - now)


class SitesProjection(ByAggregate):
    name = "sites"
    version = 2  # 2: mode since, the hand-back, the lease, laptops replaced as lost
    topics = (
        Site.Registered.TOPIC,
        Site.WarehouseAdded.TOPIC,
        Site.ParametersChanged.TOPIC,
        Site.Provisioned.TOPIC,
        Site.ModeChanged.TOPIC,
        Site.Revoked.TOPIC,
        Site.Returning.TOPIC,
        Site.Returned.TOPIC,
        Site.LaptopReplaced.TOPIC,
    )
    row_type = SiteRow
    key_fields = ("site_id",)
    indexes = (("code",),)

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
            row = replace(row, mode=event.mode.value, mode_since=stamp)
            if event.mode is SiteMode.ON_MISSION:
                row = replace(row, lease=row.actions)
        elif isinstance(event, Site.Returning):
            row = replace(row, handing_back=True)
        elif isinstance(event, Site.Returned):
            row = replace(row, handing_back=False)
        elif isinstance(event, Site.LaptopReplaced):
            lost = {
                "replaced_at": stamp,
                "by": event.context.user,
                "reason": event.reason,
                "generations": len(event.lost_generations),
            }
            row = replace(
                row, lost_laptops=json.dumps([*json.loads(row.lost_laptops), lost], ensure_ascii=False)
            )
        elif isinstance(event, Site.Revoked):
            row = replace(row, revoked=True)
        return replace(row, updated_at=stamp)


class SiteQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def all(self) -> list[SiteRow]:
        return self.rows.find(order_by="code")

    def by_code(self, code: str) -> SiteRow | None:
        return self.rows.find_one(code=code.upper())

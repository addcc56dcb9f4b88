"""Who is acting: the authenticated actor, and the event context built from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from application.ports import Clock, HostInfo
from domain.context import EventContext


@dataclass(frozen=True)
class Actor:
    username: str
    user_id: UUID
    is_admin: bool
    session_id: UUID | None


SYSTEM = "sistema"


def event_context(site: str, username: str, clock: Clock, host: HostInfo) -> EventContext:
    return EventContext(
        event_id=uuid.uuid4(),
        site=site,
        user=username,
        computer=host.computer,
        ip_octet=host.ip_octet,
        recorded_at=clock.now(),
        business_date=clock.today(),
    )

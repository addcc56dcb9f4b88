"""The port between a laptop's sync and central. `brigada serve` implements it over HTTPS
(adapters/sync/server.py, adapters/sync/client.py), each request signed with the site's key; the
direct transport (application/sync/central.py, both stores in one process) is the test double of
the sync logic's tests. Whatever the transport, central judges every pushed event itself
(domain/sync/sync_trust.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.sites.site import SiteMode
from domain.sync.sync import SyncCrossing


@dataclass(frozen=True)
class LoggedEvent:
    """One stored event of a laptop's log with the chain link recorded for it."""

    position: int
    stored: StoredEvent
    previous: str | None
    link: str | None


@dataclass(frozen=True)
class RunState:
    run_id: UUID
    crossing: SyncCrossing
    generation: str
    flipped: bool
    completed: bool


@dataclass(frozen=True)
class CentralStatus:
    """What the preflight needs from central, read without writing anything."""

    central_code: str
    software_version: str
    mode: SiteMode
    site_record_version: int
    tracked: int  # the laptop log position central has merged up to, for this generation
    chain_head: str | None  # the laptop's chain link at that position, as central verified it
    # A run of this site left unfinished (to resume), else this store's newest run, completed (a
    # laptop not holding its completion lost the last answer: the sync run again finishes it).
    open_run: RunState | None


@dataclass(frozen=True)
class Batch:
    """Laptop events to merge, in log order, and the position they reach."""

    events: list[LoggedEvent]
    upto: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeResult:
    merged: int
    reapplied: int
    conflicts: int
    quarantined: int = 0  # held by central for a person (domain/sync/sync_trust.py)


class Central(Protocol):
    """Central as a laptop's sync sees it. The transport proves which site calls (a signed
    request, adapters/sync/site_credentials.py); ``site`` says which site the laptop believes it is."""

    def status(self, site: str, generation: str, software_version: str) -> CentralStatus:
        """Central's state for this laptop's log; ``software_version`` is the laptop's running
        version, and the answer carries central's."""
        ...

    def start(
        self, site: str, run_id: UUID, crossing: SyncCrossing, generation: str, pending: dict[str, int]
    ) -> RunState:
        """Start a run under the id the laptop chose (sent again, it finds the same run)."""
        ...

    def merge(self, site: str, run_id: UUID, batch: Batch) -> MergeResult: ...

    def flip(self, site: str, run_id: UUID) -> None: ...

    def complete(self, site: str, run_id: UUID, rebuilt: int, genesis: tuple[int, str] | None) -> None:
        """End the run; at the start of a mission, ``genesis`` is where the rebuilt store's own
        log starts (position, chain link), central's first checkpoint of it."""
        ...

    def site_records(self, site: str) -> list[UUID]:
        """Aggregates central owns that the laptop mirrors: the site record and its sync runs."""
        ...

    def slice(self, site: str) -> list[UUID]:
        """What a rebuilt laptop store holds: provisioning's slice plus the site's own history."""
        ...

    def read(self, site: str, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        """The events of several records, each after a version (None: all of them)."""
        ...

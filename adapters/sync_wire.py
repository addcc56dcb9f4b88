"""The sync port's messages as JSON, the same on both ends of `brigada serve`: events with their
state in base64 (a pushed state is bytes, and a forged one need not be UTF-8), ids in hex."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel, Field

from application.sync_port import Batch, CentralStatus, LoggedEvent, MergeResult, RunState
from domain.site import SiteMode
from domain.sync import SyncCrossing

MAX_EVENTS = 5_000  # events in one batch or one answer
HEX_ID = r"^[0-9a-fA-F]{32}$"


class WireEvent(BaseModel):
    position: int = Field(ge=0)
    originator_id: str = Field(pattern=HEX_ID)
    version: int = Field(ge=1)
    topic: str = Field(min_length=1, max_length=200)
    state: str = Field(max_length=8_000_000, description="the stored state, base64")
    previous: str | None = Field(default=None, max_length=64)
    link: str | None = Field(default=None, max_length=64)


class StatusRequest(BaseModel):
    generation: str = Field(min_length=1, max_length=64)
    software_version: str = Field(min_length=1, max_length=40)


class StartRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)
    crossing: SyncCrossing
    generation: str = Field(min_length=1, max_length=64)
    pending: dict[str, int] = Field(default_factory=dict, max_length=50)


class MergeRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)
    upto: int = Field(ge=1)
    events: list[WireEvent] = Field(max_length=MAX_EVENTS)


class RunRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)


class CompleteRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)
    rebuilt: int = Field(ge=0)
    genesis_position: int | None = Field(default=None, ge=0)
    genesis_link: str | None = Field(default=None, max_length=64)


class Wanted(BaseModel):
    record_id: str = Field(pattern=HEX_ID)
    after: int | None = Field(default=None, ge=0)


class ReadRequest(BaseModel):
    wanted: list[Wanted] = Field(max_length=1_000)


class Empty(BaseModel):
    pass


def wire_event(event: LoggedEvent) -> dict[str, Any]:
    stored = event.stored
    return {
        "position": event.position,
        "originator_id": stored.originator_id.hex,
        "version": stored.originator_version,
        "topic": stored.topic,
        "state": base64.b64encode(stored.state).decode(),
        "previous": event.previous,
        "link": event.link,
    }


def logged_event(wire: WireEvent) -> LoggedEvent:
    stored = StoredEvent(UUID(wire.originator_id), wire.version, wire.topic, base64.b64decode(wire.state))
    return LoggedEvent(wire.position, stored, wire.previous, wire.link)


def batch_of(request: MergeRequest) -> Batch:
    return Batch([logged_event(e) for e in request.events], upto=request.upto)


def stored_json(stored: StoredEvent) -> dict[str, Any]:
    return {
        "originator_id": stored.originator_id.hex,
        "version": stored.originator_version,
        "topic": stored.topic,
        "state": base64.b64encode(stored.state).decode(),
    }


def stored_of(data: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        UUID(data["originator_id"]), int(data["version"]), data["topic"], base64.b64decode(data["state"])
    )


def run_json(run: RunState) -> dict[str, Any]:
    return {
        "run_id": run.run_id.hex,
        "crossing": run.crossing.value,
        "generation": run.generation,
        "flipped": run.flipped,
        "completed": run.completed,
    }


def run_of(data: dict[str, Any]) -> RunState:
    return RunState(
        UUID(data["run_id"]),
        SyncCrossing(data["crossing"]),
        data["generation"],
        data["flipped"],
        data["completed"],
    )


def status_json(status: CentralStatus) -> dict[str, Any]:
    return {
        "central_code": status.central_code,
        "software_version": status.software_version,
        "mode": status.mode.value,
        "site_record_version": status.site_record_version,
        "tracked": status.tracked,
        "chain_head": status.chain_head,
        "open_run": run_json(status.open_run) if status.open_run else None,
    }


def status_of(data: dict[str, Any]) -> CentralStatus:
    return CentralStatus(
        central_code=data["central_code"],
        software_version=data["software_version"],
        mode=SiteMode(data["mode"]),
        site_record_version=int(data["site_record_version"]),
        tracked=int(data["tracked"]),
        chain_head=data["chain_head"],
        open_run=run_of(data["open_run"]) if data["open_run"] else None,
    )


def merge_json(result: MergeResult) -> dict[str, int]:
    return {
        "merged": result.merged,
        "reapplied": result.reapplied,
        "conflicts": result.conflicts,
        "quarantined": result.quarantined,
    }


def merge_of(data: dict[str, Any]) -> MergeResult:
    return MergeResult(
        int(data["merged"]), int(data["reapplied"]), int(data["conflicts"]), int(data["quarantined"])
    )

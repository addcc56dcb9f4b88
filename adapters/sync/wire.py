"""The sync port's messages as JSON, the same on both ends of `brigada serve`: events with their
state in base64 (a pushed state is bytes, and a forged one need not be UTF-8), ids in hex."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel, Field

from application.sync.sync_port import Batch, CentralStatus, LoggedEvent, MergeResult, RunState
from domain.base import uuid_of
from domain.sites.site import SiteMode
from domain.sync.sync import SyncCrossing

MAX_EVENTS = 5_000  # events in one batch or one answer
HEX_ID = r"^[0-9a-fA-F]{32}$"
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
# Text central looks up or stores: no control characters (PostgreSQL refuses NUL in text).
TEXT = r"^[^\x00-\x1f\x7f]*$"
# Positions, versions and counts central stores or compares in SQL: a BIGINT.
MAX_NUMBER = 2**63 - 1
Count = Annotated[int, Field(ge=0, le=MAX_NUMBER)]


class WireEvent(BaseModel):
    position: int = Field(ge=0, le=MAX_NUMBER)
    originator_id: str = Field(pattern=HEX_ID)
    version: int = Field(ge=1, le=MAX_NUMBER)
    topic: str = Field(min_length=1, max_length=200, pattern=TEXT)
    state: str = Field(max_length=8_000_000, pattern=BASE64, description="the stored state, base64")
    previous: str | None = Field(default=None, max_length=64)
    link: str | None = Field(default=None, max_length=64)


class StatusRequest(BaseModel):
    generation: str = Field(min_length=1, max_length=64, pattern=TEXT)
    software_version: str = Field(min_length=1, max_length=40, pattern=TEXT)


class StartRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)
    crossing: SyncCrossing
    generation: str = Field(min_length=1, max_length=64, pattern=TEXT)
    pending: dict[str, int] = Field(default_factory=dict, max_length=50)


class MergeRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)
    upto: int = Field(ge=1, le=MAX_NUMBER)
    events: list[WireEvent] = Field(max_length=MAX_EVENTS)


class RunRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)


class CompleteRequest(BaseModel):
    run_id: str = Field(pattern=HEX_ID)
    rebuilt: Count
    genesis_position: Count | None = None
    genesis_link: str | None = Field(default=None, max_length=64, pattern=TEXT)


class Wanted(BaseModel):
    record_id: str = Field(pattern=HEX_ID)
    after: Count | None = None


class ReadRequest(BaseModel):
    wanted: list[Wanted] = Field(max_length=1_000)


class Empty(BaseModel):
    pass


class ErrorDetail(BaseModel):
    kind: str = Field(description="invalid, refused, conflict, not-found or internal")
    message: str = Field(description="one line, in central's language")
    template: str | None = Field(default=None, description="a rule's untranslated message")
    params: dict[str, str] | None = Field(default=None, description="the template's parameters")
    field: str | None = None


class ErrorBody(BaseModel):
    """The body of every refusal."""

    error: ErrorDetail


def wire_event(event: LoggedEvent) -> dict[str, Any]:
    stored = event.stored
    return {
        "position": event.position,
        "originator_id": uuid_of(stored.originator_id).hex,
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
        "originator_id": uuid_of(stored.originator_id).hex,
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

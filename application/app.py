"""The event-sourced application: one per store, one totally ordered log."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, ClassVar, Literal, Protocol, overload, runtime_checkable
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, ProcessRecorder, Transcoding

from domain.billing.service_voucher import VOUCHER_ENUMS
from domain.clinical.admission import ADMISSION_ENUMS
from domain.clinical.encounter import ENCOUNTER_ENUMS
from domain.clinical.payer_contract import CONTRACT_ENUMS
from domain.context import EventContext
from domain.pharmacy.catalog import CATALOG_ENUMS
from domain.pharmacy.prescription import PRESCRIPTION_ENUMS
from domain.pharmacy.stock_lot import STOCK_ENUMS, StockLot
from domain.pharmacy.warehouse import WAREHOUSE_ENUMS
from domain.sites.site import SiteMode
from domain.store_identity import StoreRole
from domain.sync.quarantine import QUARANTINE_ENUMS
from domain.sync.sync import SYNC_ENUMS
from domain.vocabulary import ALL_ENUMS

APPLICATION_NAME = "brigada"
# Notification reads come in pages of this size (the library's default is 10).
LOG_PAGE_SIZE = 1000
# A stock lot is snapshotted every this many events, so loading one replays fewer than this many
# however long its history (benchmarks/stock_load.py). Snapshots are derived, never copied by sync.
STOCK_LOT_SNAPSHOT_INTERVAL = 100


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EventContextAsDict(Transcoding):
    type = EventContext
    name = "ctx"

    def encode(self, obj: EventContext) -> dict[str, object]:
        return obj.as_dict()

    def decode(self, data: dict[str, object]) -> EventContext:
        return EventContext.from_dict(data)


class EnumAsValue(Transcoding):
    def __init__(self, enum_type: type[Enum]) -> None:
        self.type = enum_type
        self.name = f"enum:{enum_type.__name__}"

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        return self.type(data)


STORED_ENUMS: tuple[type[Enum], ...] = (
    *ALL_ENUMS,
    *ENCOUNTER_ENUMS,
    *CONTRACT_ENUMS,
    *ADMISSION_ENUMS,
    *CATALOG_ENUMS,
    *WAREHOUSE_ENUMS,
    *STOCK_ENUMS,
    *PRESCRIPTION_ENUMS,
    *VOUCHER_ENUMS,
    *SYNC_ENUMS,
    *QUARANTINE_ENUMS,
    StoreRole,
    SiteMode,
)


@runtime_checkable
class StoreKeys(Protocol):
    """What a store's own recorder adds (adapters/recorders.py): its keys, which are never events,
    and the chain table's index of each site's events."""

    @overload
    def key(self, name: str, value: bytes | None = None, *, create: Literal[True] = True) -> bytes: ...
    @overload
    def key(self, name: str, value: bytes | None = None, *, create: bool) -> bytes | None: ...
    def chain_key(self) -> bytes: ...
    def legacy_until(self) -> int: ...
    def site_positions(self, site: str, up_to: int, limit: int) -> list[int]: ...


class BrigadaApplication(Application[UUID]):
    """Holds every aggregate of one store. The recorder is a process recorder so that sync can
    write another store's events together with a tracking record, in one transaction."""

    recorder: ProcessRecorder

    name = APPLICATION_NAME
    log_section_size = LOG_PAGE_SIZE
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {StockLot: STOCK_LOT_SNAPSHOT_INTERVAL}
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000", "DEEPCOPY_FROM_AGGREGATE_CACHE": "y"}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(EventContextAsDict())
        for enum_type in STORED_ENUMS:
            transcoder.register(EnumAsValue(enum_type))

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def keys(self) -> StoreKeys:
        """The store's keys: only a store opened through adapters/store.py has them (the
        in-memory recorder of the domain tests has none)."""
        if not isinstance(self.recorder, StoreKeys):
            raise TypeError(f"{type(self.recorder).__name__} keeps no keys")
        return self.recorder

"""The event-sourced application: one per store, one totally ordered log."""

from __future__ import annotations

import importlib
import sys
from datetime import date
from enum import Enum
from typing import Any, ClassVar, Literal, Protocol, overload, runtime_checkable
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    ProcessRecorder,
    Recording,
    StoredEvent,
    Transcoding,
)

from application.snapshots import SealedSnapshots, random_chain_key
from domain.billing.invoice_series import InvoiceSeries
from domain.chain import CHAIN_KEY
from domain.context import EventContext
from domain.numbering import NumberSeries
from domain.pharmacy.stock_lot import StockLot
from domain.security.user import User

APPLICATION_NAME = "brigada"
# Notification reads come in pages of this size (the library's default is 10).
LOG_PAGE_SIZE = 1000
# An aggregate that grows with the mission (a stock lot, a number series, an invoice series, a user
# who logs in) is snapshotted every this many events, so loading one replays fewer than this many
# however long its history (benchmarks/history.py, benchmarks/stock_load.py). Snapshots are derived
# state, sealed and never copied by sync (application/snapshots.py).
SNAPSHOT_INTERVAL = 100
STOCK_LOT_SNAPSHOT_INTERVAL = SNAPSHOT_INTERVAL


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


# The enums events store (each as its value, named "enum:ClassName"): where each module keeps
# them. They are registered when an event first holds one, from the modules already loaded (an
# event's own module is, or its class could not be built), the others imported only if that
# falls short: a command loads the domain modules of the events it meets, not every context's.
STORED_ENUMS = (
    "domain.vocabulary:ALL_ENUMS",
    "domain.clinical.encounter:ENCOUNTER_ENUMS",
    "domain.clinical.payer_contract:CONTRACT_ENUMS",
    "domain.clinical.admission:ADMISSION_ENUMS",
    "domain.pharmacy.catalog:CATALOG_ENUMS",
    "domain.pharmacy.warehouse:WAREHOUSE_ENUMS",
    "domain.pharmacy.stock_lot:STOCK_ENUMS",
    "domain.pharmacy.prescription:PRESCRIPTION_ENUMS",
    "domain.billing.service_voucher:VOUCHER_ENUMS",
    "domain.sync.sync:SYNC_ENUMS",
    "domain.sync.quarantine:QUARANTINE_ENUMS",
    "domain.store_identity:StoreRole",
    "domain.sites.site:SiteMode",
)


def stored_enums(loaded_only: bool = False) -> list[type[Enum]]:
    """The stored enums, in the table's order: all of them (their modules imported), or only
    those whose modules are already loaded."""
    found: list[type[Enum]] = []
    for entry in STORED_ENUMS:
        module_name, attribute = entry.split(":")
        module = sys.modules.get(module_name) if loaded_only else importlib.import_module(module_name)
        value = getattr(module, attribute, ()) if module is not None else ()
        found.extend(value if isinstance(value, tuple) else (value,))
    return found


class RegisteredWhenMet(dict[Any, Transcoding]):
    """A transcoder's table of transcodings (by type, or by name) that registers the stored enums
    when it misses one, then answers; anything else missing stays missing (the transcoder's
    error, as without it)."""

    def __init__(self, table: dict[Any, Transcoding], transcoder: JSONTranscoder) -> None:
        super().__init__(table)
        self.transcoder = transcoder

    def __missing__(self, key: Any) -> Transcoding:
        is_enum = isinstance(key, type) and issubclass(key, Enum)
        if is_enum or (isinstance(key, str) and key.startswith("enum:")):
            for loaded_only in (True, False):
                for enum_type in stored_enums(loaded_only):
                    if enum_type not in self.transcoder.types:
                        self.transcoder.register(EnumAsValue(enum_type))
                if key in self:
                    return dict.__getitem__(self, key)
        raise KeyError(key)


# Where each aggregate's classes are: a topic is "brigada.<Aggregate>[.<Event>]", not a module's
# path, and resolves only once its class is defined. A mapper imports the module the first time
# it meets a topic, so a command loads the domain modules of the events it reads, not every
# context's. tests/test_lazy_views.py holds the table to the classes.
EVENT_MODULES = {
    "Access": "domain.access_log",
    "Admission": "domain.clinical.admission",
    "AgendaDay": "domain.clinical.agenda",
    "Aggregate": "domain.base",
    "CatalogItem": "domain.pharmacy.catalog",
    "ChainCheckpoint": "domain.sync.checkpoint",
    "DiagnosticService": "domain.pharmacy.diagnostic_service",
    "Encounter": "domain.clinical.encounter",
    "Invoice": "domain.billing.invoice",
    "InvoiceSeries": "domain.billing.invoice_series",
    "LockPolicy": "domain.security.locks",
    "NumberSeries": "domain.numbering",
    "PasswordPolicy": "domain.security.password_policy",
    "Patient": "domain.clinical.patient",
    "Prescription": "domain.pharmacy.prescription",
    "PriceList": "domain.pharmacy.price_list",
    "Quarantine": "domain.sync.quarantine",
    "ServiceOrder": "domain.pharmacy.service_order",
    "ServiceVoucher": "domain.billing.service_voucher",
    "Site": "domain.sites.site",
    "StockLot": "domain.pharmacy.stock_lot",
    "StoreIdentity": "domain.store_identity",
    "StoredDocument": "domain.clinical.encounter",
    "SupplyRequest": "domain.pharmacy.supply_request",
    "Surgery": "domain.pharmacy.surgery",
    "SyncConflict": "domain.sync.sync",
    "SyncRefusal": "domain.sync.sync_refusal",
    "SyncRun": "domain.sync.sync",
    "User": "domain.security.user",
    "VoucherSlot": "domain.billing.voucher_slot",
    "Warehouse": "domain.pharmacy.warehouse",
}


def load_module_of(topic: str) -> None:
    """Import the module that defines ``topic``'s class (which registers its topics), if the
    table knows it; an unknown topic is left to fail as it would."""
    parts = topic.split(".", 2)
    module = EVENT_MODULES.get(parts[1]) if len(parts) > 1 and parts[0] == APPLICATION_NAME else None
    if module is not None and module not in sys.modules:
        importlib.import_module(module)


class ModulesWhenMet(Mapper[UUID]):
    """The library's mapper, importing an event's module (EVENT_MODULES) when it first meets
    the event's topic."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.met: set[str] = set()

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if stored_event.topic not in self.met:
            load_module_of(stored_event.topic)
            self.met.add(stored_event.topic)
        return super().to_domain_event(stored_event)


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
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        StockLot: STOCK_LOT_SNAPSHOT_INTERVAL,
        NumberSeries: SNAPSHOT_INTERVAL,
        InvoiceSeries: SNAPSHOT_INTERVAL,
        User: SNAPSHOT_INTERVAL,
    }
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000", "DEEPCOPY_FROM_AGGREGATE_CACHE": "y"}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(EventContextAsDict())
        transcoder.types = RegisteredWhenMet(transcoder.types, transcoder)
        transcoder.names = RegisteredWhenMet(transcoder.names, transcoder)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=ModulesWhenMet)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def construct_snapshot_store(self) -> SealedSnapshots:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        store_keys = self.recorder if isinstance(self.recorder, StoreKeys) else None
        chain_key = (lambda: store_keys.key(CHAIN_KEY, create=False)) if store_keys else random_chain_key()
        return SealedSnapshots(self.mapper, recorder, chain_key)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save (a snapshot at each multiple of an interval), and a snapshot of the
        saved version of an aggregate whose load replayed an interval or more of events (a tail
        copied in by sync or a rebuild passes the multiples without a save)."""
        recordings = super().save(*objs, **kwargs)
        if isinstance(self.snapshots, SealedSnapshots):
            for obj in objs:
                interval = self.snapshotting_intervals.get(type(obj))
                base = self.snapshots.base.get(obj.id) if interval else None
                if interval and base is not None and obj.version - base >= interval:
                    self.take_snapshot(obj.id, version=obj.version)
        return recordings

    @property
    def keys(self) -> StoreKeys:
        """The store's keys: only a store opened through adapters/store.py has them (the
        in-memory recorder of the domain tests has none)."""
        if not isinstance(self.recorder, StoreKeys):
            raise TypeError(f"{type(self.recorder).__name__} keeps no keys")
        return self.recorder

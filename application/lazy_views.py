"""The views as a table, each imported when it is first used: a command whose views are all at
the log's head (``whoami``, a listing) imports no projection, and so none of the domain events the
projections read.

The table holds what catching up needs before a view has anything to fold: its name and the
version of its apply(), compared with the stored one at every catch-up. Everything else (topics,
row type, the fold itself) is the projection's, read from its class once it is imported; a view
with events to fold or rows to read imports it. tests/test_lazy_views.py holds the table to the
classes, and a class whose version differs from its line here is refused when it loads.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from application.ports import ViewStorage
from projections.base import OtherViews, Projection, RowStore


@dataclass(frozen=True)
class View:
    name: str
    version: int
    target: str  # "module:ProjectionClass"
    reads_views: bool = False  # its constructor takes the other views (OtherViews)

    def projection(self, views: OtherViews) -> Projection:
        module, attribute = self.target.split(":")
        cls = getattr(importlib.import_module(module), attribute)
        projection: Projection = cls(views) if self.reads_views else cls()
        if (projection.name, projection.version) != (self.name, self.version):
            raise RuntimeError(
                f"application/lazy_views.py says {self.name} v{self.version}, {self.target} is "
                f"{projection.name} v{projection.version}: update the table"
            )
        return projection


# Every view, in catch-up order (the views a view reads come before it).
VIEWS: tuple[View, ...] = (
    View("patients", 2, "projections.clinical.patients:PatientsProjection"),
    View("users", 1, "projections.security.users:UsersProjection"),
    View("sites", 2, "projections.sites.sites:SitesProjection"),
    View("encounters", 1, "projections.clinical.encounters:EncountersProjection"),
    View("agenda_days", 1, "projections.clinical.agenda:AgendaDaysProjection"),
    View("appointments", 1, "projections.clinical.agenda:AppointmentsProjection"),
    View("admissions", 1, "projections.clinical.admissions:AdmissionsProjection"),
    # Orders, pharmacy and inventory.
    View("catalog", 1, "projections.pharmacy.catalog:CatalogProjection"),
    View("price_lists", 1, "projections.pharmacy.catalog:PriceListsProjection"),
    View("warehouses", 1, "projections.pharmacy.warehouses:WarehousesProjection"),
    View("stock", 1, "projections.pharmacy.stock:StockProjection"),
    View("kardex", 2, "projections.pharmacy.kardex:KardexProjection", reads_views=True),
    View("orders", 1, "projections.pharmacy.orders:OrdersProjection"),
    # Service vouchers and central billing.
    View("vouchers", 2, "projections.billing.vouchers:VouchersProjection"),
    View("invoices", 1, "projections.billing.invoices:InvoicesProjection"),
    View("invoice_series", 1, "projections.billing.invoices:InvoiceSeriesProjection"),
    # Sync history and conflicts.
    View("sync_runs", 2, "projections.sync.sync:SyncRunsProjection"),
    View("sync_refusals", 1, "projections.sync.sync_refusals:SyncRefusalsProjection"),
    View("sync_conflicts", 1, "projections.sync.sync:SyncConflictsProjection"),
    View("sync_quarantine", 1, "projections.sync.sync:QuarantineProjection"),
    View("activity_log", 3, "projections.audit.activity_log:ActivityLogProjection", reads_views=True),
)


def all_projections(views: OtherViews) -> list[Projection]:
    """Every view's projection, imported now, in catch-up order."""
    return [view.projection(views) for view in VIEWS]


class LazyProjection:
    """A view's projection as the runner holds it: its name and version from the table, anything
    else from the projection, imported on first use."""

    def __init__(self, view: View, views: OtherViews) -> None:
        self.name = view.name
        self.version = view.version
        self._view = view
        self._views = views
        self._loaded: Projection | None = None

    @property
    def loaded(self) -> Projection:
        if self._loaded is None:
            self._loaded = self._view.projection(self._views)
        return self._loaded

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute in ("_view", "_views", "_loaded"):
            raise AttributeError(attribute)
        return getattr(self.loaded, attribute)


class LazyRowStore:
    """A view's rows, its table made ready (created, indexed) by the storage on first use."""

    def __init__(self, storage: ViewStorage, projection: LazyProjection) -> None:
        self._storage = storage
        self._projection = projection
        self._store: RowStore | None = None

    @property
    def loaded(self) -> RowStore:
        if self._store is None:
            self._store = self._storage.row_store(self._projection.loaded)
        return self._store

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute in ("_storage", "_projection", "_store"):
            raise AttributeError(attribute)
        return getattr(self.loaded, attribute)


class LazyViewStorage:
    """The storage as the runner sees it: each view's row store made when first used; everything
    else (the tracking of every view in one read, writing several views together) the storage's."""

    def __init__(self, storage: ViewStorage) -> None:
        self._storage = storage

    def row_store(self, projection: Projection) -> RowStore:
        if isinstance(projection, LazyProjection):
            return cast(RowStore, LazyRowStore(self._storage, projection))
        return self._storage.row_store(projection)

    def close(self) -> None:
        self._storage.close()

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute == "_storage":
            raise AttributeError(attribute)
        return getattr(self._storage, attribute)


def lazy_projections(views: OtherViews) -> Sequence[Projection]:
    """Every view in catch-up order, each imported when first used."""
    return [cast(Projection, LazyProjection(view, views)) for view in VIEWS]

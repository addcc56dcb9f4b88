"""The application as the CLI sees it: one object per store, its use cases as attributes.

Each use case (and the context it belongs to: its modules, its domain events) is built on first
use: ``whoami`` loads security and no clinical, pharmacy or billing code. The views are a table
(application/lazy_views.py), each projection imported when its view has events to fold or rows
to read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from application.app import BrigadaApplication
from application.core import Core
from application.lazy_views import LazyViewStorage, all_projections, lazy_projections
from application.ports import Clock, HostInfo, PasswordBlocklist, PasswordHasher, SigningKeys, ViewStorage
from application.projection_runner import ProjectionRunner
from projections.base import ViewRows

if TYPE_CHECKING:  # each use case's module loads when it is first used
    from application.audit.audit import Audit, BackupWriter, ChainReader
    from application.billing.invoicing import Invoicing
    from application.billing.vouchers import Vouchers
    from application.clinical.admissions import Admissions
    from application.clinical.agenda import Agendas
    from application.clinical.charts import Charts
    from application.clinical.contracts import Contracts
    from application.clinical.encounters import Encounters
    from application.clinical.patients import Patients
    from application.pharmacy.catalog import Catalog
    from application.pharmacy.dispensing import Pharmacy
    from application.pharmacy.inventory import Inventory
    from application.pharmacy.orders import Orders
    from application.read_models import ReadModels
    from application.security.access import Access
    from application.security.auth import Auth
    from application.security.locks import Locks
    from application.security.policy import Policies
    from application.security.users import Users
    from application.setup import Setup
    from application.sites.operations import Operations
    from application.store_clock import StoreClock
    from application.sync.central import CentralLog, CentralSync
    from application.sync.laptop import SiteLog, SiteSync
    from application.sync.sites import Sites
    from projections.billing.vouchers import VoucherQueries
    from projections.clinical.admissions import AdmissionQueries
    from projections.clinical.agenda import AgendaQueries
    from projections.clinical.encounters import EncounterQueries
    from projections.clinical.patients import PatientQueries
    from projections.security.users import UserQueries
    from projections.sync.sync import SyncRunQueries

    class StoreLog(SiteLog, CentralLog, Protocol):
        """The store's log as sync reads it, a laptop's side and central's (adapters/sync/store_io.py)."""


__all__ = ["Brigada", "all_projections"]


class Brigada:
    def __init__(
        self,
        app: BrigadaApplication,
        storage: ViewStorage,
        clock: Clock,
        host: HostInfo,
        hasher: PasswordHasher,
        chain: ChainReader,
        backups: BackupWriter,
        site_log: Callable[[], StoreLog],
        blocklist: PasswordBlocklist | None = None,
        signing_keys: SigningKeys | None = None,
    ) -> None:
        self.app = app
        self.storage = storage
        self.chain = chain
        self.backups = backups
        self._site_log = site_log
        self.signing_keys = signing_keys
        other_views = ViewRows(lambda view: self.views.store(view))
        self.views = ProjectionRunner(app, LazyViewStorage(storage), lazy_projections(other_views))
        self.core = Core(app, self.views, clock, host, hasher, blocklist)

    def close(self) -> None:
        self.app.close()
        self.storage.close()

    @cached_property
    def site_log(self) -> StoreLog:
        """The store's log as sync reads it, made when first read."""
        return self._site_log()

    # -- security and the store ------------------------------------------------------------------
    @cached_property
    def access(self) -> Access:
        from application.security.access import Access

        return Access(self.core)

    @cached_property
    def policies(self) -> Policies:
        from application.security.policy import Policies

        return Policies(self.core, self.access)

    @cached_property
    def setup(self) -> Setup:
        from application.setup import Setup

        return Setup(self.core)

    @cached_property
    def auth(self) -> Auth:
        from application.security.auth import Auth

        return Auth(self.core, self.access, self.policies)

    @cached_property
    def dates(self) -> StoreClock:
        from application.store_clock import StoreClock

        return StoreClock(self.core)

    @cached_property
    def operations(self) -> Operations:
        from application.sites.operations import Operations

        return Operations(self.core)

    @cached_property
    def users(self) -> Users:
        from application.security.users import Users

        return Users(self.core, self.access, self.policies, self._user_rows)

    @cached_property
    def locks(self) -> Locks:
        from application.security.locks import Locks

        return Locks(self.core, self.access)

    @cached_property
    def read_models(self) -> ReadModels:
        from application.read_models import ReadModels

        return ReadModels(self.views, self.access)

    @cached_property
    def audit(self) -> Audit:
        from application.audit.audit import Audit

        return Audit(self.core, self.access, self.views.store("activity_log"), self.chain, self.backups)

    # -- clinical: patients, visits, contracts, charts, agendas, admissions ----------------------
    @cached_property
    def patients(self) -> Patients:
        from application.clinical.patients import Patients

        return Patients(self.core, self._patient_rows, self.access, self.operations)

    @cached_property
    def encounters(self) -> Encounters:
        from application.clinical.encounters import Encounters

        return Encounters(
            self.core,
            self.access,
            self.operations,
            self._patient_rows,
            self._encounter_rows(),
            self._admission_rows(),
        )

    @cached_property
    def contracts(self) -> Contracts:
        from application.clinical.contracts import Contracts

        return Contracts(self.core, self.access, self.operations, self.patients)

    @cached_property
    def charts(self) -> Charts:
        from application.clinical.charts import Charts

        return Charts(
            self.core,
            self.access,
            self.operations,
            self.patients,
            self.contracts,
            self._encounter_rows(),
            self._agenda_rows,
            self._shared_admission_rows,
        )

    @cached_property
    def agendas(self) -> Agendas:
        from application.clinical.agenda import Agendas

        return Agendas(self.core, self.access, self.operations, self.patients, self._agenda_rows)

    @cached_property
    def admissions(self) -> Admissions:
        from application.clinical.admissions import Admissions

        return Admissions(self.core, self.access, self.operations, self.patients, self._shared_admission_rows)

    # -- orders, pharmacy and inventory: the catalog and the site's stock go into a laptop's slice
    @cached_property
    def catalog(self) -> Catalog:
        from application.pharmacy.catalog import Catalog
        from projections.pharmacy.catalog import CatalogQueries

        rows = CatalogQueries(self.views.store("catalog"), self.views.store("price_lists"))
        return Catalog(self.core, self.access, self.operations, rows)

    @cached_property
    def inventory(self) -> Inventory:
        from application.pharmacy.inventory import Inventory
        from projections.pharmacy.kardex import KardexQueries
        from projections.pharmacy.stock import StockQueries
        from projections.pharmacy.warehouses import WarehouseQueries

        return Inventory(
            self.core,
            self.access,
            self.operations,
            self.catalog,
            WarehouseQueries(self.views.store("warehouses")),
            StockQueries(self.views.store("stock")),
            KardexQueries(self.views.store("kardex")),
        )

    @cached_property
    def orders(self) -> Orders:
        from application.pharmacy.orders import Orders
        from projections.pharmacy.orders import OrderQueries

        return Orders(
            self.core,
            self.access,
            self.operations,
            self.catalog,
            self._encounter_rows(),
            OrderQueries(self.views.store("orders")),
        )

    @cached_property
    def pharmacy(self) -> Pharmacy:
        from application.pharmacy.dispensing import Pharmacy

        return Pharmacy(self.core, self.access, self.operations, self.catalog, self.inventory, self.orders)

    # -- service vouchers (sites and central) and central billing --------------------------------
    @cached_property
    def vouchers(self) -> Vouchers:
        from application.billing.vouchers import Vouchers
        from projections.pharmacy.orders import OrderQueries

        return Vouchers(
            self.core,
            self.access,
            self.operations,
            self.catalog,
            self._encounter_rows(),
            OrderQueries(self.views.store("orders")),
            self._voucher_rows,
        )

    @cached_property
    def invoicing(self) -> Invoicing:
        from application.billing.invoicing import Invoicing
        from projections.billing.invoices import InvoiceQueries, InvoiceSeriesQueries

        return Invoicing(
            self.core,
            self.access,
            self.operations,
            self.vouchers,
            self._voucher_rows,
            InvoiceQueries(self.views.store("invoices")),
            InvoiceSeriesQueries(self.views.store("invoice_series")),
        )

    # -- sites and sync: the laptop's side, and central's (the direct transport calls it in-process)
    @cached_property
    def sites(self) -> Sites:
        from application.sync.sites import Sites
        from projections.sites.sites import SiteQueries

        catalog, inventory = self.catalog, self.inventory
        return Sites(
            self.core,
            self.access,
            self.operations,
            SiteQueries(self.views.store("sites")),
            self._patient_rows,
            self._user_rows,
            extra_slices=(catalog.slice_ids, inventory.slice_ids),
            history=self.site_log.aggregates_of_site,
            signing_keys=self.signing_keys,
        )

    @cached_property
    def sync(self) -> SiteSync:
        from application.sync.laptop import SiteSync
        from projections.sync.sync_refusals import SyncRefusalQueries

        return SiteSync(
            self.core,
            self.access,
            self.operations,
            self._encounter_rows(),
            self._shared_admission_rows,
            self.site_log,
            self._sync_run_rows,
            SyncRefusalQueries(self.views.store("sync_refusals")),
        )

    @cached_property
    def sync_central(self) -> CentralSync:
        from application.sync.central import CentralSync
        from projections.sync.sync import QuarantineQueries, SyncConflictQueries

        return CentralSync(
            self.core,
            self.access,
            self.sites,
            self._sync_run_rows,
            SyncConflictQueries(self.views.store("sync_conflicts")),
            QuarantineQueries(self.views.store("sync_quarantine")),
            self.site_log,
        )

    # -- the views' queries that several use cases share -----------------------------------------
    @cached_property
    def _patient_rows(self) -> PatientQueries:
        from projections.clinical.patients import PatientQueries

        return PatientQueries(self.views.store("patients"))

    @cached_property
    def _user_rows(self) -> UserQueries:
        from projections.security.users import UserQueries

        return UserQueries(self.views.store("users"))

    def _encounter_rows(self) -> EncounterQueries:
        from projections.clinical.encounters import EncounterQueries

        return EncounterQueries(self.views.store("encounters"))

    def _admission_rows(self) -> AdmissionQueries:
        from projections.clinical.admissions import AdmissionQueries

        return AdmissionQueries(self.views.store("admissions"))

    @cached_property
    def _shared_admission_rows(self) -> AdmissionQueries:
        return self._admission_rows()

    @cached_property
    def _agenda_rows(self) -> AgendaQueries:
        from projections.clinical.agenda import AgendaQueries

        return AgendaQueries(self.views.store("agenda_days"), self.views.store("appointments"))

    @cached_property
    def _voucher_rows(self) -> VoucherQueries:
        from projections.billing.vouchers import VoucherQueries

        return VoucherQueries(self.views.store("vouchers"))

    @cached_property
    def _sync_run_rows(self) -> SyncRunQueries:
        from projections.sync.sync import SyncRunQueries

        return SyncRunQueries(self.views.store("sync_runs"))

"""The application as the CLI sees it: one object per store, its use cases as attributes."""

from __future__ import annotations

from typing import Protocol

from application.app import BrigadaApplication
from application.audit.audit import Audit, BackupWriter, ChainReader
from application.billing.invoicing import Invoicing
from application.billing.vouchers import Vouchers
from application.clinical.admissions import Admissions
from application.clinical.agenda import Agendas
from application.clinical.charts import Charts
from application.clinical.contracts import Contracts
from application.clinical.encounters import Encounters
from application.clinical.patients import Patients
from application.core import Core
from application.pharmacy.catalog import Catalog
from application.pharmacy.dispensing import Pharmacy
from application.pharmacy.inventory import Inventory
from application.pharmacy.orders import Orders
from application.ports import Clock, HostInfo, PasswordBlocklist, PasswordHasher, SigningKeys, ViewStorage
from application.projection_runner import ProjectionRunner
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
from projections.audit.activity_log import ActivityLogProjection
from projections.base import OtherViews, Projection, ViewRows
from projections.billing.invoices import (
    InvoiceQueries,
    InvoiceSeriesProjection,
    InvoiceSeriesQueries,
    InvoicesProjection,
)
from projections.billing.vouchers import VoucherQueries, VouchersProjection
from projections.clinical.admissions import AdmissionQueries, AdmissionsProjection
from projections.clinical.agenda import AgendaDaysProjection, AgendaQueries, AppointmentsProjection
from projections.clinical.encounters import EncounterQueries, EncountersProjection
from projections.clinical.patients import PatientQueries, PatientsProjection
from projections.pharmacy.catalog import CatalogProjection, CatalogQueries, PriceListsProjection
from projections.pharmacy.kardex import KardexProjection, KardexQueries
from projections.pharmacy.orders import OrderQueries, OrdersProjection
from projections.pharmacy.stock import StockProjection, StockQueries
from projections.pharmacy.warehouses import WarehouseQueries, WarehousesProjection
from projections.security.users import UserQueries, UsersProjection
from projections.sites.sites import SiteQueries, SitesProjection
from projections.sync.sync import (
    QuarantineProjection,
    QuarantineQueries,
    SyncConflictQueries,
    SyncConflictsProjection,
    SyncRunQueries,
    SyncRunsProjection,
)
from projections.sync.sync_refusals import SyncRefusalQueries, SyncRefusalsProjection


def all_projections(views: OtherViews) -> list[Projection]:
    """Every view, in catch-up order (the views ``views`` reads come before their readers)."""
    return [
        PatientsProjection(),
        UsersProjection(),
        SitesProjection(),
        EncountersProjection(),
        AgendaDaysProjection(),
        AppointmentsProjection(),
        AdmissionsProjection(),
        # Orders, pharmacy and inventory.
        CatalogProjection(),
        PriceListsProjection(),
        WarehousesProjection(),
        StockProjection(),
        KardexProjection(views),
        OrdersProjection(),
        # Service vouchers and central billing.
        VouchersProjection(),
        InvoicesProjection(),
        InvoiceSeriesProjection(),
        # Sync history and conflicts.
        SyncRunsProjection(),
        SyncRefusalsProjection(),
        SyncConflictsProjection(),
        QuarantineProjection(),
        ActivityLogProjection(views),
    ]


class StoreLog(SiteLog, CentralLog, Protocol):
    """The store's log as sync reads it, a laptop's side and central's (adapters/sync/store_io.py)."""


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
        site_log: StoreLog,
        blocklist: PasswordBlocklist | None = None,
        signing_keys: SigningKeys | None = None,
    ) -> None:
        self.app = app
        self.storage = storage
        self.chain = chain
        other_views = ViewRows(lambda view: self.views.store(view))
        self.views = ProjectionRunner(app, storage, all_projections(other_views))
        self.core = Core(app, self.views, clock, host, hasher, blocklist)
        self.access = Access(self.core)
        self.policies = Policies(self.core, self.access)
        self.setup = Setup(self.core)
        self.auth = Auth(self.core, self.access, self.policies)
        self.dates = StoreClock(self.core)
        self.operations = Operations(self.core)
        patients = PatientQueries(self.views.store("patients"))
        users = UserQueries(self.views.store("users"))
        self.patients = Patients(self.core, patients, self.access, self.operations)
        self.users = Users(self.core, self.access, self.policies, users)
        self.locks = Locks(self.core, self.access)
        self.encounters = Encounters(
            self.core,
            self.access,
            self.operations,
            patients,
            EncounterQueries(self.views.store("encounters")),
            AdmissionQueries(self.views.store("admissions")),
        )
        # Orders, pharmacy and inventory: the catalog and the site's stock go into a laptop's slice.
        self.catalog = Catalog(
            self.core,
            self.access,
            self.operations,
            CatalogQueries(self.views.store("catalog"), self.views.store("price_lists")),
        )
        self.inventory = Inventory(
            self.core,
            self.access,
            self.operations,
            self.catalog,
            WarehouseQueries(self.views.store("warehouses")),
            StockQueries(self.views.store("stock")),
            KardexQueries(self.views.store("kardex")),
        )
        self.orders = Orders(
            self.core,
            self.access,
            self.operations,
            self.catalog,
            EncounterQueries(self.views.store("encounters")),
            OrderQueries(self.views.store("orders")),
        )
        self.pharmacy = Pharmacy(
            self.core, self.access, self.operations, self.catalog, self.inventory, self.orders
        )
        self.sites = Sites(
            self.core,
            self.access,
            self.operations,
            SiteQueries(self.views.store("sites")),
            patients,
            users,
            extra_slices=(self.catalog.slice_ids, self.inventory.slice_ids),
            history=site_log.aggregates_of_site,
            signing_keys=signing_keys,
        )
        # Clinical: contracts, charts (duplicates, merge), agendas and appointments, admissions.
        agenda = AgendaQueries(self.views.store("agenda_days"), self.views.store("appointments"))
        admissions = AdmissionQueries(self.views.store("admissions"))
        self.contracts = Contracts(self.core, self.access, self.operations, self.patients)
        self.charts = Charts(
            self.core,
            self.access,
            self.operations,
            self.patients,
            self.contracts,
            EncounterQueries(self.views.store("encounters")),
            agenda,
            admissions,
        )
        self.agendas = Agendas(self.core, self.access, self.operations, self.patients, agenda)
        self.admissions = Admissions(self.core, self.access, self.operations, self.patients, admissions)
        # Service vouchers (sites and central) and central billing.
        voucher_rows = VoucherQueries(self.views.store("vouchers"))
        self.vouchers = Vouchers(
            self.core,
            self.access,
            self.operations,
            self.catalog,
            EncounterQueries(self.views.store("encounters")),
            OrderQueries(self.views.store("orders")),
            voucher_rows,
        )
        self.invoicing = Invoicing(
            self.core,
            self.access,
            self.operations,
            self.vouchers,
            voucher_rows,
            InvoiceQueries(self.views.store("invoices")),
            InvoiceSeriesQueries(self.views.store("invoice_series")),
        )
        self.read_models = ReadModels(self.views, self.access)
        self.audit = Audit(self.core, self.access, self.views.store("activity_log"), chain, backups)
        # Sync: the laptop's side, and central's (the direct transport calls it in-process).
        runs = SyncRunQueries(self.views.store("sync_runs"))
        self.sync = SiteSync(
            self.core,
            self.access,
            self.operations,
            EncounterQueries(self.views.store("encounters")),
            admissions,
            site_log,
            runs,
            SyncRefusalQueries(self.views.store("sync_refusals")),
        )
        self.sync_central = CentralSync(
            self.core,
            self.access,
            self.sites,
            runs,
            SyncConflictQueries(self.views.store("sync_conflicts")),
            QuarantineQueries(self.views.store("sync_quarantine")),
            site_log,
        )

    def close(self) -> None:
        self.app.close()
        self.storage.close()

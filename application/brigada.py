"""The application as the CLI sees it: one object per store, its use cases as attributes."""

from __future__ import annotations

from application.access import Access
from application.admissions import Admissions
from application.agenda import Agendas
from application.app import BrigadaApplication
from application.audit import Audit, BackupWriter, ChainReader
from application.auth import Auth
from application.catalog import Catalog
from application.charts import Charts
from application.contracts import Contracts
from application.core import Core
from application.directory import StoreDirectory
from application.encounters import Encounters
from application.inventory import Inventory
from application.invoicing import Invoicing
from application.locks import Locks
from application.operations import Operations
from application.orders import Orders
from application.patients import Patients
from application.pharmacy import Pharmacy
from application.policy import Policies
from application.ports import Clock, HostInfo, PasswordBlocklist, PasswordHasher, SigningKeys, ViewStorage
from application.projection_runner import ProjectionRunner
from application.read_models import ReadModels
from application.setup import Setup
from application.sites import Sites
from application.store_clock import StoreClock
from application.sync import SiteLog, SiteSync
from application.sync_central import CentralSync
from application.users import Users
from application.vouchers import Vouchers
from projections.activity_log import ActivityLogProjection
from projections.admissions import AdmissionQueries, AdmissionsProjection
from projections.agenda import AgendaDaysProjection, AgendaQueries, AppointmentsProjection
from projections.base import Projection
from projections.catalog import CatalogProjection, CatalogQueries, PriceListsProjection
from projections.encounters import EncounterQueries, EncountersProjection
from projections.invoices import (
    InvoiceQueries,
    InvoiceSeriesProjection,
    InvoiceSeriesQueries,
    InvoicesProjection,
)
from projections.kardex import KardexProjection, KardexQueries
from projections.orders import OrderQueries, OrdersProjection
from projections.patients import PatientQueries, PatientsProjection
from projections.sites import SiteQueries, SitesProjection
from projections.stock import StockProjection, StockQueries
from projections.sync import (
    QuarantineProjection,
    QuarantineQueries,
    SyncConflictQueries,
    SyncConflictsProjection,
    SyncRunQueries,
    SyncRunsProjection,
)
from projections.sync_refusals import SyncRefusalQueries, SyncRefusalsProjection
from projections.users import UserQueries, UsersProjection
from projections.vouchers import VoucherQueries, VouchersProjection
from projections.warehouses import WarehouseQueries, WarehousesProjection


def all_projections(app: BrigadaApplication) -> list[Projection]:
    """Every view, in catch-up order."""
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
        KardexProjection(StoreDirectory(app)),
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
        ActivityLogProjection(StoreDirectory(app)),
    ]


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
        site_log: SiteLog,
        blocklist: PasswordBlocklist | None = None,
        signing_keys: SigningKeys | None = None,
    ) -> None:
        self.app = app
        self.storage = storage
        self.chain = chain
        self.views = ProjectionRunner(app, storage, all_projections(app))
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

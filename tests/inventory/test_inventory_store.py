"""Warehouses, entries and transfers on real stores: central and a provisioned laptop, with the
seed's rules for where stock may move in each mode; the provisioning slice; the stock and kardex
views; snapshots of long lots."""

from __future__ import annotations

from functools import partial

import pytest

from application.brigada import Brigada
from application.context import Actor
from application.pharmacy.catalog import NotInCatalog
from application.pharmacy.inventory import LotNotFound, WarehouseNotFound
from domain.errors import InvalidValue
from domain.pharmacy.catalog import CatalogItem, item_id
from domain.pharmacy.stock_lot import StockLot, lot_id
from domain.pharmacy.warehouse import Warehouse, warehouse_id
from domain.sites.site import Site, SiteMode, site_id
from domain.sites.site_policy import ON_SITE_RULE
from tests.support.inventory import (
    ACETAMINOPHEN,
    AMOXICILLIN,
    CENTRAL_WAREHOUSE,
    FIELD,
    FIELD_2,
    NURSE,
    NURSE_PASSWORD,
    OTHER_FIELD,
    Mission,
    OpenStore,
    on_hand,
    receive,
    refused,
    stocked_central,
    transfer,
)
from tests.support.security import head, log_in
from tests.support.sites import set_site_mode

CENTRAL_MSN = "Site BRG01 is on mission (MSN): central cannot transfer to or from its warehouses"
NEVER = "A disconnected environment may never do this: "


# -- central ------------------------------------------------------------------------------------
def test_central_receives_purchases_into_an_ordinary_warehouse_by_lot_and_expiry(
    open_store: OpenStore, store_url: str
) -> None:
    central, admin = stocked_central(open_store, store_url)
    line = receive(central, admin, ACETAMINOPHEN, "A1", "2026-12-31", 25)
    assert (line.warehouse, line.lot, line.expiry.isoformat(), line.on_hand) == (
        CENTRAL_WAREHOUSE,
        "A1",
        "2026-12-31",
        125,
    )
    assert on_hand(central, admin, CENTRAL_WAREHOUSE, ACETAMINOPHEN) == {"A1": 125, "B2": 200}
    stock = central.inventory.stock(admin, item=ACETAMINOPHEN)
    assert [(s.lot, s.name) for s in stock] == [("A1", "Acetaminofén"), ("B2", "Acetaminofén")]  # by expiry

    refused(
        central,
        lambda: receive(central, admin, ACETAMINOPHEN, "A1", "2026-12-31", 5, warehouse=FIELD),
        f"{FIELD} is a field warehouse of site BRG01: it receives stock by transfer only, never by an entry",
    )
    with pytest.raises(InvalidValue, match="lot A1 of 19943528-1 expires on 2026-12-31"):
        receive(central, admin, ACETAMINOPHEN, "A1", "2027-12-31", 5)
    with pytest.raises(NotInCatalog):
        receive(central, admin, "999-9", "A1", "2027-12-31", 5)
    with pytest.raises(WarehouseNotFound):
        receive(central, admin, ACETAMINOPHEN, "A1", "2026-12-31", 5, warehouse="NOPE")


def test_central_transfers_to_a_field_warehouse_by_lot_in_one_save_while_the_site_is_on_site(
    stocked: tuple[Brigada, Actor],
) -> None:
    central, admin = stocked
    before = head(central)
    number, sent_from, into = transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, ACETAMINOPHEN, "A1", 30)
    assert number == "CEN-1"
    assert (sent_from.on_hand, into.on_hand, into.expiry) == (70, 30, sent_from.expiry)
    # One save: the numbering, the sending lot's Sent, the new lot's Opened and Received.
    recorded = central.app.recorder.select_notifications(start=before + 1, limit=10)
    assert [n.topic for n in recorded] == [
        "brigada.NumberSeries.Started",
        "brigada.NumberSeries.Advanced",
        "brigada.StockLot.Sent",
        "brigada.StockLot.Opened",
        "brigada.StockLot.Received",
    ]
    kardex = central.inventory.kardex(admin, ACETAMINOPHEN, FIELD)
    assert [(k.movement, k.quantity, k.balance, k.reference) for k in kardex] == [
        ("transfer-in", 30, 30, "TRA CEN-1")
    ]

    # Back from the field warehouse while on site (leftovers after a mission), and between ordinary ones.
    transfer(central, admin, FIELD, CENTRAL_WAREHOUSE, ACETAMINOPHEN, "A1", 10)
    central.inventory.create_warehouse(admin, {"code": "CEN-BODEGA", "name": "Bodega central"})
    transfer(central, admin, CENTRAL_WAREHOUSE, "CEN-BODEGA", ACETAMINOPHEN, "B2", 5)
    assert on_hand(central, admin, FIELD, ACETAMINOPHEN) == {"A1": 20}
    assert on_hand(central, admin, "CEN-BODEGA", ACETAMINOPHEN) == {"B2": 5}


def test_central_refuses_transfers_to_or_from_a_field_warehouse_while_its_site_is_on_mission(
    stocked: tuple[Brigada, Actor],
) -> None:
    central, admin = stocked
    transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, ACETAMINOPHEN, "A1", 30)
    set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION)
    for source, target in ((CENTRAL_WAREHOUSE, FIELD), (FIELD, CENTRAL_WAREHOUSE), (FIELD, FIELD_2)):
        refused(
            central,
            partial(transfer, central, admin, source, target, ACETAMINOPHEN, "A1", 1),
            CENTRAL_MSN,
        )
    # Another site's warehouses and central's own are not under BRG01's lease.
    transfer(central, admin, CENTRAL_WAREHOUSE, OTHER_FIELD, ACETAMINOPHEN, "A1", 5)
    set_site_mode(central, admin, "BRG01", SiteMode.ON_SITE)
    transfer(central, admin, FIELD, CENTRAL_WAREHOUSE, ACETAMINOPHEN, "A1", 30)
    assert on_hand(central, admin, FIELD, ACETAMINOPHEN) == {}


def test_a_transfer_names_how_much_there_is_and_never_sends_expired_stock_to_the_field(
    stocked: tuple[Brigada, Actor], clock: object
) -> None:
    central, admin = stocked
    refused(
        central,
        lambda: transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, ACETAMINOPHEN, "A1", 101),
        f"{CENTRAL_WAREHOUSE} has 100 of {ACETAMINOPHEN} in lot A1; 101 asked",
    )
    receive(central, admin, AMOXICILLIN, "OLD", "2026-03-01", 10)
    clock.advance(days=1)  # type: ignore[attr-defined]
    refused(
        central,
        lambda: transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, AMOXICILLIN, "OLD", 1),
        f"lot OLD of {AMOXICILLIN} expired on 2026-03-01: it cannot be sent to a field warehouse",
    )
    with pytest.raises(LotNotFound):
        transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, AMOXICILLIN, "NOPE", 1)


def test_warehouses_are_created_on_central_and_a_field_one_is_listed_on_its_site(
    stocked: tuple[Brigada, Actor],
) -> None:
    central, admin = stocked
    created = central.inventory.create_warehouse(
        admin, {"code": "brg01-nevera", "name": "Nevera", "site": "brg01"}
    )
    assert (created.code, created.kind, created.site) == ("BRG01-NEVERA", "field", "BRG01")
    site = central.core.existing(Site, site_id("BRG01"))
    assert site.warehouses == [FIELD, FIELD_2, "BRG01-NEVERA"]  # the administrator's create listed it
    assert [(w.code, w.kind) for w in central.inventory.list_warehouses(admin)][:2] == [
        ("BRG01-BODEGA", "field"),
        ("BRG01-FARMACIA", "field"),
    ]
    refused(
        central,
        lambda: central.inventory.create_warehouse(admin, {"code": FIELD, "name": "Otra vez"}),
        f"warehouse {FIELD} already exists",
    )


def test_only_an_administrator_lists_a_new_field_warehouse_on_its_site(
    stocked: tuple[Brigada, Actor],
) -> None:
    central, admin = stocked
    ana = log_in(central, NURSE, NURSE_PASSWORD)  # every menu option, not an administrator
    refused(
        central,
        lambda: central.inventory.create_warehouse(
            ana, {"code": "BRG01-NEVERA", "name": "N", "site": "BRG01"}
        ),
        "only an administrator can administer sites",
    )
    central.sites.add_warehouse(admin, "BRG01", "BRG01-NEVERA")
    created = central.inventory.create_warehouse(ana, {"code": "BRG01-NEVERA", "name": "N", "site": "BRG01"})
    assert (created.kind, created.site) == ("field", "BRG01")


# -- the laptop ---------------------------------------------------------------------------------
def test_provisioning_gives_the_laptop_the_catalog_the_warehouses_and_its_own_field_stock(
    mission: Mission,
) -> None:
    laptop, ana = mission.laptop, mission.ana
    assert laptop.core.existing(CatalogItem, item_id(ACETAMINOPHEN)).name == "Acetaminofén"
    assert laptop.core.get(Warehouse, warehouse_id(CENTRAL_WAREHOUSE)) is not None
    assert on_hand(laptop, ana, FIELD, ACETAMINOPHEN) == {"A1": 30, "B2": 50}
    assert {line.warehouse for line in laptop.inventory.stock(ana)} == {FIELD}
    assert laptop.core.get(StockLot, lot_id(CENTRAL_WAREHOUSE, ACETAMINOPHEN, "A1")) is None
    # The lots' whole history came along: the kardex on the laptop shows central's transfers.
    assert [(k.movement, k.quantity, k.reference) for k in laptop.inventory.kardex(ana, AMOXICILLIN)] == [
        ("transfer-in", 20, "TRA CEN-3")
    ]


def test_on_mission_the_laptop_transfers_only_between_its_own_field_warehouses(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    number, _sent, into = transfer(laptop, ana, FIELD, FIELD_2, AMOXICILLIN, "X9", 5)
    assert (number, into.warehouse, into.on_hand) == ("BRG01-1", FIELD_2, 5)
    not_field = "inventory movements in warehouses not marked disconnected"
    for target in (CENTRAL_WAREHOUSE, OTHER_FIELD):
        refused(
            laptop,
            partial(transfer, laptop, ana, FIELD, target, AMOXICILLIN, "X9", 1),
            f"{NEVER}{not_field} ({target} is not a field warehouse of site BRG01)",
        )
    refused(
        laptop,
        lambda: transfer(laptop, ana, CENTRAL_WAREHOUSE, FIELD, AMOXICILLIN, "X9", 1),
        f"{NEVER}{not_field} ({CENTRAL_WAREHOUSE} is not a field warehouse of site BRG01)",
    )


def test_a_laptop_never_enters_stock_nor_changes_the_catalog_or_warehouses(mission: Mission) -> None:
    laptop, ana = mission.laptop, mission.ana
    refused(
        laptop,
        lambda: receive(laptop, ana, ACETAMINOPHEN, "A1", "2026-12-31", 1, warehouse=FIELD),
        f"{NEVER}inventory entries into field warehouses (only transfers)",
    )
    refused(
        laptop,
        lambda: receive(laptop, ana, ACETAMINOPHEN, "A1", "2026-12-31", 1),
        f"{NEVER}inventory movements in warehouses not marked disconnected",
    )
    configuration = f"{NEVER}configuration and parameters"
    item = {"kind": "supply", "code": "GASA", "name": "Gasa", "dispensing_unit": "unidad"}
    refused(laptop, lambda: laptop.catalog.add_item(ana, item), configuration)
    refused(
        laptop, lambda: laptop.catalog.add_service(ana, {"code": "890301", "name": "Control"}), configuration
    )
    price = {"payer_nit": "900123456", "contract": "C-1", "code": ACETAMINOPHEN, "unit_value": "100"}
    refused(laptop, lambda: laptop.catalog.set_price(ana, price), configuration)
    refused(
        laptop, lambda: laptop.inventory.create_warehouse(ana, {"code": "X-1", "name": "X"}), configuration
    )
    assert [row.code for row in laptop.catalog.listing(ana, services=False)][:1] == [ACETAMINOPHEN]


def test_on_site_the_laptop_refuses_transfers_and_a_disabled_action_is_refused_on_mission(
    mission: Mission,
) -> None:
    laptop, ana = mission.laptop, mission.ana
    mission.set_mode(SiteMode.ON_SITE)
    refused(laptop, lambda: transfer(laptop, ana, FIELD, FIELD_2, AMOXICILLIN, "X9", 1), ON_SITE_RULE)
    mission.set_mode(SiteMode.ON_MISSION)
    mission.central.sites.change_parameters(mission.admin, "BRG01", {"disable": ["field-transfers"]})
    laptop.sites.receive_site_record(mission.central)
    refused(
        laptop,
        lambda: transfer(laptop, ana, FIELD, FIELD_2, AMOXICILLIN, "X9", 1),
        "This site is not authorized for: Transfers of medicines and supplies to field warehouses",
    )


# -- views and loading --------------------------------------------------------------------------
def test_the_kardex_keeps_a_running_balance_per_warehouse_and_the_views_rebuild_the_same(
    stocked: tuple[Brigada, Actor],
) -> None:
    central, admin = stocked
    transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, ACETAMINOPHEN, "A1", 30)
    transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, ACETAMINOPHEN, "B2", 20)
    kardex = central.inventory.kardex(admin, ACETAMINOPHEN)
    assert [(k.warehouse, k.lot, k.movement, k.quantity, k.balance) for k in kardex] == [
        (CENTRAL_WAREHOUSE, "B2", "purchase", 200, 200),
        (CENTRAL_WAREHOUSE, "A1", "purchase", 100, 300),
        (CENTRAL_WAREHOUSE, "A1", "transfer-out", -30, 270),
        (FIELD, "A1", "transfer-in", 30, 30),
        (CENTRAL_WAREHOUSE, "B2", "transfer-out", -20, 250),
        (FIELD, "B2", "transfer-in", 20, 50),
    ]
    for name in ("stock", "kardex", "warehouses", "catalog", "price_lists"):
        incremental = central.views.store(name).all_rows()
        central.views.rebuild(name)
        assert central.views.store(name).all_rows() == incremental, name


def test_a_long_lot_is_snapshotted_so_loading_it_replays_few_events(stocked: tuple[Brigada, Actor]) -> None:
    central, admin = stocked
    lot = lot_id(CENTRAL_WAREHOUSE, ACETAMINOPHEN, "B2")
    for _ in range(120):  # saved one by one, as commands would (without the views: not what this is about)
        with central.core.acting_as(admin.username):
            stocked_lot = central.core.existing(StockLot, lot)
            stocked_lot.send(1, "TRA CEN-1")
            central.app.save(stocked_lot)
    snapshots = list(central.app.snapshots.get(lot, desc=True, limit=1))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [100]
    central.app.repository.cache = None  # load as a new process would (LRUCache.clear() keeps entries)
    loaded = central.core.existing(StockLot, lot)
    assert (loaded.version, loaded.on_hand, loaded.transferred_out) == (122, 80, 120)
    assert loaded.purchased - loaded.transferred_out == loaded.on_hand

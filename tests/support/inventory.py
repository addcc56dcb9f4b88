"""Inventory stores: the catalog, a stocked central, BRG01's laptop on mission, template stores
copied per test (the fixtures are in tests/inventory/conftest.py), refusals that record nothing."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock, Host
from application.brigada import Brigada
from application.context import Actor
from domain.security.sections import Section
from domain.sites.site import SiteMode
from tests.support.given_when_then import NOW
from tests.support.hashing import QuickArgon2Hasher
from tests.support.security import head, log_in, only_denials_since
from tests.support.sites import JOSE, set_site_mode, start_central

OpenStore = Callable[..., Brigada]

# The catalog every test starts from.
ACETAMINOPHEN = "19943528-1"  # tableta 500 mg
AMOXICILLIN = "20001234-2"  # cápsula 500 mg
SALINE = "SSN-500"  # a supply: bolsa de solución salina 500 mL
CONSULTATION = "890201"  # CUPS: first general-practice consultation
HEMOGRAM = "902210"  # CUPS: hemograma (clinical laboratory: never requested on a laptop)
CHEST_XRAY = "871121"  # CUPS: radiografía de tórax (imaging: an on-demand diagnostic service)
SUTURE = "869500"  # CUPS: a minor procedure
MEDICINES = [
    {
        "kind": "medicine",
        "code": ACETAMINOPHEN,
        "name": "Acetaminofén",
        "form": "tableta",
        "concentration": "500 mg",
        "dispensing_unit": "tableta",
        "marketing_auth": "INVIMA 2015M-0016097",
    },
    {
        "kind": "medicine",
        "code": AMOXICILLIN,
        "name": "Amoxicilina",
        "form": "cápsula",
        "concentration": "500 mg",
        "dispensing_unit": "cápsula",
        "marketing_auth": "INVIMA 2019M-0012345",
    },
    {"kind": "supply", "code": SALINE, "name": "Solución salina 0,9 % 500 mL", "dispensing_unit": "bolsa"},
]
SERVICES = {
    CONSULTATION: "Consulta de primera vez por medicina general",
    HEMOGRAM: "Hemograma",
    CHEST_XRAY: "Radiografía de tórax",
    SUTURE: "Sutura",
}

CENTRAL_WAREHOUSE = "CEN-FARMACIA"
FIELD = "BRG01-FARMACIA"
FIELD_2 = "BRG01-BODEGA"
OTHER_FIELD = "OTHER-FARMACIA"
NURSE = "ana"
NURSE_PASSWORD = "lluvia-sobre-el-rio-cauca"
# ana works on the laptop: every menu option, every visit section (never an administrator).


def stock_catalog(central: Brigada, admin: Actor) -> None:
    for item in MEDICINES:
        central.catalog.add_item(admin, item)
    for code, name in SERVICES.items():
        central.catalog.add_service(admin, {"code": code, "name": name})


def receive(
    brigada: Brigada,
    actor: Actor,
    item: str,
    lot: str,
    expiry: str,
    quantity: int,
    warehouse: str = CENTRAL_WAREHOUSE,
) -> Any:
    return brigada.inventory.receive(
        actor, {"warehouse": warehouse, "item": item, "lot": lot, "expiry": expiry, "quantity": quantity}
    )


def transfer(
    brigada: Brigada, actor: Actor, source: str, target: str, item: str, lot: str, quantity: int
) -> Any:
    data = {"source": source, "target": target, "item": item, "lot": lot, "quantity": quantity}
    return brigada.inventory.transfer(actor, data)


def on_hand(brigada: Brigada, actor: Actor, warehouse: str, item: str) -> dict[str, int]:
    """Lot -> units on hand of an item in a warehouse, from the stock view."""
    return {line.lot: line.on_hand for line in brigada.inventory.stock(actor, warehouse, item)}


def stocked_central(open_store: OpenStore, url: str) -> tuple[Brigada, Actor]:
    """Central with the catalog, warehouse CEN-FARMACIA holding acetaminophen in two lots (A1
    expiring first, then B2), amoxicillin and saline; site BRG01 (two field warehouses) and site
    OTHER registered with their field warehouses created; user ana (all options and sections)."""
    central, admin = start_central(open_store, url)
    stock_catalog(central, admin)
    central.inventory.create_warehouse(admin, {"code": CENTRAL_WAREHOUSE, "name": "Farmacia central"})
    central.sites.register(admin, {"code": "BRG01", "name": "Brigada río Magdalena", "warehouses": [FIELD]})
    central.sites.register(admin, {"code": "OTHER", "name": "Otra brigada", "warehouses": [OTHER_FIELD]})
    central.inventory.create_warehouse(admin, {"code": FIELD, "name": "Farmacia de brigada", "site": "BRG01"})
    central.inventory.create_warehouse(admin, {"code": FIELD_2, "name": "Bodega de brigada", "site": "BRG01"})
    central.inventory.create_warehouse(admin, {"code": OTHER_FIELD, "name": "Otra farmacia", "site": "OTHER"})
    receive(central, admin, ACETAMINOPHEN, "B2", "2027-06-30", 200)
    receive(central, admin, ACETAMINOPHEN, "A1", "2026-12-31", 100)
    receive(central, admin, AMOXICILLIN, "X9", "2027-01-31", 60)
    receive(central, admin, SALINE, "S1", "2028-01-31", 40)
    central.users.create(admin, {"username": NURSE, "full_name": "Ana"}, NURSE_PASSWORD)
    central.users.change_access(admin, NURSE, grant=_all_options(), revoke=[])
    central.users.change_sections(admin, NURSE, [s.value for s in Section], [])
    return central, admin


def _all_options() -> list[str]:
    from domain.security import menu

    return sorted(o.id for o in menu.MENU if o.parent is None)


@dataclass
class Mission:
    """Central stocked (stocked_central), BRG01's field warehouse stocked before the mission (A1:
    30, B2: 50 of acetaminophen; X9: 20 of amoxicillin; S1: 10 saline), the laptop provisioned and
    on mission, ana logged in there, patient JOSE (CEN-1) registered on central."""

    central: Brigada
    admin: Actor
    laptop: Brigada
    laptop_url: str
    central_url: str
    ana: Actor  # on the laptop

    def set_mode(self, mode: SiteMode) -> None:
        set_site_mode(self.central, self.admin, "BRG01", mode)
        self.laptop.sites.receive_site_record(self.central)

    def visit(self, kind: str = "outpatient", chart: str = "CEN-1") -> str:
        """A visit on the laptop; an ambulatory one under the patient's ambulatory admission."""
        if kind == "ambulatory" and not self.laptop.admissions.queries.open_for_patient(
            uuid.UUID(self.laptop.patients.current(chart).patient_id)
        ):
            self.laptop.admissions.admit(self.ana, {"chart_number": chart})
        return self.laptop.encounters.open(self.ana, {"chart_number": chart, "kind": kind}).number


def start_mission(open_store: OpenStore, central_url: str, tmp_path: Path) -> Mission:
    central, admin = stocked_central(open_store, central_url)
    central.patients.register(admin, JOSE)
    for item, lot, quantity in (
        (ACETAMINOPHEN, "A1", 30),
        (ACETAMINOPHEN, "B2", 50),
        (AMOXICILLIN, "X9", 20),
    ):
        transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, item, lot, quantity)
    transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, SALINE, "S1", 10)
    laptop_url = f"sqlite:///{tmp_path}/brg01.db"
    laptop = open_store(laptop_url)
    central.sites.provision(admin, "BRG01", laptop, "brg01.db")
    set_site_mode(central, admin, "BRG01", SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(central)
    ana = log_in(laptop, NURSE, NURSE_PASSWORD)
    return Mission(central, admin, laptop, laptop_url, central_url, ana)


@dataclass(frozen=True)
class Templates:
    """Template stores built once per session: a stocked central, and central plus BRG01's
    laptop on mission. Each test opens its own copies."""

    folder: Path
    admin: Actor
    ana: Actor

    @staticmethod
    def _copy(source: Path, target: Path) -> str:
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
        return f"sqlite:///{target}"

    def central(self, open_store: OpenStore, tmp_path: Path) -> tuple[Brigada, Actor]:
        url = self._copy(self.folder / "stocked.db", tmp_path / "central.db")
        return open_store(url, create=False), self.admin

    def mission(self, open_store: OpenStore, tmp_path: Path) -> Mission:
        central_url = self._copy(self.folder / "central.db", tmp_path / "central.db")
        laptop_url = self._copy(self.folder / "brg01.db", tmp_path / "brg01.db")
        central, laptop = open_store(central_url, create=False), open_store(laptop_url, create=False)
        return Mission(central, self.admin, laptop, laptop_url, central_url, self.ana)


@contextmanager
def template_stores() -> Iterator[OpenStore]:
    """An opener with tests/conftest.py's clock and host; every store it opened is closed on
    leaving, so the files are complete and can be copied as templates."""
    clock, host = FixedClock(NOW), Host(computer="test-pc", ip_octet=7)
    opened: list[Brigada] = []

    def open_store(url: str, *, create: bool = True) -> Brigada:
        opened.append(open_brigada(url, create=create, clock=clock, host=host, hasher=QuickArgon2Hasher()))
        return opened[-1]

    try:
        yield open_store
    finally:
        for brigada in opened:
            brigada.close()


def build_templates(folder: Path) -> Templates:
    """Run the setups once and close the stores, so their files can be copied."""
    with template_stores() as open_store:
        _central, admin = stocked_central(open_store, f"sqlite:///{folder / 'stocked.db'}")
        mission = start_mission(open_store, f"sqlite:///{folder / 'central.db'}", folder)
    return Templates(folder, admin, mission.ana)


def refused(brigada: Brigada, command: Callable[[], Any], message: str, *stores: Brigada) -> None:
    """``command`` is refused by a rule (exit code 1) with ``message``, and no store records
    anything but the refused attempt itself (issue 17: an "Acceso - Denegado" access record)."""
    from cli.exit_codes import Exit
    from cli.main import exit_code
    from domain.errors import DomainError

    watched = [brigada, *stores]
    before = [head(store) for store in watched]
    try:
        command()
    except DomainError as error:
        assert str(error) == message
        assert exit_code(error) is Exit.REFUSED, type(error)
    else:
        raise AssertionError(f"not refused: {message}")
    for store, start in zip(watched, before, strict=True):
        assert only_denials_since(store, start), "a refused command wrote events"

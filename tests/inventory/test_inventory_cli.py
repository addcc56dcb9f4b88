"""The catalog, warehouse, inventory, order and pharmacy commands end to end through click:
central stocks a site's field warehouse while it is on site, provisions the laptop, and the laptop
on mission prescribes, dispenses (FEFO), requests, administers and returns; refusals are one line
with exit code 1, bad input exit code 2, unknown things exit code 3."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.bootstrap import open_brigada
from cli.main import cli
from domain.security import menu
from tests.support.cli import Terminal, one_line
from tests.support.clinical import patient_options
from tests.support.hashing import QuickArgon2Hasher
from tests.support.inventory import ACETAMINOPHEN, FIELD, NURSE, NURSE_PASSWORD, SALINE
from tests.support.security import ADMIN_PASSWORD, central_address, head
from tests.support.sites import JOSE

pytestmark = pytest.mark.store

CENTRAL_WH = "CEN-FARMACIA"
# The commands read the system clock: dates are relative to today.
TODAY = datetime.now().astimezone().date()
A1, B2, S1 = (str(TODAY + timedelta(days=days)) for days in (40, 400, 700))
PATIENT = patient_options(JOSE)
NEW_VERBS: dict[str, list[tuple[str, ...]]] = {
    "catalog": [
        ("item", "add"),
        ("item", "list"),
        ("item", "show"),
        ("service", "add"),
        ("price", "set"),
    ],
    "warehouse": [("create",), ("list",)],
    "inventory": [("receive",), ("transfer",), ("stock",), ("kardex",)],
    "prescription": [("add",), ("list",), ("show",)],
    "order": [("add",), ("list",)],
    "diagnostic": [("request",), ("result",), ("list",), ("show",)],
    "surgery": [("link",), ("list",)],
    "pharmacy": [("request",), ("dispense",), ("administer",), ("return",), ("list",), ("show",)],
}
NEW_COMMANDS = [(group, *verb) for group, verbs in NEW_VERBS.items() for verb in verbs]


def events(url: str) -> int:
    brigada = open_brigada(url, hasher=QuickArgon2Hasher())
    try:
        return head(brigada)
    finally:
        brigada.close()


def receive(warehouse: str, item: str, lot: str, expiry: str, quantity: int) -> list[str]:
    where = ["--warehouse", warehouse, "--item", item, "--lot", lot]
    return ["inventory", "receive", *where, "--expiry", expiry, "--quantity", str(quantity)]


def transfer(source: str, target: str, item: str, lot: str, quantity: int) -> list[str]:
    where = ["--from", source, "--to", target, "--item", item, "--lot", lot]
    return ["inventory", "transfer", *where, "--quantity", str(quantity)]


@pytest.fixture
def central(tmp_path: Path) -> Terminal:
    """Central with its administrator logged in, the catalog, warehouse CEN-FARMACIA stocked, site
    BRG01 with field warehouse BRG01-FARMACIA, nurse ana and patient CEN-1."""
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run.log_in("admin", ADMIN_PASSWORD)
    details = ["--form", "tableta", "--concentration", "500 mg", "--unit", "tableta"]
    added = run.json(
        "catalog", "item", "add", ACETAMINOPHEN, "--name", "Acetaminofén", *details, "--invima", "X-1"
    )
    assert added[0]["code"] == ACETAMINOPHEN
    run("catalog", "item", "add", SALINE, "--kind", "supply", "--name", "Solución salina", "--unit", "bolsa")
    run("catalog", "service", "add", "890201", "--name", "Consulta de primera vez por medicina general")
    run("catalog", "service", "add", "902210", "--name", "Hemograma")
    run("catalog", "service", "add", "871121", "--name", "Radiografía de tórax")
    run("warehouse", "create", CENTRAL_WH, "--name", "Farmacia central")
    run("site", "register", "BRG01", "--name", "Brigada río Magdalena", "--warehouse", FIELD)
    field = run.json("warehouse", "create", FIELD, "--name", "Farmacia de brigada", "--site", "BRG01")
    assert (field[0]["kind"], field[0]["site"]) == ("field", "BRG01")
    run(*receive(CENTRAL_WH, ACETAMINOPHEN, "B2", B2, 200), "--reference", "FAC-77")
    run(*receive(CENTRAL_WH, ACETAMINOPHEN, "A1", A1, 100))
    run(*receive(CENTRAL_WH, SALINE, "S1", S1, 50))
    run("user", "create", NURSE, "--full-name", "Ana", "--password-stdin", input=f"{NURSE_PASSWORD}\n")
    groups = [o.id for o in menu.MENU if o.parent is None]
    run("user", "access", NURSE, *[arg for g in groups for arg in ("--grant", g)])
    run("user", "sections", NURSE, *[arg for s in ("visit", "services", "history") for arg in ("--allow", s)])
    run("patient", "register", *PATIENT)
    return run


def test_the_catalog_and_prices_on_central(central: Terminal) -> None:
    items = central.json("catalog", "item", "list")
    assert [(i["code"], i["kind"], i["dispensing_unit"]) for i in items] == [
        (ACETAMINOPHEN, "medicine", "tableta"),
        (SALINE, "supply", "bolsa"),
    ]
    assert central.json("catalog", "item", "show", ACETAMINOPHEN)["marketing_auth"] == "X-1"
    assert [s["code"] for s in central.json("catalog", "service", "list")] == ["871121", "890201", "902210"]
    central("catalog", "price", "set", "--payer", "900123456", "--contract", "c-1", "890201", "35000.50")
    prices = central.json("catalog", "price", "list", "--payer", "900123456")
    assert prices == [
        {"payer_nit": "900123456", "contract": "C-1", "code": "890201", "unit_value": "35000.50"}
    ]
    twice = central("catalog", "service", "add", "890201", "--name", "X", code=1)
    assert (
        one_line(twice) == "890201 is already in the catalog (Consulta de primera vez por medicina general)"
    )
    short = central("catalog", "service", "add", "8902", "--name", "X", code=2)
    assert one_line(short) == "CUPS: must be a CUPS code of 6 digits"
    unknown = central(
        "catalog", "price", "set", "--payer", "900123456", "--contract", "C-1", "999999", "1", code=3
    )
    assert one_line(unknown) == "999999 is not in the catalog"


def test_central_stocks_the_field_warehouse_and_the_laptop_works_the_medication_chain(
    central: Terminal, tmp_path: Path
) -> None:
    stock = central.json("inventory", "stock", "--warehouse", CENTRAL_WH, "--item", ACETAMINOPHEN)
    assert [(s["lot"], s["expiry"], s["on_hand"]) for s in stock] == [("A1", A1, 100), ("B2", B2, 200)]

    # Refusals: one line, the rule named, nothing written.
    before = events(central.url)
    entry = central(*receive(FIELD, ACETAMINOPHEN, "A1", A1, 5), code=1)
    assert one_line(entry) == (
        f"{FIELD} is a field warehouse of site BRG01: it receives stock by transfer only, never by an entry"
    )
    assert one_line(central(*receive(CENTRAL_WH, ACETAMINOPHEN, "A1", A1, 0), code=2)) == (
        "--quantity: must be at least 1"
    )
    missing = central(*transfer(CENTRAL_WH, FIELD, "1-1", "A1", 1), code=3)
    assert one_line(missing) == "1-1 is not in the catalog"
    assert events(central.url) == before

    # Transfers by lot while BRG01 is on site.
    central(*transfer(CENTRAL_WH, FIELD, ACETAMINOPHEN, "A1", 30))
    central(*transfer(CENTRAL_WH, FIELD, ACETAMINOPHEN, "B2", 50))
    sent = central.json(*transfer(CENTRAL_WH, FIELD, SALINE, "S1", 10))
    assert (sent["number"], sent["to"]["on_hand"]) == ("CEN-3", 10)
    kardex = central.json("inventory", "kardex", ACETAMINOPHEN, "--warehouse", FIELD)
    assert [(k["lot"], k["movement"], k["quantity"], k["balance"]) for k in kardex] == [
        ("A1", "transfer-in", 30, 30),
        ("B2", "transfer-in", 50, 80),
    ]
    # Central, with BRG01 on site (INS), only transfers to and from its field warehouse.
    visit = central.json("encounter", "open", "--patient", "CEN-1")["number"]
    regimen = ["--dose", "500 mg", "--frequency", "cada 8 horas", "--days", "1", "--quantity", "2"]
    ordered = central.json("prescription", "add", visit, "--item", ACETAMINOPHEN, *regimen)[0]["number"]
    before = events(central.url)
    dispense = ["pharmacy", "dispense", "--prescription", ordered, "--item", ACETAMINOPHEN]
    assert one_line(central(*dispense, "--warehouse", FIELD, code=1)) == (
        f"Central may only transfer medicines and supplies to and from {FIELD}, a field warehouse of "
        "site BRG01 (not: Pharmacy dispensing)"
    )
    assert events(central.url) == before

    # The laptop: provisioned with its stock, then on mission.
    laptop = Terminal(f"sqlite:///{tmp_path}/brg01.db")
    central("site", "provision", "BRG01", "--to", laptop.url, *central_address(tmp_path))
    central("site", "mode", "BRG01", "--set", "MSN")
    mission_central, mission_laptop = (
        open_brigada(central.url, hasher=QuickArgon2Hasher()),
        open_brigada(laptop.url, hasher=QuickArgon2Hasher()),
    )
    try:
        mission_laptop.sites.receive_site_record(mission_central)
    finally:
        mission_laptop.close()
        mission_central.close()
    refused = central(*transfer(CENTRAL_WH, FIELD, ACETAMINOPHEN, "A1", 1), code=1)
    assert (
        one_line(refused)
        == "Site BRG01 is on mission (MSN): central cannot transfer to or from its warehouses"
    )

    laptop.log_in(NURSE, NURSE_PASSWORD)
    visit = laptop.json("encounter", "open", "--patient", "CEN-1")["number"]
    regimen = ["--dose", "500 mg", "--frequency", "cada 8 horas", "--days", "5", "--quantity", "35"]
    number = laptop.json("prescription", "add", visit, "--item", ACETAMINOPHEN, *regimen)[0]["number"]
    dispensed = laptop.json("pharmacy", "dispense", "--prescription", number, "--item", ACETAMINOPHEN)
    assert [(m["lot"], m["quantity"]) for m in dispensed["movements"]] == [("A1", 30), ("B2", 5)]
    again = ["pharmacy", "dispense", "--prescription", number, "--item", ACETAMINOPHEN, "--quantity", "1"]
    assert one_line(laptop(*again, code=1)) == (
        f"{number}: 0 of {ACETAMINOPHEN} left to dispense (ordered 35, dispensed 35); 1 asked"
    )
    assert "dispensed" in laptop("prescription", "list").stdout

    laptop("admission", "admit", "--patient", "CEN-1")  # an ambulatory visit hangs from an admission
    ambulatory = laptop.json("encounter", "open", "--patient", "CEN-1", "--kind", "ambulatory")["number"]
    request = laptop.json("pharmacy", "request", ambulatory, "--line", f"{SALINE}:3")[0]["number"]
    laptop("pharmacy", "dispense", "--request", request, "--item", SALINE)
    applied = laptop.json("pharmacy", "administer", request, "--item", SALINE, "--quantity", "2")
    assert (applied["status"]["administered"], applied["status"]["in_hand"]) == (2, 1)
    over = laptop("pharmacy", "administer", request, "--item", SALINE, "--quantity", "2", code=1)
    assert one_line(over) == (
        f"{request}: 1 of {SALINE} from lot S1 dispensed and not yet administered or returned; 2 asked"
    )
    back = laptop("pharmacy", "return", "--request", request, "--item", SALINE, "--quantity", "1")
    assert f"{request}: 1 of {SALINE} returned to lot S1" in back.stderr
    shown = laptop.json("pharmacy", "show", "--request", request)
    assert [(s["dispensed"], s["administered"], s["returned"]) for s in shown] == [(3, 2, 1)]
    assert laptop.json("inventory", "stock", "--item", SALINE)[0]["on_hand"] == 8
    assert one_line(laptop(*receive(FIELD, SALINE, "S1", S1, 1), code=1)) == (
        "A disconnected environment may never do this: "
        "inventory entries into field warehouses (only transfers)"
    )
    assert "--line" in laptop("pharmacy", "request", ambulatory, "--line", "oops", code=2).stderr

    # Orders on the visit, with the result kept out of the tables.
    assert laptop.json("order", "add", visit, "--cups", "890201")[0]["state"] == "ordered"
    study = laptop.json("diagnostic", "request", visit, "--cups", "871121")[0]["number"]
    laptop("diagnostic", "result", study, "--text", "Campos pulmonares limpios")
    assert laptop.json("diagnostic", "show", study)["result"] == "Campos pulmonares limpios"
    assert "pulmonares" not in laptop("diagnostic", "list").stdout
    surgery = ["surgery", "link", ambulatory, "--cups", "902210", "--date", str(TODAY), "--surgeon"]
    assert laptop.json(*surgery, NURSE)[0]["visit_number"] == ambulatory
    assert one_line(laptop(*surgery, "nadie", code=3)) == "no user named nadie"


def test_help_of_every_new_command_renders(tmp_path: Path) -> None:
    runner = CliRunner()
    for command in NEW_COMMANDS:
        result = runner.invoke(cli, ["--lang", "en", *command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout, command


def test_the_demo_stocks_the_field_warehouse_and_runs_the_pharmacy(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["--lang", "en", "demo", "--dir", str(folder), "--patients", "3"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "2b. Central: catalog, prices, purchases into CEN-FARMACIA; 290 units sent by lot" in result.stderr
    assert "7b. Pharmacy: 2 prescriptions dispensed (36 units, earliest expiry first)" in result.stderr
    laptop = open_brigada(f"sqlite:///{folder / 'brg01.db'}", hasher=QuickArgon2Hasher())
    try:
        lots = {(r.item, r.lot): r.on_hand for r in laptop.inventory.stock_rows.lots(FIELD)}
        requests = laptop.orders.queries.listing("request")
    finally:
        laptop.close()
    # AC2407 expires first: the prescription (15) and the request (4, 1 returned) took from it.
    assert lots[(ACETAMINOPHEN, "AC2407")] == 60 - 15 - 4 + 1
    assert [(r.dispensed, r.administered, r.returned) for r in requests] == [(8, 6, 2)]

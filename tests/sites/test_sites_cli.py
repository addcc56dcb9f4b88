"""The site commands end to end through click: central registers, sets parameters and provisions
a laptop; the laptop shows its mode and refuses what INS forbids; central flips the mode and
revokes; and `brigada demo` runs a small mission."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.bootstrap import open_brigada
from application.setup import SOFTWARE_VERSION
from cli.main import cli
from domain.sites.site import SiteAction
from tests.support.cli import Terminal, one_line
from tests.support.clinical import patient_options
from tests.support.hashing import QuickArgon2Hasher
from tests.support.security import ADMIN_PASSWORD, ANA_PASSWORD, central_address
from tests.support.sites import PEDRO, Count

pytestmark = pytest.mark.store

PATIENT_OPTIONS = patient_options(PEDRO)
INS_RULE = "The environment is in INS mode (on site): only sync, queries and login are allowed here"


@pytest.fixture
def central(tmp_path: Path) -> Terminal:
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    return run


def test_site_commands_end_to_end(central: Terminal, tmp_path: Path, count_events: Count) -> None:
    registered = central(
        "site",
        "register",
        "BRG01",
        "--name",
        "Brigada río Magdalena",
        "--warehouse",
        "BRG01-FARMACIA",
        "--warehouse",
        "BRG01-BODEGA",
        "--action",
        "patients",
        "--action",
        "care",
    )
    assert "Site BRG01" in registered.stdout
    twice = central("site", "register", "BRG01", "--name", "Otra", code=1)
    assert one_line(twice) == "site BRG01 is already registered"
    central("site", "register", "BRG02", "--name", "Dos", "--action", "invoicing", code=2)
    central("site", "register", "brg02", "--name", "Dos", code=2)

    listed = central.json("site", "list")
    assert [(s["code"], s["mode"], s["actions"], s["warehouses"]) for s in listed] == [
        ("BRG01", "INS", "care patients", "BRG01-FARMACIA BRG01-BODEGA")
    ]
    text = central("site", "show", "BRG01").stdout
    for expected in ("Mode", "INS", "BRG01-FARMACIA BRG01-BODEGA", "Version", "✔ patients", "✘ appointments"):
        assert expected in text
    shown = central.json("site", "show", "BRG01")
    assert (shown["mode"], shown["actions"], shown["warehouses"]) == (
        "INS",
        ["care", "patients"],
        ["BRG01-FARMACIA", "BRG01-BODEGA"],
    )
    assert (shown["software_version"], shown["provisioned"], shown["revoked"]) == ("", False, False)
    assert central("site", "show", "NOPE", code=3).stderr.strip() == "no site with code NOPE"

    changed = central.json("site", "params", "BRG01", "--enable", "appointments", "--disable", "care")
    assert changed["actions"] == ["appointments", "patients"]
    before = count_events(central.url)
    central("site", "params", "BRG01", "--enable", "patients")
    assert count_events(central.url) == before  # nothing changed: no event
    central("site", "params", "BRG01", "--enable", "care", "--disable", "care", code=2)

    central("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    central("user", "access", "ana", "--grant", "patient", "--grant", "site.mode", "--grant", "site.show")

    # Provisioning the laptop, once.
    laptop = Terminal(f"sqlite:///{tmp_path}/brg01.db")
    provisioned = central("site", "provision", "BRG01", "--to", laptop.url, *central_address(tmp_path))
    assert f"Laptop store for BRG01 created at {laptop.url}" in provisioned.stderr
    assert "mode INS" in provisioned.stderr and "Copying" in provisioned.stderr
    events = count_events(laptop.url)
    again = central("site", "provision", "BRG01", "--to", laptop.url, *central_address(tmp_path), code=1)
    assert "already holds events" in one_line(again)
    assert count_events(laptop.url) == events
    shown = central.json("site", "show", "BRG01")
    assert (shown["provisioned"], shown["software_version"]) == (True, SOFTWARE_VERSION)

    # The laptop: INS, refusing work with one line naming the rule, and site administration.
    # Central's administrator is told why not (with the password, only), in the seed's words.
    events = count_events(laptop.url)
    admin = laptop("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n", code=1)
    assert one_line(admin) == "the administrator profile is disabled in disconnected environments"
    spanish = laptop.run_in("es", "login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n", code=1)
    assert one_line(spanish) == "el perfil administrador está deshabilitado en los entornos desconectados"
    guessed = laptop("login", "admin", "--password-stdin", input="not-the-admin-password\n", code=1)
    assert one_line(guessed) == "Incorrect login"
    assert count_events(laptop.url) == events + 3  # each attempt is a "Login incorrecto", nothing else
    laptop("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    assert laptop("site", "mode").stderr.strip() == "Site BRG01: mode INS (on site)"
    assert laptop.json("site", "mode") == {"site": "BRG01", "mode": "INS", "role": "site"}
    events = count_events(laptop.url)
    refused = laptop("patient", "register", *PATIENT_OPTIONS, code=1)
    assert one_line(refused) == INS_RULE
    assert refused.stdout == ""
    assert count_events(laptop.url) == events + 1  # only the refused attempt ("Acceso - Denegado")
    administer = laptop("site", "register", "BRG02", "--name", "Dos", code=1)
    assert "central server" in one_line(administer)

    # Central leases the site's data; the laptop records it (as its sync will) and works.
    on_mission = central.json("site", "mode", "BRG01", "--set", "MSN")
    assert on_mission["mode"] == "MSN"
    assert central("site", "mode", "BRG01").stderr.strip() == "Site BRG01: mode MSN (on mission)"
    mirror_site_record(central.url, laptop.url)
    assert laptop.json("site", "mode")["mode"] == "MSN"
    registered_there = laptop("patient", "register", *PATIENT_OPTIONS)
    assert "BRG01-1" in registered_there.stderr

    # Revoked: no more provisioning or parameter changes.
    revoked = central.json("site", "revoke", "BRG01")
    assert revoked["revoked"] is True
    second = Terminal(f"sqlite:///{tmp_path}/second.db")
    assert "revoked" in one_line(
        central("site", "provision", "BRG01", "--to", second.url, *central_address(tmp_path), code=1)
    )
    assert "revoked" in one_line(central("site", "params", "BRG01", "--enable", "care", code=1))
    assert count_events(second.url) == 0


def mirror_site_record(central_url: str, laptop_url: str) -> None:
    """What the sync will do for the mode: the laptop records central's newer site events."""
    central, laptop = (
        open_brigada(central_url, hasher=QuickArgon2Hasher()),
        open_brigada(laptop_url, hasher=QuickArgon2Hasher()),
    )
    try:
        assert laptop.sites.receive_site_record(central) == 1
    finally:
        laptop.close()
        central.close()


def test_a_user_without_site_options_sees_no_sites(central: Terminal) -> None:
    central("site", "register", "BRG01", "--name", "Uno")
    central("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    central("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")

    for args in (("site", "list"), ("site", "show", "BRG01"), ("site", "mode")):
        assert "you have no access to menu option site." in one_line(central(*args, code=1))
    refused = central("site", "register", "BRG02", "--name", "Dos", code=1)
    assert one_line(refused).startswith("only an administrator")


def test_the_site_help_lists_every_action(central: Terminal) -> None:
    help_text = central("site", "register", "--help").stdout
    assert all(action.value in help_text for action in SiteAction)


def test_demo_runs_a_small_mission(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["--lang", "en", "demo", "--dir", str(folder), "--patients", "2"])

    assert result.exit_code == 0, (result.stdout, result.stderr)
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "brg01.backup-" + names[0].removeprefix("brg01.backup-")  # before the rebuild
    assert names[1:] == ["brg01.db", "central.db", "tls"]  # tls: brigada serve's certificate
    assert "brigada serve runs for the laptops at https://127.0.0.1:" in result.stderr
    assert "BRG01-1" in result.stdout and "BRG01-2" in result.stdout
    assert "Laptop of site BRG01 provisioned" in result.stderr
    # The whole mission: start-of-mission sync, a refused sync, the end-of-mission sync, invoices.
    said = result.stderr.splitlines()
    assert said.count("Sync completed successfully") == 2
    assert "New operating mode: MSN (on mission)" in said and "New operating mode: INS (on site)" in said
    assert "   Refused: encounters not finalized at BRG01: BRG01-2; finalize them before syncing" in said
    assert "9. Central: the 3 vouchers merged from the laptop become invoices FE-1 to FE-3" in said
    assert result.stdout.count("Visit - Finalize") == 3  # two consultations and the ambulatory visit
    again = CliRunner().invoke(cli, ["--lang", "en", "demo", "--dir", str(folder), "--patients", "1"])
    assert again.exit_code == 2

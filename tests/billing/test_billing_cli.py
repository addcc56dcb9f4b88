"""brigada voucher and invoice end to end through the CLI (CliRunner on cli.main.cli)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result
from pypdf import PdfReader

from cli.main import cli
from tests.support.billing import (
    APPENDECTOMY,
    CONSULTATION,
    CONTRACT,
    PAYER,
    UNPRICED,
    add_series,
    back_on_site,
    billing_central,
    finalized_visit,
    insured_patient,
    laptop_on_mission,
)
from tests.support.cli import cli_log_in, computer_today
from tests.support.security import ADMIN_PASSWORD


def test_vouchers_and_invoices_from_the_command_line(open_store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/central.db"
    brigada, admin = billing_central(open_store, url)
    visit = finalized_visit(brigada, admin, insured_patient(brigada, admin), ((CONSULTATION, 2),))
    brigada.close()
    run_admin = cli_runner(url)

    def run(*args: str, code: int = 0) -> str:
        return run_admin(*args, code=code).stdout

    issued = json.loads(run("voucher", "issue", "--encounter", visit, "--json"))
    assert issued[0]["number"] == "CEN-1" and issued[0]["total"] == "70000.00"
    run("voucher", "issue", "--encounter", visit, code=1)
    assert json.loads(run("voucher", "show", "CEN-1", "--json"))["lines"][0]["quantity"] == 2
    run("voucher", "print", "CEN-1", "--out", str(tmp_path / "v.pdf"))
    assert (tmp_path / "v.pdf").read_bytes().startswith(b"%PDF")
    printed = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(tmp_path / "v.pdf").pages)
    assert "I10X Hipertensión esencial (primaria) (principal 02)" in printed  # each code with its name
    assert "E119 Diabetes mellitus no insulinodependiente" in printed

    run("invoice", "from-vouchers", code=1)  # no series yet
    run(
        "invoice",
        "series",
        "add",
        "--prefix",
        "FE",
        "--from",
        "1",
        "--to",
        "5000",
        "--valid-from",
        "2026-01-01",
        "--valid-to",
        "2026-12-31",
    )
    assert json.loads(run("invoice", "series", "list", "--json"))[0]["next_number"] == 1
    invoices = json.loads(run("invoice", "from-vouchers", "--payer", "900123456", "--json"))
    assert [(i["number"], i["total"]) for i in invoices] == [("FE-1", "70000.00")]
    assert json.loads(run("invoice", "show", "FE-1", "--json"))["voucher_numbers"] == ["CEN-1"]
    run(
        "invoice",
        "rips",
        "FE-1",
        "--out",
        str(tmp_path / "rips.json"),
        "--provider-nit",
        "900999888",
        "--provider-code",
        "190010000001",
    )
    rips = json.loads((tmp_path / "rips.json").read_text())
    assert (
        rips["numFactura"] == "FE1"
        and rips["usuarios"][0]["servicios"]["consultas"][0]["vrServicio"] == 70000
    )
    run("invoice", "print", "FE-1", "--out", str(tmp_path / "f.pdf"))
    rectified = json.loads(run("invoice", "rectify", "FE-1", "--reason", "tariff", "--json"))
    assert rectified[0]["note_number"] == "FE-2"
    assert json.loads(run("voucher", "list", "--json"))[0]["state"] == "issued"
    run("voucher", "void", "CEN-1", "--reason", "re-issue")
    run("invoice", "show", "FE-404", code=3)
    assert "FRA=FE-1" in run("audit", "search", "--action", "invoice.issue")


def cli_runner(url: str) -> Callable[..., Result]:
    """`brigada --store URL ARGS` as the logged-in administrator: its result, exit code checked.
    The store was made on the tests' clock, the CLI runs on the computer's: the administrator
    confirms the computer's date first."""
    runner = CliRunner()
    cli_log_in(runner, url, "admin", ADMIN_PASSWORD)
    confirmed = runner.invoke(cli, ["--store", url, "date", "confirm", computer_today()])
    assert confirmed.exit_code == 0, confirmed.output

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, ["--store", url, *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_a_service_without_a_price_is_vouchered_sin_tarifa_and_invoiced_once_priced(
    open_store, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/central.db"
    brigada, admin = billing_central(open_store, url)
    visit = finalized_visit(
        brigada, admin, insured_patient(brigada, admin), ((CONSULTATION, 1), (UNPRICED, 1))
    )
    add_series(brigada, admin)
    brigada.close()
    run = cli_runner(url)

    issued = run("voucher", "issue", "--encounter", visit).output
    assert "Voucher CEN-1 issued" in issued and f"Lines without tariff: {UNPRICED}" in issued
    assert "no tariff" in run("voucher", "show", "CEN-1").output
    refused = run("invoice", "from-vouchers", code=1).output
    assert f"voucher CEN-1, line 2 ({UNPRICED}) has no tariff" in refused
    assert json.loads(run("invoice", "list", "--json").stdout) == []

    run("catalog", "price", "set", "--payer", PAYER, "--contract", CONTRACT, UNPRICED, "20000")
    invoices = json.loads(run("invoice", "from-vouchers", "--json").stdout)

    assert [(i["number"], i["voucher_numbers"], i["total"]) for i in invoices] == [
        ("FE-1", "CEN-1", "55000.00")
    ]
    [line] = [
        x
        for x in json.loads(run("voucher", "show", "CEN-1", "--json").stdout)["lines"]
        if x["code"] == UNPRICED
    ]
    assert (line["priced"], line["total"]) == (True, "20000")


def test_central_vouchers_a_sites_visit_and_invoices_it_by_site(open_store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/central.db"
    brigada, admin = billing_central(open_store, url)
    chart = insured_patient(brigada, admin)
    laptop, ana = laptop_on_mission(brigada, admin, open_store, tmp_path)
    visit = finalized_visit(laptop, ana, chart, surgeries=(APPENDECTOMY,))
    back_on_site(brigada, admin, laptop, visit)
    add_series(brigada, admin)
    brigada.close()
    run = cli_runner(url)

    [voucher] = json.loads(run("voucher", "issue", "--encounter", visit, "--json").stdout)
    assert (voucher["number"], voucher["site"], voucher["total"]) == ("CEN-1", "BRG01", "885000.00")
    invoices = json.loads(run("invoice", "from-vouchers", "--site", "BRG01", "--json").stdout)

    assert [(i["voucher_numbers"], i["visit_numbers"]) for i in invoices] == [("CEN-1", visit)]

"""brigada voucher and invoice end to end through the CLI (CliRunner on cli.main.cli)."""

from __future__ import annotations

import json
from pathlib import Path

from billing_support import (
    ADMIN_PASSWORD,
    CONSULTATION,
    billing_central,
    finalized_visit,
    insured_patient,
)
from click.testing import CliRunner

from cli.main import cli


def test_vouchers_and_invoices_from_the_command_line(open_store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/central.db"
    brigada, admin = billing_central(open_store, url)
    visit = finalized_visit(brigada, admin, insured_patient(brigada, admin), ((CONSULTATION, 2),))
    brigada.close()
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, ["--store", url, *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.stdout

    login = runner.invoke(
        cli, ["--store", url, "login", "admin", "--password-stdin"], input=ADMIN_PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output

    issued = json.loads(run("voucher", "issue", "--encounter", visit, "--json"))
    assert issued[0]["number"] == "CEN-1" and issued[0]["total"] == "70000.00"
    run("voucher", "issue", "--encounter", visit, code=1)
    assert json.loads(run("voucher", "show", "CEN-1", "--json"))["lines"][0]["quantity"] == 2
    run("voucher", "print", "CEN-1", "--out", str(tmp_path / "v.pdf"))
    assert (tmp_path / "v.pdf").read_bytes().startswith(b"%PDF")

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

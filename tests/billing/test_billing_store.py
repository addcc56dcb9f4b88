"""Vouchers and central billing through the application, on a real store."""

from __future__ import annotations

from decimal import Decimal

import pytest
from billing_support import (
    CONSULTATION,
    HEMOGRAM,
    JOSE,
    MARIA,
    UNPRICED,
    add_series,
    billing_central,
    comments,
    finalized_visit,
    insured_patient,
)
from sites_support import ANA_PASSWORD

from application.brigada import Brigada
from application.context import Actor
from domain import menu
from domain.errors import DomainError
from domain.invoice_series import NoSeriesInForce, SeriesExhausted
from domain.service_voucher import AlreadyVouchered, NoPrice, NotFinalized, VoucherClosed
from domain.site import SiteMode
from domain.site_policy import OperationRefused


@pytest.fixture
def central(open_store, sqlite_url: str) -> tuple[Brigada, Actor]:
    return billing_central(open_store, sqlite_url)


def test_a_voucher_snapshots_the_visit_the_contract_and_the_tariff(central) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)
    visit = finalized_visit(brigada, admin, chart, ((CONSULTATION, 1), (HEMOGRAM, 2)))

    row = brigada.vouchers.issue(admin, {"encounter": visit})

    assert (row.number, row.visit_number, row.state, row.site) == ("CEN-1", visit, "issued", "CEN")
    view = brigada.vouchers.show(admin, row.number)
    assert [(line["kind"], line["code"], line["quantity"], line["total"]) for line in view.lines] == [
        ("consulta", CONSULTATION, 1, "35000"),
        ("procedimiento", HEMOGRAM, 2, "25001.00"),
    ]
    assert row.total == Decimal("60001.00") and view.payer_nit == "900123456"
    assert view.diagnoses == ["I10X principal 02", "E119 related 02"]
    # a later price change does not touch the voucher (a snapshot, not a reference)
    brigada.catalog.set_price(
        admin, {"payer_nit": "900123456", "contract": "EVT-2026", "code": CONSULTATION, "unit_value": "1"}
    )
    assert brigada.vouchers.show(admin, row.number).total == "60001.00"


def test_a_voucher_is_refused_for_an_open_visit_twice_or_without_a_price(central) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)
    open_visit = brigada.encounters.open(admin, {"chart_number": chart}).number
    with pytest.raises(NotFinalized):
        brigada.vouchers.issue(admin, {"encounter": open_visit})
    unpriced = finalized_visit(brigada, admin, chart, ((CONSULTATION, 1), (UNPRICED, 1)))
    with pytest.raises(NoPrice, match=UNPRICED):
        brigada.vouchers.issue(admin, {"encounter": unpriced})
    visit = finalized_visit(brigada, admin, chart)
    first = brigada.vouchers.issue(admin, {"encounter": visit})
    with pytest.raises(AlreadyVouchered):
        brigada.vouchers.issue(admin, {"encounter": visit})
    brigada.vouchers.void(admin, first.number, {"reason": "wrong contract"})
    second = brigada.vouchers.issue(admin, {"encounter": visit})
    assert [r.state for r in brigada.vouchers.listing(admin)] == ["voided", "issued"]
    assert second.number == "CEN-2"


def test_invoicing_numbers_consecutively_links_the_voucher_and_skips_voided_ones(central) -> None:
    brigada, admin = central
    add_series(brigada, admin, "FE", 1, 2)
    vouchers = []
    for details in (JOSE, MARIA):
        chart = insured_patient(brigada, admin, details)
        vouchers.append(brigada.vouchers.issue(admin, {"encounter": finalized_visit(brigada, admin, chart)}))
    extra = insured_patient(brigada, admin, {**JOSE, "document_number": "1032456000"})
    voided = brigada.vouchers.issue(admin, {"encounter": finalized_visit(brigada, admin, extra)})
    brigada.vouchers.void(admin, voided.number, {"reason": "duplicated"})

    invoices = brigada.invoicing.from_vouchers(admin, {})

    assert [(i.number, i.voucher_numbers, i.total) for i in invoices] == [
        ("FE-1", vouchers[0].number, Decimal("35000")),
        ("FE-2", vouchers[1].number, Decimal("35000")),
    ]
    assert {r.number: (r.state, r.invoice_number) for r in brigada.vouchers.listing(admin)} == {
        vouchers[0].number: ("invoiced", "FE-1"),
        vouchers[1].number: ("invoiced", "FE-2"),
        voided.number: ("voided", ""),
    }
    assert brigada.invoicing.from_vouchers(admin, {}) == []  # nothing left: invoiced at most once
    with pytest.raises(VoucherClosed):
        brigada.vouchers.void(admin, vouchers[0].number, {"reason": "too late"})


def test_an_exhausted_or_expired_series_is_refused_with_a_clear_message(central, clock) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)
    brigada.vouchers.issue(admin, {"encounter": finalized_visit(brigada, admin, chart)})
    with pytest.raises(NoSeriesInForce, match="no invoice series can number on 2026-03-01"):
        brigada.invoicing.from_vouchers(admin, {})
    add_series(brigada, admin, "FE", 7, 7)
    assert [i.number for i in brigada.invoicing.from_vouchers(admin, {})] == ["FE-7"]
    with pytest.raises(SeriesExhausted, match="FE is exhausted"):
        brigada.invoicing.rectify(admin, "FE-7", {"reason": "wrong payer"})


def test_rectifying_issues_a_numbered_note_and_releases_the_voucher(central) -> None:
    brigada, admin = central
    add_series(brigada, admin)
    chart = insured_patient(brigada, admin)
    visit = finalized_visit(brigada, admin, chart)
    voucher = brigada.vouchers.issue(admin, {"encounter": visit})
    brigada.invoicing.from_vouchers(admin, {})

    row = brigada.invoicing.rectify(admin, "FE-1", {"reason": "tariff error"})

    assert (row.state, row.note_number) == ("rectified", "FE-2")
    assert brigada.vouchers.show(admin, voucher.number).state == "issued"
    again = brigada.invoicing.from_vouchers(admin, {})
    assert [i.number for i in again] == ["FE-3"]
    with pytest.raises(DomainError, match="already rectified"):
        brigada.invoicing.rectify(admin, "FE-1", {"reason": "twice"})
    assert comments(brigada, "invoice.issue") == [f"VISITA={visit} FRA=FE-1", f"VISITA={visit} FRA=FE-3"]
    assert comments(brigada, "invoice.rectify") == [f"VISITA={visit} FRA=FE-1 NOTA=FE-2"]
    assert comments(brigada, "voucher.issue") == [f"VISITA={visit} VOL=CEN-1"]
    assert comments(brigada, "voucher.invoiced") == [
        f"VISITA={visit} VOL=CEN-1 FRA=FE-1",
        f"VISITA={visit} VOL=CEN-1 FRA=FE-3",
    ]
    assert comments(brigada, "voucher.release") == [f"VISITA={visit} VOL=CEN-1 FRA=FE-1 NOTA=FE-2"]


def test_prints_are_recorded_as_accesses(central, tmp_path) -> None:
    brigada, admin = central
    add_series(brigada, admin)
    visit = finalized_visit(brigada, admin, insured_patient(brigada, admin))
    voucher = brigada.vouchers.issue(admin, {"encounter": visit})
    brigada.vouchers.void(admin, voucher.number, {"reason": "x"})
    brigada.vouchers.printed(admin, voucher.number)
    assert comments(brigada, "voucher.print") == [f"VISITA={visit} VOL=CEN-1"]
    assert comments(brigada, "voucher.void") == [f"VISITA={visit} VOL=CEN-1"]
    assert comments(brigada, "invoice.series.add") == ["SERIE=FE DESDE=1 HASTA=5000"]


def test_every_new_cli_option_is_in_the_menu() -> None:
    for option in ("voucher.issue", "voucher.void", "invoice.series.add", "invoice.rips", "invoice.rectify"):
        assert menu.option(option).id == option


def test_the_laptop_issues_vouchers_on_mission_and_never_invoices(central, open_store, tmp_path) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)  # a central patient with a contract goes in the slice
    brigada.users.create(admin, {"username": "ana", "full_name": "Ana"}, ANA_PASSWORD)
    brigada.users.change_access(admin, "ana", grant=sorted(menu.EVERYTHING), revoke=[])
    brigada.users.change_sections(admin, "ana", ["visit", "services", "history"], [])
    laptop = open_store(f"sqlite:///{tmp_path}/brg01.db")
    brigada.sites.provision(admin, "BRG01", laptop, "brg01")
    brigada.sites.set_mode(admin, "BRG01", SiteMode.ON_MISSION)
    laptop.sites.receive_site_record(brigada)
    from security_support import log_in

    ana = log_in(laptop, "ana", ANA_PASSWORD)
    visit = finalized_visit(laptop, ana, chart)

    row = laptop.vouchers.issue(ana, {"encounter": visit})

    assert (row.number, row.site, row.total) == ("BRG01-1", "BRG01", Decimal("35000"))
    for attempt in (
        lambda: laptop.invoicing.from_vouchers(ana, {}),
        lambda: laptop.invoicing.listing(ana),
        lambda: laptop.invoicing.rectify(ana, "FE-1", {"reason": "x"}),
    ):
        with pytest.raises(OperationRefused, match="invoicing"):
            attempt()


def test_numbers_taken_from_an_invoice_series_are_logged(central) -> None:
    brigada, admin = central
    add_series(brigada, admin, "FE", 5, 9)
    brigada.vouchers.issue(
        admin, {"encounter": finalized_visit(brigada, admin, insured_patient(brigada, admin))}
    )
    brigada.invoicing.from_vouchers(admin, {})
    assert comments(brigada, "invoice.series.take") == ["SERIE=FE NUM=5"]

"""Vouchers and central billing through the application, on a real store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from application.brigada import Brigada
from application.context import Actor
from domain.billing.invoice_series import NoSeriesInForce, SeriesExhausted
from domain.billing.service_voucher import LineWithoutTariff, NotFinalized, VoucherClosed
from domain.billing.voucher_slot import AlreadyVouchered
from domain.errors import Conflict, DomainError
from domain.security import menu
from domain.sites.site_policy import OperationRefused
from tests.support.billing import (
    APPENDECTOMY,
    CONSULTATION,
    HEMOGRAM,
    PAYER,
    UNPRICED,
    add_series,
    back_on_site,
    billing_central,
    comments,
    finalized_visit,
    insured_patient,
    laptop_on_mission,
)
from tests.support.output import unseen
from tests.support.sites import JOSE, MARIA


@pytest.fixture
def central(open_store, store_url: str) -> tuple[Brigada, Actor]:
    return billing_central(open_store, store_url)


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
    assert view.diagnoses == [
        "I10X Hipertensión esencial (primaria) (principal 02)",
        "E119 Diabetes mellitus no insulinodependiente sin mencion de complicacion (related 02)",
    ]
    # a later price change does not touch the voucher (a snapshot, not a reference)
    brigada.catalog.set_price(
        admin, {"payer_nit": "900123456", "contract": "EVT-2026", "code": CONSULTATION, "unit_value": "1"}
    )
    assert brigada.vouchers.show(admin, row.number).total == "60001.00"


def test_a_voucher_is_refused_for_an_open_visit_or_twice(central) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)
    open_visit = brigada.encounters.open(admin, {"chart_number": chart}).number
    with pytest.raises(NotFinalized):
        brigada.vouchers.issue(admin, {"encounter": open_visit})
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
    # Seed 004: FRA= is the rectifying document (the credit note), the invoice it rectifies beside.
    assert comments(brigada, "invoice.rectify") == [f"VISITA={visit} FRA=FE-2 RECTIFICA=FE-1"]
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
    brigada.vouchers.printed(admin, voucher.number, unseen)
    assert comments(brigada, "voucher.print") == [f"VISITA={visit} VOL=CEN-1"]
    assert comments(brigada, "voucher.void") == [f"VISITA={visit} VOL=CEN-1"]
    assert comments(brigada, "invoice.series.add") == ["SERIE=FE DESDE=1 HASTA=5000"]


def test_every_new_cli_option_is_in_the_menu() -> None:
    for option in ("voucher.issue", "voucher.void", "invoice.series.add", "invoice.rips", "invoice.rectify"):
        assert menu.option(option).id == option


def test_the_laptop_issues_vouchers_on_mission_and_never_invoices(central, open_store, tmp_path) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)  # a central patient with a contract goes in the slice
    laptop, ana = laptop_on_mission(brigada, admin, open_store, tmp_path)
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


# -- issue 16, point 6: vouchers that reach invoices -------------------------------------------
def test_a_voucher_central_issues_for_a_sites_visit_carries_the_site_and_is_invoiced_by_it(
    central, open_store, tmp_path
) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)
    laptop, ana = laptop_on_mission(brigada, admin, open_store, tmp_path)
    visit = finalized_visit(laptop, ana, chart)
    back_on_site(brigada, admin, laptop, visit)

    row = brigada.vouchers.issue(admin, {"encounter": visit})

    assert (row.number, row.visit_number, row.site) == ("CEN-1", visit, "BRG01")
    add_series(brigada, admin)
    assert brigada.invoicing.from_vouchers(admin, {"site": "CEN"}) == []
    [invoice] = brigada.invoicing.from_vouchers(admin, {"site": "brg01"})
    assert (invoice.voucher_numbers, invoice.total) == ("CEN-1", Decimal("35000"))


def test_surgeries_linked_to_the_visit_are_priced_on_its_voucher(central) -> None:
    brigada, admin = central
    visit = finalized_visit(brigada, admin, insured_patient(brigada, admin), surgeries=(APPENDECTOMY,))

    row = brigada.vouchers.issue(admin, {"encounter": visit})

    lines = brigada.vouchers.show(admin, row.number).lines
    assert [(line["kind"], line["code"], line["total"]) for line in lines] == [
        ("consulta", CONSULTATION, "35000"),
        ("procedimiento", APPENDECTOMY, "850000"),
    ]
    assert row.total == Decimal("885000")


def test_a_service_without_a_price_is_vouchered_sin_tarifa_and_invoiced_once_priced(central) -> None:
    brigada, admin = central
    add_series(brigada, admin)
    chart = insured_patient(brigada, admin)
    visit = finalized_visit(brigada, admin, chart, ((CONSULTATION, 1), (UNPRICED, 2)))

    row = brigada.vouchers.issue(admin, {"encounter": visit})

    assert (row.state, row.total, row.unpriced) == ("issued", Decimal("35000"), UNPRICED)
    line = brigada.vouchers.show(admin, row.number).lines[1]
    assert (line["code"], line["priced"], line["total"]) == (UNPRICED, False, "0")
    with pytest.raises(LineWithoutTariff, match=rf"voucher CEN-1, line 2 \({UNPRICED}\) has no tariff"):
        brigada.invoicing.from_vouchers(admin, {})
    assert brigada.invoicing.listing(admin) == []  # nothing written: no number taken either
    assert brigada.invoicing.list_series(admin)[0].next_number == 1

    brigada.catalog.set_price(
        admin, {"payer_nit": PAYER, "contract": "EVT-2026", "code": UNPRICED, "unit_value": "20000"}
    )
    [invoice] = brigada.invoicing.from_vouchers(admin, {})

    assert (invoice.number, invoice.total) == ("FE-1", Decimal("75000"))
    [after] = brigada.vouchers.listing(admin)
    assert (after.state, after.total, after.unpriced) == ("invoiced", Decimal("75000"), "")
    assert comments(brigada, "voucher.price") == [f"VISITA={visit} VOL=CEN-1"]


def test_the_laptop_vouchers_a_service_without_a_price(central, open_store, tmp_path) -> None:
    brigada, admin = central
    chart = insured_patient(brigada, admin)
    laptop, ana = laptop_on_mission(brigada, admin, open_store, tmp_path)
    visit = finalized_visit(laptop, ana, chart, ((CONSULTATION, 1), (UNPRICED, 1)))

    row = laptop.vouchers.issue(ana, {"encounter": visit})

    assert (row.number, row.site, row.total, row.unpriced) == ("BRG01-1", "BRG01", Decimal("35000"), UNPRICED)


@pytest.mark.parametrize("where", ["after its view check", "just before its save"])
def test_one_voucher_per_visit_holds_in_the_store_whatever_the_views_said(
    central, open_store, store_url: str, where: str
) -> None:
    """Two stores open on the same database (as two processes would): the other one issues the
    visit's voucher while this one is between its view check and its save. The store refuses
    this one; the visit keeps one voucher."""
    brigada, admin = central
    visit = finalized_visit(brigada, admin, insured_patient(brigada, admin))
    other = open_store(store_url, create=False)
    issued: list[str] = []

    def the_other_issues() -> None:
        if not issued:
            issued.append(other.vouchers.issue(admin, {"encounter": visit}).number)

    queries, core = brigada.vouchers.queries, brigada.core
    read, save = queries.of_encounter, core.save

    def read_then_wait(encounter_id: str) -> list:
        rows = read(encounter_id)
        the_other_issues()
        return rows

    def wait_then_save(*aggregates, **options) -> None:
        the_other_issues()
        save(*aggregates, **options)

    refusal: type[DomainError]
    if where == "after its view check":  # the other's voucher and slot are in the store: seen
        queries.of_encounter, refusal = read_then_wait, AlreadyVouchered
    else:  # both hold the slot's same version: the store takes the first write only
        core.save, refusal = wait_then_save, Conflict

    with pytest.raises(refusal):
        brigada.vouchers.issue(admin, {"encounter": visit})

    brigada.views.catch_up()
    assert [(r.number, r.state) for r in brigada.vouchers.listing(admin)] == [(issued[0], "issued")]

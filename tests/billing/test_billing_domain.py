"""Given / when / then for ServiceVoucher, InvoiceSeries and Invoice, without a store."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from domain_support import CONTRACT, PATIENT, TODAY, encounter, lines, run, voucher

from domain.encounter import EncounterClosed
from domain.invoice import Invoice, InvoiceAlreadyRectified
from domain.invoice_series import InvoiceSeries, SeriesExhausted, SeriesNotValid, series_in_force
from domain.service_voucher import (
    AlreadyVouchered,
    ContractNotInForce,
    LineKind,
    NoPrice,
    NotFinalized,
    ServiceVoucher,
    VoucherClosed,
    WantedLine,
    price_lines,
)


def test_issuing_records_one_event_with_the_snapshots() -> None:
    issued = voucher()
    [event] = issued.collect_events()
    assert isinstance(event, ServiceVoucher.Issued)
    assert event.contract["payer_nit"] == "900123456" and event.contract["coverage"] == "04"
    assert [d["code"] for d in event.diagnoses] == ["I10X", "E119"]
    assert issued.total == Decimal("35000") + Decimal("12500.50") + Decimal("1200")


def test_a_voucher_needs_a_finalized_live_visit_and_a_contract_in_force() -> None:
    with pytest.raises(NotFinalized):
        voucher(visit=encounter(finalized=False))
    with pytest.raises(EncounterClosed):
        voucher(visit=encounter(deleted=True))
    ended = replace(CONTRACT, valid_to=date(2026, 2, 1))
    with pytest.raises(ContractNotInForce):
        run(lambda: ServiceVoucher.issue("CEN-1", encounter(), PATIENT, ended, lines(), [], TODAY))


def test_the_same_visit_is_not_vouchered_twice_until_the_first_is_voided() -> None:
    visit = encounter()
    first = voucher("CEN-1", visit)
    with pytest.raises(AlreadyVouchered, match="CEN-1"):
        voucher("CEN-2", visit, [first])
    run(lambda: first.void("wrong contract", TODAY))
    assert voucher("CEN-2", visit, [first]).number == "CEN-2"


def test_a_line_without_a_price_is_refused_naming_its_code() -> None:
    with pytest.raises(NoPrice, match="869500"):
        price_lines([WantedLine(LineKind.PROCEDURE, "869500", "Sutura", 1, {})], {}, "900123456", "EVT")


def test_an_invoiced_voucher_cannot_be_voided_nor_invoiced_again() -> None:
    given = voucher()
    given.collect_events()
    run(lambda: given.mark_invoiced("FE-1"))
    [event] = given.collect_events()
    assert isinstance(event, ServiceVoucher.Invoiced) and given.state == "invoiced"
    with pytest.raises(VoucherClosed):
        run(lambda: given.void("late", TODAY))
    with pytest.raises(VoucherClosed):
        run(lambda: given.mark_invoiced("FE-2"))


def test_a_series_numbers_consecutively_within_its_range_and_dates() -> None:
    series = run(lambda: InvoiceSeries.add("fe", 9, 10, date(2026, 1, 1), date(2026, 3, 1)))
    assert run(lambda: [series.take(TODAY), series.take(TODAY)]) == ["FE-9", "FE-10"]
    with pytest.raises(SeriesExhausted):
        run(lambda: series.take(TODAY))
    later = run(lambda: InvoiceSeries.add("NC", 1, 5, date(2026, 1, 1), date(2026, 2, 28)))
    with pytest.raises(SeriesNotValid):
        run(lambda: later.take(TODAY))
    with pytest.raises(Exception, match="no invoice series"):
        series_in_force([series, later], TODAY)


def test_an_invoice_carries_the_voucher_lines_and_is_rectified_once() -> None:
    given = voucher()
    invoice = run(lambda: Invoice.from_voucher("FE", "FE-1", given, TODAY))
    assert invoice.total == sum(Decimal(line["total"]) for line in invoice.lines) == given.total
    assert given.invoice_number == "FE-1"
    run(lambda: invoice.rectify("FE-2", "tariff", TODAY))
    run(lambda: given.release("FE-1", "FE-2"))
    assert (invoice.state, given.state) == ("rectified", "issued")
    with pytest.raises(InvoiceAlreadyRectified):
        run(lambda: invoice.rectify("FE-3", "again", TODAY))

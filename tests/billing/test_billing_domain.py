"""Given / when / then for ServiceVoucher, InvoiceSeries and Invoice, without a store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from application.app import BrigadaApplication
from domain.billing.invoice import Invoice, InvoiceAlreadyRectified
from domain.billing.invoice_series import InvoiceSeries, SeriesExhausted, SeriesNotValid, series_in_force
from domain.billing.service_voucher import (
    ContractNotInForce,
    LineKind,
    LineWithoutTariff,
    NotFinalized,
    ServiceVoucher,
    VoucherClosed,
    WantedLine,
    price_lines,
)
from domain.billing.voucher_slot import AlreadyVouchered, VoucherSlot
from domain.clinical.encounter import EncounterClosed
from tests.support.billing_domain import CONTRACT, PATIENT, PRICES, TODAY, encounter, lines, slot, voucher
from tests.support.given_when_then import events_of, recorded

SUTURE = WantedLine(LineKind.PROCEDURE, "869500", "Sutura", 2, {})


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
    visit = encounter()
    with pytest.raises(ContractNotInForce):
        recorded(
            lambda: ServiceVoucher.issue(
                "CEN-1", visit, PATIENT, ended, lines(), slot(visit), [], TODAY, "CEN"
            )
        )


def test_the_same_visit_is_not_vouchered_twice_until_the_first_is_voided() -> None:
    visit = encounter()
    held = slot(visit)
    first = voucher("CEN-1", visit, held=held)
    with pytest.raises(AlreadyVouchered, match="CEN-1"):
        voucher("CEN-2", visit, held=held)
    recorded(lambda: first.void("wrong contract", TODAY))
    recorded(lambda: held.free("CEN-1"))
    assert voucher("CEN-2", visit, [first], held=held).number == "CEN-2"


def test_a_voucher_from_before_slots_still_counts_against_a_second_one() -> None:
    visit = encounter()
    legacy = voucher("CEN-1", visit)  # its slot is not the one the next voucher holds
    with pytest.raises(AlreadyVouchered, match="CEN-1"):
        voucher("CEN-2", visit, [legacy])


def test_issuing_holds_the_visits_slot_and_voiding_frees_it() -> None:
    visit = encounter()
    given = slot(visit)
    given.collect_events()

    issued = voucher("CEN-1", visit, held=given)

    assert [type(e) for e in given.collect_events()] == [VoucherSlot.Held]
    assert given.voucher == "CEN-1"
    recorded(lambda: issued.void("duplicated", TODAY))
    recorded(lambda: given.free("CEN-9"))  # another voucher's number frees nothing
    assert given.collect_events() == [] and given.voucher == "CEN-1"
    recorded(lambda: given.free("CEN-1"))
    [freed] = given.collect_events()
    assert isinstance(freed, VoucherSlot.Freed) and given.voucher is None


def test_the_voucher_carries_the_site_of_its_visit_not_the_issuers() -> None:
    issued = voucher(site="BRG01")  # recorded by central (the context says CEN)
    [event] = events_of(ServiceVoucher.Issued, issued.collect_events())
    assert (event.site, event.context.site, issued.site) == ("BRG01", "CEN", "BRG01")


def test_a_service_without_a_price_is_issued_sin_tarifa() -> None:
    [priced, unpriced] = price_lines(
        [WantedLine(LineKind.CONSULTATION, "890201", "Consulta", 1, {}), SUTURE], PRICES
    )
    assert (priced.priced, priced.total) == (True, Decimal("35000"))
    assert (unpriced.priced, unpriced.unit_value, unpriced.total) == (False, 0, 0)

    issued = voucher(priced=[priced, unpriced])

    assert issued.total == Decimal("35000") and issued.unpriced == [unpriced]


def test_a_voucher_with_a_line_sin_tarifa_is_not_invoiced_naming_voucher_and_line() -> None:
    given = voucher(priced=[*lines(), *price_lines([SUTURE], {})])
    given.collect_events()
    with pytest.raises(
        LineWithoutTariff, match=r"voucher CEN-1, line 4 \(869500\) has no tariff .* 900123456"
    ):
        recorded(lambda: Invoice.from_voucher("FE", "FE-1", given, TODAY))
    recorded(lambda: given.price_missing(PRICES))  # the price list still lacks it: nothing to record
    assert given.collect_events() == [] and given.state == "issued"


def test_once_its_price_exists_the_line_is_priced_and_the_voucher_invoiced() -> None:
    given = voucher(priced=[*lines(), *price_lines([SUTURE], {})])
    given.collect_events()

    recorded(lambda: given.price_missing({**PRICES, "869500": Decimal("20000")}))
    invoice = recorded(lambda: Invoice.from_voucher("FE", "FE-1", given, TODAY))

    [priced, invoiced] = given.collect_events()
    assert isinstance(priced, ServiceVoucher.Priced) and isinstance(invoiced, ServiceVoucher.Invoiced)
    assert given.unpriced == [] and given.lines[3].total == Decimal("40000")
    assert invoice.total == Decimal("35000") + Decimal("12500.50") + Decimal("1200") + Decimal("40000")


def test_a_voucher_recorded_before_sites_and_tariffs_still_loads() -> None:
    """Events stored by older releases lack ``site`` and each line's ``priced``: they take the
    defaults (the recording site; every line priced). Loaded as the store loads them: the stored
    state decoded by the application's mapper."""
    issued = voucher()
    [event] = issued.collect_events()
    mapper = BrigadaApplication().mapper
    stored = mapper.to_stored_event(event)
    state = json.loads(stored.state)
    del state["site"]
    for line in state["lines"]:
        del line["priced"]
    old = mapper.to_domain_event(replace(stored, state=json.dumps(state).encode()))

    assert isinstance(old, ServiceVoucher.Issued)
    loaded = old.mutate(None)
    assert isinstance(loaded, ServiceVoucher)

    assert loaded.site == "" and loaded.total == issued.total and loaded.unpriced == []


def test_an_invoiced_voucher_cannot_be_voided_nor_invoiced_again() -> None:
    given = voucher()
    given.collect_events()
    recorded(lambda: given.mark_invoiced("FE-1"))
    [event] = given.collect_events()
    assert isinstance(event, ServiceVoucher.Invoiced) and given.state == "invoiced"
    with pytest.raises(VoucherClosed):
        recorded(lambda: given.void("late", TODAY))
    with pytest.raises(VoucherClosed):
        recorded(lambda: given.mark_invoiced("FE-2"))


def test_a_series_numbers_consecutively_within_its_range_and_dates() -> None:
    series = recorded(lambda: InvoiceSeries.add("fe", 9, 10, date(2026, 1, 1), date(2026, 3, 1)))
    assert recorded(lambda: [series.take(TODAY), series.take(TODAY)]) == ["FE-9", "FE-10"]
    with pytest.raises(SeriesExhausted):
        recorded(lambda: series.take(TODAY))
    later = recorded(lambda: InvoiceSeries.add("NC", 1, 5, date(2026, 1, 1), date(2026, 2, 28)))
    with pytest.raises(SeriesNotValid):
        recorded(lambda: later.take(TODAY))
    with pytest.raises(Exception, match="no invoice series"):
        series_in_force([series, later], TODAY)


def test_an_invoice_carries_the_voucher_lines_and_is_rectified_once() -> None:
    given = voucher()
    invoice = recorded(lambda: Invoice.from_voucher("FE", "FE-1", given, TODAY))
    assert invoice.total == sum(Decimal(line["total"]) for line in invoice.lines) == given.total
    assert given.invoice_number == "FE-1"
    recorded(lambda: invoice.rectify("FE-2", "tariff", TODAY))
    recorded(lambda: given.release("FE-1", "FE-2"))
    assert (invoice.state, given.state) == ("rectified", "issued")
    with pytest.raises(InvoiceAlreadyRectified):
        recorded(lambda: invoice.rectify("FE-3", "again", TODAY))

"""Random vouchers, voids, invoice runs and rectifications, on the domain: every voucher is on at
most one invoice in force, never a voided one; an invoice's total is the sum of its lines; numbers
are consecutive within their series and never beyond its range or validity."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.billing.invoice import Invoice
from domain.billing.invoice_series import InvoiceSeries, series_in_force
from domain.billing.service_voucher import ServiceVoucher
from domain.errors import DomainError
from tests.support.billing_domain import encounter, voucher
from tests.support.given_when_then import recorded


class Billing(RuleBasedStateMachine):
    @initialize(last=st.integers(1, 6), days=st.integers(0, 20))
    def start(self, last: int, days: int) -> None:
        self.today = date(2026, 3, 1)
        self.series = [
            recorded(
                lambda: InvoiceSeries.add("FE", 1, last, date(2026, 3, 1), date(2026, 3, 1) + timedelta(days))
            )
        ]
        self.vouchers: list[ServiceVoucher] = []
        self.invoices: list[Invoice] = []
        self.numbers: list[tuple[str, int, date]] = []  # every number taken, with its day

    @rule()
    def issue(self) -> None:
        number = f"CEN-{len(self.vouchers) + 1}"
        self.vouchers.append(voucher(number, encounter(number)))

    @precondition(lambda self: self.vouchers)
    @rule(pick=st.integers(0, 100))
    def void(self, pick: int) -> None:
        chosen = self.vouchers[pick % len(self.vouchers)]
        try:
            recorded(lambda: chosen.void("reason", self.today))
        except DomainError:
            assert chosen.state != "issued"

    @rule()
    def invoice_run(self) -> None:
        for chosen in [v for v in self.vouchers if v.invoiceable]:
            try:
                series = series_in_force(self.series, self.today)
            except DomainError:
                return
            number = recorded(partial(series.take, self.today))
            assert series.taken is not None
            self.numbers.append((number, series.taken, self.today))
            self.invoices.append(recorded(partial(Invoice.from_voucher, "FE", number, chosen, self.today)))

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 100))
    def rectify(self, pick: int) -> None:
        chosen = self.invoices[pick % len(self.invoices)]
        if chosen.state == "rectified":
            return
        try:
            note = recorded(lambda: self.series[0].take(self.today))
        except DomainError:
            return
        self.numbers.append((note, self.series[0].taken, self.today))
        recorded(lambda: chosen.rectify(note, "correction", self.today))
        for released in [v for v in self.vouchers if v.number in chosen.voucher_numbers]:
            recorded(partial(released.release, chosen.number, note))

    @rule(days=st.integers(1, 10))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days)

    @invariant()
    def at_most_one_invoice_in_force_per_voucher_and_never_a_voided_one(self) -> None:
        in_force = [n for i in self.invoices if i.state == "issued" for n in i.voucher_numbers]
        assert len(in_force) == len(set(in_force))
        by_number = {v.number: v for v in self.vouchers}
        for number in in_force:
            assert not by_number[number].voided
            assert by_number[number].invoice_number is not None

    @invariant()
    def totals_are_the_sum_of_lines(self) -> None:
        for invoice in self.invoices:
            assert invoice.total == sum((Decimal(line["total"]) for line in invoice.lines), Decimal(0))

    @invariant()
    def numbers_are_consecutive_within_range_and_validity(self) -> None:
        series = self.series[0]
        assert [seq for _n, seq, _d in self.numbers] == list(range(1, len(self.numbers) + 1))
        for _number, seq, day in self.numbers:
            assert series.first <= seq <= series.last
            assert series.valid_from <= day <= series.valid_to


TestBilling = Billing.TestCase

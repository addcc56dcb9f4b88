"""Invoices issued on central: one row per invoice, with its vouchers, payer, total and whether a
credit note rectified it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from domain.billing.invoice import Invoice, invoice_id
from domain.billing.invoice_series import InvoiceSeries
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class InvoiceRow:
    invoice_id: str
    number: str
    series: str
    seq: int  # the number within its series, for ordering
    voucher_numbers: str  # space-separated
    visit_numbers: str
    payer_nit: str
    payer_name: str
    total: Decimal
    state: str  # issued | rectified
    note_number: str
    issued_on: str
    updated_at: str


class InvoicesProjection(ByAggregate):
    name = "invoices"
    version = 1
    topics = (Invoice.Issued.TOPIC, Invoice.Rectified.TOPIC)
    row_type = InvoiceRow
    key_fields = ("invoice_id",)
    indexes = (("number",), ("payer_nit",))

    def apply(self, row: InvoiceRow | None, event: Any) -> InvoiceRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, Invoice.Issued):
            return InvoiceRow(
                invoice_id=event.originator_id.hex,
                number=event.number,
                series=event.series,
                seq=int(event.number.rpartition("-")[2]),
                voucher_numbers=" ".join(event.voucher_numbers),
                visit_numbers=" ".join(event.visit_numbers),
                payer_nit=event.payer["payer_nit"],
                payer_name=event.payer["payer_name"],
                total=event.total,
                state="issued",
                note_number="",
                issued_on=event.issued_on.isoformat(),
                updated_at=stamp,
            )
        if row is None:
            return None
        if isinstance(event, Invoice.Rectified):
            row = replace(row, state="rectified", note_number=event.note_number)
        return replace(row, updated_at=stamp)


class InvoiceQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def by_number(self, number: str) -> InvoiceRow | None:
        return self.rows.find_one(number=number.strip().upper())

    def by_numbers(self, numbers: list[str]) -> dict[str, InvoiceRow]:
        """The rows of these invoices by number, in one read; a number without a row is left out."""
        rows = self.rows.load({(invoice_id(n).hex,) for n in numbers})
        return {row.number: row for row in rows.values()}

    def listing(self, payer_nit: str | None = None, limit: int = 500) -> list[InvoiceRow]:
        equals = {"payer_nit": payer_nit} if payer_nit else {}
        return self.rows.select(Query(equals=equals, order_by="seq", limit=limit))


@dataclass(frozen=True)
class InvoiceSeriesRow:
    series_id: str
    prefix: str
    first: int
    last: int
    next_number: int
    valid_from: str
    valid_to: str


class InvoiceSeriesProjection(ByAggregate):
    name = "invoice_series"
    version = 1
    topics = (InvoiceSeries.Added.TOPIC, InvoiceSeries.NumberTaken.TOPIC)
    row_type = InvoiceSeriesRow
    key_fields = ("series_id",)

    def apply(self, row: InvoiceSeriesRow | None, event: Any) -> InvoiceSeriesRow | None:
        if isinstance(event, InvoiceSeries.Added):
            return InvoiceSeriesRow(
                series_id=event.originator_id.hex,
                prefix=event.prefix,
                first=event.first,
                last=event.last,
                next_number=event.first,
                valid_from=event.valid_from.isoformat(),
                valid_to=event.valid_to.isoformat(),
            )
        if row is None:
            return None
        return replace(row, next_number=event.value + 1)


class InvoiceSeriesQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def all(self) -> list[InvoiceSeriesRow]:
        return self.rows.find(order_by="prefix")

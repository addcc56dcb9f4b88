"""An invoice issued on central from service vouchers ("Facturación centros desconectados", seed
000). For the "evento" payment model one invoice covers one voucher; the aggregate holds a list so
that period invoices (capitation, PGP) fit later.

Rectifying: an invoice is never edited. ``rectify`` records the correcting document, a credit note
that cancels the whole invoice, with its own number from the same series. The rule chosen here:
the invoice's vouchers are then released (back to "issued"), so the corrected care is billed on a
new invoice, or the voucher is voided and a new one issued from the visit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.billing.service_voucher import ServiceVoucher
from domain.errors import N_, DomainError, InvalidValue


class InvoiceAlreadyRectified(DomainError):
    template = N_("invoice {number} was already rectified by note {note}")


class Invoice(BrigadaAggregate):
    TOPIC = "brigada.Invoice"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Invoice.Event"

    class Issued(BrigadaAggregate.Created):
        TOPIC = "brigada.Invoice.Issued"
        series: str
        number: str  # PREFIX-n
        voucher_numbers: list[str]
        visit_numbers: list[str]
        payer: dict[str, str]
        lines: list[dict[str, Any]]
        total: Decimal
        issued_on: date

    class Rectified(Event):
        TOPIC = "brigada.Invoice.Rectified"
        note_number: str
        reason: str
        rectified_on: date

    @staticmethod
    def create_id(number: str) -> UUID:
        return invoice_id(number)

    @event(Issued)
    def __init__(
        self,
        series: str,
        number: str,
        voucher_numbers: list[str],
        visit_numbers: list[str],
        payer: dict[str, str],
        lines: list[dict[str, Any]],
        total: Decimal,
        issued_on: date,
    ) -> None:
        self.series = series
        self.number = number
        self.voucher_numbers = list(voucher_numbers)
        self.visit_numbers = list(visit_numbers)
        self.payer = dict(payer)
        self.lines = [dict(line) for line in lines]
        self.total = total
        self.issued_on = issued_on
        self.note_number: str | None = None
        self.rectified_reason: str | None = None

    @classmethod
    def from_voucher(cls, series: str, number: str, voucher: ServiceVoucher, today: date) -> Invoice:
        """The invoice of one voucher; the voucher is marked invoiced in the same step."""
        voucher.mark_invoiced(number)
        lines = [{**line.as_dict(), "voucher": voucher.number} for line in voucher.lines]
        payer = {
            k: voucher.contract[k] for k in ("payer_nit", "payer_name", "contract_number", "payment_model")
        }
        return cls(
            series=series,
            number=number,
            voucher_numbers=[voucher.number],
            visit_numbers=[voucher.visit_number],
            payer=payer,
            lines=lines,
            total=sum((Decimal(line["total"]) for line in lines), Decimal(0)),
            issued_on=today,
        )

    @property
    def visit_list(self) -> str:
        """The visit numbers as the activity log writes them (VISITA=)."""
        return ",".join(self.visit_numbers)

    @property
    def state(self) -> str:
        return "rectified" if self.note_number else "issued"

    def rectify(self, note_number: str, reason: str, today: date) -> None:
        if self.note_number is not None:
            raise InvoiceAlreadyRectified(number=self.number, note=self.note_number)
        if not reason.strip():
            raise InvalidValue("reason", N_("a reason is required"))
        self._rectify(note_number=note_number, reason=reason.strip(), rectified_on=today)

    @event(Rectified)
    def _rectify(self, note_number: str, reason: str, rectified_on: date) -> None:
        self.note_number = note_number
        self.rectified_reason = reason


def invoice_id(number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:invoice:{number.strip().upper()}")


INVOICE_PRINT = "invoice.print"  # access actions (the activity log's "Invoice - Print", "Invoice - RIPS")
INVOICE_RIPS = "invoice.rips"

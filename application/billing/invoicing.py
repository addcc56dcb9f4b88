"""Central billing of disconnected sites (seed 000, "Facturación centros desconectados"): invoice
numbering series, invoices from vouchers, their rectification, printing and RIPS. A laptop never
invoices (Forbidden.INVOICING): it issues vouchers only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from application.billing.vouchers import Vouchers
from application.clinical.encounters import Deliver, PrintedDocument
from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.billing.invoice import INVOICE_PRINT, INVOICE_RIPS, Invoice, invoice_id
from domain.billing.invoice_series import (
    InvoiceSeries,
    SeriesAlreadyExists,
    invoice_series_id,
    series_in_force,
)
from domain.billing.rips import rips_document
from domain.billing.service_voucher import ServiceVoucher, voucher_id
from domain.clinical.payer_contract import payer_nit
from domain.errors import N_, NotFound
from domain.pharmacy.price_list import PriceList, price_list_id
from domain.sites.site_policy import Forbidden
from projections.billing.invoices import InvoiceQueries, InvoiceRow, InvoiceSeriesQueries, InvoiceSeriesRow
from projections.billing.vouchers import VoucherQueries

NIT = r"^\d{5,15}(-\d)?$"
# Invoices written per transaction by `invoice from-vouchers`, the views caught up once for each
# (benchmarks/invoicing.py); a failure undoes its batch only.
INVOICE_BATCH = 200


class InvoiceNotFound(NotFound):
    template = N_("no invoice with number {number}")


class NewSeries(Command):
    prefix: str = Field(pattern=r"^[A-Za-z]{1,4}$", description=N_("1 to 4 letters"))
    first: int = Field(ge=1, lt=10**10)
    last: int = Field(ge=1, lt=10**10)
    valid_from: date
    valid_to: date


class InvoiceRun(Command):
    site: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,20}$")
    payer: str | None = Field(None, pattern=NIT, description=N_("the payer's NIT"))
    until: date | None = None


class Rectification(Command):
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]*$")


class RipsTarget(Command):
    provider_nit: str = Field(
        pattern=r"^\d{5,15}$", description=N_("the provider's NIT, without check digit")
    )
    provider_code: str = Field(
        pattern=r"^\d{10,12}$", description=N_("the provider's REPS code (codPrestador)")
    )


@dataclass(frozen=True)
class InvoiceView:
    number: str
    state: str
    series: str
    issued_on: str
    voucher_numbers: list[str]
    visit_numbers: list[str]
    payer: dict[str, str]
    lines: list[dict[str, Any]]
    total: str
    note_number: str
    rectified_reason: str


def invoice_view(invoice: Invoice) -> InvoiceView:
    return InvoiceView(
        number=invoice.number,
        state=invoice.state,
        series=invoice.series,
        issued_on=invoice.issued_on.isoformat(),
        voucher_numbers=list(invoice.voucher_numbers),
        visit_numbers=list(invoice.visit_numbers),
        payer=dict(invoice.payer),
        lines=[
            {**line, "unit_value": str(line["unit_value"]), "total": str(line["total"])}
            for line in invoice.lines
        ],
        total=str(invoice.total),
        note_number=invoice.note_number or "",
        rectified_reason=invoice.rectified_reason or "",
    )


class Invoicing:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        vouchers: Vouchers,
        voucher_rows: VoucherQueries,
        invoices: InvoiceQueries,
        series: InvoiceSeriesQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.vouchers = vouchers
        self.voucher_rows = voucher_rows
        self.invoices = invoices
        self.series = series

    def _start(self, actor: Actor, option: str) -> None:
        self.access.require(actor, option)
        self.operations.require(actor, Forbidden.INVOICING)
        self.access.require_central(actor, N_("invoicing"))

    # -- numbering series -----------------------------------------------------------------------
    def add_series(self, actor: Actor, data: dict[str, Any]) -> InvoiceSeriesRow:
        """Add a numbering series (DIAN's resolution: prefix, range, validity); administrators only."""
        self._start(actor, "invoice.series.add")
        self.access.require_admin(actor, N_("configure invoice numbering"))
        cmd = parse(NewSeries, data)
        with self.core.acting_as(actor.username):
            series = InvoiceSeries.add(cmd.prefix, cmd.first, cmd.last, cmd.valid_from, cmd.valid_to)
            if self.core.get(InvoiceSeries, series.id) is not None:
                raise SeriesAlreadyExists(prefix=series.prefix)
            self.core.save(series)
        return next(r for r in self.series.all() if r.prefix == series.prefix)

    def list_series(self, actor: Actor) -> list[InvoiceSeriesRow]:
        self._start(actor, "invoice.series.list")
        self.access.require_admin(actor, N_("configure invoice numbering"))
        return self.series.all()

    def _all_series(self) -> list[InvoiceSeries]:
        candidates = [self.core.get(InvoiceSeries, UUID(row.series_id)) for row in self.series.all()]
        return [s for s in candidates if s is not None]

    # -- invoices -------------------------------------------------------------------------------
    def from_vouchers(
        self, actor: Actor, data: dict[str, Any], batch: int = INVOICE_BATCH
    ) -> list[InvoiceRow]:
        """One invoice per voucher issued and not yet invoiced ("evento"), numbered from the
        series in force. Lines issued "sin tarifa" are priced from the contract's price list
        first; while one still has no price the run is refused, naming voucher and line, before
        anything is written. The invoices are written ``batch`` at a time: a batch's invoices,
        its vouchers' links and the numbers it took in one transaction, all or none, and the
        views caught up once for it; a failure stops the run, the batches before it stay."""
        self._start(actor, "invoice.from-vouchers")
        cmd = parse(InvoiceRun, data)
        if batch < 1:
            raise ValueError(f"an invoicing batch holds at least one invoice, not {batch}")
        today = self.core.effective_today()
        rows = self.voucher_rows.listing(
            state="issued",
            site=cmd.site.upper() if cmd.site else None,
            payer_nit=payer_nit(cmd.payer) if cmd.payer else None,
            until=cmd.until.isoformat() if cmd.until else None,
            limit=None,
        )
        vouchers = []
        for row in rows:
            self.operations.require(actor, Forbidden.INVOICING, owner_site=row.site)
            vouchers.append(self._priced(actor, self.core.existing(ServiceVoucher, voucher_id(row.number))))
        issued: list[str] = []
        for start in range(0, len(vouchers), batch):
            issued += self._invoice(actor, vouchers[start : start + batch], today)
        found = self.invoices.by_numbers(issued)
        return [found.get(number) or self._row(number) for number in issued]

    def _invoice(self, actor: Actor, vouchers: list[ServiceVoucher], today: date) -> list[str]:
        """Invoice these vouchers in one transaction; returns the invoice numbers, in order. The
        series are read afresh for each batch, and the store refuses the whole batch if another
        process took a number or touched a voucher since: no number is taken twice or skipped."""
        with self.core.acting_as(actor.username):
            series = self._all_series()
            invoices = []
            for voucher in vouchers:
                numbering = series_in_force(series, today)  # the next one once a series runs out
                invoices.append(Invoice.from_voucher(numbering.prefix, numbering.take(today), voucher, today))
            self.core.save(*series, *invoices, *vouchers)
        return [invoice.number for invoice in invoices]

    def _priced(self, actor: Actor, voucher: ServiceVoucher) -> ServiceVoucher:
        """The voucher with its "sin tarifa" lines priced from the price list (unsaved)."""
        if voucher.unpriced:
            contract = voucher.contract
            prices = self.core.get(
                PriceList, price_list_id(contract["payer_nit"], contract["contract_number"])
            )
            with self.core.acting_as(actor.username):
                voucher.price_missing(prices.prices if prices else {})
            voucher.require_priced()
        return voucher

    def _load(self, number: str) -> Invoice:
        invoice = self.core.get(Invoice, invoice_id(number))
        if invoice is None:
            raise InvoiceNotFound(number=number)
        return invoice

    def _row(self, number: str) -> InvoiceRow:
        row = self.invoices.by_number(number)
        if row is None:
            raise InvoiceNotFound(number=number)
        return row

    def rectify(self, actor: Actor, number: str, data: dict[str, Any]) -> InvoiceRow:
        """Issue the correcting document (a credit note cancelling the invoice, numbered from the
        invoice's series); its vouchers are released and may be invoiced again or voided."""
        self._start(actor, "invoice.rectify")
        cmd = parse(Rectification, data)
        invoice = self._load(number)
        today = self.core.effective_today()
        series = self.core.existing(InvoiceSeries, invoice_series_id(invoice.series))
        vouchers = [self.core.existing(ServiceVoucher, voucher_id(v)) for v in invoice.voucher_numbers]
        with self.core.acting_as(actor.username):
            note = series.take(today)
            invoice.rectify(note, cmd.reason, today)
            for voucher in vouchers:
                voucher.release(invoice.number, note)
            self.core.save(series, invoice, *vouchers)
        return self._row(invoice.number)

    def show(self, actor: Actor, number: str) -> InvoiceView:
        self._start(actor, "invoice.show")
        return invoice_view(self._load(number))

    def listing(self, actor: Actor, payer: str | None = None) -> list[InvoiceRow]:
        self._start(actor, "invoice.list")
        return self.invoices.listing(payer_nit(payer) if payer else None)

    def printed(self, actor: Actor, number: str, deliver: Deliver) -> PrintedDocument:
        """The invoice as a document (not the DIAN electronic invoice), handed to ``deliver``;
        printing is recorded once it returns."""
        self._start(actor, "invoice.print")
        view = invoice_view(self._load(number))
        header = [
            ("FACTURA", view.number),
            ("FECHA", view.issued_on),
            ("PAGADOR", f"{view.payer['payer_nit']} {view.payer['payer_name']}"),
            ("CONTRATO", f"{view.payer['contract_number']} ({view.payer['payment_model']})"),
            ("VOLANTES", " ".join(view.voucher_numbers)),
            ("VISITAS", " ".join(view.visit_numbers)),
            ("ESTADO", view.state + (f" ({view.note_number})" if view.note_number else "")),
        ]
        body = [
            (
                f"{line['kind']} {line['code']}",
                f"{line['description']}: {line['quantity']} x {line['unit_value']} = {line['total']}",
            )
            for line in view.lines
        ]
        body.append(("TOTAL", view.total))
        document = PrintedDocument(f"FACTURA {view.number}", header, body, f"factura-{view.number}")
        deliver(document)
        self.core.record_access(actor.username, INVOICE_PRINT, self._fields(view))
        return document

    def rips(
        self, actor: Actor, number: str, data: dict[str, Any], deliver: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """The RIPS JSON of an invoice (Res. 2275/2023), handed to ``deliver``; the export is
        recorded once it returns."""
        self._start(actor, "invoice.rips")
        target = parse(RipsTarget, data)
        invoice = self._load(number)
        vouchers = [self.core.existing(ServiceVoucher, voucher_id(v)) for v in invoice.voucher_numbers]
        document = rips_document(invoice, vouchers, target.provider_nit, target.provider_code)
        deliver(document)
        self.core.record_access(actor.username, INVOICE_RIPS, self._fields(invoice_view(invoice)))
        return document

    @staticmethod
    def _fields(view: InvoiceView) -> dict[str, str]:
        return {"VISITA": ",".join(view.visit_numbers), "FRA": view.number}

"""Service vouchers: one row per voucher, its state (issued | voided | invoiced), the site of its
visit and its lines still "sin tarifa", for ``voucher list`` and for central's choice of what to
invoice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from domain.billing.service_voucher import ServiceVoucher
from projections.base import ByAggregate, Query, RowStore


@dataclass(frozen=True)
class VoucherRow:
    voucher_id: str
    number: str
    encounter_id: str
    visit_number: str
    chart_number: str
    payer_nit: str
    payer_name: str
    contract_number: str
    total: Decimal
    state: str  # issued | voided | invoiced
    invoice_number: str
    site: str  # the visit's site, whoever issued the voucher
    issued_on: str  # ISO date
    unpriced: str  # codes of its lines "sin tarifa", space-separated
    updated_at: str


class VouchersProjection(ByAggregate):
    name = "vouchers"
    version = 2  # 2: the visit's site, lines "sin tarifa", priced on central
    topics = (
        ServiceVoucher.Issued.TOPIC,
        ServiceVoucher.Priced.TOPIC,
        ServiceVoucher.Voided.TOPIC,
        ServiceVoucher.Invoiced.TOPIC,
        ServiceVoucher.Released.TOPIC,
    )
    row_type = VoucherRow
    key_fields = ("voucher_id",)
    indexes = (("number",), ("encounter_id",), ("state", "site"))

    def apply(self, row: VoucherRow | None, event: Any) -> VoucherRow | None:
        stamp = event.context.recorded_at.isoformat()
        if isinstance(event, ServiceVoucher.Issued):
            return VoucherRow(
                voucher_id=event.originator_id.hex,
                number=event.number,
                encounter_id=event.encounter_id.hex,
                visit_number=event.visit_number,
                chart_number=event.chart_number,
                payer_nit=event.contract["payer_nit"],
                payer_name=event.contract["payer_name"],
                contract_number=event.contract["contract_number"],
                total=_total(event.lines),
                state="issued",
                invoice_number="",
                site=event.site or event.context.site,
                issued_on=event.issued_on.isoformat(),
                unpriced=_unpriced(event.lines),
                updated_at=stamp,
            )
        if row is None:
            return None
        if isinstance(event, ServiceVoucher.Priced):
            row = replace(row, total=_total(event.lines), unpriced=_unpriced(event.lines))
        elif isinstance(event, ServiceVoucher.Voided):
            row = replace(row, state="voided")
        elif isinstance(event, ServiceVoucher.Invoiced):
            row = replace(row, state="invoiced", invoice_number=event.invoice_number)
        elif isinstance(event, ServiceVoucher.Released):
            row = replace(row, state="issued", invoice_number="")
        return replace(row, updated_at=stamp)


def _total(lines: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(line["total"]) for line in lines), Decimal(0))


def _unpriced(lines: list[dict[str, Any]]) -> str:
    return " ".join(line["code"] for line in lines if not line.get("priced", True))


class VoucherQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def by_number(self, number: str) -> VoucherRow | None:
        return self.rows.find_one(number=number.strip().upper())

    def of_encounter(self, encounter_id: str) -> list[VoucherRow]:
        return self.rows.find(encounter_id=encounter_id, order_by="issued_on")

    def listing(
        self,
        state: str | None = None,
        site: str | None = None,
        payer_nit: str | None = None,
        until: str | None = None,
        limit: int | None = 500,
    ) -> list[VoucherRow]:
        equals = {k: v for k, v in (("state", state), ("site", site), ("payer_nit", payer_nit)) if v}
        ranges = {"issued_on": (None, until)} if until else {}
        return self.rows.select(Query(equals=equals, ranges=ranges, order_by="number", limit=limit))

"""Service vouchers (seed 000, "volantes de servicio"): issued from a finalized visit on a laptop
on mission or on central, shown, listed, printed and voided. Invoicing them is central's
(application/billing/invoicing.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import Field

from application.clinical.encounters import Deliver, EncounterNotFound, PrintedDocument
from application.context import Actor
from application.core import Core
from application.pharmacy.catalog import Catalog
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.access_log import VOUCHER_PRINT
from domain.billing.service_voucher import (
    SERIES,
    ServiceVoucher,
    WantedLine,
    choose_contract,
    price_lines,
    voucher_id,
)
from domain.billing.voucher_lines import dispensed_lines, ordered_line, service_lines
from domain.billing.voucher_slot import VoucherSlot, voucher_slot_id
from domain.clinical.cie10 import with_name
from domain.clinical.encounter import Encounter
from domain.clinical.patient import Patient
from domain.errors import N_, NotFound
from domain.numbering import NumberSeries, series_id
from domain.pharmacy import prescription, supply_request
from domain.pharmacy.clinical_order import order_id
from domain.pharmacy.prescription import Prescription
from domain.pharmacy.price_list import PriceList, price_list_id
from domain.pharmacy.supply_request import SupplyRequest
from domain.security.sections import Section
from domain.sites.site import SiteAction
from domain.sites.site_policy import Always
from projections.billing.vouchers import VoucherQueries, VoucherRow
from projections.clinical.encounters import EncounterQueries
from projections.pharmacy.orders import (
    DIAGNOSTIC,
    PRESCRIPTION,
    REQUEST,
    SERVICE_ORDER,
    SURGERY,
    OrderQueries,
)

MEDICATION_ORDERS: dict[str, tuple[type[Prescription] | type[SupplyRequest], str]] = {
    PRESCRIPTION: (Prescription, prescription.SERIES),
    REQUEST: (SupplyRequest, supply_request.SERIES),
}


class VoucherNotFound(NotFound):
    template = N_("no voucher with number {number}")


class IssueVoucher(Command):
    encounter: str = Field(min_length=1, max_length=40)
    contract: str | None = Field(
        None, pattern=r"^[A-Za-z][0-9]{1,4}$", description=N_("a contract id such as C1")
    )


class VoidVoucher(Command):
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]*$")


@dataclass(frozen=True)
class VoucherView:
    number: str
    state: str
    visit_number: str
    chart_number: str
    patient_name: str
    issued_on: str
    payer_nit: str
    payer_name: str
    contract_number: str
    coverage: str
    payment_model: str
    diagnoses: list[str]
    lines: list[dict[str, Any]]
    total: str
    invoice_number: str
    voided_reason: str


def voucher_view(voucher: ServiceVoucher, allowed: frozenset[Section]) -> VoucherView:
    """The voucher as a reader holding the ``allowed`` sections may see it.

    A voucher's diagnosis codes belong to the clinical history section (Section.HISTORY), like
    every diagnosis elsewhere: ``voucher show`` and ``voucher print`` leave them out for readers
    without it, so holding the voucher menu options does not reveal a diagnosis. Billing keeps
    what RIPS needs: the RIPS export (``invoice rips``, its own menu option) reads the codes from
    the voucher itself, not through this view."""
    patient = voucher.patient
    return VoucherView(
        number=voucher.number,
        state=voucher.state,
        visit_number=voucher.visit_number,
        chart_number=voucher.chart_number,
        patient_name=patient.get("name", ""),
        issued_on=voucher.issued_on.isoformat(),
        payer_nit=voucher.contract["payer_nit"],
        payer_name=voucher.contract["payer_name"],
        contract_number=voucher.contract["contract_number"],
        coverage=voucher.contract["coverage"],
        payment_model=voucher.contract["payment_model"],
        diagnoses=[f"{with_name(d['code'])} ({d['role']} {d['type']})" for d in voucher.diagnoses]
        if Section.HISTORY in allowed
        else [],
        lines=[
            {**line.as_dict(), "unit_value": str(line.unit_value), "total": str(line.total)}
            for line in voucher.lines
        ],
        total=str(voucher.total),
        invoice_number=voucher.invoice_number or "",
        voided_reason=voucher.voided_reason or "",
    )


def patient_snapshot(patient: Patient) -> dict[str, str]:
    d = patient.details
    return {
        "name": " ".join(p for p in (d.first_name, d.middle_name, d.first_surname, d.second_surname) if p),
        "document_type": d.document_type.value,
        "document_number": d.document_number,
        "birth_date": d.birth_date.isoformat(),
        "sex": d.sex.value,
        "municipality": d.municipality,
        "zone": d.zone.value,
    }


class Vouchers:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        catalog: Catalog,
        encounters: EncounterQueries,
        orders: OrderQueries,
        queries: VoucherQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.catalog = catalog
        self.encounters = encounters
        self.orders = orders
        self.queries = queries

    def load(self, number: str) -> tuple[ServiceVoucher, VoucherRow]:
        row = self.queries.by_number(number)
        voucher = self.core.get(ServiceVoucher, voucher_id(row.number)) if row else None
        if row is None or voucher is None:
            raise VoucherNotFound(number=number)
        return voucher, row

    def issue(self, actor: Actor, data: dict[str, Any]) -> VoucherRow:
        """A voucher for a finalized visit: its services, orders, surgeries and medicines
        dispensed net of returns, priced from the patient's contract (a snapshot of the tariff;
        a service without a price goes "sin tarifa"). It carries the visit's site, and holds the
        visit's voucher slot: a second voucher at the same time is refused by the store."""
        self.access.require(actor, "voucher.issue")
        cmd = parse(IssueVoucher, data)
        row = self.encounters.by_number(cmd.encounter)
        encounter = self.core.get(Encounter, UUID(row.encounter_id)) if row else None
        if row is None or encounter is None:
            raise EncounterNotFound(number=cmd.encounter)
        self.operations.require(actor, SiteAction.SERVICE_VOUCHERS, owner_site=row.site)
        patient = self.core.existing(Patient, encounter.patient_id)
        contract = choose_contract(
            patient.contracts, encounter.chart_number, encounter.visit_date, cmd.contract
        )
        prices = self.core.get(PriceList, price_list_id(contract.payer_nit, contract.contract_number))
        lines = price_lines(self.wanted(encounter), prices.prices if prices else {})
        others = [
            self.core.existing(ServiceVoucher, UUID(v.voucher_id))
            for v in self.queries.of_encounter(row.encounter_id)
        ]
        site = self.core.require_identity().site_code
        with self.core.acting_as(actor.username):
            slot = self.core.get(VoucherSlot, voucher_slot_id(encounter.id)) or VoucherSlot(
                encounter_id=encounter.id, visit_number=encounter.number
            )
            series = self.core.get(NumberSeries, series_id(site, SERIES)) or NumberSeries(
                site=site, series=SERIES
            )
            voucher = ServiceVoucher.issue(
                series.take(),
                encounter,
                patient_snapshot(patient),
                contract,
                lines,
                slot,
                others,
                self.core.effective_today(),
                site=row.site,
            )
            self.core.save(series, slot, voucher)
        return self.load(voucher.number)[1]

    def wanted(self, encounter: Encounter) -> list[WantedLine]:
        """What the visit produced: its services, service orders, diagnostic services and linked
        surgeries, and the medicines and supplies dispensed for it net of returns."""
        lines = service_lines(encounter, self._service_name)
        for kind in (SERVICE_ORDER, DIAGNOSTIC, SURGERY):
            for order in self.orders.listing(kind, encounter.number, limit=None):
                lines.append(ordered_line(order.code, self._service_name(order.code), order.quantity))
        dispensed = [
            found
            for kind, (aggregate, series) in MEDICATION_ORDERS.items()
            for order in self.orders.listing(kind, encounter.number, limit=None)
            if (found := self.core.get(aggregate, order_id(series, order.number))) is not None
        ]
        return lines + dispensed_lines(dispensed, self.catalog.item)

    def _service_name(self, code: str) -> str:
        try:
            return self.catalog.service(code).name
        except NotFound:
            return code

    def show(self, actor: Actor, number: str) -> VoucherView:
        self.access.require(actor, "voucher.show")
        self.operations.require(actor, Always.READ)
        return voucher_view(self.load(number)[0], self.access.sections_of(actor))

    def listing(self, actor: Actor, state: str | None = None) -> list[VoucherRow]:
        self.access.require(actor, "voucher.list")
        self.operations.require(actor, Always.READ)
        return self.queries.listing(state=state)

    def void(self, actor: Actor, number: str, data: dict[str, Any]) -> VoucherRow:
        """Void a voucher not yet invoiced; its visit may then get a new one."""
        self.access.require(actor, "voucher.void")
        cmd = parse(VoidVoucher, data)
        voucher, row = self.load(number)
        self.operations.require(actor, SiteAction.SERVICE_VOUCHERS, owner_site=row.site)
        slot = self.core.get(VoucherSlot, voucher_slot_id(voucher.encounter_id))
        with self.core.acting_as(actor.username):
            voucher.void(cmd.reason, self.core.effective_today())
            if slot is None:  # issued before visits had a voucher slot
                self.core.save(voucher)
            else:
                slot.free(voucher.number)
                self.core.save(slot, voucher)
        return self.load(number)[1]

    def printed(self, actor: Actor, number: str, deliver: Deliver) -> PrintedDocument:
        """The voucher as a document, handed to ``deliver``; printing is recorded ("Voucher -
        Print") once it returns."""
        self.access.require(actor, "voucher.print")
        self.operations.require(actor, Always.READ)
        voucher, _row = self.load(number)
        view = voucher_view(voucher, self.access.sections_of(actor))
        header = [
            ("VOLANTE", view.number),
            ("VISITA", view.visit_number),
            ("HIST", view.chart_number),
            ("PACIENTE", view.patient_name),
            ("PAGADOR", f"{view.payer_nit} {view.payer_name}"),
            ("CONTRATO", f"{view.contract_number} ({view.payment_model})"),
            ("DIAGNOSTICOS", "; ".join(view.diagnoses)),
            ("ESTADO", view.state),
        ]
        body = [
            (
                f"{line['kind']} {line['code']}",
                f"{line['description']}: {line['quantity']} x "
                + (f"{line['unit_value']} = {line['total']}" if line["priced"] else "SIN TARIFA"),
            )
            for line in view.lines
        ]
        body.append(("TOTAL", view.total))
        fields = {"VISITA": voucher.visit_number, "VOL": voucher.number}
        title, stem = f"VOLANTE DE SERVICIO {view.number}", f"volante-{view.number}"
        document = PrintedDocument(title, header, body, stem)
        deliver(document)
        self.core.record_access(actor.username, VOUCHER_PRINT, fields)
        return document

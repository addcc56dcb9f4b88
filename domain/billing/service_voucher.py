"""A service voucher ("volante de servicio", notes/colombia-domain.md §3): the internal,
non-fiscal, immutable pre-billing record of one care event for one patient under one payer
contract. A laptop issues vouchers; only central turns them into invoices (seed 000).

The voucher snapshots what billing and RIPS need (patient, contract, tariff, diagnoses, visit
data), so later changes to the contract, the price list or the chart never change it. A service the
contract has no price for does not stop the laptop: its line is issued "sin tarifa" (no tariff),
and central prices it from the price list when it invoices, refusing while the price is missing.
It carries the site of its visit, whoever issued it (central may voucher a site's visit). Its states:
issued -> invoiced (an invoice number) or voided (a reason). A rectified invoice releases its
voucher back to issued (see domain/billing/invoice.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.billing.voucher_slot import AlreadyVouchered, VoucherSlot
from domain.clinical.encounter import Encounter, EncounterClosed
from domain.clinical.payer_contract import ContractNotFound, PayerContract
from domain.errors import N_, DomainError, InvalidValue

SERIES = "VOL"
COLOMBIA_TIME = timezone(timedelta(hours=-5))  # no daylight saving time


class LineKind(Enum):
    """The RIPS array a line goes to."""

    CONSULTATION = "consulta"
    PROCEDURE = "procedimiento"
    MEDICINE = "medicamento"
    OTHER = "otro"


VOUCHER_ENUMS: tuple[type[Enum], ...] = (LineKind,)
STATES = {"issued": N_("issued"), "invoiced": N_("invoiced"), "voided": N_("voided")}


class NotFinalized(DomainError):
    template = N_("visit {number} is not finalized: it cannot be vouchered yet")


class ContractNotInForce(DomainError):
    template = N_("contract {contract_id} of chart {chart_number} does not cover the visit date {on}")


class LineWithoutTariff(DomainError):
    template = N_(
        "voucher {voucher}, line {line} ({code}) has no tariff in the price list of payer {payer_nit}, "
        "contract {contract}: set its price before invoicing"
    )


class NothingToVoucher(DomainError):
    template = N_("visit {number} has no services or medicines to put on a voucher")


class VoucherClosed(DomainError):
    template = N_("voucher {number} is {state}: {what} is not possible")


@dataclass(frozen=True)
class WantedLine:
    """What the visit produced, before pricing."""

    kind: LineKind
    code: str
    description: str
    quantity: int
    details: dict[str, str]  # medicines: form, concentration, unit; dates for RIPS


@dataclass(frozen=True)
class VoucherLine:
    kind: LineKind
    code: str
    description: str
    quantity: int
    unit_value: Decimal
    total: Decimal
    details: dict[str, str]
    priced: bool = True  # False: "sin tarifa", no price in the contract when it was issued

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "code": self.code,
            "description": self.description,
            "quantity": self.quantity,
            "unit_value": self.unit_value,
            "total": self.total,
            "details": dict(self.details),
            "priced": self.priced,
        }

    def with_price(self, unit_value: Decimal) -> VoucherLine:
        return replace(self, unit_value=unit_value, total=unit_value * self.quantity, priced=True)

    @classmethod
    def of(cls, data: dict[str, Any]) -> VoucherLine:
        return cls(
            LineKind(data["kind"]),
            data["code"],
            data["description"],
            int(data["quantity"]),
            Decimal(data["unit_value"]),
            Decimal(data["total"]),
            dict(data["details"]),
            bool(data.get("priced", True)),  # vouchers issued before "sin tarifa" were all priced
        )


def price_lines(wanted: Iterable[WantedLine], prices: dict[str, Decimal]) -> list[VoucherLine]:
    """Each line priced from the contract's price list (a snapshot of the tariff); a line without
    a price is kept "sin tarifa" (valued 0) for central to price before invoicing."""
    lines = []
    for line in wanted:
        unpriced = VoucherLine(
            line.kind, line.code, line.description, line.quantity, Decimal(0), Decimal(0), line.details, False
        )
        unit_value = prices.get(line.code)
        lines.append(unpriced if unit_value is None else unpriced.with_price(unit_value))
    return lines


def contract_snapshot(contract: PayerContract) -> dict[str, str]:
    return {
        "contract_id": contract.contract_id,
        "payer_nit": contract.payer_nit,
        "payer_name": contract.payer_name,
        "contract_number": contract.contract_number,
        "regime": contract.regime.value,
        "coverage": contract.coverage_status.value,
        "payment_model": contract.payment_model.value,
    }


class ServiceVoucher(BrigadaAggregate):
    TOPIC = "brigada.ServiceVoucher"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.ServiceVoucher.Event"

    class Issued(BrigadaAggregate.Created):
        TOPIC = "brigada.ServiceVoucher.Issued"
        number: str
        encounter_id: UUID
        visit_number: str
        patient_id: UUID
        chart_number: str
        patient: dict[str, str]
        visit: dict[str, str]
        contract: dict[str, str]
        lines: list[dict[str, Any]]
        diagnoses: list[dict[str, str]]
        issued_on: date
        site: str = ""  # the visit's site; older vouchers: the site that recorded them

    class Priced(Event):
        """Central priced its lines "sin tarifa" from the contract's price list."""

        TOPIC = "brigada.ServiceVoucher.Priced"
        lines: list[dict[str, Any]]

    class Voided(Event):
        TOPIC = "brigada.ServiceVoucher.Voided"
        reason: str
        voided_on: date

    class Invoiced(Event):
        TOPIC = "brigada.ServiceVoucher.Invoiced"
        invoice_number: str

    class Released(Event):
        """Its invoice was rectified: the voucher may be invoiced again, or voided."""

        TOPIC = "brigada.ServiceVoucher.Released"
        invoice_number: str
        note_number: str

    @staticmethod
    def create_id(number: str) -> UUID:
        return voucher_id(number)

    @event(Issued)
    def __init__(
        self,
        number: str,
        encounter_id: UUID,
        visit_number: str,
        patient_id: UUID,
        chart_number: str,
        patient: dict[str, str],
        visit: dict[str, str],
        contract: dict[str, str],
        lines: list[dict[str, Any]],
        diagnoses: list[dict[str, str]],
        issued_on: date,
        site: str = "",
    ) -> None:
        self.number = number
        self.encounter_id = encounter_id
        self.visit_number = visit_number
        self.patient_id = patient_id
        self.chart_number = chart_number
        self.patient = dict(patient)
        self.visit = dict(visit)
        self.contract = dict(contract)
        self.lines = [VoucherLine.of(line) for line in lines]
        self.diagnoses = [dict(d) for d in diagnoses]
        self.issued_on = issued_on
        self.site = site
        self.voided_reason: str | None = None
        self.invoice_number: str | None = None

    @classmethod
    def issue(
        cls,
        number: str,
        encounter: Encounter,
        patient: dict[str, str],
        contract: PayerContract,
        lines: list[VoucherLine],
        slot: VoucherSlot,
        others: Iterable[ServiceVoucher],
        today: date,
        site: str,
    ) -> ServiceVoucher:
        """One patient, one contract in force on the visit date, one care event, held in the
        visit's slot (a voided voucher frees it); ``others``: its vouchers from before slots."""
        if encounter.deleted:
            raise EncounterClosed(number=encounter.number, state=N_("deleted"), what=N_("a voucher"))
        if encounter.finalized_on is None:
            raise NotFinalized(number=encounter.number)
        covering = next((v for v in others if v.encounter_id == encounter.id and not v.voided), None)
        if covering is not None:
            raise AlreadyVouchered(number=encounter.number, voucher=covering.number)
        if not contract.covers(encounter.visit_date):
            raise ContractNotInForce(
                contract_id=contract.contract_id,
                chart_number=encounter.chart_number,
                on=encounter.visit_date.isoformat(),
            )
        if not lines:
            raise NothingToVoucher(number=encounter.number)
        slot.hold(number)
        return cls(
            number=number,
            encounter_id=encounter.id,
            visit_number=encounter.number,
            patient_id=encounter.patient_id,
            chart_number=encounter.chart_number,
            patient=patient,
            visit={
                **encounter.visit_data,
                "visit_date": encounter.visit_date.isoformat(),
                "professional": encounter.professional,
                "started_at": encounter.created_on.astimezone(COLOMBIA_TIME).strftime("%Y-%m-%d %H:%M"),
            },
            contract=contract_snapshot(contract),
            lines=[line.as_dict() for line in lines],
            diagnoses=[
                {"code": d.code, "role": d.role.value, "type": d.type.value}
                for d in encounter.diagnoses.values()
            ],
            issued_on=today,
            site=site,
        )

    # -- state ----------------------------------------------------------------------------------
    @property
    def voided(self) -> bool:
        return self.voided_reason is not None

    @property
    def state(self) -> str:
        return "voided" if self.voided else "invoiced" if self.invoice_number else "issued"

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))

    @property
    def unpriced(self) -> list[VoucherLine]:
        return [line for line in self.lines if not line.priced]

    @property
    def invoiceable(self) -> bool:
        return self.state == "issued"

    def _require_issued(self, what: str) -> None:
        if not self.invoiceable:
            raise VoucherClosed(number=self.number, state=STATES[self.state], what=what)

    # -- commands -------------------------------------------------------------------------------
    def void(self, reason: str, today: date) -> None:
        """An invoiced voucher is corrected by rectifying its invoice first."""
        self._require_issued(N_("voiding"))
        if not reason.strip():
            raise InvalidValue("reason", N_("a reason is required"))
        self._void(reason=reason.strip(), voided_on=today)

    @event(Voided)
    def _void(self, reason: str, voided_on: date) -> None:
        self.voided_reason = reason

    def price_missing(self, prices: dict[str, Decimal]) -> None:
        """Price the lines issued "sin tarifa" whose code the price list now holds."""
        lines = [
            line.with_price(prices[line.code]) if not line.priced and line.code in prices else line
            for line in self.lines
        ]
        if lines != self.lines:
            self._require_issued(N_("pricing"))
            self._price(lines=[line.as_dict() for line in lines])

    @event(Priced)
    def _price(self, lines: list[dict[str, Any]]) -> None:
        self.lines = [VoucherLine.of(line) for line in lines]

    def require_priced(self) -> None:
        """No invoice while a line is "sin tarifa": the first such line is named."""
        for position, line in enumerate(self.lines, start=1):
            if not line.priced:
                raise LineWithoutTariff(
                    voucher=self.number,
                    line=position,
                    code=line.code,
                    payer_nit=self.contract["payer_nit"],
                    contract=self.contract["contract_number"],
                )

    def mark_invoiced(self, invoice_number: str) -> None:
        self._require_issued(N_("invoicing"))
        self.require_priced()
        self._mark_invoiced(invoice_number=invoice_number)

    @event(Invoiced)
    def _mark_invoiced(self, invoice_number: str) -> None:
        self.invoice_number = invoice_number

    def release(self, invoice_number: str, note_number: str) -> None:
        if self.invoice_number != invoice_number:
            raise VoucherClosed(number=self.number, state=STATES[self.state], what=N_("releasing"))
        self._release(invoice_number=invoice_number, note_number=note_number)

    @event(Released)
    def _release(self, invoice_number: str, note_number: str) -> None:
        self.invoice_number = None


def voucher_id(number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:voucher:{number.strip().upper()}")


class NoContractInForce(DomainError):
    template = N_("chart {chart_number} has no payer contract in force on {on}: assign one first")


def choose_contract(
    contracts: dict[str, PayerContract], chart_number: str, on: date, wanted: str | None
) -> PayerContract:
    """The contract named, else the only one covering ``on`` (several: the user names one)."""
    if wanted is not None:
        found = contracts.get(wanted.strip().upper())
        if found is None:
            raise ContractNotFound(chart_number=chart_number, contract_id=wanted)
        return found
    covering = [c for c in contracts.values() if c.covers(on)]
    if not covering:
        raise NoContractInForce(chart_number=chart_number, on=on.isoformat())
    if len(covering) > 1:
        raise InvalidValue(
            "contract",
            N_("several contracts cover {on}: name one of {choices}"),
            on=on.isoformat(),
            choices=", ".join(sorted(c.contract_id for c in covering)),
        )
    return covering[0]

"""The patient record (the seed's "historia"), identified across sites by its chart number HIST."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.clinical.payer_contract import (
    ContractAlreadyEnded,
    ContractNotFound,
    OverlappingContract,
    PayerContract,
    PaymentModel,
    Regime,
)
from domain.errors import N_, DomainError, InvalidValue
from domain.vocabulary import (
    DEPARTMENT_CODES,
    DOCUMENT_AGE_RANGES,
    DOCUMENT_AGE_RULE,
    NUMERIC_DOCUMENTS,
    CoverageStatus,
    DocumentType,
    Sex,
    Zone,
)


@dataclass(frozen=True)
class PatientDetails:
    """What the registration desk records. Names come in four parts, as RIPS and the FEV need."""

    document_type: DocumentType
    document_number: str
    first_name: str
    middle_name: str
    first_surname: str
    second_surname: str
    birth_date: date
    sex: Sex
    municipality: str
    zone: Zone
    coverage_status: CoverageStatus

    def check(self, today: date) -> None:
        """Rules tying fields together or to the date; each field's shape is checked on input."""
        if self.birth_date > today:
            raise InvalidValue("birth_date", N_("the birth date cannot be in the future"))
        if self.document_type in NUMERIC_DOCUMENTS and not self.document_number.isdigit():
            raise InvalidValue(
                "document_number",
                N_("a {document_type} number has digits only"),
                document_type=self.document_type.value,
            )
        if self.municipality[:2] not in DEPARTMENT_CODES:
            raise InvalidValue(
                "municipality",
                N_("{code} is not a DIVIPOLA municipality code (unknown department {dept})"),
                code=self.municipality,
                dept=self.municipality[:2],
            )
        age = age_on(self.birth_date, today)
        low, high = DOCUMENT_AGE_RANGES.get(self.document_type, (0, 200))
        if not low <= age <= high:
            raise InvalidValue(
                "document_type",
                DOCUMENT_AGE_RULE,
                document_type=self.document_type.value,
                low=low,
                high=high,
                age=age,
            )

    def changed(self, **changes: Any) -> dict[str, Any]:
        """The subset of ``changes`` that differs from these details."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown patient fields: {sorted(unknown)}")
        return {k: v for k, v in changes.items() if getattr(self, k) != v}

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def age_on(birth_date: date, today: date) -> int:
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class NothingToCorrect(DomainError):
    template = N_("nothing to correct: the values given are the ones recorded")


class ChartMerged(DomainError):
    template = N_("chart {chart_number} was merged into chart {kept_chart}: use that chart")


class ChartHasOpenItems(DomainError):
    template = N_("chart {chart_number} still has {items}: close them before merging the chart")


class Patient(BrigadaAggregate):
    TOPIC = "brigada.Patient"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Patient.Event"

    class Registered(BrigadaAggregate.Created):
        TOPIC = "brigada.Patient.Registered"
        chart_number: str
        details: dict[str, Any]

    class Corrected(Event):
        TOPIC = "brigada.Patient.Corrected"
        changes: dict[str, Any]

    class ContractAssigned(Event):
        TOPIC = "brigada.Patient.ContractAssigned"
        contract_id: str
        payer_nit: str
        payer_name: str
        contract_number: str
        regime: Regime
        coverage_status: CoverageStatus
        payment_model: PaymentModel
        valid_from: date
        valid_to: date | None

    class ContractEnded(Event):
        TOPIC = "brigada.Patient.ContractEnded"
        contract_id: str
        ended_on: date

    class MergedInto(Event):
        """This chart was a duplicate: its history now lives in the kept chart."""

        TOPIC = "brigada.Patient.MergedInto"
        kept_patient_id: UUID
        kept_chart: str

    class Absorbed(Event):
        """The seed's "Historia - Rectificar", on the chart that is kept."""

        TOPIC = "brigada.Patient.Absorbed"
        removed_patient_id: UUID
        removed_chart: str

    @event(Registered)
    def __init__(self, chart_number: str, details: dict[str, Any]) -> None:
        self.chart_number = chart_number
        self.details = PatientDetails(**details)
        self.contracts: dict[str, PayerContract] = {}
        self.merged_into: str | None = None  # the kept chart, once merged
        self.absorbed: list[str] = []  # the charts merged into this one

    @classmethod
    def register(cls, chart_number: str, details: PatientDetails, today: date) -> Patient:
        details.check(today)
        return cls(chart_number=chart_number, details=details.as_dict())

    def require_current(self) -> None:
        """A merged chart refuses every change: its history moved to the kept chart."""
        if self.merged_into is not None:
            raise ChartMerged(chart_number=self.chart_number, kept_chart=self.merged_into)

    def correct(self, today: date, **changes: Any) -> None:
        self.require_current()
        changed = self.details.changed(**changes)
        if not changed:
            raise NothingToCorrect()
        PatientDetails(**{**self.details.as_dict(), **changed}).check(today)
        self._correct(changes=changed)

    @event(Corrected)
    def _correct(self, changes: dict[str, Any]) -> None:
        self.details = PatientDetails(**{**self.details.as_dict(), **changes})

    # -- payer contracts ------------------------------------------------------------------------
    def assign_contract(
        self,
        payer_nit: str,
        payer_name: str,
        contract_number: str,
        regime: Regime,
        coverage_status: CoverageStatus,
        payment_model: PaymentModel,
        valid_from: date,
        valid_to: date | None,
    ) -> str:
        """Add a contract; two contracts with the same payer may not cover the same day."""
        self.require_current()
        contract = PayerContract(
            f"C{len(self.contracts) + 1}",
            payer_nit,
            payer_name,
            contract_number,
            regime,
            coverage_status,
            payment_model,
            valid_from,
            valid_to,
        )
        contract.check()
        for other in self.contracts.values():
            if other.payer_nit == payer_nit and other.overlaps(valid_from, valid_to):
                raise OverlappingContract(
                    chart_number=self.chart_number,
                    contract_id=other.contract_id,
                    payer_nit=payer_nit,
                    valid_from=other.valid_from.isoformat(),
                    last_day=other.last_day.isoformat() if other.last_day else "-",
                )
        self._assign_contract(**_fields(contract))
        return contract.contract_id

    @event(ContractAssigned)
    def _assign_contract(
        self,
        contract_id: str,
        payer_nit: str,
        payer_name: str,
        contract_number: str,
        regime: Regime,
        coverage_status: CoverageStatus,
        payment_model: PaymentModel,
        valid_from: date,
        valid_to: date | None,
    ) -> None:
        self.contracts[contract_id] = PayerContract(
            contract_id,
            payer_nit,
            payer_name,
            contract_number,
            regime,
            coverage_status,
            payment_model,
            valid_from,
            valid_to,
        )

    def end_contract(self, contract_id: str, on: date) -> None:
        self.require_current()
        contract = self.contracts.get(contract_id.strip().upper())
        if contract is None:
            raise ContractNotFound(chart_number=self.chart_number, contract_id=contract_id)
        if contract.ended_on is not None:
            raise ContractAlreadyEnded(
                chart_number=self.chart_number,
                contract_id=contract.contract_id,
                ended_on=contract.ended_on.isoformat(),
            )
        contract.check_end(on)
        self._end_contract(contract_id=contract.contract_id, ended_on=on)

    @event(ContractEnded)
    def _end_contract(self, contract_id: str, ended_on: date) -> None:
        self.contracts[contract_id] = self.contracts[contract_id].ended(ended_on)

    # -- merging duplicate charts ---------------------------------------------------------------
    @event(MergedInto)
    def _merge_into(self, kept_patient_id: UUID, kept_chart: str) -> None:
        self.merged_into = kept_chart

    @event(Absorbed)
    def _absorb(self, removed_patient_id: UUID, removed_chart: str) -> None:
        self.absorbed.append(removed_chart)

    @property
    def patient_id(self) -> UUID:
        return self.id


def _fields(contract: PayerContract) -> dict[str, Any]:
    """The ContractAssigned fields of a new contract."""
    return {k: v for k, v in contract.__dict__.items() if k != "ended_on"}


def merge_charts(kept: Patient, removed: Patient, open_items: list[str]) -> None:
    """The seed's "Historia - Rectificar": ``removed`` is merged into ``kept``.

    ``open_items`` names what still hangs open from the removed chart (an admission, a booked
    appointment); a chart with open items is not merged, so nothing is left pointing at it.
    """
    if kept.id == removed.id:
        raise InvalidValue("remove", N_("a chart cannot be merged into itself"))
    kept.require_current()
    removed.require_current()
    if open_items:
        raise ChartHasOpenItems(chart_number=removed.chart_number, items=", ".join(open_items))
    removed._merge_into(kept_patient_id=kept.id, kept_chart=kept.chart_number)
    kept._absorb(removed_patient_id=removed.id, removed_chart=removed.chart_number)

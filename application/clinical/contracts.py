"""A patient's payer contracts (seed 000, "asignación de contratos"): assign and end them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field

from application.clinical.patients import Patients
from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.clinical.patient import Patient
from domain.clinical.payer_contract import PayerContract, PaymentModel, Regime, payer_nit
from domain.errors import N_
from domain.sites.site import SiteAction
from domain.vocabulary import CoverageStatus

NIT_HINT = N_("the payer's NIT: 5 to 15 digits, optionally a dash and its check digit")
CONTRACT_HINT = N_("1 to 40 letters, digits, spaces, dots, slashes or dashes")


class NewContract(Command):
    payer_nit: str = Field(pattern=r"^\d{5,15}(-\d)?$", description=NIT_HINT)
    payer_name: str = Field(min_length=1, max_length=120)
    contract_number: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,39}$", description=CONTRACT_HINT)
    regime: Regime
    coverage_status: CoverageStatus
    payment_model: PaymentModel
    valid_from: date
    valid_to: date | None = None


class ContractEnd(Command):
    ended_on: date


@dataclass(frozen=True)
class ContractView:
    contract_id: str
    payer_nit: str
    payer_name: str
    contract_number: str
    regime: str
    coverage_status: str
    payment_model: str
    valid_from: date
    valid_to: date | None
    ended_on: date | None
    in_force: bool  # covers today

    @classmethod
    def of(cls, contract: PayerContract, today: date) -> ContractView:
        return cls(
            contract_id=contract.contract_id,
            payer_nit=contract.payer_nit,
            payer_name=contract.payer_name,
            contract_number=contract.contract_number,
            regime=contract.regime.value,
            coverage_status=contract.coverage_status.value,
            payment_model=contract.payment_model.value,
            valid_from=contract.valid_from,
            valid_to=contract.valid_to,
            ended_on=contract.ended_on,
            in_force=contract.covers(today),
        )


class Contracts:
    def __init__(self, core: Core, access: Access, operations: Operations, patients: Patients) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.patients = patients

    def views(self, patient: Patient) -> list[ContractView]:
        today = self.core.clock.today()
        return [ContractView.of(c, today) for c in patient.contracts.values()]

    def add(self, actor: Actor, chart_number: str, data: dict[str, Any]) -> ContractView:
        """Assign a payer contract; one payer's contracts may not cover the same day twice."""
        self.access.require(actor, "patient.contract.add")
        cmd = parse(NewContract, data)
        self.operations.require(actor, SiteAction.PATIENTS)
        patient = self.patients.load(chart_number)
        with self.core.acting_as(actor.username):
            contract_id = patient.assign_contract(
                payer_nit(cmd.payer_nit),
                cmd.payer_name,
                cmd.contract_number,
                cmd.regime,
                cmd.coverage_status,
                cmd.payment_model,
                cmd.valid_from,
                cmd.valid_to,
            )
            self.core.save(patient)
        return ContractView.of(patient.contracts[contract_id], self.core.clock.today())

    def end(self, actor: Actor, chart_number: str, contract_id: str, data: dict[str, Any]) -> ContractView:
        """End a contract on a date (its last day covered)."""
        self.access.require(actor, "patient.contract.end")
        cmd = parse(ContractEnd, data)
        self.operations.require(actor, SiteAction.PATIENTS)
        patient = self.patients.load(chart_number)
        with self.core.acting_as(actor.username):
            patient.end_contract(contract_id, cmd.ended_on)
            self.core.save(patient)
        return ContractView.of(patient.contracts[contract_id.strip().upper()], self.core.clock.today())

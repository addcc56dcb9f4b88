"""A patient's payer contract (notes/colombia-domain.md §1): who pays for the care (the payer, by
NIT), under which contract, regime and insurance status (RIPS tipoUsuario), how (the payment
model) and for which days. The payer and the contract are not RIPS fields; they go to the FEV's
health extension and choose which voucher a service goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import Enum

from domain.errors import N_, DomainError, InvalidValue, NotFound
from domain.vocabulary import CoverageStatus


class Regime(Enum):
    """The patient's health-insurance regime under this contract."""

    CONTRIBUTORY = "contributivo"
    SUBSIDIZED = "subsidiado"
    SPECIAL = "especial"  # regímenes especial y de excepción
    UNINSURED = "no-afiliado"
    PRISON_POPULATION = "ppl"
    OCCUPATIONAL_RISK = "arl"
    SOAT = "soat"
    VOLUNTARY_PLAN = "voluntario"
    PRIVATE = "particular"


# regime -> the insurance statuses (RIPSTipoUsuarioVersion2) a contract under it may carry.
REGIME_COVERAGE: dict[Regime, frozenset[CoverageStatus]] = {
    Regime.CONTRIBUTORY: frozenset(
        {
            CoverageStatus.CONTRIBUTORY_CONTRIBUTOR,
            CoverageStatus.CONTRIBUTORY_BENEFICIARY,
            CoverageStatus.CONTRIBUTORY_ADDITIONAL,
        }
    ),
    Regime.SUBSIDIZED: frozenset({CoverageStatus.SUBSIDIZED}),
    Regime.SPECIAL: frozenset(
        {CoverageStatus.SPECIAL, CoverageStatus.SPECIAL_BENEFICIARY, CoverageStatus.SPECIAL_NON_CONTRIBUTOR}
    ),
    Regime.UNINSURED: frozenset({CoverageStatus.UNINSURED}),
    Regime.PRISON_POPULATION: frozenset({CoverageStatus.PRISON_POPULATION}),
    Regime.OCCUPATIONAL_RISK: frozenset({CoverageStatus.OCCUPATIONAL_RISK}),
    Regime.SOAT: frozenset({CoverageStatus.SOAT}),
    Regime.VOLUNTARY_PLAN: frozenset({CoverageStatus.VOLUNTARY_PLAN}),
    Regime.PRIVATE: frozenset({CoverageStatus.PRIVATE}),
}


class PaymentModel(Enum):
    """How the payer pays; FEV_CODES gives ModalidadContratoyPago."""

    FEE_FOR_SERVICE = "evento"
    CAPITATION = "capitacion"
    GLOBAL_PROSPECTIVE = "pgp"  # pago global prospectivo


FEV_CODES: dict[PaymentModel, str] = {
    PaymentModel.FEE_FOR_SERVICE: "12",
    PaymentModel.CAPITATION: "11",
    PaymentModel.GLOBAL_PROSPECTIVE: "08",
}

CONTRACT_ENUMS: tuple[type[Enum], ...] = (Regime, PaymentModel)

# DIAN's weights for the NIT check digit, applied from the rightmost digit.
NIT_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def nit_check_digit(nit: str) -> str:
    total = sum(int(d) * w for d, w in zip(reversed(nit), NIT_WEIGHTS, strict=False))
    rest = total % 11
    return str(rest if rest < 2 else 11 - rest)


def payer_nit(text: str) -> str:
    """The payer's NIT without its check digit; a check digit given (``900123456-7``) must be right."""
    number, _dash, given = text.strip().partition("-")
    if given and given != nit_check_digit(number):
        raise InvalidValue(
            "payer_nit",
            N_("the check digit of NIT {nit} is {expected}, not {given}"),
            nit=number,
            expected=nit_check_digit(number),
            given=given,
        )
    return number


class ContractNotFound(NotFound):
    template = N_("chart {chart_number} has no contract {contract_id}")


class ContractAlreadyEnded(DomainError):
    template = N_("contract {contract_id} of chart {chart_number} already ended on {ended_on}")


class OverlappingContract(DomainError):
    template = N_(
        "chart {chart_number} already has contract {contract_id} with payer {payer_nit} "
        "from {valid_from} to {last_day}: two contracts with one payer cannot cover the same day"
    )


@dataclass(frozen=True)
class PayerContract:
    contract_id: str
    payer_nit: str
    payer_name: str
    contract_number: str
    regime: Regime
    coverage_status: CoverageStatus
    payment_model: PaymentModel
    valid_from: date
    valid_to: date | None
    ended_on: date | None = None

    @property
    def last_day(self) -> date | None:
        """The last day covered (None: open-ended)."""
        days = [d for d in (self.valid_to, self.ended_on) if d is not None]
        return min(days) if days else None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.last_day is None or day <= self.last_day)

    def overlaps(self, valid_from: date, valid_to: date | None) -> bool:
        starts_before_other_ends = valid_to is None or self.valid_from <= valid_to
        ends_after_other_starts = self.last_day is None or valid_from <= self.last_day
        return starts_before_other_ends and ends_after_other_starts

    def ended(self, on: date) -> PayerContract:
        return replace(self, ended_on=on)

    def check(self) -> None:
        """Rules tying the fields together (each field's shape is checked on input)."""
        if self.coverage_status not in REGIME_COVERAGE[self.regime]:
            allowed = sorted(c.value for c in REGIME_COVERAGE[self.regime])
            raise InvalidValue(
                "coverage_status",
                N_("a {regime} contract carries insurance status {allowed}, not {coverage}"),
                regime=self.regime.value,
                allowed=", ".join(allowed),
                coverage=self.coverage_status.value,
            )
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise InvalidValue(
                "valid_to",
                N_("the contract cannot end ({valid_to}) before it starts ({valid_from})"),
                valid_to=self.valid_to.isoformat(),
                valid_from=self.valid_from.isoformat(),
            )

    def check_end(self, on: date) -> None:
        if on < self.valid_from or (self.valid_to is not None and on > self.valid_to):
            raise InvalidValue(
                "ended_on",
                N_("contract {contract_id} is valid from {valid_from} to {valid_to}: it cannot end on {on}"),
                contract_id=self.contract_id,
                valid_from=self.valid_from.isoformat(),
                valid_to=self.valid_to.isoformat() if self.valid_to else "-",
                on=on.isoformat(),
            )

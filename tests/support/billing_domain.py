"""Billing aggregates without a store: a finalized encounter, a contract, priced lines, the
visit's voucher slot."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.billing.service_voucher import LineKind, ServiceVoucher, WantedLine, price_lines
from domain.billing.voucher_slot import VoucherSlot
from domain.clinical.encounter import DiagnosisRole, DiagnosisType, Encounter, EncounterKind
from domain.clinical.payer_contract import PayerContract, PaymentModel, Regime
from domain.vocabulary import CoverageStatus
from tests.support.given_when_then import TODAY, recorded

PATIENT = {
    "name": "José Peña",
    "document_type": "CC",
    "document_number": "1032456789",
    "birth_date": "1980-05-02",
    "sex": "M",
    "municipality": "05001",
    "zone": "02",
}
CONTRACT = PayerContract(
    "C1",
    "900123456",
    "EPS Río",
    "EVT-2026",
    Regime.SUBSIDIZED,
    CoverageStatus.SUBSIDIZED,
    PaymentModel.FEE_FOR_SERVICE,
    date(2026, 1, 1),
    date(2026, 12, 31),
)
PRICES = {"890201": Decimal("35000"), "902210": Decimal("12500.50"), "19943528-1": Decimal("120")}


def encounter(number: str = "CEN-1", finalized: bool = True, deleted: bool = False) -> Encounter:
    def make() -> Encounter:
        visit = Encounter(
            number=number,
            patient_id=uuid.uuid4(),
            chart_number="CEN-9",
            kind=EncounterKind.OUTPATIENT,
            visit_date=TODAY,
            professional="ana",
            visit_data={"modality": "04", "purpose": "16", "cause": "38"},
            appointment=None,
            admission=None,
        )
        visit.add_service("890201", 1, "Consulta")
        visit.set_diagnosis("I10X", DiagnosisRole.PRINCIPAL, DiagnosisType.CONFIRMED_NEW)
        visit.set_diagnosis("E119", DiagnosisRole.RELATED, DiagnosisType.CONFIRMED_NEW)
        if finalized:
            visit.finalize(TODAY)
        if deleted:
            visit._delete()
        return visit

    made = recorded(make)
    made.collect_events()
    return made


def lines(quantity: int = 1) -> list[Any]:
    wanted = [
        WantedLine(LineKind.CONSULTATION, "890201", "Consulta", 1, {}),
        WantedLine(LineKind.PROCEDURE, "902210", "Hemograma", quantity, {}),
        WantedLine(
            LineKind.MEDICINE, "19943528-1", "Acetaminofén", 10, {"form": "tableta", "unit": "tableta"}
        ),
    ]
    return price_lines(wanted, PRICES)


def slot(visit: Encounter) -> VoucherSlot:
    """The visit's voucher slot, never held yet."""
    return recorded(lambda: VoucherSlot(encounter_id=visit.id, visit_number=visit.number))


def voucher(
    number: str = "CEN-1",
    visit: Encounter | None = None,
    others: Sequence[ServiceVoucher] = (),
    held: VoucherSlot | None = None,
    priced: list[Any] | None = None,
    site: str = "CEN",
) -> ServiceVoucher:
    """A voucher of ``visit`` (default: a new finalized one), holding ``held`` (default: a new
    slot of the visit), with ``priced`` lines (default: ``lines()``)."""
    visit = visit or encounter()
    held = held or slot(visit)
    chosen = lines() if priced is None else priced
    return recorded(
        lambda: ServiceVoucher.issue(
            number, visit, PATIENT, CONTRACT, chosen, held, list(others), TODAY, site
        )
    )

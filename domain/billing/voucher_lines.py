"""What a finalized visit puts on its voucher, before pricing (domain/billing/service_voucher.py
prices the lines): the visit's services (a consultation or a procedure by its CUPS code), its
service orders, diagnostic services and linked surgeries (procedures), and the medicines and
supplies dispensed for it net of returns (a medicine, or "otro" for a supply)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from domain.billing.service_voucher import LineKind, WantedLine
from domain.clinical.encounter import Encounter
from domain.pharmacy.catalog import CatalogItem, ItemKind
from domain.pharmacy.dispensing import MedicationOrder

CONSULTATION_PREFIX = "890"  # CUPS 890xxx: consultations; other services are procedures


def service_kind(cups_code: str) -> LineKind:
    """The RIPS array a visit's service goes to."""
    return LineKind.CONSULTATION if cups_code.startswith(CONSULTATION_PREFIX) else LineKind.PROCEDURE


def service_lines(encounter: Encounter, name_of: Callable[[str], str]) -> list[WantedLine]:
    """The visit's services still on it, described as recorded or else by the catalog's name."""
    return [
        WantedLine(
            service_kind(s.cups_code), s.cups_code, s.description or name_of(s.cups_code), s.quantity, {}
        )
        for s in encounter.services.values()
        if not s.removed
    ]


def ordered_line(code: str, name: str, quantity: int) -> WantedLine:
    """A service order, diagnostic service or surgery: a procedure, at least once."""
    return WantedLine(LineKind.PROCEDURE, code, name, max(quantity, 1), {})


def dispensed_net_of_returns(order: MedicationOrder) -> dict[str, int]:
    """Per item of a prescription or supply request: dispensed minus returned, from the
    medication ledger's public tallies (the one place billing reads the pharmacy chain); items
    with nothing left are not billed."""
    ledger = order.ledger
    net = {
        item: ledger.total(item, "dispensed") - ledger.total(item, "returned") for item in ledger.requested
    }
    return {item: quantity for item, quantity in sorted(net.items()) if quantity > 0}


def item_line(item: CatalogItem, quantity: int) -> WantedLine:
    """A dispensed catalog item: a medicine (with its form, concentration and unit for RIPS), or
    any other supply."""
    kind = LineKind.MEDICINE if item.kind is ItemKind.MEDICINE else LineKind.OTHER
    details = {"form": item.form, "concentration": item.concentration, "unit": item.dispensing_unit}
    return WantedLine(kind, item.code, item.name, quantity, details)


def dispensed_lines(
    orders: Iterable[MedicationOrder], item_of: Callable[[str], CatalogItem]
) -> list[WantedLine]:
    """One line per item each order dispensed and did not get back, in the orders' order."""
    return [
        item_line(item_of(code), quantity)
        for order in orders
        for code, quantity in dispensed_net_of_returns(order).items()
    ]

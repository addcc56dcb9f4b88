"""Prices per payer contract: one price list per (payer NIT, contract number), a unit value per
catalog code. A voucher line takes its tariff from here (notes/colombia-domain.md §3)."""

from __future__ import annotations

from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, InvalidValue

MAX_PRICE = Decimal("1000000000")


class PriceList(BrigadaAggregate):
    TOPIC = "brigada.PriceList"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.PriceList.Event"

    class Started(BrigadaAggregate.Created):
        TOPIC = "brigada.PriceList.Started"
        payer_nit: str
        contract: str

    class PriceSet(Event):
        TOPIC = "brigada.PriceList.PriceSet"
        code: str
        unit_value: Decimal

    @staticmethod
    def create_id(payer_nit: str, contract: str) -> UUID:
        return price_list_id(payer_nit, contract)

    @event(Started)
    def __init__(self, payer_nit: str, contract: str) -> None:
        self.payer_nit = payer_nit
        self.contract = contract
        self.prices: dict[str, Decimal] = {}

    def set_price(self, code: str, unit_value: Decimal) -> bool:
        """False when the price is already this one (nothing recorded)."""
        if not Decimal(0) <= unit_value < MAX_PRICE or unit_value != unit_value.quantize(Decimal("0.01")):
            raise InvalidValue("value", N_("must be an amount from 0 with at most 2 decimals"))
        if self.prices.get(code) == unit_value:
            return False
        self._set_price(code=code, unit_value=unit_value)
        return True

    @event(PriceSet)
    def _set_price(self, code: str, unit_value: Decimal) -> None:
        self.prices[code] = unit_value


def price_list_id(payer_nit: str, contract: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:prices:{payer_nit}:{contract.strip().upper()}")

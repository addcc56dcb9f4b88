"""The catalog (notes/colombia-domain.md §1, §6): medicines (CUM), supplies (the provider's own
codes) and services and procedures (CUPS). Kept on central; a laptop receives it read-only.

Medicines and supplies are stocked and dispensed in their dispensing unit ("unidad mínima de
dispensación"); their codes share one namespace, so ``--item CODE`` always names one thing.
Services and procedures have their own namespace (a CUPS code is 6 digits).
"""

from __future__ import annotations

import re
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue


class ItemKind(Enum):
    MEDICINE = "medicine"
    SUPPLY = "supply"
    SERVICE = "service"  # a CUPS service or procedure

    @property
    def stocked(self) -> bool:
        return self is not ItemKind.SERVICE


CATALOG_ENUMS: tuple[type[Enum], ...] = (ItemKind,)

# CUM: INVIMA's expediente, a dash and the presentation's consecutive ("19943528-1").
CUM = re.compile(r"^[0-9]{1,12}-[0-9]{1,3}$")
CUPS = re.compile(r"^[0-9]{6}$")
OWN_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")


class AlreadyInCatalog(DomainError):
    template = N_("{code} is already in the catalog ({name})")


class NotStocked(DomainError):
    template = N_("{code} is a service: it is not stocked, prescribed or dispensed")


def check_code(kind: ItemKind, code: str) -> str:
    code = code.strip().upper()
    if kind is ItemKind.MEDICINE and not CUM.match(code):
        raise InvalidValue(
            "code", N_("{code} is not a CUM code (expediente, a dash, consecutive)"), code=code
        )
    if kind is ItemKind.SERVICE and not CUPS.match(code):
        raise InvalidValue("code", N_("{code} is not a CUPS code (6 digits)"), code=code)
    if kind is ItemKind.SUPPLY and not OWN_CODE.match(code):
        raise InvalidValue(
            "code", N_("{code} is not a supply code (2 to 20 capital letters, digits, dashes)"), code=code
        )
    return code


class CatalogItem(BrigadaAggregate):
    TOPIC = "brigada.CatalogItem"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.CatalogItem.Event"

    class Added(BrigadaAggregate.Created):
        TOPIC = "brigada.CatalogItem.Added"
        kind: ItemKind
        code: str
        name: str
        form: str  # pharmaceutical form (tableta, jarabe...); empty for supplies and services
        concentration: str
        dispensing_unit: str  # empty for services
        marketing_auth: str  # INVIMA registro sanitario

    @staticmethod
    def create_id(kind: ItemKind, code: str) -> UUID:
        return catalog_id(kind, code)

    @event(Added)
    def __init__(
        self,
        kind: ItemKind,
        code: str,
        name: str,
        form: str,
        concentration: str,
        dispensing_unit: str,
        marketing_auth: str,
    ) -> None:
        self.kind = kind
        self.code = code
        self.name = name
        self.form = form
        self.concentration = concentration
        self.dispensing_unit = dispensing_unit
        self.marketing_auth = marketing_auth

    @classmethod
    def add(
        cls,
        kind: ItemKind,
        code: str,
        name: str,
        form: str = "",
        concentration: str = "",
        dispensing_unit: str = "",
        marketing_auth: str = "",
    ) -> CatalogItem:
        code = check_code(kind, code)
        if kind is ItemKind.MEDICINE:
            for field, value in (("form", form), ("dispensing_unit", dispensing_unit)):
                if not value.strip():
                    raise InvalidValue(field, N_("is required for a medicine"))
        if kind.stocked and not dispensing_unit.strip():
            raise InvalidValue("dispensing_unit", N_("is required for what is stocked"))
        return cls(
            kind=kind,
            code=code,
            name=name.strip(),
            form=form.strip() if kind is ItemKind.MEDICINE else "",
            concentration=concentration.strip() if kind is ItemKind.MEDICINE else "",
            dispensing_unit=dispensing_unit.strip() if kind.stocked else "",
            marketing_auth=marketing_auth.strip() if kind.stocked else "",
        )

    def require_stocked(self) -> None:
        if not self.kind.stocked:
            raise NotStocked(code=self.code)


def catalog_id(kind: ItemKind, code: str) -> UUID:
    """Medicines and supplies share the namespace "item"; services have their own."""
    namespace = "item" if kind.stocked else "service"
    return uuid5(NAMESPACE_URL, f"brigada:catalog:{namespace}:{code.strip().upper()}")


def item_id(code: str) -> UUID:
    """The id of the medicine or supply with this code."""
    return catalog_id(ItemKind.MEDICINE, code)


def service_id(code: str) -> UUID:
    return catalog_id(ItemKind.SERVICE, code)

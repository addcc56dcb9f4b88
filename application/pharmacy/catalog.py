"""The catalog (medicines, supplies, services) and prices per payer contract: kept on central;
a laptop receives them at provisioning and may only read them (configuration, seed 000)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import Field

from application.clinical.contracts import CONTRACT_HINT, NIT_HINT
from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse
from domain.clinical.payer_contract import payer_nit
from domain.errors import N_, InvalidValue, NotFound
from domain.pharmacy.catalog import AlreadyInCatalog, CatalogItem, ItemKind, catalog_id, item_id, service_id
from domain.pharmacy.price_list import PriceList, price_list_id
from domain.sites.site_policy import Always, Forbidden
from projections.pharmacy.catalog import CatalogQueries, CatalogRow, PriceRow

TEXT = r"^[^\x00-\x1f]*$"
TEXT_HINT = N_("text on one line")


class NotInCatalog(NotFound):
    template = N_("{code} is not in the catalog")


class NewItem(Command):
    kind: ItemKind
    code: str = Field(min_length=2, max_length=20)
    name: str = Field(min_length=1, max_length=200, pattern=TEXT, description=TEXT_HINT)
    form: str = Field("", max_length=60, pattern=TEXT, description=TEXT_HINT)
    concentration: str = Field("", max_length=60, pattern=TEXT, description=TEXT_HINT)
    dispensing_unit: str = Field("", max_length=40, pattern=TEXT, description=TEXT_HINT)
    marketing_auth: str = Field("", max_length=60, pattern=TEXT, description=TEXT_HINT)


class NewService(Command):
    code: str = Field(pattern=r"^[0-9]{6}$", description=N_("a CUPS code of 6 digits"))
    name: str = Field(min_length=1, max_length=200, pattern=TEXT, description=TEXT_HINT)


class NewPrice(Command):
    payer_nit: str = Field(pattern=r"^\d{5,15}(-\d)?$", description=NIT_HINT)
    contract: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,39}$", description=CONTRACT_HINT)
    code: str = Field(min_length=2, max_length=20)
    unit_value: Decimal = Field(ge=0, max_digits=12, decimal_places=2)


class Catalog:
    def __init__(self, core: Core, access: Access, operations: Operations, queries: CatalogQueries) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.queries = queries

    # -- lookups other use cases share ----------------------------------------------------------
    def item(self, code: str) -> CatalogItem:
        """The medicine or supply with this code (a service's code is refused: not stocked)."""
        found = self.core.get(CatalogItem, item_id(code)) or self.core.get(CatalogItem, service_id(code))
        if found is None:
            raise NotInCatalog(code=code.strip().upper())
        found.require_stocked()
        return found

    def service(self, code: str) -> CatalogItem:
        found = self.core.get(CatalogItem, service_id(code))
        if found is None:
            raise NotInCatalog(code=code.strip().upper())
        return found

    # -- use cases ------------------------------------------------------------------------------
    def add_item(self, actor: Actor, data: dict[str, Any]) -> CatalogRow:
        """Add a medicine (CUM code) or a supply (own code) to the catalog (central)."""
        self.access.require(actor, "catalog.item.add")
        cmd = parse(NewItem, data)
        if cmd.kind is ItemKind.SERVICE:
            raise InvalidValue("kind", N_("must be one of: {expected}"), expected="medicine, supply")
        return self._add(actor, cmd.kind, cmd.code, cmd.model_dump(exclude={"kind", "code"}))

    def add_service(self, actor: Actor, data: dict[str, Any]) -> CatalogRow:
        """Add a service or procedure (CUPS code) to the catalog (central)."""
        self.access.require(actor, "catalog.service.add")
        cmd = parse(NewService, data)
        return self._add(actor, ItemKind.SERVICE, cmd.code, {"name": cmd.name})

    def _add(self, actor: Actor, kind: ItemKind, code: str, fields: dict[str, str]) -> CatalogRow:
        self.operations.require(actor, Forbidden.CONFIGURATION)
        with self.core.acting_as(actor.username):
            item = CatalogItem.add(kind, code, **fields)
            existing = self.core.get(CatalogItem, catalog_id(kind, item.code))
            if existing is not None:
                raise AlreadyInCatalog(code=existing.code, name=existing.name)
            self.core.save(item)
        return self._row(item.code, kind)

    def _row(self, code: str, kind: ItemKind) -> CatalogRow:
        row = self.queries.by_code(code, kind.stocked)
        if row is None:
            raise NotInCatalog(code=code.strip().upper())
        return row

    def listing(self, actor: Actor, services: bool) -> list[CatalogRow]:
        """Medicines and supplies, or services and procedures."""
        self.access.require(actor, "catalog.service.list" if services else "catalog.item.list")
        self.operations.require(actor, Always.READ)
        return self.queries.listing(services)

    def show(self, actor: Actor, code: str) -> CatalogRow:
        """A medicine or supply."""
        self.access.require(actor, "catalog.item.show")
        self.operations.require(actor, Always.READ)
        return self._row(code, ItemKind.MEDICINE)

    def set_price(self, actor: Actor, data: dict[str, Any]) -> PriceRow:
        """Set the unit value of a catalog code under a payer's contract (central)."""
        self.access.require(actor, "catalog.price.set")
        cmd = parse(NewPrice, data)
        self.operations.require(actor, Forbidden.CONFIGURATION)
        nit, contract = payer_nit(cmd.payer_nit), cmd.contract.upper()
        code = cmd.code.strip().upper()
        if (
            self.core.get(CatalogItem, item_id(code)) is None
            and self.core.get(CatalogItem, service_id(code)) is None
        ):
            raise NotInCatalog(code=code)
        with self.core.acting_as(actor.username):
            prices = self.core.get(PriceList, price_list_id(nit, contract))
            prices = prices or PriceList(payer_nit=nit, contract=contract)
            prices.set_price(code, cmd.unit_value)
            if prices.pending_events:
                self.core.save(prices)
        return PriceRow(nit, contract, code, cmd.unit_value)

    def prices(self, actor: Actor, payer: str | None = None, contract: str | None = None) -> list[PriceRow]:
        self.access.require(actor, "catalog.price.list")
        self.operations.require(actor, Always.READ)
        if payer and not payer.strip().split("-")[0].isdigit():
            raise InvalidValue("payer", NIT_HINT)
        return self.queries.prices(
            payer_nit(payer) if payer else None, contract.upper() if contract else None
        )

    def slice_ids(self, site: str) -> list[UUID]:
        """What a laptop receives of the catalog: all of it, with every price list, whatever its site."""
        return [UUID(i) for i in self.queries.all_ids()]

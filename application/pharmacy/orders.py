"""Orders made on a visit (seed 000): prescriptions ("formulación"), service orders, on-demand
diagnostic services ("ayudas diagnósticas") with their results, and surgeries linked to the care
event. Each is an aggregate of its own, numbered from its site's series."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from application.clinical.encounters import EncounterNotFound
from application.context import Actor
from application.core import Core
from application.errors import UserNotFound
from application.pharmacy.catalog import Catalog
from application.pharmacy.inventory import ItemCode, Quantity
from application.security.access import Access
from application.sites.operations import Operations
from application.validation import Command, parse, safe_text
from domain.access_log import DIAGNOSTIC_VIEW
from domain.clinical.encounter import Encounter
from domain.errors import N_, NotFound
from domain.numbering import NumberSeries, series_id
from domain.pharmacy import diagnostic_service, prescription, service_order, surgery
from domain.pharmacy.clinical_order import VisitRef, order_id, visit_of
from domain.pharmacy.diagnostic_service import DiagnosticService
from domain.pharmacy.prescription import Prescription, Route
from domain.pharmacy.service_order import ServiceOrder
from domain.pharmacy.surgery import Surgery
from domain.security.sections import Section
from domain.security.user import User, user_id
from domain.sites.site import SiteAction
from domain.sites.site_policy import Always, Operation
from projections.clinical.encounters import EncounterQueries
from projections.pharmacy.orders import (
    DIAGNOSTIC,
    PRESCRIPTION,
    REQUEST,
    SERVICE_ORDER,
    SURGERY,
    OrderQueries,
    OrderRow,
)

ONE_LINE = r"^[^\x00-\x1f]*$"
ONE_LINE_HINT = N_("text on one line")
CUPS_HINT = N_("a CUPS code of 6 digits")
KIND_NAMES = {
    PRESCRIPTION: N_("prescription"),
    SERVICE_ORDER: N_("service order"),
    DIAGNOSTIC: N_("diagnostic service"),
    SURGERY: N_("surgery"),
    REQUEST: N_("supply request"),
}
LIST_OPTIONS = {
    PRESCRIPTION: "prescription.list",
    SERVICE_ORDER: "order.list",
    DIAGNOSTIC: "diagnostic.list",
    SURGERY: "surgery.list",
}


class OrderNotFound(NotFound):
    template = N_("no {kind} with number {number}")


class NewPrescription(Command):
    item: ItemCode
    dose: str = Field(min_length=1, max_length=40, pattern=ONE_LINE, description=ONE_LINE_HINT)
    route: Route
    frequency: str = Field(min_length=1, max_length=60, pattern=ONE_LINE, description=ONE_LINE_HINT)
    days: int = Field(ge=1, le=prescription.MAX_DAYS)
    quantity: Quantity


class NewServiceOrder(Command):
    cups: str = Field(pattern=r"^[0-9]{6}$", description=CUPS_HINT)
    quantity: int = Field(1, ge=1, le=service_order.MAX_QUANTITY)


class NewDiagnostic(Command):
    cups: str = Field(pattern=r"^[0-9]{6}$", description=CUPS_HINT)


class NewSurgery(Command):
    cups: str = Field(pattern=r"^[0-9]{6}$", description=CUPS_HINT)
    date: date
    surgeon: str = Field(min_length=1, max_length=60)


@dataclass(frozen=True)
class PrescriptionView:
    number: str
    visit_number: str
    chart_number: str
    item: str
    name: str
    dose: str
    route: str
    frequency: str
    days: int
    quantity: int
    prescriber: str
    dispensed: int
    returned: int
    lots: list[dict[str, Any]]


@dataclass(frozen=True)
class DiagnosticView:
    number: str
    visit_number: str
    chart_number: str
    cups: str
    name: str
    requested_by: str
    state: str
    result: str | None
    recorded_on: date | None


class Orders:
    def __init__(
        self,
        core: Core,
        access: Access,
        operations: Operations,
        catalog: Catalog,
        encounters: EncounterQueries,
        queries: OrderQueries,
    ) -> None:
        self.core = core
        self.access = access
        self.operations = operations
        self.catalog = catalog
        self.encounters = encounters
        self.queries = queries

    # -- shared with the pharmacy ---------------------------------------------------------------
    def visit(
        self,
        actor: Actor,
        option: str,
        number: str,
        operation: Operation,
        what: str,
        ambulatory_only: bool = False,
        open_only: bool = False,
    ) -> tuple[Encounter, VisitRef]:
        """The start of every order: menu option, the services section, the visit (not deleted;
        ``open_only``: not finalized), then the sites policy (central: the visit's site must not
        be on mission)."""
        self.access.require(actor, option)
        self.access.require_section(actor, Section.SERVICES)
        row = self.encounters.by_number(number)
        encounter = self.core.get(Encounter, UUID(row.encounter_id)) if row else None
        if row is None or encounter is None:
            raise EncounterNotFound(number=number)
        self.operations.require(actor, operation, owner_site=row.site)
        return encounter, visit_of(encounter, what, ambulatory_only, open_only)

    def _site_of(self, visit: VisitRef) -> str | None:
        row = self.encounters.by_number(visit.visit_number)
        return row.site if row else None

    def next_number(self, series: str) -> tuple[NumberSeries, str]:
        """Inside a recording context: the site's series and its next number (saved with the order)."""
        site = self.core.require_identity().site_code
        numbers = self.core.get(NumberSeries, series_id(site, series)) or NumberSeries(
            site=site, series=series
        )
        return numbers, numbers.take()

    def row(self, kind: str, number: str) -> OrderRow:
        found = self.queries.by_number(kind, number)
        if found is None:
            raise OrderNotFound(kind=KIND_NAMES.get(kind, kind), number=number.strip().upper())
        return found

    # -- prescriptions --------------------------------------------------------------------------
    def prescribe(self, actor: Actor, visit_number: str, data: dict[str, Any]) -> OrderRow:
        """Prescribe a medicine or supply on a visit."""
        _encounter, visit = self.visit(
            actor,
            "prescription.add",
            visit_number,
            SiteAction.PRESCRIPTIONS,
            N_("prescribing"),
            open_only=True,
        )
        cmd = parse(NewPrescription, data)
        item = self.catalog.item(cmd.item)
        with self.core.acting_as(actor.username):
            numbers, number = self.next_number(prescription.SERIES)
            made = Prescription.prescribe(
                number,
                visit,
                item,
                cmd.dose,
                cmd.route,
                cmd.frequency,
                cmd.days,
                cmd.quantity,
                actor.username,
            )
            self.core.save(numbers, made)
        return self.row(PRESCRIPTION, number)

    def show_prescription(self, actor: Actor, number: str) -> PrescriptionView:
        self.access.require(actor, "prescription.show")
        self.access.require_section(actor, Section.SERVICES)
        self.operations.require(actor, Always.READ)
        row = self.row(PRESCRIPTION, number)
        found = self.core.existing(Prescription, order_id(prescription.SERIES, row.number))
        ledger = found.ledger
        return PrescriptionView(
            number=found.number,
            visit_number=found.visit_number,
            chart_number=found.chart_number,
            item=found.item,
            name=self.catalog.item(found.item).name,
            dose=found.dose,
            route=found.route.value,
            frequency=found.frequency,
            days=found.duration_days,
            quantity=found.quantity,
            prescriber=found.prescriber,
            dispensed=ledger.total(found.item, "dispensed"),
            returned=ledger.total(found.item, "returned"),
            lots=[asdict(t) | {"in_hand": t.in_hand} for t in ledger.lots.values()],
        )

    # -- service orders, diagnostic services, surgeries -----------------------------------------
    def order_service(self, actor: Actor, visit_number: str, data: dict[str, Any]) -> OrderRow:
        """Order a service or procedure (CUPS) on a visit."""
        _encounter, visit = self.visit(
            actor, "order.add", visit_number, SiteAction.SERVICE_ORDERS, N_("ordering"), open_only=True
        )
        cmd = parse(NewServiceOrder, data)
        service = self.catalog.service(cmd.cups)
        with self.core.acting_as(actor.username):
            numbers, number = self.next_number(service_order.SERIES)
            self.core.save(numbers, ServiceOrder.order(number, visit, service, cmd.quantity, actor.username))
        return self.row(SERVICE_ORDER, number)

    def request_diagnostic(self, actor: Actor, visit_number: str, data: dict[str, Any]) -> OrderRow:
        """Request an on-demand diagnostic service (CUPS) on a visit; clinical laboratory is
        central's only (seed 000)."""
        _encounter, visit = self.visit(
            actor,
            "diagnostic.request",
            visit_number,
            SiteAction.DIAGNOSTIC_SERVICES,
            N_("requesting a diagnostic service"),
            open_only=True,
        )
        cmd = parse(NewDiagnostic, data)
        operation = diagnostic_service.operation_for(cmd.cups)
        self.operations.require(actor, operation, owner_site=self._site_of(visit))
        service = self.catalog.service(cmd.cups)
        with self.core.acting_as(actor.username):
            numbers, number = self.next_number(diagnostic_service.SERIES)
            self.core.save(numbers, DiagnosticService.request(number, visit, service, actor.username))
        return self.row(DIAGNOSTIC, number)

    def record_result(self, actor: Actor, number: str, text: str) -> OrderRow:
        """Record a diagnostic service's result (once)."""
        self.access.require(actor, "diagnostic.result")
        self.access.require_section(actor, Section.SERVICES)
        text = safe_text("text", text, line_breaks=True)
        row = self.row(DIAGNOSTIC, number)
        self.operations.require(actor, SiteAction.DIAGNOSTIC_SERVICES, owner_site=row.site)
        found = self.core.existing(DiagnosticService, order_id(diagnostic_service.SERIES, row.number))
        with self.core.acting_as(actor.username):
            found.record_result(text, self.core.effective_today())
            self.core.save(found)
        return self.row(DIAGNOSTIC, number)

    def show_diagnostic(self, actor: Actor, number: str) -> DiagnosticView:
        """A diagnostic service with its result; reading it is recorded."""
        self.access.require(actor, "diagnostic.show")
        self.access.require_section(actor, Section.SERVICES)
        self.operations.require(actor, Always.READ)
        row = self.row(DIAGNOSTIC, number)
        found = self.core.existing(DiagnosticService, order_id(diagnostic_service.SERIES, row.number))
        fields = {"AYD": found.number, "HIST": found.chart_number, "VISITA": found.visit_number}
        self.core.record_access(actor.username, DIAGNOSTIC_VIEW, fields)
        return DiagnosticView(
            found.number,
            found.visit_number,
            found.chart_number,
            found.cups_code,
            self.catalog.service(found.cups_code).name,
            found.requested_by,
            found.state,
            found.result,
            found.recorded_on,
        )

    def link_surgery(self, actor: Actor, visit_number: str, data: dict[str, Any]) -> OrderRow:
        """Link a surgery (procedure, date, surgeon) to a visit."""
        encounter, visit = self.visit(
            actor, "surgery.link", visit_number, SiteAction.SURGERIES, N_("linking a surgery")
        )
        cmd = parse(NewSurgery, data)
        today = self.core.effective_today()
        operation = surgery.operation_for(cmd.date, today)
        self.operations.require(actor, operation, owner_site=self._site_of(visit))
        procedure = self.catalog.service(cmd.cups)
        surgeon = self.core.get(User, user_id(cmd.surgeon))
        if surgeon is None:
            raise UserNotFound(username=cmd.surgeon)
        with self.core.acting_as(actor.username):
            numbers, number = self.next_number(surgery.SERIES)
            linked = Surgery.link(
                number, visit, encounter.visit_date, procedure, cmd.date, surgeon.username, today
            )
            self.core.save(numbers, linked)
        return self.row(SURGERY, number)

    def listing(self, actor: Actor, kind: str, visit_number: str | None = None) -> list[OrderRow]:
        """Orders of one kind, newest first (of one visit, if given)."""
        self.access.require(actor, LIST_OPTIONS[kind])
        self.operations.require(actor, Always.READ)
        return self.queries.listing(kind, visit_number)

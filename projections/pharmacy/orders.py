"""Orders made on visits: prescriptions, service orders, diagnostic services, surgeries and
supply requests, one row each, with what was dispensed, administered and returned so far.
Rows carry codes and quantities only: no dose text, no result."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.base import BrigadaAggregate
from domain.pharmacy.diagnostic_service import DiagnosticService
from domain.pharmacy.prescription import Prescription
from domain.pharmacy.service_order import ServiceOrder
from domain.pharmacy.supply_request import SupplyRequest
from domain.pharmacy.surgery import Surgery
from projections.base import ByAggregate, Query, RowStore

PRESCRIPTION, SERVICE_ORDER, DIAGNOSTIC, SURGERY, REQUEST = (
    "prescription",
    "service-order",
    "diagnostic",
    "surgery",
    "request",
)
CREATED: dict[type[BrigadaAggregate.Event], str] = {
    Prescription.Prescribed: PRESCRIPTION,
    ServiceOrder.Ordered: SERVICE_ORDER,
    DiagnosticService.Requested: DIAGNOSTIC,
    Surgery.Linked: SURGERY,
    SupplyRequest.Requested: REQUEST,
}
TALLIES: dict[type[BrigadaAggregate.Event], str] = {
    Prescription.Dispensed: "dispensed",
    Prescription.Returned: "returned",
    SupplyRequest.Dispensed: "dispensed",
    SupplyRequest.Administered: "administered",
    SupplyRequest.Returned: "returned",
}


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    kind: str  # prescription | service-order | diagnostic | surgery | request
    number: str
    encounter_id: str
    visit_number: str
    chart_number: str
    site: str
    code: str  # the item or CUPS code; a request's items, space-separated
    quantity: int  # ordered (a request: all its lines)
    dispensed: int
    administered: int
    returned: int
    state: str
    created_by: str
    created_at: str
    updated_at: str


def dispensing_state(row: OrderRow) -> str:
    if row.dispensed == 0:
        return "pending"
    return "dispensed" if row.dispensed >= row.quantity else "partial"


class OrdersProjection(ByAggregate):
    name = "orders"
    version = 1
    topics = (*(cls.TOPIC for cls in (*CREATED, *TALLIES)), DiagnosticService.ResultRecorded.TOPIC)
    row_type = OrderRow
    key_fields = ("order_id",)
    indexes = (("kind", "number"), ("visit_number",), ("kind", "created_at"))

    def apply(self, row: OrderRow | None, event: Any) -> OrderRow | None:
        stamp = event.context.recorded_at.isoformat()
        kind = CREATED.get(type(event))
        if kind is not None:
            code, quantity = _ordered(event)
            created = OrderRow(
                order_id=event.originator_id.hex,
                kind=kind,
                number=event.number,
                encounter_id=event.encounter_id.hex,
                visit_number=event.visit_number,
                chart_number=event.chart_number,
                site=event.context.site,
                code=code,
                quantity=quantity,
                dispensed=0,
                administered=0,
                returned=0,
                state={DIAGNOSTIC: "requested", SERVICE_ORDER: "ordered", SURGERY: "linked"}.get(
                    kind, "pending"
                ),
                created_by=event.context.user,
                created_at=stamp,
                updated_at=stamp,
            )
            return created
        if row is None:
            return None
        if isinstance(event, DiagnosticService.ResultRecorded):
            return replace(row, state="resulted", updated_at=stamp)
        tally = TALLIES[type(event)]
        row = replace(row, updated_at=stamp, **{tally: getattr(row, tally) + event.quantity})
        return replace(row, state=dispensing_state(row))


def _ordered(event: Any) -> tuple[str, int]:
    if isinstance(event, SupplyRequest.Requested):
        return " ".join(sorted(event.lines)), sum(event.lines.values())
    if isinstance(event, Prescription.Prescribed):
        return event.item, event.quantity
    return event.cups_code, getattr(event, "quantity", 1)


class OrderQueries:
    def __init__(self, rows: RowStore) -> None:
        self.rows = rows

    def by_number(self, kind: str, number: str) -> OrderRow | None:
        return self.rows.find_one(kind=kind, number=number.strip().upper())

    def listing(self, kind: str, visit_number: str | None = None, limit: int | None = 500) -> list[OrderRow]:
        equals = {"kind": kind, **({"visit_number": visit_number.strip().upper()} if visit_number else {})}
        return self.rows.select(Query(equals=equals, order_by="created_at", descending=True, limit=limit))

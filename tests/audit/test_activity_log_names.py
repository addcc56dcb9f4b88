"""The activity log names ids (HIST, VISITA, VOL, LOTE...) from the events it saw, else from the
other views: a process that saw none of an aggregate's earlier events (a new process, a log
rebuilt from the middle) writes the same comment as one that saw them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from application.brigada import Brigada
from projections.audit.activity_log import ActivityLogProjection
from projections.base import ViewRows
from tests.support.billing import add_series, billing_central, finalized_visit, insured_patient
from tests.support.inventory import ACETAMINOPHEN, CENTRAL_WAREHOUSE, FIELD, stocked_central, transfer


def logged_events(brigada: Brigada) -> list[tuple[int, Any]]:
    """Every event of the store with its log position."""
    app = brigada.app
    notifications = app.recorder.select_notifications(start=0, limit=100_000, inclusive_of_start=False)
    return [(n.id, app.mapper.to_domain_event(n)) for n in notifications]


def comments_from_views_alone(brigada: Brigada) -> dict[int, tuple[str, str]]:
    """Each event's (action, comment) as a log that saw no event before it writes them."""
    views = ViewRows(brigada.views.store)
    described = {}
    for position, event in logged_events(brigada):
        row = ActivityLogProjection(views).apply_at(None, event, position)
        assert row is not None, event
        described[position] = (row.action, row.comment)
    return described


def logged_comments(brigada: Brigada) -> dict[int, tuple[str, str]]:
    brigada.views.catch_up()
    return {row.position: (row.action, row.comment) for row in brigada.views.store("activity_log").all_rows()}


def test_billing_events_are_named_from_the_views_as_from_their_history(
    open_store: Any, tmp_path: Path
) -> None:
    central, admin = billing_central(open_store, f"sqlite:///{tmp_path}/central.db")
    add_series(central, admin)
    chart = insured_patient(central, admin)
    visit = finalized_visit(central, admin, chart)
    voided = central.vouchers.issue(admin, {"encounter": visit})
    central.vouchers.void(admin, voided.number, {"reason": "wrong contract"})
    central.vouchers.issue(admin, {"encounter": visit})
    central.invoicing.from_vouchers(admin, {})
    central.invoicing.rectify(admin, "FE-1", {"reason": "tariff error"})
    central.users.create(admin, {"username": "ana", "full_name": "Ana"}, "lluvia-sobre-el-rio-cauca")
    central.users.deactivate(admin, "ana")

    logged = logged_comments(central)
    assert comments_from_views_alone(central) == logged
    named = {action: comment for action, comment in logged.values()}
    assert named["voucher.slot.free"] == f"VISITA={visit} VOL={voided.number}"
    assert named["invoice.rectify"] == f"VISITA={visit} FRA=FE-2 RECTIFICA=FE-1"
    assert named["user.deactivate"] == "USUARIO=ana"
    assert named["visit.finalize"] == f"HIST={chart} VISITA={visit}"
    assert not [comment for _action, comment in logged.values() if "=?" in comment]


def test_stock_movements_are_named_from_the_views_as_from_their_history(
    open_store: Any, tmp_path: Path
) -> None:
    central, admin = stocked_central(open_store, f"sqlite:///{tmp_path}/central.db")
    transfer(central, admin, CENTRAL_WAREHOUSE, FIELD, ACETAMINOPHEN, "A1", 10)

    logged = logged_comments(central)
    assert comments_from_views_alone(central) == logged
    sent = [comment for action, comment in logged.values() if action == "transfer.send"]
    assert sent and sent[0].startswith(f"BODEGA={CENTRAL_WAREHOUSE} ITEM={ACETAMINOPHEN} LOTE=A1 CANT=10")
    assert not [comment for _action, comment in logged.values() if "=?" in comment]

"""How the order, pharmacy and inventory commands show their rows (tables or --json)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cli.env import Env, plain
from cli.i18n import N_, _
from projections.pharmacy.orders import OrderRow

ORDER_COLUMNS = [
    ("number", N_("Number")),
    ("visit_number", N_("Visit")),
    ("chart_number", N_("HIST")),
    ("code", N_("Code")),
    ("quantity", N_("Quantity")),
    ("state", N_("State")),
    ("created_by", N_("By")),
]
CHAIN_COLUMNS = [
    *ORDER_COLUMNS[:5],
    ("dispensed", N_("Dispensed")),
    ("administered", N_("Administered")),
    ("returned", N_("Returned")),
    ("state", N_("State")),
]
STATE_NAMES = {
    "pending": N_("pending"),
    "partial": N_("partially dispensed"),
    "dispensed": N_("dispensed"),
    "ordered": N_("ordered"),
    "requested": N_("requested"),
    "resulted": N_("result recorded"),
    "linked": N_("linked"),
}


def show_orders(
    env: Env,
    title: str,
    rows: Sequence[OrderRow],
    as_json: bool,
    columns: Sequence[tuple[str, str]] = ORDER_COLUMNS,
) -> None:
    if as_json:
        env.emit_json(list(rows))
        return
    shown = [{**row.__dict__, "state": _(STATE_NAMES.get(row.state, row.state))} for row in rows]
    env.table(title, [(f, _(h)) for f, h in columns], shown)


def show_rows(
    env: Env,
    title: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Any],
    as_json: bool,
    names: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Rows as JSON, or as a table whose coded values (a kind, a state) are shown by their
    names in ``names`` (field -> value -> msgid), in the user's language."""
    if as_json:
        env.emit_json(list(rows))
        return
    shown = [plain(row) for row in rows]
    for values in shown:
        for field, known in (names or {}).items():
            value = values.get(field)
            values[field] = _(known[value]) if value in known else value
    env.table(title, [(f, _(h)) for f, h in columns], shown)

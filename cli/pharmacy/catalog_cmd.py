"""brigada catalog item add | list | show, catalog service add | list, catalog price set | list."""

from __future__ import annotations

import click

from cli.base import Command, group
from cli.env import Env, pass_env, plain
from cli.i18n import N_, _
from cli.options import json_option
from cli.pharmacy.order_tables import show_rows
from projections.pharmacy.catalog import PriceRow

ITEM_COLUMNS = [
    ("code", N_("Code")),
    ("kind", N_("Kind")),
    ("name", N_("Name")),
    ("form", N_("Form")),
    ("concentration", N_("Concentration")),
    ("dispensing_unit", N_("Dispensing unit")),
    ("marketing_auth", N_("INVIMA registration")),
]
KIND_NAMES = {"kind": {"medicine": N_("medicine"), "supply": N_("supply"), "service": N_("service")}}
SERVICE_COLUMNS = [("code", N_("CUPS")), ("name", N_("Name"))]
PRICE_COLUMNS = [
    ("payer_nit", N_("Payer NIT")),
    ("contract", N_("Contract")),
    ("code", N_("Code")),
    ("unit_value", N_("Unit value")),
]


def priced(rows: list[PriceRow]) -> list[dict[str, str]]:
    """Amounts as text: exact in JSON, as typed in tables."""
    return [{**row.__dict__, "unit_value": str(row.unit_value)} for row in rows]


@group(help=N_("The catalog: medicines, supplies, services and prices (changed on central)."))
def catalog() -> None:
    pass


@catalog.group("item", cls=type(catalog), help=N_("Medicines (CUM) and supplies."))
def item() -> None:
    pass


@item.command("add", cls=Command, help=N_("Add a medicine or supply (central)."))
@click.argument("code")
@click.option(
    "--kind",
    type=click.Choice(["medicine", "supply"]),
    default="medicine",
    show_default=True,
    help=N_("Kind."),
)
@click.option("--name", required=True, help=N_("Name (generic name for a medicine)."))
@click.option("--form", default="", help=N_("Pharmaceutical form (tableta, jarabe...)."))
@click.option("--concentration", default="", help=N_("Concentration (500 mg, 250 mg/5 mL...)."))
@click.option(
    "--unit", "dispensing_unit", default="", help=N_("Dispensing unit (tableta, frasco, unidad...).")
)
@click.option("--invima", "marketing_auth", default="", help=N_("INVIMA registration (registro sanitario)."))
@json_option
@pass_env
def item_add(env: Env, code: str, as_json: bool, **given: str) -> None:
    actor = env.actor()
    row = env.brigada().catalog.add_item(actor, {"code": code, **given})
    if not as_json:
        env.say(_("{code} added to the catalog").format(code=row.code))
    show_rows(env, _("Catalog"), ITEM_COLUMNS, [row], as_json, KIND_NAMES)


@item.command("list", cls=Command, help=N_("List medicines and supplies."))
@json_option
@pass_env
def item_list(env: Env, as_json: bool) -> None:
    actor = env.actor()
    show_rows(
        env,
        _("Medicines and supplies"),
        ITEM_COLUMNS,
        env.brigada().catalog.listing(actor, False),
        as_json,
        KIND_NAMES,
    )


@item.command("show", cls=Command, help=N_("Show a medicine or supply."))
@click.argument("code")
@json_option
@pass_env
def item_show(env: Env, code: str, as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().catalog.show(actor, code)
    if as_json:
        env.emit_json(row)
        return
    kinds = KIND_NAMES["kind"]
    values = {**plain(row), "kind": _(kinds[row.kind]) if row.kind in kinds else row.kind}
    env.record(row.name, [(_(heading), values[field] or "-") for field, heading in ITEM_COLUMNS])


@catalog.group("service", cls=type(catalog), help=N_("Services and procedures (CUPS)."))
def service() -> None:
    pass


@service.command("add", cls=Command, help=N_("Add a service or procedure (central)."))
@click.argument("code", metavar="CUPS")
@click.option("--name", required=True, help=N_("Name."))
@json_option
@pass_env
def service_add(env: Env, code: str, name: str, as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().catalog.add_service(actor, {"code": code, "name": name})
    if not as_json:
        env.say(_("{code} added to the catalog").format(code=row.code))
    show_rows(env, _("Catalog"), SERVICE_COLUMNS, [row], as_json)


@service.command("list", cls=Command, help=N_("List services and procedures."))
@json_option
@pass_env
def service_list(env: Env, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().catalog.listing(actor, True)
    show_rows(env, _("Services and procedures"), SERVICE_COLUMNS, rows, as_json)


@catalog.group("price", cls=type(catalog), help=N_("Prices per payer contract."))
def price() -> None:
    pass


@price.command(
    "set", cls=Command, help=N_("Set the unit value of a code under a payer's contract (central).")
)
@click.option("--payer", required=True, help=N_("The payer's NIT."))
@click.option("--contract", required=True, help=N_("The contract number."))
@click.argument("code")
@click.argument("value")
@json_option
@pass_env
def price_set(env: Env, payer: str, contract: str, code: str, value: str, as_json: bool) -> None:
    actor = env.actor()
    data = {"payer_nit": payer, "contract": contract, "code": code, "unit_value": value}
    row = env.brigada().catalog.set_price(actor, data)
    show_rows(env, _("Prices"), PRICE_COLUMNS, priced([row]), as_json)


@price.command("list", cls=Command, help=N_("List prices (of one payer or contract)."))
@click.option("--payer", help=N_("Only this payer's NIT."))
@click.option("--contract", help=N_("Only this contract."))
@json_option
@pass_env
def price_list(env: Env, payer: str | None, contract: str | None, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().catalog.prices(actor, payer, contract)
    show_rows(env, _("Prices"), PRICE_COLUMNS, priced(rows), as_json)

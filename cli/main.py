"""Entry point: the root group, language, and errors turned into one line and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from adapters.store import StoreMissing, StoreUnreachable
from application.setup import SOFTWARE_VERSION
from cli import init_cmd, projections_cmd, upgrade_cmd
from cli.audit import audit_cmd
from cli.base import Group, field_name
from cli.billing import invoice_cmd, voucher_cmd
from cli.clinical import (
    admission_cmd,
    agenda_cmd,
    appointment_cmd,
    encounter_cmd,
    patient_chart_cmd,
    patient_cmd,
)
from cli.env import Env, render, visible
from cli.exit_codes import Exit
from cli.i18n import N_, _, choose_language, localize_click, set_language
from cli.pharmacy import (
    catalog_cmd,
    diagnostic_cmd,
    inventory_cmd,
    order_cmd,
    pharmacy_cmd,
    prescription_cmd,
    surgery_cmd,
    warehouse_cmd,
)
from cli.security import access_cmd, policy_cmd, session_cmd, user_cmd
from cli.sync import serve_cmd, site_cmd, sync_cmd
from domain.errors import Conflict, DomainError, InvalidValue, NotFound

localize_click()


def describe(error: DomainError) -> str:
    message = render(error.template, error.params)
    if isinstance(error, InvalidValue):
        return f"{field_name(error.field)}: {message}"
    return message


def exit_code(error: DomainError) -> Exit:
    if isinstance(error, InvalidValue):
        return Exit.INVALID
    if isinstance(error, NotFound):
        return Exit.NOT_FOUND
    if isinstance(error, Conflict):
        return Exit.CONFLICT
    if isinstance(error, StoreUnreachable | StoreMissing):
        return Exit.UNREACHABLE
    return Exit.REFUSED


def _early_language(argv: list[str]) -> None:
    """Pick the language before click parses, so usage errors and help come out in it too."""
    option = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            option = argv[i + 1]
        elif arg.startswith("--lang="):
            option = arg.split("=", 1)[1]
    set_language(choose_language(option))


def guarded(invoke: Callable[[], Any]) -> int:
    """Run a command; every failure becomes one line on stderr and its exit code."""
    try:
        result = invoke()
    except DomainError as error:
        click.echo(visible(describe(error)), err=True)
        return exit_code(error)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        click.echo(_("Cancelled."), err=True)
        return Exit.REFUSED
    except click.UsageError as error:
        click.echo(visible(_("Invalid usage: {message}").format(message=error.format_message())), err=True)
        return Exit.INVALID
    except click.ClickException as error:
        click.echo(visible(error.format_message()), err=True)
        return error.exit_code
    except Exception as error:
        if os.environ.get("BRIGADA_DEBUG"):
            raise
        click.echo(_("Internal error: {error}").format(error=type(error).__name__), err=True)
        return Exit.REFUSED
    return result if isinstance(result, int) else Exit.OK


class RootGroup(Group):
    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        _early_language(argv)
        code = guarded(
            lambda: super(RootGroup, self).main(
                args=argv, prog_name=prog_name or "brigada", standalone_mode=False, **extra
            )
        )
        if standalone_mode:
            sys.exit(int(code))
        return code


def main() -> None:
    cli.main()


@click.group(cls=RootGroup, help=N_("Brigada: clinical records for medical missions without internet."))
@click.option("--store", envvar="BRIGADA_STORE", help=N_("Store URL (sqlite:///FILE or postgresql://...)."))
@click.option("--lang", type=click.Choice(["es", "en"]), help=N_("Language of messages (es, en)."))
@click.version_option(
    SOFTWARE_VERSION,
    prog_name="brigada",
    message="%(prog)s %(version)s",
    help=N_("Show the version and exit."),
)
@click.pass_context
def cli(ctx: click.Context, store: str | None, lang: str | None) -> None:
    set_language(choose_language(lang))
    env = Env(store_option=store)
    ctx.obj = env
    ctx.call_on_close(env.close)


for module in (
    init_cmd,
    session_cmd,
    patient_cmd,
    patient_chart_cmd,  # joins the patient group
    agenda_cmd,
    appointment_cmd,
    admission_cmd,
    projections_cmd,
    audit_cmd,
    user_cmd,
    policy_cmd,
    access_cmd,
    site_cmd,
    sync_cmd,
    serve_cmd,
    upgrade_cmd,
    encounter_cmd,
    # Orders, pharmacy and inventory.
    catalog_cmd,
    warehouse_cmd,
    inventory_cmd,
    prescription_cmd,
    order_cmd,
    diagnostic_cmd,
    surgery_cmd,
    pharmacy_cmd,
    # Service vouchers and central billing.
    voucher_cmd,
    invoice_cmd,
):
    module.register(cli)

from cli import demo_cmd  # noqa: E402 - the demo drives the other commands

demo_cmd.register(cli)

"""Entry point: the root group, language, and errors turned into one line and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from cli.base import Lazy, LazyGroup, field_name
from cli.exit_codes import Exit
from cli.i18n import N_, _, choose_language, localize_click, set_language
from cli.text import render, visible
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
    from adapters.store import StoreMissing, StoreUnreachable  # raised only once a store is opened

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


class RootGroup(LazyGroup):
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


def show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from application.setup import SOFTWARE_VERSION  # the installed distribution, read when asked

    click.echo(f"brigada {SOFTWARE_VERSION}")
    ctx.exit()


# Every command: where it lives and the first line of its help (the same msgid as the command's
# own, translated when shown), so that listing them imports none; tests/test_cli_commands.py holds
# the two together.
COMMANDS = {
    "access": Lazy("cli.security.access_cmd:access", N_("Menu access seen by option (administrators).")),
    "admission": Lazy("cli.clinical.admission_cmd:admission", N_("Admissions: admit, discharge, list.")),
    "agenda": Lazy("cli.clinical.agenda_cmd:agenda", N_("Agendas: plan a professional's day, show it.")),
    "appointment": Lazy(
        "cli.clinical.appointment_cmd:appointment",
        N_("Appointments: book, confirm, cancel, record a no-show."),
    ),
    "audit": Lazy("cli.audit.audit_cmd:audit", N_("Activity log: search, export, verify.")),
    "backup": Lazy("cli.audit.audit_cmd:backup", N_("Copy the store, consistently, into a folder.")),
    "catalog": Lazy(
        "cli.pharmacy.catalog_cmd:catalog",
        N_("The catalog: medicines, supplies, services and prices (changed on central)."),
    ),
    "date": Lazy(
        "cli.security.session_cmd:date_group",
        N_("The store's date: show it, or confirm the computer's after a gap."),
    ),
    "demo": Lazy("cli.demo_cmd:demo", N_("Run a small mission end to end in a fresh folder.")),
    "diagnostic": Lazy(
        "cli.pharmacy.diagnostic_cmd:diagnostic",
        N_("On-demand diagnostic services: request, record the result."),
    ),
    "encounter": Lazy(
        "cli.clinical.encounter_cmd:encounter", N_("Visits: open, sections, finalize, delete, print.")
    ),
    "init": Lazy("cli.init_cmd:init", N_("Create a store: the central server's or a site's.")),
    "inventory": Lazy(
        "cli.pharmacy.inventory_cmd:inventory", N_("Inventory: entries, transfers by lot, stock and kardex.")
    ),
    "invoice": Lazy("cli.billing.invoice_cmd:invoice", N_("Invoicing of disconnected sites (central only).")),
    "login": Lazy(
        "cli.security.session_cmd:login", N_("Open a session (15 minutes idle, 12 hours at most).")
    ),
    "logout": Lazy("cli.security.session_cmd:logout", N_("Close the session.")),
    "order": Lazy("cli.pharmacy.order_cmd:order", N_("Service orders (CUPS) on a visit.")),
    "passwd": Lazy(
        "cli.security.session_cmd:passwd", N_("Change your own password (the current one is asked).")
    ),
    # The chart's commands join the patient group in their own module.
    "patient": Lazy(
        "cli.clinical.patient_chart_cmd:patient",
        N_("Patients: register, correct, show, search, contracts, chart, duplicates, merge."),
    ),
    "pharmacy": Lazy(
        "cli.pharmacy.pharmacy_cmd:pharmacy",
        N_("Pharmacy: requests, dispensing (FEFO), nursing administration, returns."),
    ),
    "policy": Lazy("cli.security.policy_cmd:policy", N_("Security policies (administrators, on central).")),
    "prescription": Lazy(
        "cli.pharmacy.prescription_cmd:prescription", N_("Prescriptions (formulación) on a visit.")
    ),
    "projections": Lazy(
        "cli.projections_cmd:projections", N_("Read models: their position in the log, and rebuilding them.")
    ),
    "serve": Lazy(
        "cli.sync.serve_cmd:serve", N_("Central: serve the laptops' sync over HTTPS (and nothing else).")
    ),
    "site": Lazy(
        "cli.sync.site_cmd:site", N_("Disconnected sites: register, parameters, provisioning, mode.")
    ),
    "surgery": Lazy("cli.pharmacy.surgery_cmd:surgery", N_("Surgeries linked to care events.")),
    "sync": Lazy(
        "cli.sync.sync_cmd:sync", N_("Synchronize this laptop with central (end or start of a mission).")
    ),
    "upgrade": Lazy(
        "cli.upgrade_cmd:upgrade",
        N_(
            "After installing a new version: rebuild this store's views and record the version (central: an "
            "administrator; a laptop: the 'upgrade' menu option)."
        ),
    ),
    "user": Lazy(
        "cli.security.user_cmd:user",
        N_("Users: create, update, deactivate, list, passwords, lockout, permissions."),
    ),
    "voucher": Lazy(
        "cli.billing.voucher_cmd:voucher", N_("Service vouchers: issue, show, list, print, void.")
    ),
    "warehouse": Lazy(
        "cli.pharmacy.warehouse_cmd:warehouse",
        N_("Warehouses: ordinary ones on central, field warehouses of disconnected sites."),
    ),
    "whoami": Lazy("cli.security.session_cmd:whoami", N_("Show who is logged in on this store.")),
}


@click.group(
    cls=RootGroup,
    lazy=COMMANDS,
    help=N_("Brigada: clinical records for medical missions without internet."),
)
@click.option("--store", envvar="BRIGADA_STORE", help=N_("Store URL (sqlite:///FILE or postgresql://...)."))
@click.option("--lang", type=click.Choice(["es", "en"]), help=N_("Language of messages (es, en)."))
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=show_version,
    help=N_("Show the version and exit."),
)
@click.pass_context
def cli(ctx: click.Context, store: str | None, lang: str | None) -> None:
    from cli.env import Env  # the store's machinery, loaded once a command runs

    set_language(choose_language(lang))
    env = Env(store_option=store)
    ctx.obj = env
    ctx.call_on_close(env.close)

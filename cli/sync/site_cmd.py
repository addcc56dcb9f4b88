"""brigada site register | warehouse | params | revoke | list | show | provision | mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from adapters.bootstrap import open_brigada
from adapters.store import StoreLocation, redacted
from adapters.sync.site_credentials import read_certificate
from cli.base import Command, group
from cli.env import Env, pass_env, plain
from cli.i18n import N_, _, ngettext
from cli.options import json_option
from cli.sync.sync_cmd import CROSSING_NAMES
from domain.errors import InvalidValue
from domain.sites.site import ACTION_LABELS, SiteAction, SiteMode
from projections.sites.sites import SiteRow

ACTION_CHOICE = click.Choice([a.value for a in SiteAction])
COLUMNS = [
    ("code", N_("Code")),
    ("name", N_("Name")),
    ("mode", N_("Mode")),
    ("warehouses", N_("Field warehouses")),
    ("provisioned", N_("Provisioned")),
    ("revoked", N_("Revoked")),
]


PENDING_NOTE = N_("take effect at the next start of mission")


def show_site(env: Env, row: SiteRow, as_json: bool) -> None:
    enable, disable = row.pending
    lost = json.loads(row.lost_laptops or "[]")
    if as_json:
        env.emit_json(
            {
                **plain(row),
                "actions": row.actions.split(),
                "warehouses": row.warehouses.split(),
                "lease": row.lease.split(),
                "lost_laptops": lost,
                "pending": {"enable": enable, "disable": disable},
            }
        )
        return
    enabled = set(row.actions.split())
    pending = set(enable) | set(disable)
    mode = row.mode
    if row.handing_back:
        mode = _("{mode} (handing the lease back: its sync has not finished)").format(mode=mode)
    pairs: list[tuple[str, Any]] = [
        (_("Name"), row.name),
        (_("Mode"), mode),
        (_("Mode since"), row.mode_since[:16].replace("T", " ") or "-"),
        (_("Field warehouses"), row.warehouses or "-"),
        (_("Version"), row.software_version or "-"),
        (_("Provisioned"), _("yes") if row.provisioned else _("no")),
        (_("Revoked"), _("yes") if row.revoked else _("no")),
        (_("Last sync"), last_sync(env, row.code)),
    ]
    if lost:
        newest = lost[-1]
        pairs.append(
            (
                _("Laptops replaced as lost"),
                _("{n}, the last on {date} by {user}: {reason}").format(
                    n=len(lost),
                    date=newest["replaced_at"][:16].replace("T", " "),
                    user=newest["by"],
                    reason=newest["reason"],
                ),
            )
        )
    if pending:
        changes = [f"+{a}" for a in enable] + [f"-{a}" for a in disable]
        pairs.append((_("Pending"), f"{' '.join(changes)}: {_(PENDING_NOTE)}"))
    for action in SiteAction:
        mark = ("✔ " if action.value in enabled else "✘ ") + action.value
        label = _(ACTION_LABELS[action])
        if action.value in pending:
            label = f"{label} ({_('pending')}: {_(PENDING_NOTE)})"
        pairs.append((mark, label))
    env.record(_("Site {code}").format(code=row.code), pairs)


def last_sync(env: Env, code: str) -> str:
    runs = env.brigada().sync.runs.history(code, limit=1)
    if not runs:
        return "-"
    run = runs[0]
    state = _("completed") if run.status == "completed" else _("interrupted")
    crossing = _(CROSSING_NAMES[run.crossing])
    return f"{run.started_at[:19].replace('T', ' ')} {crossing} ({state})"


@group(help=N_("Disconnected sites: register, parameters, provisioning, mode."))
def site() -> None:
    pass


@site.command("register", cls=Command, help=N_("Register and authorize a disconnected site (central)."))
@click.argument("code")
@click.option("--name", required=True, help=N_("The site's name."))
@click.option("--warehouse", "warehouses", multiple=True, help=N_("A field warehouse of the site (repeat)."))
@click.option(
    "--action",
    "actions",
    multiple=True,
    type=ACTION_CHOICE,
    help=N_("An action the site may perform (repeat; default all 14)."),
)
@json_option
@pass_env
def register_site(
    env: Env, code: str, name: str, warehouses: tuple[str, ...], actions: tuple[str, ...], as_json: bool
) -> None:
    actor = env.actor()
    data: dict[str, Any] = {"code": code, "name": name, "warehouses": list(warehouses)}
    if actions:
        data["actions"] = list(actions)
    show_site(env, env.brigada().sites.register(actor, data), as_json)


@site.command("warehouse", cls=Command, help=N_("Add a field warehouse to a site (central)."))
@click.argument("code")
@click.argument("warehouse")
@json_option
@pass_env
def warehouse(env: Env, code: str, warehouse: str, as_json: bool) -> None:
    actor = env.actor()
    show_site(env, env.brigada().sites.add_warehouse(actor, code, warehouse), as_json)


@site.command("params", cls=Command, help=N_("Enable or disable a site's actions (central)."))
@click.argument("code")
@click.option("--enable", multiple=True, type=ACTION_CHOICE, help=N_("Action to enable (repeat)."))
@click.option("--disable", multiple=True, type=ACTION_CHOICE, help=N_("Action to disable (repeat)."))
@json_option
@pass_env
def params(env: Env, code: str, enable: tuple[str, ...], disable: tuple[str, ...], as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().sites.change_parameters(
        actor, code, {"enable": list(enable), "disable": list(disable)}
    )
    show_site(env, row, as_json)


@site.command("revoke", cls=Command, help=N_("Revoke a site: no more provisioning or sync (central)."))
@click.argument("code")
@json_option
@pass_env
def revoke(env: Env, code: str, as_json: bool) -> None:
    actor = env.actor()
    show_site(env, env.brigada().sites.revoke(actor, code), as_json)


@site.command("list", cls=Command, help=N_("List the registered sites."))
@json_option
@pass_env
def list_sites(env: Env, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().sites.list(actor)
    if as_json:
        env.emit_json(rows)
        return
    env.table(_("Sites"), [(f, _(h)) for f, h in COLUMNS], rows)


@site.command("show", cls=Command, help=N_("A site's mode, parameters, warehouses and version."))
@click.argument("code")
@json_option
@pass_env
def show(env: Env, code: str, as_json: bool) -> None:
    actor = env.actor()
    show_site(env, env.brigada().sites.show(actor, code), as_json)


@site.command("provision", cls=Command, help=N_("Create a laptop's store from central's slice for a site."))
@click.argument("code")
@click.option("--to", "target_url", required=True, help=N_("URL of the new laptop store (must be empty)."))
@click.option(
    "--central-url",
    required=True,
    help=N_("Central's https:// address (brigada serve), where the laptop will sync."),
)
@click.option(
    "--central-cert",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help=N_("Central's TLS certificate (PEM): the only one the laptop will trust."),
)
@click.option(
    "--replace-lost-laptop",
    is_flag=True,
    help=N_(
        "The site's laptop is lost: revoke its credential and record its unsynced work as lost "
        "(administrator; needs --reason). Anything it pushes later goes to quarantine."
    ),
)
@click.option("--reason", default=None, help=N_("Why the laptop is considered lost (recorded)."))
@pass_env
def provision(
    env: Env,
    code: str,
    target_url: str,
    central_url: str,
    central_cert: str,
    replace_lost_laptop: bool,
    reason: str | None,
) -> None:
    actor = env.actor()
    central = env.brigada()
    location = StoreLocation.parse(target_url)
    if not central_url.lower().startswith("https://"):
        raise InvalidValue(
            "--central-url", N_("central's https:// address (brigada serve), never a database URL")
        )
    if reason is not None and not replace_lost_laptop:
        raise InvalidValue("--reason", N_("goes with --replace-lost-laptop"))
    lost_reason = (reason or "") if replace_lost_laptop else None  # a blank one is refused (exit 2)
    certificate = read_certificate(Path(central_cert))
    # Every refusal that does not need the new store comes before it is created.
    central.sites.check_provisioning(actor, code, lost_reason)
    target = open_brigada(target_url, create=True)
    # The bar starts with the copy, after every check: a refusal is one line on stderr, no bar.
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=env.err)
    tasks: list[TaskID] = []

    def advance(done: int, total: int) -> None:
        if not tasks:
            bar.start()
            tasks.append(bar.add_task(_("Copying"), total=total))
        bar.update(tasks[0], completed=done, total=total)

    try:
        copied = central.sites.provision(
            actor,
            code,
            target,
            location.display(),
            advance,
            central_url=central_url,
            central_certificate=certificate,
            lost_laptop_reason=lost_reason,
        )
    finally:
        if tasks:
            bar.stop()
        target.close()
    if lost_reason is not None:
        env.say(
            _(
                "The lost laptop of {site} is replaced: its credential is revoked, its unsynced work "
                "recorded as lost, and anything it pushes goes to quarantine"
            ).format(site=code.upper())
        )
    env.say(
        ngettext(
            "Laptop store for {site} created at {store}: {n} event copied, mode {mode}",
            "Laptop store for {site} created at {store}: {n} events copied, mode {mode}",
            copied,
        ).format(
            site=code.upper(), store=redacted(target_url), n=copied, mode=central.sites.show(actor, code).mode
        )
    )


@site.command("mode", cls=Command, help=N_("Show this store's mode (or set a site's mode on central)."))
@click.argument("code", required=False)
@click.option(
    "--set",
    "new_mode",
    type=click.Choice([m.value for m in SiteMode]),
    help=N_("Set the site's mode (central)."),
)
@click.option(
    "--force",
    is_flag=True,
    help=N_("Set it even while the site's laptop holds the lease (on mission); needs --reason."),
)
@click.option("--reason", default=None, help=N_("Why the mode is set by hand (recorded)."))
@json_option
@pass_env
def mode(
    env: Env, code: str | None, new_mode: str | None, force: bool, reason: str | None, as_json: bool
) -> None:
    actor = env.actor()
    sites = env.brigada().sites
    if (force or reason is not None) and not (code and new_mode):
        raise InvalidValue("--force", N_("--force and --reason go with CODE --set MODE"))
    if code and new_mode:
        row = sites.change_mode(actor, code, SiteMode(new_mode), force=force, reason=reason or "")
        show_site(env, row, as_json)
        return
    if code:
        row = sites.show(actor, code)
        report = {"site": row.code, "mode": row.mode, "role": "central"}
    else:
        current = sites.mode(actor)
        if current.role.value == "central":
            # Modes are leases on sites' data: central has none of its own.
            rows = sites.list(actor)
            if as_json:
                env.emit_json([{"site": r.code, "mode": r.mode} for r in rows])
                return
            env.table(_("Sites"), [("code", _("Code")), ("mode", _("Mode"))], rows)
            return
        report = {"site": current.site, "mode": current.mode.value, "role": current.role.value}
    if as_json:
        env.emit_json(report)
        return
    names = {"INS": _("INS (on site)"), "MSN": _("MSN (on mission)")}
    env.say(_("Site {site}: mode {mode}").format(site=report["site"], mode=names[report["mode"]]))

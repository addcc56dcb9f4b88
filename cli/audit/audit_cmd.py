"""brigada audit search | verify, and brigada backup."""

from __future__ import annotations

import functools
import gettext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cli import i18n
from cli.base import Command, group, writing_to
from cli.env import Env, pass_env
from cli.i18n import N_, _, ngettext
from cli.options import json_option, page_options
from projections.audit.activity_log import ActivityRow, action_label, all_action_codes

HEADINGS = [
    ("recorded_at", N_("Date and time")),
    ("user", N_("User")),
    ("computer", N_("Computer")),
    ("ip_octet", N_("IP")),
    ("site", N_("Site")),
    ("action", N_("Action")),
    ("comment", N_("Comment")),
]
PDF_WIDTHS = (32, 26, 30, 10, 18, 55, 106)
# The search criteria as the PDF states them, in the reader's language.
CRITERIA_NAMES = {
    "date_from": N_("From"),
    "date_to": N_("To"),
    "action": N_("Action"),
    "ip": N_("IP"),
    "computer": N_("Computer"),
    "user": N_("User"),
    "site": N_("Site"),
    "texts": N_("Comment contains"),
}
# A Spanish spreadsheet reads ";" (its decimal mark is the comma); "tab" for the rest.
SEPARATORS = {";": ";", ",": ",", "tab": "\t"}


@functools.cache
def _catalog(language: str) -> gettext.NullTranslations:
    """One language's catalog, whatever the current language (--action takes either)."""
    return gettext.translation(i18n.DOMAIN, i18n.LOCALE_DIR, languages=[language], fallback=True)


def resolve_action(text: str | None) -> str | None:
    """An action given by code or by its name in either language ("Login incorrecto")."""
    if not text:
        return None
    wanted = text.strip().casefold()
    for code in all_action_codes():
        label = action_label(code)
        names = {code, label, *(_catalog(language).gettext(label) for language in i18n.LANGUAGES)}
        if wanted in {name.casefold() for name in names}:
            return code
    raise click.BadParameter(_("unknown action {action}").format(action=text), param_hint="--action")


def local_time(iso: str) -> str:
    """Stored in UTC, shown in the computer's local time."""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def display(row: ActivityRow) -> dict[str, Any]:
    return {
        "recorded_at": local_time(row.recorded_at),
        "user": row.user,
        "computer": row.computer,
        "ip_octet": "" if row.ip_octet is None else row.ip_octet,
        "site": row.site,
        "action": _(action_label(row.action)),
        "comment": row.comment,
    }


def written(n: int, path: Path) -> str:
    return ngettext("{n} row written to {path}", "{n} rows written to {path}", n).format(n=n, path=path)


@group(help=N_("Activity log: search, export, verify."))
def audit() -> None:
    pass


@audit.command("search", cls=Command, help=N_("Search the activity log, newest first."))
@click.option("--from", "date_from", help=N_("From this date (YYYY-MM-DD), inclusive."))
@click.option("--to", "date_to", help=N_("Up to this date (YYYY-MM-DD), inclusive."))
@click.option("--action", help=N_("Action, by name or code (e.g. 'Login incorrecto')."))
@click.option("--ip", help=N_("Last number of the IP address."))
@click.option("--computer", help=N_("Computer name."))
@click.option("--user", help=N_("User name."))
@click.option("--site", help=N_("Site code."))
@click.option("--text", "texts", multiple=True, help=N_("Text in the comment (up to 3, all must match)."))
@page_options
@json_option
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=N_("Export every match to this CSV file."),
)
@click.option(
    "--separator",
    type=click.Choice(list(SEPARATORS)),
    default=";",
    show_default=True,
    help=N_("Column separator of the CSV file."),
)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=N_("Export every match to this PDF file."),
)
@pass_env
def search(
    env: Env,
    page: int,
    page_size: int,
    as_json: bool,
    csv_path: Path | None,
    separator: str,
    pdf_path: Path | None,
    **given: Any,
) -> None:
    actor = env.actor()
    criteria = {k: v for k, v in given.items() if v not in (None, ())}
    if "action" in criteria:
        criteria["action"] = resolve_action(criteria["action"])
    if "texts" in criteria:
        criteria["texts"] = list(criteria["texts"])
    audit_log = env.brigada().audit
    if csv_path or pdf_path:
        export(env, actor, criteria, csv_path, SEPARATORS[separator], pdf_path)
        return
    found = audit_log.search(actor, criteria, page=page, page_size=page_size)
    if as_json:
        env.emit_json({"page": found.page, "has_more": found.has_more, "rows": found.rows})
        return
    env.table(_("Activity log"), [(f, _(h)) for f, h in HEADINGS], [display(r) for r in found.rows])
    more = _("more on page {next}").format(next=page + 1) if found.has_more else _("last page")
    n = len(found.rows)
    env.say(
        ngettext("Page {page}: {n} row; {more}", "Page {page}: {n} rows; {more}", n).format(
            page=page, n=n, more=more
        )
    )


def in_words(criteria: dict[str, Any]) -> str:
    """The criteria as the PDF states them ("From: 2026-03-01; Action: Login incorrecto")."""
    described = []
    for name, value in criteria.items():
        if name == "action":
            value = _(action_label(value))
        elif name == "texts":
            value = ", ".join(f'"{text}"' for text in value)
        described.append(f"{_(CRITERIA_NAMES[name])}: {value}")
    return "; ".join(described) or _("all entries")


def export(
    env: Env,
    actor: Any,
    criteria: dict[str, Any],
    csv_path: Path | None,
    separator: str,
    pdf_path: Path | None,
) -> None:
    from adapters.audit.audit_io import write_csv, write_pdf

    audit_log = env.brigada().audit
    rows = [display(r) for r in audit_log.export_rows(actor, criteria)]
    headers = [_(h) for _f, h in HEADINGS]
    table = [[row[f] for f, _h in HEADINGS] for row in rows]
    if csv_path:
        with writing_to("--csv"):
            write_csv(csv_path, headers, table, separator)
        audit_log.exported(actor, criteria, "csv", csv_path, len(rows))
        env.say(written(len(rows), csv_path))
    if pdf_path:
        stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")
        with writing_to("--pdf"):
            write_pdf(
                pdf_path,
                _("Activity log"),
                [
                    _("Criteria: {criteria}").format(criteria=in_words(criteria)),
                    _("Printed {when} by {user}").format(when=stamp, user=actor.username),
                ],
                headers,
                table,
                PDF_WIDTHS,
                _("Page {page} of {pages}"),
            )
        audit_log.exported(actor, criteria, "pdf", pdf_path, len(rows))
        env.say(written(len(rows), pdf_path))


@audit.command("actions", cls=Command, help=N_("List the actions the log records, for --action."))
@json_option
@pass_env
def actions(env: Env, as_json: bool) -> None:
    actor = env.actor()
    named = sorted(
        ((code, _(action_label(code))) for code in env.brigada().audit.action_codes(actor)),
        key=lambda pair: pair[1].casefold(),
    )
    if as_json:
        env.emit_json([{"code": code, "name": name} for code, name in named])
        return
    env.table(
        _("Actions"),
        [("name", _("Action")), ("code", _("Code"))],
        [{"name": name, "code": code} for code, name in named],
    )


@audit.command(
    "verify", cls=Command, help=N_("Recompute each site's hash chain and name the first broken link.")
)
@json_option
@pass_env
def verify(env: Env, as_json: bool) -> None:
    actor = env.actor()
    broken, checked = env.brigada().audit.verify(actor)
    if as_json:
        env.emit_json({"checked": checked, "broken": broken})
    if broken is None:
        env.say(
            ngettext("Chain intact: {n} event checked", "Chain intact: {n} events checked", checked).format(
                n=checked
            )
        )
        return
    reasons = {"changed": _("changed"), "inserted": _("inserted"), "deleted": _("deleted")}
    raise click.ClickException(
        _("Chain broken at log position {position} (site {site}): an event was {reason}").format(
            position=broken.position, site=broken.site or "?", reason=reasons[broken.reason]
        )
    )


@click.command("backup", cls=Command, help=N_("Copy the store, consistently, into a folder."))
@click.option(
    "--to",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=N_("Destination folder."),
)
@pass_env
def backup(env: Env, folder: Path) -> None:
    actor = env.actor()
    path = env.brigada().audit.backup(actor, folder.resolve())
    env.say(_("Backup written to {path}").format(path=path))
    env.say(_("The copy holds every patient's clinical text: keep it as safe as the records themselves."))

"""brigada login / logout / whoami / passwd."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from adapters.store import redacted
from application.store_clock import StoreDate
from cli.base import Command, Group
from cli.env import Env, pass_env, read_password
from cli.i18n import N_, _, ngettext
from cli.options import json_option, password_stdin_option
from cli.text import render
from domain.errors import DomainError
from domain.security.user import AdminLockedForNow, PasswordChangeRequired


@click.command("login", cls=Command, help=N_("Open a session (15 minutes idle, 12 hours at most)."))
@click.argument("username")
@password_stdin_option(N_("Read the password from standard input (a new one on the next line if asked)."))
@click.option("--unlock-code", metavar="CODE", help=N_("Unlock a locked user with a code from central."))
@click.option("--totp", metavar="CODE", help=N_("Code from the authenticator app."))
@pass_env
def login(env: Env, username: str, password_stdin: bool, unlock_code: str | None, totp: str | None) -> None:
    password = read_password(password_stdin, _("Password"))
    auth = env.brigada().auth
    with admin_lock_in_minutes():
        try:
            signed = auth.sign_in(username, password, totp=totp, unlock_code=unlock_code)
        except PasswordChangeRequired as required:
            env.say(render(required.template, required.params))
            new_password = read_password(password_stdin, _("New password"), confirm=True)
            signed = auth.sign_in(
                username, password, totp=totp, unlock_code=unlock_code, new_password=new_password
            )
    env.sessions.save(env.store_url, signed.ticket)
    env.say(_("Welcome, {user}.").format(user=signed.ticket.username))
    if signed.password_expires_in is not None:
        env.say(expiry_warning(signed.password_expires_in, signed.can_change_password))


@contextmanager
def admin_lock_in_minutes() -> Iterator[None]:
    """An administrator's lock, refused in one line (exit 1) with the minutes it has left in the
    plural they need: a rendered domain error has no plural forms."""
    try:
        yield
    except AdminLockedForNow as locked:
        minutes = locked.params["minutes"]
        message = ngettext(
            "user {username} is locked for {minutes} more minute after too many failed attempts",
            "user {username} is locked for {minutes} more minutes after too many failed attempts",
            minutes,
        )
        raise click.ClickException(message.format(**locked.params)) from None


def expiry_warning(days: int, can_change: bool) -> str:
    """The login's warning that the password expires soon. It names 'brigada passwd' only to
    someone who may run it."""
    if not can_change:
        return ngettext(
            "Warning: your password expires in {days} day; ask an administrator for a new one.",
            "Warning: your password expires in {days} days; ask an administrator for a new one.",
            days,
        ).format(days=days)
    if days <= 0:  # only an administrator's password outlives its validity (it never expires)
        return _(
            "Warning: your password is past its validity period; administrators can still log in, "
            "but change it now with 'brigada passwd'."
        )
    return ngettext(
        "Warning: your password expires in {days} day; change it with 'brigada passwd'.",
        "Warning: your password expires in {days} days; change it with 'brigada passwd'.",
        days,
    ).format(days=days)


@click.command("logout", cls=Command, help=N_("Close the session."))
@pass_env
def logout(env: Env) -> None:
    ticket = env.sessions.load(env.store_url)
    if ticket is not None:
        try:
            actor = env.actor()
        except DomainError:  # an expired session has nothing left to close in the store
            actor = None
        if actor is not None:
            env.brigada().auth.logout(actor)
    env.sessions.delete(env.store_url)
    env.say(_("Session closed."))


@click.command("whoami", cls=Command, help=N_("Show who is logged in on this store."))
@json_option
@pass_env
def whoami(env: Env, as_json: bool) -> None:
    actor = env.actor()
    identity = env.brigada().core.require_identity()
    data = {
        "user": actor.username,
        "administrator": actor.is_admin,
        "site": identity.site_code,
        "role": identity.role.value,
        "store": env.store_url,
    }
    if as_json:
        env.emit_json(data)
        return
    env.record(
        _("Session"),
        [
            (_("User"), actor.username),
            (_("Administrator"), _("yes") if actor.is_admin else _("no")),
            (_("Site"), identity.site_code),
            (_("Store"), redacted(env.store_url)),
        ],
    )


@click.command("passwd", cls=Command, help=N_("Change your own password (the current one is asked)."))
@password_stdin_option(N_("Read the current password, then the new one, from standard input (two lines)."))
@pass_env
def passwd(env: Env, password_stdin: bool) -> None:
    actor = env.actor()
    current = read_password(password_stdin, _("Current password"))
    new_password = read_password(password_stdin, _("New password"), confirm=True)
    with admin_lock_in_minutes():
        env.brigada().auth.change_password(actor, current, new_password)
    env.sessions.delete(env.store_url)
    env.say(
        _("Password changed. Every session of {user} was closed: log in again.").format(user=actor.username)
    )


@click.group("date", cls=Group, help=N_("The store's date: show it, or confirm the computer's after a gap."))
def date_group() -> None:
    pass


@date_group.command("show", cls=Command, help=N_("Show the computer's date and the last date recorded here."))
@json_option
@pass_env
def date_show(env: Env, as_json: bool) -> None:
    shown = env.brigada().dates.show()
    if as_json:
        env.emit_json(shown)
        return
    env.record(_("Date"), date_lines(shown))


def date_lines(shown: StoreDate) -> list[tuple[str, object]]:
    ahead = ngettext("{n} day", "{n} days", shown.days_ahead).format(n=shown.days_ahead)
    return [
        (_("Computer's date"), shown.computer.isoformat()),
        (_("Last date recorded"), shown.recorded.isoformat() if shown.recorded else "-"),
        (_("Ahead by"), ahead),
        (_("Needs confirmation"), _("yes") if shown.needs_confirmation else _("no")),
    ]


@date_group.command(
    "confirm",
    cls=Command,
    help=N_(
        "Confirm that the computer's date is right (type it as YYYY-MM-DD). Needed before any "
        "change when the clock is days after the last date recorded ('brigada date show'); "
        "recorded in the activity log."
    ),
)
@click.argument("day", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]))
@pass_env
def date_confirm(env: Env, day: datetime) -> None:
    shown = env.brigada().dates.confirm(env.actor(), day.date())
    env.say(_("Date {day} confirmed: changes are dated with it.").format(day=shown.computer.isoformat()))

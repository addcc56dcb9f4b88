"""brigada user create | update | deactivate | reactivate | list | show | reset-password | unlock |
unlock-code | access | sections | totp."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from application.context import Actor
from application.security.users import MenuLine, SectionLine, UserView
from cli.base import Command, group
from cli.env import Env, pass_env, read_password
from cli.i18n import N_, _
from cli.options import json_option, password_stdin_option
from projections.security.users import UserRow

USER_COLUMNS = [
    ("username", N_("User")),
    ("full_name", N_("Name")),
    ("is_admin", N_("Administrator")),
    ("active", N_("Active")),
    ("locked", N_("Locked")),
]
GRANTED, DENIED = "✔", "✘"


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def user_rows(rows: Sequence[UserRow]) -> list[dict[str, Any]]:
    """Rows for a table, booleans in words."""
    return [
        {
            "username": r.username,
            "full_name": r.full_name,
            "is_admin": yes_no(r.is_admin),
            "active": yes_no(r.active),
            "locked": yes_no(r.locked),
        }
        for r in rows
    ]


def show_user(env: Env, user: UserView, as_json: bool) -> None:
    if as_json:
        env.emit_json(user)
        return
    env.record(
        _("User {user}").format(user=user.username),
        [
            (_("Name"), user.full_name),
            (_("Administrator"), yes_no(user.is_admin)),
            (_("Active"), yes_no(user.active)),
            (_("Locked"), yes_no(user.locked)),
            (_("Failed attempts"), user.failed_attempts),
            (_("Password set on"), user.password_set_on),
            (_("Must change password"), yes_no(user.must_change_password)),
            (_("Second factor"), yes_no(user.second_factor)),
            (_("Menu options"), len(user.options)),
            (_("Visit sections"), ", ".join(user.sections) or "-"),
        ],
    )


def show_tree(env: Env, username: str, lines: Sequence[MenuLine], as_json: bool) -> None:
    if as_json:
        env.emit_json(
            [{"option": m.option, "label": _(m.label), "depth": m.depth, "granted": m.granted} for m in lines]
        )
        return
    env.table(
        _("Menu access of {user}").format(user=username),
        [("mark", ""), ("option", _("Option")), ("label", _("Menu"))],
        [
            {
                "mark": GRANTED if m.granted else DENIED,
                "option": "  " * m.depth + m.option,
                "label": _(m.label),
            }
            for m in lines
        ],
    )


def show_sections(env: Env, username: str, lines: Sequence[SectionLine], as_json: bool) -> None:
    if as_json:
        env.emit_json([{"section": s.section, "label": _(s.label), "allowed": s.allowed} for s in lines])
        return
    env.table(
        _("Visit sections of {user}").format(user=username),
        [("mark", ""), ("section", _("Section")), ("label", _("Tab"))],
        [
            {"mark": GRANTED if s.allowed else DENIED, "section": s.section, "label": _(s.label)}
            for s in lines
        ],
    )


@group(help=N_("Users: create, update, deactivate, list, passwords, lockout, permissions."))
def user() -> None:
    pass


@user.command("create", cls=Command, help=N_("Create a user (administrators, on central)."))
@click.argument("username")
@click.option("--full-name", required=True, help=N_("The user's full name."))
@click.option("--admin", "is_admin", is_flag=True, help=N_("Make the user an administrator."))
@click.option("--like", metavar="USER", help=N_("Copy the menu options and sections of USER."))
@password_stdin_option()
@json_option
@pass_env
def create(
    env: Env,
    username: str,
    full_name: str,
    is_admin: bool,
    like: str | None,
    password_stdin: bool,
    as_json: bool,
) -> None:
    actor = env.actor()
    data = {"username": username, "full_name": full_name, "is_admin": is_admin, "like": like}
    env.brigada().users.may_create(actor, data)  # refused before a password is asked for
    password = read_password(password_stdin, _("Password for {user}").format(user=username), confirm=True)
    created = env.brigada().users.create(actor, data, password)
    if not as_json:
        env.say(_("User {user} created.").format(user=created.username))
    show_user(env, created, as_json)


@user.command("update", cls=Command, help=N_("Change a user's name (your own, or any as admin)."))
@click.argument("username")
@click.option("--full-name", required=True, help=N_("The user's full name."))
@json_option
@pass_env
def update(env: Env, username: str, full_name: str, as_json: bool) -> None:
    actor = env.actor()
    updated = env.brigada().users.update(actor, username, {"full_name": full_name})
    show_user(env, updated, as_json)


@user.command("deactivate", cls=Command, help=N_("Deactivate a user: their sessions end."))
@click.argument("username")
@pass_env
def deactivate(env: Env, username: str) -> None:
    actor = env.actor()
    env.brigada().users.deactivate(actor, username)
    env.say(_("User {user} deactivated.").format(user=username))


@user.command("reactivate", cls=Command, help=N_("Reactivate a deactivated user."))
@click.argument("username")
@pass_env
def reactivate(env: Env, username: str) -> None:
    actor = env.actor()
    env.brigada().users.reactivate(actor, username)
    env.say(_("User {user} reactivated.").format(user=username))


@user.command("list", cls=Command, help=N_("List users (yourself only unless administrator)."))
@json_option
@pass_env
def list_users(env: Env, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().users.list_users(actor)
    if as_json:
        env.emit_json(
            [
                {
                    "username": r.username,
                    "full_name": r.full_name,
                    "is_admin": r.is_admin,
                    "active": r.active,
                    "locked": r.locked,
                }
                for r in rows
            ]
        )
        return
    env.table(_("Users"), [(f, _(h)) for f, h in USER_COLUMNS], user_rows(rows))


@user.command("show", cls=Command, help=N_("Show a user's record (your own, or any as admin)."))
@click.argument("username")
@json_option
@pass_env
def show(env: Env, username: str, as_json: bool) -> None:
    actor = env.actor()
    show_user(env, env.brigada().users.show(actor, username), as_json)


@user.command(
    "reset-password",
    cls=Command,
    help=N_("Give a user a new password that they must change at their next login."),
)
@click.argument("username")
@password_stdin_option()
@pass_env
def reset_password(env: Env, username: str, password_stdin: bool) -> None:
    actor = env.actor()
    env.brigada().users.may_reset_password(actor, username)  # refused before a password is asked for
    password = read_password(password_stdin, _("New password for {user}").format(user=username), confirm=True)
    env.brigada().users.reset_password(actor, username, password)
    env.say(
        _("Password of {user} reset: they must choose a new one at their next login.").format(user=username)
    )


@user.command("unlock", cls=Command, help=N_("Unlock a user locked after failed attempts."))
@click.argument("username")
@pass_env
def unlock(env: Env, username: str) -> None:
    actor = env.actor()
    env.brigada().users.unlock(actor, username)
    env.say(_("User {user} unlocked.").format(user=username))


@user.command(
    "unlock-code",
    cls=Command,
    help=N_("Print a single-use code that unlocks USER on a site's laptop, offline."),
)
@click.argument("username")
@click.option("--site", required=True, metavar="CODE", help=N_("The site whose laptop it is."))
@click.option("--valid-hours", default="48", show_default=True, help=N_("Hours the code stays valid."))
@json_option
@pass_env
def unlock_code(env: Env, username: str, site: str, valid_hours: str, as_json: bool) -> None:
    actor = env.actor()
    issued = env.brigada().users.unlock_code(actor, username, {"site": site, "valid_hours": valid_hours})
    if as_json:
        env.emit_json(issued)
        return
    click.echo(issued.code)
    env.say(
        _(
            "Give {user} this code: 'brigada login {user} --unlock-code CODE' on site {site}, "
            "once, before {valid_until} UTC."
        ).format(
            user=issued.username,
            site=issued.site,
            valid_until=f"{issued.valid_until:%Y-%m-%d %H:%M}",
        )
    )


@user.command("access", cls=Command, help=N_("Show a user's menu tree; --grant and --revoke change it."))
@click.argument("username")
@click.option("--grant", multiple=True, metavar="OPTION", help=N_("Open OPTION (and its sub-options)."))
@click.option("--revoke", multiple=True, metavar="OPTION", help=N_("Close OPTION and its sub-options."))
@json_option
@pass_env
def access(env: Env, username: str, grant: tuple[str, ...], revoke: tuple[str, ...], as_json: bool) -> None:
    users = env.brigada().users
    lines = changed_or_shown(env, username, grant, revoke, users.change_access, users.access_tree)
    show_tree(env, username, lines, as_json)


@user.command(
    "sections", cls=Command, help=N_("Show a user's visit sections; --allow and --deny change them.")
)
@click.argument("username")
@click.option("--allow", multiple=True, metavar="SECTION", help=N_("Allow a visit section."))
@click.option("--deny", multiple=True, metavar="SECTION", help=N_("Deny a visit section."))
@json_option
@pass_env
def sections(env: Env, username: str, allow: tuple[str, ...], deny: tuple[str, ...], as_json: bool) -> None:
    users = env.brigada().users
    lines = changed_or_shown(env, username, allow, deny, users.change_sections, users.section_list)
    show_sections(env, username, lines, as_json)


def changed_or_shown(
    env: Env,
    username: str,
    opened: tuple[str, ...],
    closed: tuple[str, ...],
    change: Callable[[Actor, str, list[str], list[str]], list[Any]],
    show: Callable[[Actor, str], list[Any]],
) -> list[Any]:
    """A user's menus or sections after opening and closing what the options name, or as they
    are when the options name nothing."""
    actor = env.actor()
    if opened or closed:
        return change(actor, username, list(opened), list(closed))
    return show(actor, username)


@user.command("totp", cls=Command, help=N_("Enrol or remove a second factor (TOTP) for USER."))
@click.argument("username")
@click.option("--enroll", is_flag=True, help=N_("Enrol: prints the otpauth:// URI once."))
@click.option("--remove", is_flag=True, help=N_("Remove the second factor."))
@pass_env
def totp(env: Env, username: str, enroll: bool, remove: bool) -> None:
    if enroll == remove:
        raise click.UsageError(_("give exactly one of --enroll or --remove"))
    actor = env.actor()
    users = env.brigada().users
    if enroll:
        click.echo(users.enroll_totp(actor, username))
        env.say(_("Add this to the authenticator app now (as a QR code or by hand): it is not shown again."))
        return
    users.remove_totp(actor, username)
    env.say(_("Second factor of {user} removed.").format(user=username))

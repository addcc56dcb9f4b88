"""brigada policy password show | set."""

from __future__ import annotations

from typing import Any

import click

from application.context import Actor
from application.security.policy import PolicyView
from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _, ngettext
from cli.options import json_option
from cli.text import render

# (option, setting, help) for every switch of the seed, in the seed's order.
SWITCHES: list[tuple[str, str, str]] = [
    ("--max-failed-attempts", "max_failed_attempts", N_("Maximum failed attempts (0 = unlimited).")),
    ("--min-length", "min_length", N_("Minimum length (0 = not checked).")),
    ("--max-length", "max_length", N_("Maximum length.")),
    (
        "--validity-days",
        "validity_days",
        N_("Days a password is valid (0 = never expires; administrators are warned, never refused)."),
    ),
    ("--require-letters", "require_letters", N_("Letters required: on or off.")),
    ("--require-digits", "require_digits", N_("Digits required: on or off.")),
    ("--require-symbols", "require_symbols", N_("Symbols required: on or off.")),
    ("--no-reuse", "no_reuse", N_("Refuse the last 5 passwords: on or off.")),
    ("--blocklist", "blocklist", N_("Refuse common passwords: on or off.")),
    ("--admin-mfa", "admin_mfa", N_("Administrators need a second factor: on or off.")),
]
LABELS: dict[str, str] = {
    "max_failed_attempts": N_("Maximum failed attempts (0 = unlimited)"),
    "min_length": N_("Minimum length (0 = not checked)"),
    "max_length": N_("Maximum length"),
    "validity_days": N_("Validity in days (0 = never expires)"),
    "require_letters": N_("Letters required"),
    "require_digits": N_("Digits required"),
    "require_symbols": N_("Symbols required"),
    "no_reuse": N_("No reuse of the last 5 passwords"),
    "blocklist": N_("Blocklist of common passwords"),
    "admin_mfa": N_("Second factor required for administrators"),
}


def show_policy(env: Env, actor: Actor, view: PolicyView, as_json: bool) -> None:
    warnings = [render(w.template, w.params) for w in view.weaknesses]
    stuck = env.brigada().users.unable_to_change_own_password(actor) if view.settings.validity_days else []
    if as_json:
        env.emit_json(
            {"settings": view.settings.as_dict(), "warnings": warnings, "cannot_change_own_password": stuck}
        )
        return
    settings = view.settings.as_dict()
    env.record(
        _("Password policy"),
        [
            (
                _(label),
                _("on")
                if settings[name] is True
                else _("off")
                if settings[name] is False
                else settings[name],
            )
            for name, label in LABELS.items()
        ],
    )
    for warning in warnings:
        env.say(_("Warning, weaker than NIST SP 800-63B: {warning}").format(warning=warning))
    if stuck:
        env.say(
            ngettext(
                "Warning: passwords expire, but {count} user cannot change their own password: {users} "
                "(grant it with 'brigada user access USER --grant passwd').",
                "Warning: passwords expire, but {count} users cannot change their own password: {users} "
                "(grant it with 'brigada user access USER --grant passwd').",
                len(stuck),
            ).format(count=len(stuck), users=", ".join(stuck))
        )


@group(help=N_("Security policies (administrators, on central)."))
def policy() -> None:
    pass


@policy.group("password", help=N_("The password policy: show it or change its switches."))
def password() -> None:
    pass


@password.command("show", cls=Command, help=N_("Show the password policy and its warnings."))
@json_option
@pass_env
def show(env: Env, as_json: bool) -> None:
    actor = env.actor()
    show_policy(env, actor, env.brigada().policies.show(actor), as_json)


def switch_options(command: Any) -> Any:
    for option, setting, help_text in reversed(SWITCHES):
        command = click.option(option, setting, default=None, help=help_text)(command)
    return command


@password.command("set", cls=Command, help=N_("Change switches of the password policy."))
@switch_options
@click.option("--defaults", is_flag=True, help=N_("Start from the default (NIST SP 800-63B) profile."))
@json_option
@pass_env
def set_policy(env: Env, defaults: bool, as_json: bool, **switches: str | None) -> None:
    actor = env.actor()
    data = {k: v for k, v in switches.items() if v is not None}
    view = env.brigada().policies.set(actor, data, defaults=defaults)
    if not as_json:
        env.say(_("Password policy changed.") if view.changed else _("Nothing changed."))
    show_policy(env, actor, view, as_json)


LOCK_OPTIONS = [
    ("--delete-visit", "delete_visit", N_("Days after the visit date when it can no longer be deleted.")),
    ("--change-visit-data", "change_visit_data", N_("Days after the visit date when its data is locked.")),
    ("--change-paragraph", "change_paragraph", N_("Days after a paragraph's creation when it is locked.")),
    (
        "--change-observations",
        "change_observations",
        N_("Days after the visit date when observations are locked."),
    ),
    (
        "--delete-document",
        "delete_document",
        N_("Days after attaching when a document can no longer be deleted."),
    ),
]


def show_locks(env: Env, settings: Any, as_json: bool) -> None:
    values = settings.as_dict()
    if as_json:
        env.emit_json(values)
        return
    env.record(
        _("Time-based locks (days; 0 = off; the administrator is exempt)"),
        [(option, values[field]) for option, field, _help in LOCK_OPTIONS],
    )


@policy.group("locks", help=N_("Time-based locks on visits: show or set the days."))
def locks() -> None:
    pass


@locks.command("show", cls=Command, help=N_("Show the time-based locks."))
@json_option
@pass_env
def show_lock_settings(env: Env, as_json: bool) -> None:
    actor = env.actor()
    show_locks(env, env.brigada().locks.show(actor), as_json)


def lock_options(command: Any) -> Any:
    for option, field, help_text in reversed(LOCK_OPTIONS):
        command = click.option(option, field, type=int, default=None, help=help_text)(command)
    return command


@locks.command("set", cls=Command, help=N_("Set the days of the time-based locks (0 = off)."))
@lock_options
@json_option
@pass_env
def set_lock_settings(env: Env, as_json: bool, **days: int | None) -> None:
    actor = env.actor()
    changes = {k: v for k, v in days.items() if v is not None}
    show_locks(env, env.brigada().locks.set(actor, changes), as_json)

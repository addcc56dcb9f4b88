"""brigada projections status | rebuild."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cli.base import Command, group
from cli.env import Env, pass_env
from cli.i18n import N_, _, ngettext
from cli.options import json_option


@group(help=N_("Read models: their position in the log, and rebuilding them."))
def projections() -> None:
    pass


@projections.command("status", cls=Command, help=N_("Each view's position, lag and row count."))
@json_option
@pass_env
def status(env: Env, as_json: bool) -> None:
    actor = env.actor()
    rows = [
        {
            "name": s.name,
            "position": s.position,
            "head": s.head,
            "lag": s.lag,
            "rows": s.rows,
            "stale": s.stale,
        }
        for s in env.brigada().read_models.status(actor)
    ]
    if as_json:
        env.emit_json(rows)
        return
    env.table(
        _("Views"),
        [
            ("name", _("View")),
            ("position", _("Position")),
            ("head", _("Log head")),
            ("lag", _("Lag")),
            ("rows", _("Rows")),
        ],
        rows,
    )


@projections.command("rebuild", cls=Command, help=N_("Drop a view (or all) and replay the log into it."))
@click.argument("name", required=False)
@pass_env
def rebuild(env: Env, name: str | None) -> None:
    actor = env.actor()
    views = env.brigada().read_models
    names = [name] if name else views.names()
    unknown = [n for n in names if n not in views.names()]
    if unknown:
        raise click.BadParameter(
            _("unknown view {name}; views: {names}").format(name=unknown[0], names=", ".join(views.names())),
            param_hint="NAME",
        )
    head = views.head()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=env.err
    ) as bar:
        if name:
            task = bar.add_task(name, total=head or 1)
            counts = {
                name: views.rebuild(
                    actor, name, progress=lambda done, total: bar.update(task, completed=done)
                )
            }
        else:  # every view in one pass over the log
            task = bar.add_task(_("all views"), total=head or 1)
            counts = views.rebuild_all(actor, progress=lambda done, total: bar.update(task, completed=done))
        bar.update(task, completed=head or 1)
    for view, count in counts.items():
        env.say(rebuilt(view, count, head))


def rebuilt(view: str, rows: int, events: int) -> str:
    """A view rebuilt: its rows, from the events of the log ("1 fila", "2 filas")."""
    return _("{view}: {rows} from {events} in the log").format(
        view=view,
        rows=ngettext("{n} row", "{n} rows", rows).format(n=rows),
        events=ngettext("{n} event", "{n} events", events).format(n=events),
    )

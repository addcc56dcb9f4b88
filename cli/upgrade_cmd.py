"""brigada upgrade: bring a store to the version of Brigada just installed (central or a laptop)."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from cli.base import Command
from cli.env import Env, pass_env
from cli.i18n import N_, _, ngettext
from cli.projections_cmd import rebuilt


@click.command(
    "upgrade",
    cls=Command,
    help=N_(
        "After installing a new version: rebuild this store's views and record the version "
        "(central: an administrator; a laptop: the 'upgrade' menu option)."
    ),
)
@pass_env
def upgrade(env: Env) -> None:
    actor = env.actor()
    brigada = env.brigada()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=env.err)
    tasks: list[TaskID] = []

    def rebuilding(done: int, head: int) -> None:
        if not tasks:  # shown once the views are being rebuilt (not when there is nothing to do)
            bar.start()
            tasks.append(bar.add_task(_("all views"), total=head or 1))
        bar.update(tasks[0], completed=done)

    try:
        outcome = brigada.setup.upgrade(actor, progress=rebuilding)
    finally:
        if tasks:
            bar.stop()
    if not outcome.upgraded:
        env.say(
            _("This store is already at version {version}: nothing to do.").format(version=outcome.to_version)
        )
        return
    for view, count in outcome.views.items():
        env.say(rebuilt(view, count, outcome.events))
    env.say(
        ngettext(
            "Store upgraded from version {old} to {new}: {views} view rebuilt.",
            "Store upgraded from version {old} to {new}: {views} views rebuilt.",
            len(outcome.views),
        ).format(old=outcome.from_version, new=outcome.to_version, views=len(outcome.views))
    )

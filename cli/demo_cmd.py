"""brigada demo: central and site stores in a fresh folder, a login, patients registered."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from application.sync.laptop import SyncOutcome, SyncProgress
from cli.audit.audit_cmd import HEADINGS, display
from cli.base import Command
from cli.clinical.agenda_cmd import show_agenda
from cli.clinical.encounter_cmd import ROW_COLUMNS as VISIT_COLUMNS
from cli.clinical.encounter_cmd import displayed
from cli.clinical.patient_cmd import COLUMNS
from cli.env import Env, pass_env
from cli.i18n import N_, _, language, ngettext
from cli.pharmacy.inventory_cmd import stock_table
from cli.sync.sync_cmd import Display, report
from cli.text import render
from demo import mission
from domain.errors import DomainError


@click.command("demo", cls=Command, help=N_("Run a small mission end to end in a fresh folder."))
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help=N_("Folder for the demo stores (default: a new temporary one)."),
)
@click.option(
    "--patients",
    default=10,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help=N_("Patients to register."),
)
@click.option("--seed", default=2026, show_default=True, help=N_("Seed for the synthetic data."))
@pass_env
def demo(env: Env, folder: Path | None, patients: int, seed: int) -> None:
    if importlib.util.find_spec("faker") is None:  # before anything is made
        raise click.ClickException(_("the demo needs its extra: pip install 'brigada[demo]'"))
    folder = folder or Path(tempfile.mkdtemp(prefix="brigada-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise click.UsageError(
            _("{folder} is not empty: the demo needs a fresh folder").format(folder=folder)
        )
    mission.run(TerminalScreen(env), folder, patients, seed)


class TerminalScreen:
    """The mission as the commands show it: narration on stderr, their tables on stdout."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.language = language()

    def gettext(self, message: str) -> str:
        return _(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)

    def say(self, text: str) -> None:
        self.env.say(text)

    def reason(self, error: DomainError) -> str:
        return render(error.template, error.params)

    def patients(self, title: str, rows: list[Any]) -> None:
        self.env.table(title, [(f, _(h)) for f, h in COLUMNS], rows)

    def agenda(self, view: Any) -> None:
        show_agenda(self.env, view, as_json=False)

    def visits(self, title: str, rows: list[Any]) -> None:
        self.env.table(title, [(f, _(h)) for f, h in VISIT_COLUMNS], [displayed(v) for v in rows])

    def stock(self, lines: list[Any]) -> None:
        stock_table(self.env, lines, as_json=False)

    def activity(self, rows: list[Any]) -> None:
        self.env.table(_("Activity log"), [(f, _(h)) for f, h in HEADINGS], [display(r) for r in rows])

    def synced(self, run: Callable[[SyncProgress], SyncOutcome]) -> SyncOutcome:
        progress = Display(self.env, quiet=False)
        try:
            outcome = run(progress)
        finally:
            progress.stop()
        report(progress, outcome)
        return outcome

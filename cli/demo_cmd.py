"""brigada demo: central and site stores in a fresh folder, a login, patients registered."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from adapters.bootstrap import open_brigada
from adapters.synthetic import PatientFaker
from cli.base import Command
from cli.env import Env, pass_env
from cli.i18n import N_, _
from cli.patient_cmd import COLUMNS

DEMO_PASSWORD = "brigada-demo-password-2026"
DEMO_SITE = "BRG01"


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
    folder = folder or Path(tempfile.mkdtemp(prefix="brigada-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise click.UsageError(
            _("{folder} is not empty: the demo needs a fresh folder").format(folder=folder)
        )
    central_url = f"sqlite:///{folder / 'central.db'}"
    site_url = f"sqlite:///{folder / f'{DEMO_SITE.lower()}.db'}"

    env.say(_("1. Central server: {store}").format(store=central_url))
    central = open_brigada(central_url, create=True)
    central.setup.initialize("central", "CEN", "admin", "Administrador", DEMO_PASSWORD)
    central.close()

    env.say(_("2. Laptop of site {site}: {store}").format(site=DEMO_SITE, store=site_url))
    site = open_brigada(site_url, create=True)
    site.setup.initialize(
        "site", DEMO_SITE, "coordinador", "Coordinación de brigada", DEMO_PASSWORD
    )

    env.say(_("3. Login as coordinador on the laptop"))
    actor, _ticket = site.auth.resume(site.auth.login("coordinador", DEMO_PASSWORD))

    env.say(_("4. Registering {n} patients").format(n=patients))
    faker = PatientFaker(seed=seed, today=site.core.clock.today())
    rows = [site.patients.register(actor, faker.patient()) for _i in range(patients)]
    env.table(
        _("Patients registered at {site}").format(site=DEMO_SITE),
        [(f, _(h)) for f, h in COLUMNS],
        rows,
    )
    site.auth.logout(actor)
    site.close()
    env.say(
        _("Done. Try: brigada --store {store} login coordinador (password: {password})").format(
            store=site_url, password=DEMO_PASSWORD
        )
    )


def register(cli: click.Group) -> None:
    cli.add_command(demo)

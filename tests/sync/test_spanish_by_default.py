"""Spanish by default, really (issue 16, point 1): the installed `brigada` script, run with
LANG=C.UTF-8 (most servers and CI) and with no locale variable at all, speaks Spanish in its
help, in an error, in the sync's "Sincronización finalizada exitosamente" and in the activity
log's "Login incorrecto". Central runs `brigada serve` for the test; the laptop syncs over HTTPS
as the seed's operator would, with a bare `brigada sync`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.installed import run_installed
from tests.support.inventory import NURSE, NURSE_PASSWORD
from tests.support.security import ADMIN_PASSWORD
from tests.support.serve import served_field
from tests.support.sync import Field

pytestmark = pytest.mark.store

# Only what a test needs to be hermetic (where sessions are kept); no LANG, LC_*, LANGUAGE or
# BRIGADA_LANG unless the case sets it.
LOCALES = {"LANG=C.UTF-8": {"LANG": "C.UTF-8"}, "no locale at all": {}}


@pytest.fixture
def field(open_store: Any, sqlite_url: str, tmp_path: Path) -> Iterator[Field]:
    with served_field(open_store, sqlite_url, tmp_path) as field:
        field.laptop.close()
        yield field


class Shell:
    """The installed script in a process of its own, with only the environment given."""

    def __init__(self, locale: dict[str, str], home: Path) -> None:
        self.env = {"BRIGADA_HOME": str(home), **locale}
        self.cwd = home

    def __call__(
        self, *args: str, input: str | None = None, code: int = 0
    ) -> subprocess.CompletedProcess[str]:
        self.cwd.mkdir(parents=True, exist_ok=True)
        done = run_installed(*args, env=self.env, cwd=self.cwd, input=input, timeout=180)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done


@pytest.mark.parametrize("locale", LOCALES.values(), ids=list(LOCALES))
def test_help_and_errors_are_spanish_without_a_spanish_locale(locale: dict[str, str], tmp_path: Path) -> None:
    shell = Shell(locale, tmp_path / "home")

    helped = shell("--help").stdout
    assert helped.startswith("Uso: brigada [OPCIONES] COMANDO [ARGS]...")
    assert "Opciones:" in helped and "Muestra la versión y sale." in helped
    assert "Brigada: historias clínicas para misiones médicas sin internet." in helped
    assert shell("patient", "show", code=2).stderr.strip().endswith("Falta el argumento 'CHART_NUMBER'.")
    missing = shell("--store", f"sqlite:///{tmp_path}/none.db", "whoami", code=5)
    assert (
        missing.stderr.strip() == f"no hay una base de datos en {tmp_path}/none.db: créela con 'brigada init'"
    )


@pytest.mark.slow  # a brigada serve and five processes per case: not in make test-fast
@pytest.mark.parametrize("locale", LOCALES.values(), ids=list(LOCALES))
def test_the_sync_and_the_activity_log_speak_spanish_without_a_spanish_locale(
    field: Field, sqlite_url: str, locale: dict[str, str], tmp_path: Path
) -> None:
    laptop = Shell(locale, tmp_path / "laptop-home")
    laptop("--store", field.laptop_url, "login", NURSE, "--password-stdin", input=f"{NURSE_PASSWORD}\n")

    synced = laptop("--store", field.laptop_url, "sync")  # central's address came with provisioning

    lines = synced.stderr.strip().splitlines()
    assert lines[0] == "Modo de operación: INS (en sitio)"
    assert lines[-2:] == [
        "Sincronización finalizada exitosamente",
        "Nuevo modo de operación: MSN (en misión)",
    ]

    central = Shell(locale, tmp_path / "central-home")
    wrong = central(
        "--store", sqlite_url, "login", "admin", "--password-stdin", input="not-the-password\n", code=1
    )
    assert wrong.stderr.strip() == "Login incorrecto"
    central("--store", sqlite_url, "login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    found = central("--store", sqlite_url, "audit", "search", "--action", "Login incorrecto", "--json")
    assert '"action": "login.failed"' in found.stdout  # found by its Spanish name
    table = central("--store", sqlite_url, "audit", "search", "--page-size", "5").stdout
    assert "Login incorrecto" in table and "Incorrect login" not in table

"""No English left in Spanish (issue 16, point 2): every command's --help, and a sample of
errors (click's and Brigada's), with --lang es, hold no word that is not Spanish.

A word counts as Spanish when some Spanish translation in the catalogs (brigada.po, click.po)
uses it. Left out of the check, because they are what the user types or reads back as typed:
command names, options (--document-number), metavars and arguments in capitals (TEXTO, CODE),
quoted text ('brigada init'), the choices of an option ([es|en]) and default values."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support.spanish import EVERY_COMMAND, not_spanish

pytestmark = pytest.mark.store


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["--lang", "es", *args], prog_name="brigada")
    assert "Traceback" not in result.output
    return result.output


def test_every_help_is_in_spanish() -> None:
    for path in EVERY_COMMAND:  # click keeps what it built for one language: nothing may stick
        CliRunner().invoke(cli, ["--lang", "en", *path, "--help"], prog_name="brigada")
    english = {}
    for path in EVERY_COMMAND:
        output = run(*path, "--help")
        assert output.startswith(f"Uso: {' '.join(('brigada', *path))} [OPCIONES]"), output
        left = not_spanish(output)
        if left:
            english[" ".join(path) or "brigada"] = sorted(left)
    assert english == {}, f"English left in {len(english)} of {len(EVERY_COMMAND)} helps"


def test_the_check_finds_english() -> None:
    assert not_spanish("Uso: brigada patient show [OPCIONES]\n\n  Muestra un paciente.\n") == set()
    assert {"the", "newest", "first"} <= not_spanish("  Search the activity log, newest first.\n")


ERRORS = [
    (("patient", "registr"), "No existe el comando 'registr'. ¿Quiso decir 'register'?"),
    (("patient", "register", "--sex"), "La opción '--sex' requiere un argumento."),
    (
        ("encounter", "open", "--kind", "xx"),
        "Valor no válido para '--kind': 'xx' no es uno de 'outpatient', 'ambulatory'.",
    ),
    (
        ("demo", "--patients", "abc"),
        "Valor no válido para '--patients': 'abc' no es un rango de enteros válido.",
    ),
    (("patient", "show"), "Falta el argumento 'CHART_NUMBER'."),
    (("audit", "search", "--page", "0"), "Valor no válido para '--page': 0 no está en el rango x>=1."),
    (("patient", "register", "--nope", "1"), "No existe la opción '--nope'. ¿Quiso decir '--zone'?"),
]


@pytest.mark.parametrize(("args", "said"), ERRORS, ids=[" ".join(args) for args, _said in ERRORS])
def test_clicks_errors_are_in_spanish(args: tuple[str, ...], said: str) -> None:
    output = run(*args)
    assert output.splitlines()[-1] == f"Uso no válido: {said}"
    assert not_spanish(output) == set()


def test_brigadas_errors_are_in_spanish(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/store.db"
    missing = run("--store", store, "whoami")
    assert missing.strip() == f"no hay una base de datos en {tmp_path}/store.db: créela con 'brigada init'"
    short = CliRunner().invoke(
        cli, ["--lang", "es", "--store", store, "init", "--central", "--password-stdin"], input="corta\n"
    )
    said = short.output.strip()
    assert said.startswith("contraseña: no cumple la política de contraseñas"), said
    for output in (missing, said):
        assert not_spanish(output) == set(), output

"""Options every command group shares, declared once (as sqlite-utils and pip-tools do): a command
takes ``@json_option`` or ``@out_option`` and gets ``as_json`` or ``out``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cli.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])


def json_option(command: F) -> F:
    """``--json``: the command's data as JSON on stdout instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help=N_("Output JSON."))(command)


def out_option(command: F) -> F:
    """``--out FILE``: where a document is written (default: its own name in this folder)."""
    return click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help=N_("File to write (default: in this folder)."),
    )(command)

"""Options every command group shares, declared once (as sqlite-utils and pip-tools do): a command
takes ``@json_option``, ``@out_option``, ``@limit_option(...)`` or ``@page_options`` and gets
``as_json``, ``out``, ``limit`` or ``page`` and ``page_size``; ``pdf_to`` writes what ``--out``
names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.base import writing_to
from cli.i18n import N_, _

if TYPE_CHECKING:  # printing loads with the commands that print
    from application.clinical.encounters import Deliver, PrintedDocument
    from cli.env import Env

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


def password_stdin_option(help: str = N_("Read the password from standard input.")) -> Callable[[F], F]:
    """``--password-stdin``: the password read from standard input (a script, a pipe), not asked."""
    return click.option("--password-stdin", is_flag=True, help=help)


def limit_option(default: int, most: int) -> Callable[[F], F]:
    """``--limit N``: at most N rows (``default`` when not given, never more than ``most``)."""
    return click.option(
        "--limit",
        default=default,
        show_default=True,
        type=click.IntRange(1, most),
        help=N_("At most this many."),
    )


def page_options(command: F) -> F:
    """``--page N --page-size M``: one page of a long listing."""
    command = click.option(
        "--page-size", default=50, show_default=True, type=click.IntRange(1, 1000), help=N_("Rows per page.")
    )(command)
    return click.option(
        "--page", default=1, show_default=True, type=click.IntRange(1), help=N_("Page number.")
    )(command)


def pdf_to(env: Env, out: Path | None) -> Deliver:
    """Writes a document to a PDF file (``--out`` or its own name in this folder); the use case
    records the print only after this returns."""

    def write(document: PrintedDocument) -> None:
        write_out(env, out or Path(f"{document.file_stem}.pdf"), lambda target: pdf(target, document))

    return write


def pdf(target: Path, document: PrintedDocument) -> None:
    from adapters.clinical.documents import write_document_pdf

    write_document_pdf(target, document.title, document.header, document.body, _("Page {page} of {pages}"))


def write_out(env: Env, target: Path, write: Callable[[Path], object]) -> None:
    """``write`` the file ``--out`` names (or the document's own name), then say where it went; a
    file that cannot be written is refused in one line naming ``--out``."""
    with writing_to("--out"):
        write(target)
    env.say(_("Written to {path}").format(path=target))

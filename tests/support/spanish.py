"""What counts as Spanish in the CLI's output: a word some Spanish translation in the catalogs
(brigada.po, click.po) uses; what the user types or reads back as typed is left out (command
names, options, metavars and arguments in capitals, quoted text, an option's choices, defaults)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
from babel.messages.pofile import read_po

from cli import i18n
from cli.main import cli

WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ]{3,}")


def spanish_words() -> set[str]:
    found: set[str] = set()
    for domain in (i18n.DOMAIN, "click"):
        with (i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
            for message in read_po(po, locale="es"):
                strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
                for text in strings:  # what a translation quotes or names as typed is not Spanish
                    text = re.sub(r"'[^']*'|\"[^\"]*\"|\{[^}]*\}|--?[A-Za-z][\w-]*|\S*/\S*", " ", text or "")
                    found |= {word.lower() for word in WORD.findall(text)}
    return found


SPANISH = spanish_words()


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the root group loads its commands when asked
        command = group.get_command(ctx, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


EVERY_COMMAND = [(), *commands(cli)]
COMMAND_NAMES = {"brigada", *(part for path in EVERY_COMMAND for name in path for part in name.split("-"))}


def not_spanish(output: str) -> set[str]:
    """The words of ``output`` no Spanish translation uses, leaving out what the user types."""
    kept = []
    listing = False
    for line in output.splitlines():
        if line.rstrip().endswith(":") and not line.startswith(" "):  # "Comandos:", "Opciones:"
            listing = line.startswith("Comandos")
            continue
        if listing and line.startswith("  ") and not line.startswith("    "):
            line = " ".join(line.split()[1:])  # a command's name, then its help
        kept.append(line)
    text = "\n".join(kept)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)  # quoted: as typed
    text = re.sub(r"\S*/\S*", " ", text)  # paths and URLs
    text = re.sub(r"\[[^\]]*\|[^\]]*\]", " ", text)  # an option's choices
    text = re.sub(r"por defecto: [^\]]*\]", " ", text)  # its default value
    text = re.sub(r"--?[A-Za-z][\w-]*", " ", text)  # options
    return {
        word
        for word in WORD.findall(text)
        if not word.isupper() and word not in COMMAND_NAMES and word.lower() not in SPANISH
    }

"""The root group's table of commands (cli/main.py) says what each command's own help says, and
listing them, or asking for the root's help, imports none of them (issue 19, point 4)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from cli.main import COMMANDS, cli


def test_each_listed_first_line_is_the_first_line_of_its_commands_help() -> None:
    ctx = click.Context(cli)
    for name, lazy in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None, lazy.target
        assert command.name == name, lazy.target
        assert (command.help or "").split("\n")[0] == lazy.short_help, name


@pytest.mark.store  # a process of its own: nothing imported before
def test_the_roots_help_imports_no_command_and_no_store_machinery() -> None:
    script = (
        "import sys\n"
        "from cli.main import cli\n"
        "cli.main(['--lang', 'en', '--help'], standalone_mode=False)\n"
        "heavy = [m for m in sys.modules if m.endswith('_cmd') or m.split('.')[0] in "
        "('adapters', 'application', 'projections', 'sqlalchemy', 'eventsourcing', 'psycopg', 'rich', "
        "'pydantic')]\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]", done.stdout

"""The `brigada` command line run in-process (click's CliRunner), as the tests drive it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from click.testing import CliRunner, Result

from cli.main import cli


def computer_today() -> str:
    """The computer's date as the CLI's clock reads it (adapters/system.py SystemClock): to
    confirm it on a store made on the tests' clock (2026-03-01), as after a long gap."""
    return datetime.now().astimezone().date().isoformat()


def cli_log_in(runner: CliRunner, url: str, username: str, password: str) -> None:
    """`brigada login USERNAME --password-stdin` on the store at ``url``; the session it opens
    serves the runner's next commands."""
    login = ["--store", url, "login", username, "--password-stdin"]
    result = runner.invoke(cli, login, input=f"{password}\n")
    assert result.exit_code == 0, (username, result.stdout, result.stderr)


class Terminal:
    """brigada commands on one store, in English unless told, each checked for its exit code;
    every output is kept for the final checks."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()
        self.outputs: list[str] = []

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> Result:
        return self.run_in("en", *args, input=input, code=code)

    def run_in(self, language: str, *args: str, input: str | None = None, code: int = 0) -> Result:
        result = self.runner.invoke(cli, ["--store", self.url, "--lang", language, *args], input=input)
        self.outputs.append(result.stdout + result.stderr)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def log_in(self, username: str, password: str) -> None:
        cli_log_in(self.runner, self.url, username, password)

    def confirm_date(self) -> None:
        """The store was made on the tests' clock (2026-03-01), the CLI runs on the computer's:
        someone confirms the computer's date, as after a long gap (domain/store_time.py)."""
        self("date", "confirm", computer_today())


def one_line(result: Result) -> str:
    """The single line a refused command writes on stderr."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]

"""Rebuilding every view in one pass over the log gives exactly the rows the views hold after
a whole mission caught up command by command (the demo's central and laptop stores)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.bootstrap import open_brigada
from cli.main import cli

pytestmark = pytest.mark.store


def test_one_pass_rebuild_of_every_view_equals_the_incremental_views(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    done = CliRunner().invoke(cli, ["--lang", "en", "demo", "--dir", str(folder), "--patients", "3"])
    assert done.exit_code == 0, done.stderr
    for store in ("central.db", "brg01.db"):
        brigada = open_brigada(f"sqlite:///{folder / store}")
        try:
            views = brigada.views
            incremental = {name: views.store(name).all_rows() for name in views.names()}
            assert sum(len(rows) for rows in incremental.values()) > 100

            counts = views.rebuild_all()

            assert counts == {name: len(rows) for name, rows in incremental.items()}
            for name in views.names():
                assert sorted(map(repr, views.store(name).all_rows())) == sorted(
                    map(repr, incremental[name])
                ), name
            assert all(status.position == views.head() for status in views.status())
        finally:
            brigada.close()

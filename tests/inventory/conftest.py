"""Inventory, pharmacy and order tests: stocked stores (tests/support/inventory.py).

Setting up a stocked central store and a laptop on mission takes a few dozen commands; they are
run once per test session into template SQLite files, and each test gets fresh copies of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from application.brigada import Brigada
from application.context import Actor
from tests.support.inventory import Mission, OpenStore, Templates, build_templates


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return build_templates(tmp_path_factory.mktemp("inventory-templates"))


@pytest.fixture
def stocked(templates: Templates, open_store: OpenStore, tmp_path: Path) -> tuple[Brigada, Actor]:
    """A copy of the stocked central store (stocked_central) and its administrator."""
    return templates.central(open_store, tmp_path)


@pytest.fixture
def mission(templates: Templates, open_store: OpenStore, tmp_path: Path) -> Mission:
    """Copies of central and BRG01's laptop on mission (start_mission)."""
    return templates.mission(open_store, tmp_path)

"""Inventory, pharmacy and order tests: cheap argon2id (the security tests' hasher), and the
helpers in inventory_support.py.

Setting up a stocked central store and a laptop on mission takes a few dozen commands; they are
run once per test session into template SQLite files, and each test gets fresh copies of them.

tests/security/security_support.py and tests/sites/sites_support.py are shared; they are imported
from their folders so these tests also run on their own (``pytest tests/inventory``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent.parent
for _folder in ("security", "sites"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from inventory_support import Mission, OpenStore, Templates, build_templates  # noqa: E402
from security_support import QuickArgon2Hasher  # noqa: E402

import adapters.bootstrap  # noqa: E402
from application.brigada import Brigada  # noqa: E402
from application.context import Actor  # noqa: E402


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapters.bootstrap, "Argon2Hasher", QuickArgon2Hasher)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(adapters.bootstrap, "Argon2Hasher", QuickArgon2Hasher)
        yield build_templates(tmp_path_factory.mktemp("inventory-templates"))


@pytest.fixture
def stocked(templates: Templates, open_store: OpenStore, tmp_path: Path) -> tuple[Brigada, Actor]:
    """A copy of the stocked central store (stocked_central) and its administrator."""
    return templates.central(open_store, tmp_path)


@pytest.fixture
def mission(templates: Templates, open_store: OpenStore, tmp_path: Path) -> Mission:
    """Copies of central and BRG01's laptop on mission (start_mission)."""
    return templates.mission(open_store, tmp_path)

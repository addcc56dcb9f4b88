"""Encounter tests: cheap argon2id (the security tests' hasher), a central store with its
administrator and users made to order, and the helpers in encounter_support.py.

tests/security/security_support.py and tests/sites/sites_support.py are shared; they are imported
from their folders so these tests also run on their own (``pytest tests/encounters``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent.parent
for _folder in ("security", "sites"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from encounter_support import MakeUser, make_user_on, start_central  # noqa: E402
from security_support import QuickArgon2Hasher  # noqa: E402

import adapters.bootstrap  # noqa: E402
from application.brigada import Brigada  # noqa: E402
from application.context import Actor  # noqa: E402


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapters.bootstrap, "Argon2Hasher", QuickArgon2Hasher)


@pytest.fixture
def central_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/central.db"


@pytest.fixture
def central_and_admin(open_store: object, central_url: str) -> tuple[Brigada, Actor]:
    return start_central(open_store, central_url)  # type: ignore[arg-type]


@pytest.fixture
def central(central_and_admin: tuple[Brigada, Actor]) -> Brigada:
    return central_and_admin[0]


@pytest.fixture
def admin(central_and_admin: tuple[Brigada, Actor]) -> Actor:
    return central_and_admin[1]


@pytest.fixture
def make_user(central: Brigada, admin: Actor) -> MakeUser:
    """A non-administrator on central (every menu option and section unless told), logged in."""

    def _make(username: str, **kwargs: object) -> Actor:
        return make_user_on(central, admin, username, **kwargs)  # type: ignore[arg-type]

    return _make

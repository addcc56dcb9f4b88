"""Encounter tests: a central store with its administrator, and users made to order
(tests/support/encounters.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.brigada import Brigada
from application.context import Actor
from tests.support.encounters import MakeUser, make_user_on
from tests.support.sites import start_central


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

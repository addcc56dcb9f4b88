"""Security tests: a central store with an administrator, users made to order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import adapters.bootstrap
from adapters.system import FixedClock
from application.brigada import Brigada
from application.context import Actor
from domain.security import menu
from domain.security.sections import Section
from domain.security.user import user_id
from tests.support.cli import Terminal
from tests.support.security import ADMIN_PASSWORD, PASSWORDS, MakeUser, log_in


@pytest.fixture
def central_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path}/central.db"


@pytest.fixture
def central(open_store: Callable[..., Brigada], central_url: str) -> Brigada:
    brigada = open_store(central_url)
    brigada.setup.initialize("central", "CEN", "admin", "Administrador", ADMIN_PASSWORD)
    return brigada


@pytest.fixture
def admin(central: Brigada) -> Actor:
    return log_in(central, "admin", ADMIN_PASSWORD)


@pytest.fixture
def make_user(central: Brigada, admin: Actor) -> MakeUser:
    """Create a user on central (every menu option and section unless told) and log them in."""

    def _make(
        username: str,
        *,
        options: frozenset[str] = menu.EVERYTHING,
        sections: frozenset[Section] = frozenset(Section),
        log_in_now: bool = True,
    ) -> Actor:
        data = {"username": username, "full_name": username.title()}
        central.users.create(admin, data, PASSWORDS[username])
        central.users.change_access(admin, username, sorted(options), sorted(menu.EVERYTHING - options))
        central.users.change_sections(admin, username, [s.value for s in sections], [])
        if not log_in_now:
            return Actor(username, user_id(username), False, None)
        return log_in(central, username, PASSWORDS[username])

    return _make


@pytest.fixture
def clocked_cli(tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """`brigada` commands on a new central, the administrator logged in, every command reading
    the test's clock."""
    monkeypatch.setattr(adapters.bootstrap, "SystemClock", lambda: clock)
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    return run

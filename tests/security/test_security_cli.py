"""The security commands end to end through click (user, access, policy, passwd, login), and
the promise that passwords and codes appear in no output and in no stored row."""

from __future__ import annotations

import json
from pathlib import Path

import pyotp
import pytest

from domain.security.user import User
from tests.support.cli import Terminal
from tests.support.security import ADMIN_PASSWORD, ANA_NEW, ANA_PASSWORD, TEMPORARY, WRONG, stored_text

pytestmark = pytest.mark.store

SECRETS = (ADMIN_PASSWORD, ANA_PASSWORD, ANA_NEW, TEMPORARY, WRONG)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "central.db"


@pytest.fixture
def brigada(store: Path) -> Terminal:
    run = Terminal(f"sqlite:///{store}")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    return run


def test_users_access_and_passwd_end_to_end(brigada: Terminal, store: Path) -> None:
    create_ana = ("user", "create", "ana", "--full-name", "Ana Gómez", "--password-stdin")
    weak = brigada(*create_ana, input="password\n", code=2)
    assert weak.stderr.strip() == (
        "password: breaks the password policy: needs at least 15 characters (it has 8); "
        "is a commonly used password"
    )
    brigada(*create_ana, input=f"{ANA_PASSWORD}\n")

    tree = brigada("user", "access", "ana", "--grant", "patient.show", "--grant", "passwd").stdout
    assert "✔ │ patient " in tree and "✔ │   patient.show" in tree and "✘ │   patient.search" in tree
    who = json.loads(brigada("access", "who", "patient.show", "--json").stdout)
    assert [u["username"] for u in who] == ["admin", "ana"]

    brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    create_beto = ("user", "create", "beto", "--full-name", "Beto", "--password-stdin")
    refused = brigada(*create_beto, input=f"{ANA_PASSWORD}\n", code=1)
    assert refused.stderr.strip() == "you have no access to menu option user.create (Create a user)"
    brigada("patient", "search", "José", code=1)

    brigada("passwd", "--password-stdin", input=f"{WRONG}\n{ANA_NEW}\n", code=1)
    changed = brigada("passwd", "--password-stdin", input=f"{ANA_PASSWORD}\n{ANA_NEW}\n")
    assert "Password changed" in changed.stderr
    brigada("whoami", code=1)  # every session of ana was closed
    brigada("login", "ana", "--password-stdin", input=f"{ANA_NEW}\n")
    assert json.loads(brigada("whoami", "--json").stdout)["user"] == "ana"

    assert_no_secret_anywhere(brigada, store)


def test_user_create_and_reset_password_refuse_before_asking_for_a_password(brigada: Terminal) -> None:
    """Without --password-stdin the commands prompt; someone who may not run them (or a name
    taken, or a user that does not exist) is refused before the prompt, and nothing is read."""
    brigada("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    taken = brigada("user", "create", "ana", "--full-name", "Ana", code=1)
    missing = brigada("user", "reset-password", "nadie", code=3)
    brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    create = brigada("user", "create", "beto", "--full-name", "Beto", code=1)
    reset = brigada("user", "reset-password", "admin", code=1)
    for refused in (taken, missing, create, reset):
        assert "password" not in refused.stdout.lower()
        assert "Password" not in refused.stderr and "Aborted" not in refused.stderr
    assert create.stderr.strip() == "you have no access to menu option user.create (Create a user)"


def test_a_store_url_with_a_password_is_never_echoed(tmp_path: Path) -> None:
    """An unsupported or unreachable store URL names the store with its password hidden."""
    for url, code in (
        ("mysql://root:hunter2-secret@db.example/brigada", 1),
        ("postgresql://brigada:hunter2-secret@127.0.0.1:1/brigada?password=hunter2-secret", 5),
    ):
        result = Terminal(url)("whoami", code=code)
        assert "hunter2-secret" not in result.stdout + result.stderr
        assert "***" in result.stderr or "127.0.0.1" in result.stderr, result.stderr


def test_reset_password_forces_a_new_one_at_login(brigada: Terminal, store: Path) -> None:
    brigada("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    brigada("user", "reset-password", "ana", "--password-stdin", input=f"{TEMPORARY}\n")

    login = brigada("login", "ana", "--password-stdin", input=f"{TEMPORARY}\n{ANA_NEW}\n")

    assert "an administrator reset this password" in login.stderr
    assert "Welcome, ana." in login.stderr
    brigada("login", "ana", "--password-stdin", input=f"{TEMPORARY}\n", code=1)
    brigada("login", "ana", "--password-stdin", input=f"{ANA_NEW}\n")
    assert_no_secret_anywhere(brigada, store)


def test_policy_show_and_set_warn_about_weaker_settings(brigada: Terminal) -> None:
    shown = brigada("policy", "password", "show", "--json")
    assert json.loads(shown.stdout)["warnings"] == []

    changed = brigada("policy", "password", "set", "--min-length", "8", "--validity-days", "90")

    assert changed.stderr.count("Warning, weaker than NIST SP 800-63B") == 2
    settings = json.loads(brigada("policy", "password", "show", "--json").stdout)["settings"]
    assert (settings["min_length"], settings["validity_days"]) == (8, 90)
    bad = brigada("policy", "password", "set", "--blocklist", "maybe", code=2)
    assert bad.stderr.strip() == "--blocklist: must be on or off"
    brigada("policy", "password", "set", "--min-length", "200", code=2)
    back = brigada("policy", "password", "set", "--defaults", "--json")
    assert json.loads(back.stdout)["warnings"] == []


def test_lockout_unlock_code_and_totp_on_the_command_line(brigada: Terminal, store: Path) -> None:
    brigada("policy", "password", "set", "--max-failed-attempts", "2")
    brigada("user", "create", "ana", "--full-name", "Ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    for _ in range(2):
        brigada("login", "ana", "--password-stdin", input=f"{WRONG}\n", code=1)
    locked = brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n", code=1)
    assert "user ana is locked" in locked.stderr

    brigada("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    code = brigada("user", "unlock-code", "ana", "--site", "BRG01").stdout.strip()
    brigada("user", "unlock", "ana")
    uri = brigada("user", "totp", "ana", "--enroll").stdout.strip()
    assert uri.startswith("otpauth://totp/Brigada:ana?secret=")

    brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n", code=1)  # needs --totp
    totp = pyotp.TOTP(pyotp.parse_uri(uri).secret).now()
    brigada("login", "ana", "--password-stdin", "--totp", totp, input=f"{ANA_PASSWORD}\n")

    issued_in = [i for i, out in enumerate(brigada.outputs) if code in out]
    uri_in = [i for i, out in enumerate(brigada.outputs) if pyotp.parse_uri(uri).secret in out]
    assert len(issued_in) == 1 and len(uri_in) == 1  # printed once, to the admin who asked
    assert_no_secret_anywhere(brigada, store, extra=(code, code.replace("-", "")))


# -- the promise --------------------------------------------------------------------------------
def assert_no_secret_anywhere(brigada: Terminal, store: Path, extra: tuple[str, ...] = ()) -> None:
    text = stored_text(store)
    assert User.Created.TOPIC in text  # the scan does read the events
    for secret in (*SECRETS, *extra):
        escaped = json.dumps(secret)[1:-1]
        assert secret not in text and escaped not in text, "a secret is stored"
    for secret in SECRETS:  # the one-time code (extra) is printed once, to the admin who asked
        assert all(secret not in output for output in brigada.outputs), "a password was printed"


def test_help_of_every_new_command_renders(brigada: Terminal) -> None:
    commands: list[tuple[str, ...]] = [
        ("user",),
        ("user", "create"),
        ("user", "access"),
        ("user", "unlock-code"),
        ("policy", "password", "set"),
        ("access", "who"),
        ("passwd",),
        ("login",),
    ]
    for command in commands:
        assert "Usage" in brigada(*command, "--help").stdout

"""Users and passwords of the security tests, and what they read back from a store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from application.brigada import Brigada
from application.context import Actor
from domain.access_log import ACCESS_DENIED
from domain.security.user import User, user_id

MakeUser = Callable[..., Actor]  # the make_user fixture: (username, *, options, sections, log_in_now)

ADMIN_PASSWORD = "correct-horse-battery-staple"
PASSWORDS = {
    "ana": "lluvia-sobre-el-rio-cauca",
    "beto": "montaña-verde-al-amanecer",
    "coord": "cafe-caliente-en-la-vereda",
}
ANA_PASSWORD = PASSWORDS["ana"]
# What the command-line tests type besides: ana's next password, a temporary one, a wrong one.
ANA_NEW = "otra-clave-para-el-rio-magdalena"
TEMPORARY = "temporal-de-la-oficina-central"
WRONG = "not-the-password-at-all-really"


def log_in(brigada: Brigada, username: str, password: str, **kwargs: Any) -> Actor:
    actor, _ticket = brigada.auth.resume(brigada.auth.login(username, password, **kwargs))
    return actor


def events_of(brigada: Brigada, username: str) -> list[Any]:
    return list(brigada.app.events.get(user_id(username)))


def event_types(brigada: Brigada, username: str) -> list[str]:
    return [type(e).__name__ for e in events_of(brigada, username)]


def user(brigada: Brigada, username: str) -> User:
    return brigada.app.repository.get(user_id(username))


def stored_text(store: Path) -> str:
    """Every value of every row of every table (events, views, tracking), as text."""
    chunks = []
    with sqlite3.connect(store) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    chunks.append(str(value))
    return "\n".join(chunks)


def central_address(folder: Path) -> list[str]:
    """The options `site provision` needs: central's https address and its certificate (made for
    127.0.0.1 in ``folder``/tls if it is not there)."""
    from adapters.sync.serve_process import certificate_in

    certificate, _key = certificate_in(folder / "tls")
    return ["--central-url", "https://127.0.0.1:8443", "--central-cert", str(certificate)]


def head(brigada: Brigada) -> int:
    """The store's log head: how many events it holds."""
    return brigada.app.recorder.max_notification_id() or 0


def only_denials_since(brigada: Brigada, start: int) -> bool:
    """Whether every event recorded after log position ``start`` is a refused attempt's access
    record ("Acceso - Denegado", issue 17): what a refused command may write, and nothing else."""
    if head(brigada) <= start:
        return True
    added = brigada.app.recorder.select_notifications(start=start + 1, limit=head(brigada) - start)
    return all(
        n.topic == "brigada.Access.Recorded"
        and getattr(brigada.app.mapper.to_domain_event(n), "action", None) == ACCESS_DENIED
        for n in added
    )

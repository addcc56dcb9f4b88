"""What an attacker holding a provisioned laptop can write into its store, through the laptop's
own application core (not a hand-made batch): aggregates saved with the core's repository,
stamped by ``acting_as`` with whatever user and site the attacker chooses, chained by the laptop's
own recorder with the laptop's own key. Each forgery returns the context event ids it recorded.

``without_the_key`` edits the store file as someone who copied it but has no chain key would:
rows changed, deleted or copied, every link recomputed with a key of their own.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import adapters.recorders
from application.brigada import Brigada
from domain.chain import link, site_of
from domain.clinical.patient import Patient
from domain.security.user import User
from domain.sites.site import Site, SiteAction, site_id
from tests.support.inventory import SUTURE

Forgery = Callable[[Brigada], list[str]]


def _saved(laptop: Brigada, *aggregates: Any) -> list[str]:
    ids = [e.context.event_id.hex for a in aggregates for e in a.pending_events]
    laptop.core.save(*aggregates)
    return ids


def forged_administrator(laptop: Brigada, username: str = "intruso") -> list[str]:
    """A new user with administrator rights, created on the laptop by its nurse."""
    with laptop.core.acting_as("ana"):
        hashed = laptop.core.hasher.hash("contraseña-del-intruso-2026")
        return _saved(
            laptop, User(username=username, full_name="Intruso", is_admin=True, password_hash=hashed)
        )


def replaced_admin_password(laptop: Brigada, password: str = "la-clave-del-atacante-2026") -> list[str]:
    """A ``User("admin")`` stream built on the laptop (the laptop never holds the administrator),
    with a new password on top: pushed as a change to central's administrator."""
    with laptop.core.acting_as("admin"):
        hashed = laptop.core.hasher.hash(password)
        admin = User(username="admin", full_name="Administrador", is_admin=True, password_hash=hashed)
        admin.change_own_password(
            current_matches=True,
            password_hash=laptop.core.hasher.hash(password + "!"),
            today=laptop.core.clock.today(),
            max_failed_attempts=0,
        )
        return _saved(laptop, admin)


def revoked_other_site(laptop: Brigada, code: str = "BRG02") -> list[str]:
    """Another site registered and revoked on this site's laptop."""
    with laptop.core.acting_as("ana"):
        other = Site.register(code, "Otra sede", [f"{code}-FARMACIA"], set(SiteAction))
        other.revoke()
        return _saved(laptop, other)


def re_enabled_parameters(laptop: Brigada, site: str = "BRG01") -> list[str]:
    """The laptop's copy of its own site record, with every action enabled again."""
    record = laptop.core.existing(Site, site_id(site))
    with laptop.core.acting_as("ana"):
        record.change_parameters(set(SiteAction), set())
        return _saved(laptop, record)


def linked_surgery(laptop: Brigada, actor: Any, visit: str) -> str:
    """A surgery linked to a visit through the laptop's use case (allowed there once the laptop's
    copy of its parameters says so): the surgery's number."""
    return laptop.orders.link_surgery(
        actor, visit, {"cups": SUTURE, "date": "2026-03-01", "surgeon": "ana"}
    ).number


@contextlib.contextmanager
def filed_under(site: str) -> Iterator[None]:
    """The laptop's recorder files every event it writes in ``site``'s chain, whatever the event
    says (as a laptop running modified software would), still with the laptop's key."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(adapters.recorders, "site_of", lambda state: site)
        yield


def stamped_as_central_admin(laptop: Brigada, central_code: str = "CEN", chart: str = "CEN-1") -> list[str]:
    """A change to a shared patient stamped ``admin@CEN`` and filed in BRG01's chain."""
    patient = laptop.patients.row(chart)
    record = laptop.core.existing(Patient, _uuid(patient.patient_id))
    with filed_under("BRG01"), laptop.core.acting_as("admin", site=central_code):
        record.correct(laptop.core.clock.today(), municipality="27001")
        return _saved(laptop, record)


def stamped_as_admin_at_site(laptop: Brigada, chart: str = "CEN-1") -> list[str]:
    """A change to a shared patient stamped by the administrator at the site itself."""
    patient = laptop.patients.row(chart)
    record = laptop.core.existing(Patient, _uuid(patient.patient_id))
    with laptop.core.acting_as("admin"):
        record.correct(laptop.core.clock.today(), municipality="76001")
        return _saved(laptop, record)


def _uuid(text: str) -> UUID:
    return UUID(text)


# -- edits by someone who has the store file but not its chain key ---------------------------------
class StoreFile:
    """The laptop's SQLite file opened behind the application's back: the append-only triggers
    dropped, links recomputed with a key that is not the laptop's."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        for table in ("stored_events", "event_chain"):
            for verb in ("update", "delete"):
                self.conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")

    def __enter__(self) -> StoreFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.commit()
        self.conn.close()

    def rowid_of(self, topic: str, nth: int = -1) -> int:
        rows = self.conn.execute("SELECT rowid FROM stored_events WHERE topic = ? ORDER BY rowid", (topic,))
        return [r[0] for r in rows][nth]

    def change(self, rowid: int, old: bytes, new: bytes) -> None:
        (state,) = self.conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (rowid,)).fetchone()
        assert old in state
        self.conn.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (state.replace(old, new), rowid)
        )

    def delete(self, rowid: int) -> None:
        self.conn.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))
        self.conn.execute("DELETE FROM event_chain WHERE position = ?", (rowid,))

    def copy(self, rowid: int, originator_id: str, replace: tuple[bytes, bytes]) -> int:
        """A copy of an event as a new record's (another id), its content changed."""
        _id, version, topic, state = self.conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?",
            (rowid,),
        ).fetchone()
        state = state.replace(*replace)
        cursor = self.conn.execute(
            "INSERT INTO stored_events VALUES (?, ?, ?, ?)", (originator_id, version, topic, state)
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def relink(self, key: bytes) -> None:
        """Every link recomputed, in log order, with ``key``: a consistent chain under that key."""
        self.conn.execute("DELETE FROM event_chain")
        latest: dict[str, str] = {}
        rows = self.conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
        for rowid, originator, version, topic, state in rows:
            site = site_of(state)
            previous = latest.get(site, "0" * 64)
            latest[site] = link(key, previous, site, originator, version, topic, state)
            self.conn.execute(
                "INSERT INTO event_chain VALUES (?, ?, ?, ?)", (rowid, site, previous, latest[site])
            )

    def chain_key(self) -> bytes:
        (value,) = self.conn.execute("SELECT value FROM brigada_keys WHERE name = 'chain'").fetchone()
        return bytes.fromhex(value)

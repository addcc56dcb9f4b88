"""What the application needs from the outside world; adapters/ provides it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from projections.base import Projection, RowStore


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""

    def today(self) -> date:
        """The business date where the operator is."""


class HostInfo(Protocol):
    @property
    def computer(self) -> str: ...
    @property
    def ip_octet(self) -> int | None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def partial(self, password_hash: str) -> str:
        """A verifier that tells a right password from most wrong ones, too little to find it."""

    def matches_partial(self, partial: str, password: str) -> bool: ...


class PasswordBlocklist(Protocol):
    def is_common(self, password: str) -> bool:
        """True for a commonly used password (or an obvious variant of one)."""


class NoBlocklist:
    """Knows no common passwords: for a Brigada wired without one (adapters always give one)."""

    def is_common(self, password: str) -> bool:
        return False


class SigningKeys(Protocol):
    """Makes a site's credential at provisioning: (private key for the laptop, public key for
    central)."""

    def new_pair(self) -> tuple[bytes, str]: ...


class ViewStorage(Protocol):
    def row_store(self, projection: Projection) -> RowStore: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class SessionTicket:
    """What the session file holds between commands. The token's hash is in the store; ``seal``
    authenticates the other fields with a key only the store holds (application/security/auth.py)."""

    username: str
    session_id: UUID
    token: str
    started_at: datetime
    last_seen: datetime
    seal: str = ""

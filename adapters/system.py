"""The clock, the computer's name and address, and password hashing."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now().astimezone().date()


@dataclass
class FixedClock:
    """A clock that says what it is told (tests, demos, benchmarks)."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.date()

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.current = self.current + timedelta(**delta)


@dataclass(frozen=True)
class Host:
    computer: str
    ip_octet: int | None


def this_host() -> Host:
    """Name and last IP octet of this computer, with no network traffic.

    Connecting a UDP socket only asks the kernel for a route; no packet is sent. With no route
    (a laptop in the field) the octet is unknown.
    """
    octet: int | None = None
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            octet = int(probe.getsockname()[0].rsplit(".", 1)[1])
    except (OSError, ValueError):
        octet = None
    return Host(computer=socket.gethostname() or "unknown", ip_octet=octet)


class Argon2Hasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)."""

    def __init__(self) -> None:
        self._argon2 = Argon2()

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

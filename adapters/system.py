"""The clock, the computer's name and address, and password hashing."""

from __future__ import annotations

import base64
import hmac
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_PARALLELISM, DEFAULT_TIME_COST, extract_parameters
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import hash_secret_raw


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

    def __init__(
        self,
        time_cost: int = DEFAULT_TIME_COST,
        memory_cost: int = DEFAULT_MEMORY_COST,
        parallelism: int = DEFAULT_PARALLELISM,
    ) -> None:
        self._argon2 = Argon2(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    @staticmethod
    def partial(password_hash: str) -> str:
        """A hash cut to its first byte (with its parameters, salt and length): enough to tell a
        right password from most wrong ones (255 in 256), too little to find the password from it
        offline (one candidate in 256 passes, and each must then be tried where the whole hash is,
        behind a lockout). What a laptop holds of an administrator's password."""
        head, _sep, digest = password_hash.rpartition("$")
        raw = base64.b64decode(digest + "=" * (-len(digest) % 4))
        return f"{head}${len(raw)}:{raw[:1].hex()}"

    @staticmethod
    def matches_partial(partial: str, password: str) -> bool:
        """Whether ``password`` hashes (with the partial's parameters and salt, the same work as a
        whole check) to the partial's first byte."""
        try:
            head, _sep, cut = partial.rpartition("$")
            length, first = cut.split(":")
            params = extract_parameters(f"{head}$AAAAAAAAAAAAAAAAAAAAAA")
            salt_text = head.rsplit("$", 1)[1]
            salt = base64.b64decode(salt_text + "=" * (-len(salt_text) % 4))
            raw = hash_secret_raw(
                password.encode(),
                salt,
                time_cost=params.time_cost,
                memory_cost=params.memory_cost,
                parallelism=params.parallelism,
                hash_len=int(length),
                type=params.type,
                version=params.version,
            )
        except (ValueError, InvalidHashError, IndexError):
            return False
        return hmac.compare_digest(raw[:1].hex(), first)

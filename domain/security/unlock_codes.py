"""Offline unlock codes: how a user locked on a laptop, where no administrator can log in, gets
unlocked without a network.

Every user has a random unlock key that travels with the user's record to the laptops. Central
prints a short code: the expiry (hours since the epoch, 4 bytes) and the first 6 bytes of
HMAC-SHA256(key, "user|site|expiry"), in base32, grouped by four. The laptop checks it with the
same key: right user, right site, not expired, never used (only a digest of a used code is
recorded).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
from datetime import UTC, datetime

from domain.errors import N_, DomainError

MAC_BYTES = 6
HOUR = 3600


class UnlockCodeInvalid(DomainError):
    template = N_("this unlock code is not valid for user {username} on site {site}")


class UnlockCodeExpired(DomainError):
    template = N_("this unlock code expired at {valid_until}")


class UnlockCodeUsed(DomainError):
    template = N_("this unlock code was already used")


def expiry_hour(now: datetime, valid_hours: int) -> int:
    """The hour (since the epoch) the code stops working: at least ``valid_hours`` from now."""
    return math.ceil(now.timestamp() / HOUR) + valid_hours


def valid_until(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR, UTC)


def make(key: str, username: str, site: str, hour: int) -> str:
    """The code for ``username`` on ``site`` until ``hour``, e.g. ``ABCD-EFGH-IJKL-MNOP``."""
    raw = hour.to_bytes(4, "big") + _mac(key, username, site, hour)
    text = base64.b32encode(raw).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def verify(code: str, *, key: str, username: str, site: str, now: datetime) -> str:
    """Check a code; returns the digest to record as used (never the code itself)."""
    text = normalize(code)
    try:
        raw = base64.b32decode(text)
    except (binascii.Error, ValueError):
        raise UnlockCodeInvalid(username=username, site=site) from None
    if len(raw) != 4 + MAC_BYTES:
        raise UnlockCodeInvalid(username=username, site=site)
    hour = int.from_bytes(raw[:4], "big")
    if not hmac.compare_digest(raw[4:], _mac(key, username, site, hour)):
        raise UnlockCodeInvalid(username=username, site=site)
    if now.timestamp() >= hour * HOUR:
        raise UnlockCodeExpired(valid_until=f"{valid_until(hour):%Y-%m-%d %H:%M} UTC")
    return digest(text)


def normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def digest(code: str) -> str:
    return hashlib.sha256(normalize(code).encode("ascii", "replace")).hexdigest()


def _mac(key: str, username: str, site: str, hour: int) -> bytes:
    message = f"{username}|{site}|{hour}".encode()
    return hmac.new(bytes.fromhex(key), message, hashlib.sha256).digest()[:MAC_BYTES]

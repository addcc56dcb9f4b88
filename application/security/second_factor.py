"""TOTP (RFC 6238) second factor with pyotp: offline, 30-second steps, one step of clock drift
either way. The time step a code matched is recorded so the same code cannot be replayed."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "Brigada"
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` is valid for around ``now``, or None."""
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    if not code.isdigit() or len(code) != totp.digits:
        return None
    current = int(now.timestamp()) // totp.interval
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None

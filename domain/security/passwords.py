"""Checking a new password against a policy's settings (the default profile unless given).

The rules themselves live in ``domain.security.password_policy``; the application looks up the inputs that
need the outside world (the shipped blocklist, the stored hashes) and calls this.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.security.password_policy import (
    DEFAULT_SETTINGS,
    PasswordPolicySettings,
    PasswordRejected,
)

MIN_LENGTH = DEFAULT_SETTINGS.min_length
MAX_LENGTH = DEFAULT_SETTINGS.max_length
PROGRAM_NAME = "brigada"  # a context word: never part of a password (NIST SP 800-63B)


def check_new_password(
    password: str,
    settings: PasswordPolicySettings = DEFAULT_SETTINGS,
    *,
    username: str = "",
    is_common: bool = False,
    reused: bool = False,
) -> None:
    """Raise PasswordRejected naming every rule the password breaks."""
    failures = settings.failures(
        password,
        context_words=context_words(username),
        is_common=is_common,
        reused=reused,
    )
    if failures:
        raise PasswordRejected(failures)


def context_words(username: str) -> Iterable[str]:
    return tuple(w for w in (username, PROGRAM_NAME) if w)

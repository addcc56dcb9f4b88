"""Password rules. The foundation applies the NIST SP 800-63B length floor; the security chapter
adds the seed's configurable policy."""

from __future__ import annotations

from domain.errors import N_, InvalidValue

MIN_LENGTH = 15
MAX_LENGTH = 128


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidValue("password", N_("must have at least {n} characters"), n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise InvalidValue("password", N_("must have at most {n} characters"), n=MAX_LENGTH)

"""What a laptop holds of an administrator's password: the first byte of its argon2id hash, with
the hash's parameters and salt (adapters/system.Argon2Hasher.partial)."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.system import Argon2Hasher

HASHER = Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct-horse-battery-staple"
WHOLE = HASHER.hash(PASSWORD)


def test_the_partial_keeps_the_parameters_and_salt_and_one_byte_of_the_hash() -> None:
    partial = HASHER.partial(WHOLE)
    head, _sep, digest = WHOLE.rpartition("$")
    assert partial.startswith(head + "$")
    length, first = partial.rsplit("$", 1)[1].split(":")
    raw = base64.b64decode(digest + "=" * (-len(digest) % 4))
    assert (int(length), bytes.fromhex(first)) == (len(raw), raw[:1])


def test_the_right_password_matches_its_partial() -> None:
    assert HASHER.matches_partial(HASHER.partial(WHOLE), PASSWORD)


def test_wrong_passwords_rarely_match() -> None:
    """One wrong password in 256 passes, on average: over 512 of them, a handful at most."""
    partial = HASHER.partial(WHOLE)
    passed = sum(HASHER.matches_partial(partial, f"wrong-{n}") for n in range(512))
    assert passed <= 10


@settings(max_examples=50)
@given(st.text(max_size=80))
def test_a_malformed_partial_matches_nothing_and_raises_nothing(partial: str) -> None:
    assert not HASHER.matches_partial(partial, PASSWORD) or partial.count("$") >= 5

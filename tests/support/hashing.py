"""argon2id at its cheapest settings for the tests.

At argon2-cffi's defaults each hash or check costs about half a second on a CI machine, and the
tests hash and check passwords many times; hashing is not what they are about. The hashes are
still real argon2id PHC strings, checked by the same library.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import adapters.bootstrap
from adapters.system import Argon2Hasher


class QuickArgon2Hasher(Argon2Hasher):
    """argon2id at its cheapest settings: real PHC hashes, checked by the same library."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)


@contextmanager
def quick_hashing_in_the_cli() -> Iterator[None]:
    """Commands run in-process (click's CliRunner) open their store inside the CLI
    (cli/env.py ``Env.brigada`` and the commands that open a second store call
    ``open_brigada(url)``), where no hasher can be passed: the default the bootstrap builds is
    replaced for the time being. Code that opens a store itself passes ``hasher=`` instead."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(adapters.bootstrap, "Argon2Hasher", QuickArgon2Hasher)
        yield

"""Upgrade tests: cheap argon2id, and the helpers of the security, sites, inventory and sync tests,
imported from their folders so these tests also run on their own (``pytest tests/upgrade``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent.parent
for _folder in ("security", "sites", "inventory", "sync"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from security_support import QuickArgon2Hasher  # noqa: E402

import adapters.bootstrap  # noqa: E402


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapters.bootstrap, "Argon2Hasher", QuickArgon2Hasher)

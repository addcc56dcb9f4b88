"""Sites tests: cheap argon2id (the security tests' hasher), and the helpers in sites_support.py.

tests/security/security_support.py is shared with the security tests; it is imported from its
folder so these tests also run on their own (``pytest tests/sites``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "security"))

from security_support import QuickArgon2Hasher

import adapters.bootstrap


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapters.bootstrap, "Argon2Hasher", QuickArgon2Hasher)

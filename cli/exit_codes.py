"""Exit codes, in one place (DESIGN.md §7)."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    REFUSED = 1  # a rule refused the command (wrong password, permission, stock, mode...)
    INVALID = 2  # bad input: a field broke its rule
    NOT_FOUND = 3
    CONFLICT = 4  # someone else changed the same record: run again
    UNREACHABLE = 5  # the store cannot be opened
    QUARANTINE = 6  # brigada sync: it completed, but central holds some of the laptop's events in quarantine

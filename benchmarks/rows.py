"""The row every benchmark returns to benchmarks/run.py, and how a goal is read from it.

A row with a ``goal`` (``">= 0.5"`` or ``"<= 8"``, compared with its ``ratio``) is a goal of an
issue: run.py prints it again at the end in a table of goals, with "met" or "missed" beside it.
A goal is a bound on the ratio to the reference measured in the same run, never on a time.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

_COMPARE = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    figure: str
    reference: str = ""
    ratio: str = ""
    goal: str = ""  # ">= 0.5" or "<= 8" (on the ratio); empty: not a goal

    def verdict(self) -> str:
        """ "met", "missed", or "" for a row without a goal (or without a ratio to judge)."""
        if not self.goal or not self.ratio:
            return ""
        sign, bound = self.goal.split()
        value = float(self.ratio.rstrip("x").replace(",", ""))
        return "met" if _COMPARE[sign](value, float(bound)) else "missed"

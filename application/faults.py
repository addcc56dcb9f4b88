"""Fault injection for crash-safety tests: ``BRIGADA_FAULT=<point>`` makes the process exit at
that named point, as if the power went out (no cleanup, no flush beyond what was committed).
In-process tests arm a point instead (``arm``), and the checkpoint raises ``SimulatedCrash``.

Points, in the order a sync passes them: before-push, mid-push, after-push, after-flip,
mid-rebuild, before-swap, after-swap.
"""

from __future__ import annotations

import os

FAULT_VARIABLE = "BRIGADA_FAULT"
FAULT_EXIT = 86
POINTS = ("before-push", "mid-push", "after-push", "after-flip", "mid-rebuild", "before-swap", "after-swap")

_armed: set[str] = set()


class SimulatedCrash(BaseException):
    """Raised at an armed point; a BaseException so no handler on the way mistakes it for a
    refusal."""


def arm(point: str | None) -> None:
    """Crash (in-process) at ``point`` the next time it is reached; None disarms."""
    _armed.clear()
    if point is not None:
        _armed.add(point)


def checkpoint(point: str) -> None:
    if point in _armed:
        _armed.discard(point)
        raise SimulatedCrash(point)
    if os.environ.get(FAULT_VARIABLE) == point:
        os._exit(FAULT_EXIT)

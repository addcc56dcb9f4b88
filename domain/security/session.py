"""A user's open session and the rules that end it (seed 004: 15 minutes idle, 12 hours at most).

A session lives in the store, in the user's history: opened by a login (with the computer it was
opened on), ended by a logout or closed for good by one of these rules. The session file on the
computer holds only the token and the time of the last command, sealed with a key only the store
holds (application/security/auth.py), so editing it extends nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from domain.errors import N_

# The store's key sealing session files (brigada_keys: never an event, never sent to central; a
# laptop's rebuild keeps it, like its chain key).
SESSION_KEY = "session"
IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=12)

# Why a session was closed for good (stored codes; their texts are the msgids in CLOSED_BECAUSE).
TOO_OLD = "12-hours"
IDLE = "idle"
OTHER_COMPUTER = "other-computer"
ALTERED = "altered"
CLOSED_BECAUSE = {
    TOO_OLD: N_("12 hours"),
    IDLE: N_("15 minutes idle"),
    OTHER_COMPUTER: N_("opened on another computer"),
    ALTERED: N_("the session file was altered"),
}


class OpenSession(NamedTuple):
    token_hash: str
    opened_at: datetime
    computer: str  # where the login happened: the session is good there only


def why_it_ends(session: OpenSession, *, last_seen: datetime, now: datetime, computer: str) -> str | None:
    """The reason this session must be closed now (a key of CLOSED_BECAUSE), or None. ``now`` is
    the store's time (never before its newest confirmed event)."""
    if session.computer and session.computer.casefold() != computer.casefold():
        return OTHER_COMPUTER
    if now - session.opened_at > ABSOLUTE_TIMEOUT:
        return TOO_OLD
    if now - max(last_seen, session.opened_at) > IDLE_TIMEOUT:
        return IDLE
    return None

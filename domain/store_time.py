"""The store's time: what a new event is dated with, when the computer's clock cannot be trusted.

A laptop's clock is set by whoever holds the laptop. The store keeps its own time: the newest
event of this site whose time someone stands behind (``Confirmed``). Business dates never go back
before it (a clock set back revives no expired password, unlock code, session or time lock), and
only a person's dated change moves it forward:

- a dated change (a visit, a dispensing, a user's new permissions) is refused while the clock is
  more than MAX_DAYS_AHEAD days ahead of the confirmed date, until an authenticated user confirms
  the computer's date ('brigada date confirm'), which is recorded in the activity log;
- an event of no one (a failed login, a login under a name that does not exist, a login itself) and
  bookkeeping while the clock is that far ahead (a view, a print, a sync receipt) keep the
  confirmed date and are marked unconfirmed, so their clock time never moves the store's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from domain.errors import N_, DomainError, InvalidValue

# A laptop put away on Friday and opened on Monday is 3 days ahead; a longer gap (another mission
# weeks later, or a clock gone wrong) waits for someone to confirm the date.
MAX_DAYS_AHEAD = 3


class ClockAhead(DomainError):
    template = N_(
        "the computer's date ({today}) is {days} days after the last date recorded here "
        "({recorded}): if it is right, confirm it with 'brigada date confirm {today}'; if not, "
        "correct the computer's clock"
    )


class Dating(Enum):
    """How a new event is dated."""

    DATED = "dated"  # a person's change: its business date matters
    BOOKKEEPING = "bookkeeping"  # views, prints, sync receipts: dated only when the clock is trusted
    NO_ONE = "no-one"  # before anyone is authenticated: never moves the store's time
    CONFIRMING = "confirming"  # 'brigada date confirm': the clock's date, whatever the gap


@dataclass(frozen=True)
class Confirmed:
    """The newest event of this site whose time was not left unconfirmed."""

    at: datetime
    day: date


def days_ahead(today: date, confirmed: Confirmed | None) -> int:
    return 0 if confirmed is None else (today - confirmed.day).days


def stamp(today: date, confirmed: Confirmed | None, dating: Dating) -> tuple[date, bool]:
    """The business date of a new event, and whether its time stays unconfirmed. Never before
    the confirmed date; refuses a dated change while the clock is too far ahead."""
    if confirmed is None:
        return today, False
    if dating is Dating.CONFIRMING:
        return max(today, confirmed.day), False
    if dating is Dating.NO_ONE:
        return confirmed.day, True
    if days_ahead(today, confirmed) > MAX_DAYS_AHEAD:
        if dating is Dating.DATED:
            raise ClockAhead(
                today=today.isoformat(),
                days=days_ahead(today, confirmed),
                recorded=confirmed.day.isoformat(),
            )
        return confirmed.day, True
    return max(today, confirmed.day), False


def effective_now(now: datetime, confirmed: Confirmed | None) -> datetime:
    """The instant for expiries (passwords, unlock codes, sessions): never before the newest
    confirmed event, so a clock set back revives nothing."""
    return now if confirmed is None else max(now, confirmed.at)


def check_confirmation(given: date, today: date, confirmed: Confirmed | None) -> None:
    """A person confirms the computer's date: the one typed must be the clock's, and never
    before a date already recorded (time here does not go back)."""
    if given != today:
        raise InvalidValue(
            "DATE",
            N_("is not the computer's date ({today}): correct the computer's clock first"),
            today=today.isoformat(),
        )
    if confirmed is not None and today < confirmed.day:
        raise InvalidValue(
            "DATE",
            N_("is before the last date recorded here ({recorded}): correct the computer's clock"),
            recorded=confirmed.day.isoformat(),
        )

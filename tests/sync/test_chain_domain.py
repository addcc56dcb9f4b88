"""One chain verifier (domain/chain.py) serves both checks: ``audit verify`` walking a store's
chains whole and central following a laptop's pushed run from its checkpoint. Given a site's
chain, tampered with or not, both find the same first break."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.chain import GENESIS, ChainBreak, ChainedEvent, follow, link, site_key, verify

SITE = "BRG01"
KEY = site_key(b"central's master key", SITE, "key-1")


def state(n: int) -> bytes:
    stamped = {"_type_": "ctx", "_data_": {"site": SITE, "user": "ana"}}
    return json.dumps({"context": stamped, "n": n}, separators=(",", ":")).encode()


def chain(length: int, start: int = 1) -> list[ChainedEvent]:
    """``length`` events of the site, linked from the genesis."""
    events, previous = [], GENESIS
    for position in range(start, start + length):
        parts = (previous, SITE, f"{position:032x}", 1, "brigada.Patient.Corrected", state(position))
        events.append(ChainedEvent(position, *parts[2:], SITE, previous, link(KEY, *parts)))
        previous = events[-1].recorded_link  # type: ignore[assignment]
    return events


def changed(events: list[ChainedEvent], at: int) -> list[ChainedEvent]:
    return [replace(e, state=e.state + b" ") if i == at else e for i, e in enumerate(events)]


def unlinked(events: list[ChainedEvent], at: int) -> list[ChainedEvent]:
    return [
        replace(e, recorded_link=None, recorded_previous=None) if i == at else e for i, e in enumerate(events)
    ]


def deleted(events: list[ChainedEvent], at: int) -> list[ChainedEvent]:
    return [e for i, e in enumerate(events) if i != at]


def test_an_untouched_run_verifies_whole_and_followed_reaching_its_last_link() -> None:
    events = chain(4)

    assert verify(events, [], KEY) is None
    assert follow(events, SITE, GENESIS, KEY) == (None, events[-1].recorded_link)


def test_a_changed_event_breaks_the_chain_at_that_event_both_ways_and_the_run_stops_before_it() -> None:
    events = changed(chain(4), 2)

    assert verify(events, [], KEY) == ChainBreak(3, SITE, "changed")
    assert follow(events, SITE, GENESIS, KEY) == (ChainBreak(3, SITE, "changed"), events[1].recorded_link)


@settings(max_examples=60)
@given(
    st.integers(1, 8),
    st.data(),
    st.sampled_from([None, changed, unlinked, deleted]),
)
def test_the_whole_chain_and_a_run_followed_from_the_genesis_break_at_the_same_event(
    length: int, data: st.DataObject, tamper: object
) -> None:
    events = chain(length)
    if tamper is not None:
        events = tamper(events, data.draw(st.integers(0, length - 1)))  # type: ignore[operator]

    broken, reached = follow(events, SITE, GENESIS, KEY)

    assert verify(events, [], KEY) == broken
    if broken is None:
        assert reached == (events[-1].recorded_link if events else GENESIS)
    else:
        assert broken.position in [e.position for e in events]

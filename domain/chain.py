"""The tamper-evidence chain: each site's events, in log order, linked by SHA-256.

A link is ``sha256(previous link | site | aggregate id | version | topic | state)``. The store keeps
the links beside the events (written in the same transaction); ``audit verify`` recomputes them
from the events. A changed, deleted or inserted past event breaks the chain at that event.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

GENESIS = "0" * 64

# The site inside an event's stamped context, read from the stored JSON without decoding it all.
_SITE = re.compile(rb'"_type_":"ctx","_data_":\{[^{}]*?"site":"((?:[^"\\]|\\.)*)"')


def site_of(state: bytes) -> str:
    found = _SITE.search(state)
    return found.group(1).decode("utf-8") if found else ""


def link(previous: str, site: str, originator_id: str, version: int, topic: str, state: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{previous}|{site}|{originator_id}|{version}|{topic}|".encode())
    digest.update(state)
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    """One event as stored, with the link recorded for it (None when there is none)."""

    position: int
    originator_id: str
    version: int
    topic: str
    state: bytes
    recorded_site: str | None
    recorded_previous: str | None
    recorded_link: str | None


@dataclass(frozen=True)
class ChainBreak:
    position: int
    site: str
    reason: str  # "changed" | "inserted" | "deleted"


def verify(events: list[ChainedEvent] | object, orphan_links: list[int]) -> ChainBreak | None:
    """The first broken link, or None. ``orphan_links`` are link positions with no event."""
    last: dict[str, str] = {}
    first_orphan = min(orphan_links) if orphan_links else None
    for event in events:  # type: ignore[attr-defined]
        if first_orphan is not None and first_orphan < event.position:
            return ChainBreak(first_orphan, "", "deleted")
        site = site_of(event.state)
        if event.recorded_link is None:
            return ChainBreak(event.position, site, "inserted")
        if event.recorded_site != site:
            # Moved to another site's chain: changed, reported on the chain it was recorded in.
            return ChainBreak(event.position, event.recorded_site or "", "changed")
        previous = last.get(site, GENESIS)
        if event.recorded_previous != previous:
            return ChainBreak(event.position, site, "deleted")
        expected = link(previous, site, event.originator_id, event.version, event.topic, event.state)
        if expected != event.recorded_link:
            return ChainBreak(event.position, site, "changed")
        last[site] = event.recorded_link
    if first_orphan is not None:
        return ChainBreak(first_orphan, "", "deleted")
    return None

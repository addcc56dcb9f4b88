"""The tamper-evidence chain: each site's events, in log order, linked by a keyed hash.

A link is ``HMAC-SHA256(key, previous link | site | aggregate id | version | topic | state)``. The
store keeps the links beside the events (written in the same transaction); ``audit verify``
recomputes them from the events. A changed, deleted or inserted past event breaks the chain at
that event, and nobody without the store's chain key can recompute a consistent chain.

Keys: central's store has its own chain key and a master key from which it derives each site's
key (``site_key``), so a laptop provisioned for a site holds that site's key and nothing else;
re-provisioning issues a new key id, and so a new key. Central checks a laptop's pushed links
with the site's key (application/sync/central.py).

Stores written before the keyed chain (release 0.1.0) linked their events with a bare SHA-256,
``sha256(previous link | site | aggregate id | version | topic | state)``, and held no key. When
the recorder makes such a store's chain key it records, beside the key, the last position already
linked (``LEGACY_UNTIL``; 0 on a store that starts with a key): ``verify`` checks the links up to
there with the old formula and every later one with the key. The old links prove what they always
did (an event changed by mistake or by someone who did not relink the chain); the first keyed
link after them covers the last of each site's old links, so relinking old events cannot go
unnoticed in a site's chain that went on after the key was made. ``follow`` (a laptop's pushed
batch) accepts keyed links only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

GENESIS = "0" * 64
# The keys a store keeps beside its events (never as events: events travel, keys must not).
CHAIN_KEY = "chain"  # the key this store's links are computed with
SITES_MASTER_KEY = "sites"  # central's: each site's chain key derives from it (``site_key``)
SITE_SIGNING_KEY = "site-signing"  # a laptop's: the private key it signs its requests with
# The last log position linked before the store had a chain key (decimal text), written with the
# key: links up to it are the old bare SHA-256 (``legacy_link``).
LEGACY_UNTIL = "legacy-until"

# The site inside an event's stamped context, read from the stored JSON without decoding it all.
_SITE = re.compile(rb'"_type_":"ctx","_data_":\{[^{}]*?"site":"((?:[^"\\]|\\.)*)"')


def site_of(state: bytes) -> str:
    found = _SITE.search(state)
    return found.group(1).decode("utf-8") if found else ""


def link(
    key: bytes, previous: str, site: str, originator_id: str, version: int, topic: str, state: bytes
) -> str:
    message = f"{previous}|{site}|{originator_id}|{version}|{topic}|".encode() + state
    return hmac.digest(key, message, "sha256").hex()  # one call into OpenSSL


def legacy_link(previous: str, site: str, originator_id: str, version: int, topic: str, state: bytes) -> str:
    """A link as release 0.1.0 computed it: SHA-256 with no key."""
    digest = hashlib.sha256()
    digest.update(f"{previous}|{site}|{originator_id}|{version}|{topic}|".encode())
    digest.update(state)
    return digest.hexdigest()


def legacy_value(position: int) -> bytes:
    """How ``LEGACY_UNTIL`` is kept among the store's keys."""
    return str(position).encode()


def legacy_position(value: bytes | None) -> int:
    """The legacy boundary read back (0, none, when the store always had its key)."""
    return int(value.decode()) if value else 0


def site_key(master: bytes, site: str, key_id: str) -> bytes:
    """The chain key of one provisioning of a site, derived from central's master key."""
    return hmac.new(master, f"brigada:site-chain:{site}:{key_id}".encode(), hashlib.sha256).digest()


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


def _break(key: bytes, site: str, previous: str, event: ChainedEvent, legacy_until: int = 0) -> str | None:
    """Why an event does not follow ``previous`` in ``site``'s chain, or None; links at or
    before ``legacy_until`` are checked with the old unkeyed formula."""
    if event.recorded_link is None:
        return "inserted"
    if event.recorded_previous != previous:
        return "deleted"
    parts = (previous, site, event.originator_id, event.version, event.topic, event.state)
    expected = legacy_link(*parts) if event.position <= legacy_until else link(key, *parts)
    return "changed" if expected != event.recorded_link else None


def _first_break(
    events: Iterable[ChainedEvent],
    key: bytes,
    heads: dict[str, str],
    chain_of: Callable[[ChainedEvent], str],
    orphan_links: Iterable[int] = (),
    legacy_until: int = 0,
) -> ChainBreak | None:
    """The one walk of the chains: each event must follow the last link of its site's chain
    (``chain_of`` names it; ``heads`` holds each chain's last link verified, and is moved on as
    the walk goes); a link position with no event is a deletion where it falls."""
    first_orphan = min(orphan_links, default=None)
    for event in events:
        if first_orphan is not None and first_orphan < event.position:
            return ChainBreak(first_orphan, "", "deleted")
        site = chain_of(event)
        if event.recorded_link is not None and event.recorded_site != site:
            # Moved to another site's chain: changed, reported on the chain it was recorded in.
            return ChainBreak(event.position, event.recorded_site or "", "changed")
        reason = _break(key, site, heads.get(site, GENESIS), event, legacy_until)
        if reason is not None or event.recorded_link is None:  # no link: _break says "inserted"
            return ChainBreak(event.position, site, reason or "inserted")
        heads[site] = event.recorded_link
    if first_orphan is not None:
        return ChainBreak(first_orphan, "", "deleted")
    return None


def verify(
    events: Iterable[ChainedEvent], orphan_links: list[int], key: bytes, legacy_until: int = 0
) -> ChainBreak | None:
    """The first broken link of a store's chains, or None. ``orphan_links`` are link positions
    with no event; ``key`` is the store's chain key; links at or before ``legacy_until`` (the
    store's ``LEGACY_UNTIL``) were written before it had one, with ``legacy_link``."""
    return _first_break(events, key, {}, lambda event: site_of(event.state), orphan_links, legacy_until)


def follow(events: Iterable[ChainedEvent], site: str, head: str, key: bytes) -> tuple[ChainBreak | None, str]:
    """Check a run of one site's chain (a pushed batch) from the last link already verified
    (a checkpoint): the first break, or None, and the link reached. Every event is taken as
    ``site``'s (keyed links only): ``verify``'s walk of one chain, each link computed once."""
    for event in events:
        if event.recorded_link is None:
            return ChainBreak(event.position, site, "inserted"), head
        if event.recorded_previous != head:
            return ChainBreak(event.position, site, "deleted"), head
        expected = link(key, head, site, event.originator_id, event.version, event.topic, event.state)
        if expected != event.recorded_link:
            return ChainBreak(event.position, site, "changed"), head
        head = event.recorded_link
    return None, head

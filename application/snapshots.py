"""Snapshots: derived state that keeps loading an aggregate flat in its history, and never more.

A snapshot of version v is the state the library rebuilt from this store's own events up to v
(the previous snapshot and the events after it); loading then reads the newest snapshot and the
events after it. Events are append-only and their versions unique, so events that arrive later
(a merge, a copy from central) only ever come after v: a snapshot cannot go stale. Snapshots are
not in the log, so sync never copies them and a rebuilt store starts without any.

Two things the library's ``snapshotting_intervals`` (a snapshot when a saved version is a multiple
of the interval) does not do, added here:

- **Catching up a long tail.** Events copied in by sync or a rebuild skip the multiples, so a
  store could replay a whole series on every load until the next multiple. When a save follows a
  load that replayed at least an interval of events, the saved version is snapshotted too.
- **Sealing.** The snapshots table is neither append-only nor chained, so each snapshot carries an
  HMAC of its row under a key derived from the store's chain key; one that does not verify (edited,
  or written before sealing) is ignored and the aggregate is replayed from its events instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore, Recording, StoredEvent

TAG_SIZE = 32
_PURPOSE = b"brigada snapshots"


def snapshot_key(chain_key: bytes) -> bytes:
    """The sealing key of a store's snapshots, derived from its chain key."""
    return hmac.new(chain_key, _PURPOSE, hashlib.sha256).digest()


def _tag(key: bytes, stored: StoredEvent, state: bytes) -> bytes:
    originator = (
        stored.originator_id.hex if isinstance(stored.originator_id, UUID) else str(stored.originator_id)
    )
    head = f"{originator}|{stored.originator_version}|{stored.topic}|".encode()
    return hmac.new(key, head + state, hashlib.sha256).digest()


class SealedSnapshots(EventStore[UUID]):
    """The snapshot store: seals what it writes, ignores what does not verify, and remembers the
    newest snapshot version each load started from (``base``)."""

    def __init__(self, mapper: Any, recorder: Any, chain_key: Callable[[], bytes | None]) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self._chain_key = chain_key
        self._key: bytes | None = None
        # aggregate id -> version of the snapshot its latest load started from (0: none)
        self.base: dict[UUID, int] = {}

    def key(self) -> bytes | None:
        if self._key is None:
            chain = self._chain_key()
            self._key = None if chain is None else snapshot_key(chain)
        return self._key

    def put(self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any) -> list[Recording[UUID]]:
        key = self.key()
        if key is None:  # a store without a chain key holds no events to snapshot
            return []
        rows = []
        for snapshot in domain_events:
            stored = self.mapper.to_stored_event(snapshot)
            rows.append(
                StoredEvent(
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=_tag(key, stored, stored.state) + stored.state,
                )
            )
            self.base[snapshot.originator_id] = max(
                snapshot.originator_version, self.base.get(snapshot.originator_id, 0)
            )
        self.recorder.insert_events(rows, **kwargs)
        return []

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        key = self.key()
        rows = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        found = []
        for stored in rows:
            tag, state = stored.state[:TAG_SIZE], stored.state[TAG_SIZE:]
            if key is None:  # no chain key: no snapshot can have been sealed
                break
            if hmac.compare_digest(tag, _tag(key, stored, state)):
                found.append(self.mapper.to_domain_event(_with_state(stored, state)))
        if desc and limit == 1 and lte is None:  # the repository loading the current version
            self.base[originator_id] = found[0].originator_version if found else 0
        return iter(found)


def _with_state(stored: StoredEvent, state: bytes) -> StoredEvent:
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=state,
    )


def random_chain_key() -> Callable[[], bytes]:
    """For a store that keeps no keys (the in-memory store of the domain tests): one key for the
    life of the application, which is the life of its snapshots."""
    key = secrets.token_bytes(32)
    return lambda: key

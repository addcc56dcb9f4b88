"""What a projection is, and where its rows live.

A projection names the event topics it reads, says which row an event touches (``key``), and turns
(row, event) into the new row (``apply``; ``None`` deletes). Rows are frozen dataclasses; their
fields become the columns of the view's table. A ``RowStore`` keeps a view's rows and its tracking
position together, so rows and position move in one transaction.
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, ClassVar, Protocol

Key = tuple[Any, ...]


class Projection(ABC):
    name: ClassVar[str]
    version: ClassVar[int] = 1  # bump when apply() changes: the view is then rebuilt
    topics: ClassVar[tuple[str, ...]]
    row_type: ClassVar[type]
    key_fields: ClassVar[tuple[str, ...]]
    indexes: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # True when each event writes a row of its own (keyed by log position) that no later event
    # touches: catch-up then never reads rows back before folding.
    appends: ClassVar[bool] = False
    # Text columns searched by substring (Query.contains) in large views: a database that can
    # index substrings (SQLite's FTS5 trigrams) keeps an index of them.
    text_indexed: ClassVar[tuple[str, ...]] = ()
    # True when apply() takes a StoredEvent (below) as well as a domain event: the runner then
    # hands it the stored JSON, decoding only the fields the view reads.
    reads_stored: ClassVar[bool] = False

    @abstractmethod
    def key(self, event: Any) -> Key: ...

    @abstractmethod
    def apply(self, row: Any | None, event: Any) -> Any | None: ...

    def key_of(self, row: Any) -> Key:
        return tuple(getattr(row, f) for f in self.key_fields)

    # A projection that needs the event's log position (ByLogPosition) overrides these two.
    def key_at(self, event: Any, position: int) -> Key:
        return self.key(event)

    def apply_at(self, row: Any | None, event: Any, position: int) -> Any | None:
        return self.apply(row, event)


class StoredEvent:
    """An event as the log stores it, for a view that reads a few of its fields (the activity
    log reads every event, most for its context and one or two fields): its state JSON parsed
    without the transcoder's hooks, each attribute decoded as the transcoder decodes it when it is
    read (``revive``), so it holds what the domain event's attribute holds. An attribute the state
    does not hold (a class default, a property) is read from the whole domain event (``decode``).
    The context is also there as stored (``context_data``: what ``EventContext.as_dict`` gave)."""

    __slots__ = ("_decode", "_revive", "originator_id", "originator_version", "stored_state", "stored_type")

    def __init__(
        self,
        stored_type: type,
        originator_id: Any,
        originator_version: int,
        stored_state: dict[str, Any],
        revive: Callable[[Any], Any],
        decode: Callable[[], Any],
    ) -> None:
        self.stored_type = stored_type
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.stored_state = stored_state
        self._revive = revive
        self._decode = decode

    @property
    def context_data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.stored_state["context"]["_data_"]
        return data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in StoredEvent.__slots__:
            raise AttributeError(name)
        state = self.stored_state
        if name in state:
            return self._revive(state[name])
        return getattr(self._decode(), name)


def event_type(event: Any) -> type:
    """The domain event class of an event, stored or decoded."""
    return event.stored_type if isinstance(event, StoredEvent) else type(event)


class ByAggregate(Projection):
    """A view with one row per aggregate, keyed by the aggregate's id (as hex)."""

    def key(self, event: Any) -> Key:
        return (event.originator_id.hex,)


class ByLogPosition(Projection):
    """A view with one row per event, keyed by the event's log position, that no later event
    touches (the activity log, the kardex): ``row_at`` turns an event and its position into its
    row (``None``: the event has no row)."""

    key_fields = ("position",)
    appends = True

    @abstractmethod
    def row_at(self, event: Any, position: int) -> Any | None: ...

    def key(self, event: Any) -> Key:
        raise TypeError(f"{self.name} is keyed by log position: use key_at")

    def key_at(self, event: Any, position: int) -> Key:
        return (position,)

    def apply(self, row: Any | None, event: Any) -> Any | None:
        raise TypeError(f"{self.name} needs the log position: use apply_at")

    def apply_at(self, row: Any | None, event: Any, position: int) -> Any | None:
        return self.row_at(event, position)


class OtherViews(Protocol):
    """Read access to views a projection does not own, for the names it shows beside ids (a
    lot's code, a visit's number). Answered by the other views' stores; never written."""

    def find_one(self, view: str, **equals: Any) -> Any | None: ...


class ViewRows:
    """OtherViews answered by the views' own stores, found by name on each read (a runner's
    stores exist only once it holds the views that read them)."""

    def __init__(self, store: Callable[[str], RowStore]) -> None:
        self.store = store

    def find_one(self, view: str, **equals: Any) -> Any | None:
        return self.store(view).find_one(**equals)


@dataclass(frozen=True)
class Query:
    """A read over one view: equalities, inclusive ranges, substrings (all must match), order, page."""

    equals: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)  # (low or None, high or None)
    contains: Mapping[str, Sequence[str]] = field(default_factory=dict)  # case-insensitive
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None
    offset: int = 0

    def matches(self, row: Any) -> bool:
        if any(getattr(row, name) != value for name, value in self.equals.items()):
            return False
        for name, (low, high) in self.ranges.items():
            value = getattr(row, name)
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return all(
            fragment.casefold() in (getattr(row, name) or "").casefold()
            for name, fragments in self.contains.items()
            for fragment in fragments
        )


class RowStore(Protocol):
    """Persistence of one view: rows by key, plus the log position they reflect."""

    def position(self) -> int: ...
    def stored_version(self) -> int | None: ...
    def load(self, keys: Iterable[Key]) -> dict[Key, Any]: ...
    def write(self, upserts: Mapping[Key, Any], deletes: Iterable[Key], old: int, new: int) -> bool: ...
    def reset(self) -> None: ...
    def count(self) -> int: ...
    def select(self, query: Query) -> list[Any]: ...
    def find(self, order_by: str | None = None, limit: int | None = None, **equals: Any) -> list[Any]: ...
    def find_one(self, **equals: Any) -> Any | None: ...
    def contains(self, column: str, fragments: list[str], limit: int, order_by: str) -> list[Any]: ...
    def all_rows(self) -> list[Any]: ...


class RowReads:
    """find(), find_one() and contains() in terms of select(), shared by every RowStore."""

    def select(self, query: Query) -> list[Any]:
        raise NotImplementedError

    def find(self, order_by: str | None = None, limit: int | None = None, **equals: Any) -> list[Any]:
        return self.select(Query(equals=equals, order_by=order_by, limit=limit))

    def find_one(self, **equals: Any) -> Any | None:
        """The row whose columns equal these (the first, if several do), or None."""
        found = self.find(limit=1, **equals)
        return found[0] if found else None

    def contains(self, column: str, fragments: list[str], limit: int, order_by: str) -> list[Any]:
        return self.select(Query(contains={column: fragments}, order_by=order_by, limit=limit))


class InMemoryRowStore(RowReads):
    """A RowStore in a dict: for read-side tests without a database."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.rows: dict[Key, Any] = {}
        self._position = 0
        self._version: int | None = None

    def position(self) -> int:
        return self._position

    def stored_version(self) -> int | None:
        return self._version

    def load(self, keys: Iterable[Key]) -> dict[Key, Any]:
        return {k: self.rows[k] for k in keys if k in self.rows}

    def write(self, upserts: Mapping[Key, Any], deletes: Iterable[Key], old: int, new: int) -> bool:
        if self._position != old:
            return False
        self.rows.update(upserts)
        for key in deletes:
            self.rows.pop(key, None)
        self._position = new
        self._version = self.projection.version
        return True

    def reset(self) -> None:
        self.rows.clear()
        self._position = 0
        self._version = self.projection.version

    def count(self) -> int:
        return len(self.rows)

    def select(self, query: Query) -> list[Any]:
        found = [row for row in self.rows.values() if query.matches(row)]
        if query.order_by:
            order_by = query.order_by
            found.sort(key=lambda row: getattr(row, order_by), reverse=query.descending)
        end = query.offset + query.limit if query.limit else None
        return found[query.offset : end]

    def all_rows(self) -> list[Any]:
        return sorted(self.rows.values(), key=lambda r: self.projection.key_of(r))


class InMemoryViews(ViewRows):
    """Views folded in memory from events, read as OtherViews: for read-side tests."""

    def __init__(self, projections: Iterable[Projection], events: Iterable[Any] = ()) -> None:
        self.stores = {p.name: InMemoryRowStore(p) for p in projections}
        super().__init__(self.stores.__getitem__)
        self.fold(events)

    def fold(self, events: Iterable[Any]) -> None:
        """Each event at the next log position, into every view that reads its topic."""
        for event in events:
            for store in self.stores.values():
                projection, position = store.projection, store.position() + 1
                if projection.topics and type(event).TOPIC not in projection.topics:
                    store.write({}, (), old=position - 1, new=position)
                    continue
                key = projection.key_at(event, position)
                row = projection.apply_at(store.rows.get(key), event, position)
                upserts, deletes = ({key: row}, ()) if row is not None else ({}, (key,))
                store.write(upserts, deletes, old=position - 1, new=position)


def fold_text(text: str) -> str:
    """Lower case without accents, for accent- and case-insensitive search ("Peña" ~ "pena")."""
    return " ".join(_fold_word(word) for word in text.split())


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    # Names repeat a great deal, so each word is folded once.
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def row_columns(row_type: type) -> list[tuple[str, Any]]:
    return [(f.name, f.type) for f in fields(row_type)]


@dataclass(frozen=True)
class ViewStatus:
    name: str
    position: int
    head: int
    rows: int
    stale: bool

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)

"""Keeps views caught up with the log, in batches, exactly once; rebuilds them on demand."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any, cast

from eventsourcing.persistence import JSONTranscoder, Mapper, find_id_convertor
from eventsourcing.utils import resolve_topic

from application.app import LOG_PAGE_SIZE, BrigadaApplication
from application.ports import ViewStorage
from projections.base import Projection, RowStore, StoredEvent, ViewStatus

Progress = Callable[[int, int], None]  # (position reached, head)

# A view this many pages or more behind, with at least as many new events as it has read, catches
# up as a rebuild does (indexes built once at the end, young garbage collections only): after a
# sync's merge into a young central, a rebuilt laptop, a restored store. A view with a long past
# keeps its indexes (re-building them would cost its whole past for a few new pages).
FAR_BEHIND_PAGES = 4
# On that path, and in a rebuild, this many pages are read, folded and written in one transaction
# (a commit syncs the database's journal: one a page was a tenth of a rebuild on SQLite).
BULK_PAGES = 5


class ProjectionRunner:
    def __init__(
        self, app: BrigadaApplication, storage: ViewStorage, projections: Sequence[Projection]
    ) -> None:
        self.app = app
        self.storage = storage
        self.projections = {p.name: p for p in projections}
        self.stores: dict[str, RowStore] = {p.name: storage.row_store(p) for p in projections}

    def names(self) -> list[str]:
        return list(self.projections)

    def store(self, name: str) -> RowStore:
        return self.stores[name]

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def catch_up(self, names: Sequence[str] | None = None, page_done: Progress | None = None) -> None:
        """Bring views up to the log's head, together.

        The log is read a page at a time from the position of the view furthest behind, each
        event is decoded once (and only if some view reads its topic), every view folds the events
        of its topics, and every view's rows and position are written in one transaction per page
        (views with nothing to read just move on). A command's few events are one page; a store
        far behind (central after a sync's merge, a rebuilt laptop) is a few pages for all views
        rather than one replay per view, and views far behind take the rebuild's path (see
        FAR_BEHIND_PAGES).
        """
        head = self.head()
        tracked = self._tracked()
        behind: list[_Behind] = []
        for name in names or self.names():
            projection, store = self.projections[name], self.stores[name]
            position, version = tracked.get(name) or (store.position(), store.stored_version())
            if version not in (None, projection.version):
                store.reset()  # apply() changed since the view was built: rebuild it
                position = 0
            if position < head:
                # From an empty view only rows this catch-up writes can exist: none is read back.
                written: set[Any] | None = set() if position == 0 and not projection.appends else None
                behind.append(_Behind(projection, store, position, written))
        far = [view.store for view in behind if far_behind(view.position, head)]
        if not far:
            self._catch_up_pages(behind, head, page_done, LOG_PAGE_SIZE)
            return
        with ExitStack() as stack:
            for store in far:
                rebuilding = getattr(store, "rebuilding", None)
                if rebuilding:
                    stack.enter_context(rebuilding())
            collect = stack.enter_context(young_collections_only())

            def collected(position: int, head: int) -> None:
                collect()
                if page_done:
                    page_done(position, head)

            self._catch_up_pages(behind, head, collected, BULK_PAGES * LOG_PAGE_SIZE)

    def _catch_up_pages(
        self, behind: list[_Behind], head: int, page_done: Progress | None, page_size: int
    ) -> None:
        decoder = _Decoder(self.app.mapper)
        while behind:
            reached = self._catch_up_page(behind, head, decoder, page_size)
            behind = [v for v in behind if v.position < head]
            if page_done:
                page_done(reached, head)

    def _catch_up_page(self, behind: list[_Behind], head: int, decoder: _Decoder, page_size: int) -> int:
        """The next page after the view furthest behind, folded into every view behind; the
        position reached. The page's events are gone when it returns (a collection after it
        walks only what the page left behind)."""
        start = min(view.position for view in behind)
        page = self.app.recorder.select_notifications(
            start=start, limit=page_size, stop=head, inclusive_of_start=False
        )
        reached: int = page[-1].id if len(page) == page_size else head
        try:
            self._catch_up_together([v for v in behind if v.position < reached], page, reached, decoder)
        finally:
            decoder.decoded.clear()
        return reached

    def _tracked(self) -> dict[str, tuple[int, int | None]]:
        read_all = getattr(self.storage, "tracked", None)
        return read_all() if read_all else {}

    def _catch_up_together(
        self, views: list[_Behind], notifications: Sequence[Any], reached: int, decoder: _Decoder
    ) -> None:
        # Each notification goes to the views that read its topic (routes found once per topic),
        # decoded once: as a domain event if any of them needs one, else as a stored event.
        events: list[list[tuple[Any, int]]] = [[] for _view in views]
        routes: dict[str, tuple[list[int], list[int]]] = {}
        everything = [i for i, view in enumerate(views) if not view.projection.topics]
        for notification in notifications:
            position = notification.id
            if position > reached:
                break
            route = routes.get(notification.topic)
            if route is None:
                route = routes[notification.topic] = self._route(views, everything, notification.topic)
            decoded, stored = route
            if decoded:
                event = decoder.domain(notification)
                for i in decoded:
                    if views[i].position < position:
                        events[i].append((event, position))
            if stored:
                stored_event = decoder.stored(notification)
                for i in stored:
                    if views[i].position < position:
                        events[i].append((stored_event, position))
        writes: list[tuple[_Behind, dict[Any, Any], set[Any]]] = []
        idle: list[tuple[str, int]] = []
        for view, its_events in zip(views, events, strict=True):
            if not its_events:
                idle.append((view.projection.name, view.position))
                continue
            upserts, deletes = fold_batch(view.projection, view.store, its_events, view.written)
            writes.append((view, upserts, deletes))
        together = getattr(self.storage, "write_together", None)
        batch = [(view.store, upserts, deletes, view.position, reached) for view, upserts, deletes in writes]
        if together is not None and together(batch, idle, reached):
            for view, upserts, deletes in writes:
                view.wrote(upserts, deletes)
            for view in views:
                view.position = reached
            return
        # One by one (storage without write_together, or another process moved a view meanwhile).
        for view, upserts, deletes in writes:
            if view.store.write(upserts, deletes, old=view.position, new=reached):
                view.wrote(upserts, deletes)
            else:
                view.written = None
                self._run(view.projection, view.store, reached, None)  # on from where it now is
        if idle:
            self._advance(idle, reached)
        for view in views:
            view.position = reached

    @staticmethod
    def _route(views: list[_Behind], everything: list[int], topic: str) -> tuple[list[int], list[int]]:
        """Which views (by index) read a topic: those that take it decoded, those that take it
        stored. A topic some view needs decoded is decoded for all (a view that reads stored
        events takes domain events too): its JSON is parsed once."""
        readers = [i for i, view in enumerate(views) if i in everything or topic in view.projection.topics]
        stored = [i for i in readers if views[i].projection.reads_stored]
        if len(stored) < len(readers):
            return readers, []
        return [], stored

    def _advance(self, idle: list[tuple[str, int]], head: int) -> None:
        advance = getattr(self.storage, "advance", None)
        if advance is not None:
            advance(idle, head)
            return
        for name, position in idle:
            self.stores[name].write({}, (), old=position, new=head)

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        store = self.stores[name]
        store.reset()
        head = self.head()
        rebuilding = getattr(store, "rebuilding", None)  # a store that indexes once, at the end
        with rebuilding() if rebuilding else nullcontext(), young_collections_only() as collect:

            def batch_done(position: int, head: int) -> None:
                collect()
                if progress:
                    progress(position, head)

            self._run(self.projections[name], store, head, batch_done)
        return store.count()

    def rebuild_all(self, progress: Progress | None = None) -> dict[str, int]:
        """Drop every view and replay the log into all of them in one pass: each event is read
        and decoded once for every view, one transaction a page; indexes are built at the end.
        Returns each view's row count."""
        for store in self.stores.values():
            store.reset()
        with ExitStack() as stack:
            for store in self.stores.values():
                rebuilding = getattr(store, "rebuilding", None)
                if rebuilding:
                    stack.enter_context(rebuilding())
            collect = stack.enter_context(young_collections_only())

            def page_done(position: int, head: int) -> None:
                collect()
                if progress:
                    progress(position, head)

            self.catch_up(page_done=page_done)
        return {name: store.count() for name, store in self.stores.items()}

    def status(self) -> list[ViewStatus]:
        head = self.head()
        return [
            ViewStatus(
                name=name,
                position=store.position(),
                head=head,
                rows=store.count(),
                stale=store.stored_version() not in (None, self.projections[name].version),
            )
            for name, store in self.stores.items()
        ]

    def _run(self, projection: Projection, store: RowStore, head: int, progress: Progress | None) -> None:
        position = store.position()
        # From an empty view (a rebuild), only rows this run wrote can exist: the others are not
        # read back. Forgotten if another process moves the view meanwhile.
        written: set[Any] | None = set() if position == 0 and not projection.appends else None
        decoder = _Decoder(self.app.mapper, keep=False)
        while position < head:
            # A page's events and rows are gone when it returns: a collection after it walks
            # only what the page left behind.
            reached = self._run_page(projection, store, position, head, written, decoder)
            if reached is None:
                position = store.position()  # another process moved this view on: go on from there
                written = None
                continue
            position = reached
            if progress:
                progress(position, head)

    def _run_page(
        self,
        projection: Projection,
        store: RowStore,
        position: int,
        head: int,
        written: set[Any] | None,
        decoder: _Decoder,
    ) -> int | None:
        """One page of the view's topics after ``position`` folded and written: the position
        reached, or None if another process moved the view meanwhile (nothing written)."""
        page_size = BULK_PAGES * LOG_PAGE_SIZE
        notifications = self.app.recorder.select_notifications(
            start=position,
            limit=page_size,
            stop=head,
            topics=projection.topics,
            inclusive_of_start=False,
        )
        reached: int = notifications[-1].id if len(notifications) == page_size else head
        decode = decoder.stored if projection.reads_stored else decoder.domain
        events = [(decode(n), n.id) for n in notifications]
        upserts, deletes = fold_batch(projection, store, events, written)
        if not store.write(upserts, deletes, old=position, new=reached):
            return None
        if written is not None:
            written.update(upserts)
            written.difference_update(deletes)
        return reached


def far_behind(position: int, head: int) -> bool:
    """Whether a view at ``position`` catches up to ``head`` as a rebuild does."""
    lag = head - position
    return lag >= FAR_BEHIND_PAGES * LOG_PAGE_SIZE and lag >= position


class _Decoder:
    """Notifications decoded for views: as domain events (``mapper.to_domain_event``), or as
    StoredEvents for views that read the stored JSON (``Projection.reads_stored``): the state
    parsed by the json module alone, each field decoded by the transcoder's own hook when a view
    reads it. A mapper that ciphers or compresses, a transcoder of another kind or an event to
    upcast gets the domain event instead (which such views also take). A page's domain events are
    kept (``keep``; ``decoded``, emptied by the caller after each page), so an event read by
    several views is decoded once."""

    def __init__(self, mapper: Mapper[Any], keep: bool = True) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.hook: Callable[[dict[str, Any]], Any] | None = (
            transcoder._decode_obj
            if type(transcoder) is JSONTranscoder and not mapper.cipher and not mapper.compressor
            else None
        )
        self.keep = keep
        self.decoded: dict[int, Any] = {}
        # topic -> (event class, originator id's convertor and type, whether to decode it whole)
        self.kinds: dict[str, tuple[type, Callable[[Any], Any], type, bool]] = {}

    def domain(self, notification: Any) -> Any:
        if not self.keep:
            return self.mapper.to_domain_event(notification)
        decoded = self.decoded  # emptied after each page by the caller
        event = decoded.get(notification.id)
        if event is None:
            event = decoded[notification.id] = self.mapper.to_domain_event(notification)
        return event

    def stored(self, notification: Any) -> Any:
        kind = self.kinds.get(notification.topic)
        if kind is None:
            cls = resolve_topic(notification.topic)
            convert = find_id_convertor(cls, cast(Hashable, type(notification.originator_id)))
            upcast = self.hook is None or getattr(cls, "class_version", 1) != 1
            kind = self.kinds[notification.topic] = (cls, convert, type(notification.originator_id), upcast)
        cls, convert, id_type, upcast = kind
        if upcast or type(notification.originator_id) is not id_type:
            return self.domain(notification)
        state = json.loads(notification.state.decode("utf8"))
        if "class_version" in state:
            return self.domain(notification)
        return StoredEvent(
            cls,
            convert(notification.originator_id),
            notification.originator_version,
            state,
            self.revive,
            lambda: self.domain(notification),
        )

    def revive(self, value: Any) -> Any:
        """A value of the parsed state as the transcoder's decoder gives it: the hook applied to
        every object, innermost first, as json's object_hook is."""
        if type(value) is dict:
            hook = self.hook
            assert hook is not None
            return hook({key: self.revive(item) for key, item in value.items()})
        if type(value) is list:
            return [self.revive(item) for item in value]
        return value


class _Behind:
    """A view being caught up: where it is, and the rows it wrote since it was empty."""

    def __init__(
        self, projection: Projection, store: RowStore, position: int, written: set[Any] | None
    ) -> None:
        self.projection = projection
        self.store = store
        self.position = position
        self.written = written

    def wrote(self, upserts: dict[Any, Any], deletes: set[Any]) -> None:
        if self.written is not None:
            self.written.update(upserts)
            self.written.difference_update(deletes)


@contextmanager
def young_collections_only() -> Iterator[Callable[[], object]]:
    """For a long replay: the cyclic garbage collector's full collections walk every long-lived
    object, and what a replay keeps (the activity log's names for ids) grows with the log; on a
    1,000,000-event store they made the rebuild a third slower. Inside, automatic collection is
    off and the caller collects the young generations after each batch (cycles made by a batch
    are still freed); on leaving, collection is as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        if was_enabled:
            gc.enable()


def fold_batch(
    projection: Projection,
    store: RowStore,
    events: Sequence[tuple[Any, int]],
    written: set[Any] | None = None,
) -> tuple[dict[Any, Any], set[Any]]:
    """Apply a batch of (event, log position) to the rows they touch, loading each row once
    (none for a view that only appends; only those in ``written`` when that set is given)."""
    key_at, apply_at = projection.key_at, projection.apply_at  # looked up once a batch
    keys = [key_at(event, position) for event, position in events]
    wanted = set(keys) if written is None else written.intersection(keys)
    rows: dict[Any, Any] = {} if projection.appends or not wanted else store.load(wanted)
    for key, (event, position) in zip(keys, events, strict=True):
        rows[key] = apply_at(rows.get(key), event, position)
    touched = set(keys)
    upserts = {k: rows[k] for k in touched if rows.get(k) is not None}
    return upserts, {k for k in touched if rows.get(k) is None}

"""Keeps views caught up with the log, in batches, exactly once; rebuilds them on demand."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any

from application.app import LOG_PAGE_SIZE, BrigadaApplication
from application.ports import ViewStorage
from projections.base import Projection, RowStore, ViewStatus

Progress = Callable[[int, int], None]  # (position reached, head)


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
        rather than one replay per view.
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
        while behind:
            start = min(view.position for view in behind)
            page = self.app.recorder.select_notifications(
                start=start, limit=LOG_PAGE_SIZE, stop=head, inclusive_of_start=False
            )
            reached = page[-1].id if len(page) == LOG_PAGE_SIZE else head
            self._catch_up_together([v for v in behind if v.position < reached], page, reached)
            behind = [v for v in behind if v.position < head]
            if page_done:
                page_done(reached, head)

    def _tracked(self) -> dict[str, tuple[int, int | None]]:
        read_all = getattr(self.storage, "tracked", None)
        return read_all() if read_all else {}

    def _catch_up_together(self, views: list[_Behind], notifications: Sequence[Any], reached: int) -> None:
        decoded: dict[int, Any] = {}

        def event(notification: Any) -> Any:
            if notification.id not in decoded:
                decoded[notification.id] = self.app.mapper.to_domain_event(notification)
            return decoded[notification.id]

        writes: list[tuple[_Behind, dict[Any, Any], set[Any]]] = []
        idle: list[tuple[str, int]] = []
        for view in views:
            topics = set(view.projection.topics)
            events = [
                (event(n), n.id)
                for n in notifications
                if view.position < n.id <= reached and (not topics or n.topic in topics)
            ]
            if not events:
                idle.append((view.projection.name, view.position))
                continue
            upserts, deletes = fold_batch(view.projection, view.store, events, view.written)
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
        while position < head:
            notifications = self.app.recorder.select_notifications(
                start=position,
                limit=LOG_PAGE_SIZE,
                stop=head,
                topics=projection.topics,
                inclusive_of_start=False,
            )
            reached = notifications[-1].id if len(notifications) == LOG_PAGE_SIZE else head
            events = [(self.app.mapper.to_domain_event(n), n.id) for n in notifications]
            upserts, deletes = fold_batch(projection, store, events, written)
            if not store.write(upserts, deletes, old=position, new=reached):
                position = store.position()  # another process moved this view on: go on from there
                written = None
                continue
            if written is not None:
                written.update(upserts)
                written.difference_update(deletes)
            position = reached
            if progress:
                progress(position, head)


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
    keys = [projection.key_at(event, position) for event, position in events]
    wanted = set(keys) if written is None else written.intersection(keys)
    rows: dict[Any, Any] = {} if projection.appends or not wanted else store.load(wanted)
    for key, (event, position) in zip(keys, events, strict=True):
        rows[key] = projection.apply_at(rows.get(key), event, position)
    touched = set(keys)
    upserts = {k: rows[k] for k in touched if rows.get(k) is not None}
    return upserts, {k for k in touched if rows.get(k) is None}

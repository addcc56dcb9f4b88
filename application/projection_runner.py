"""Keeps views caught up with the log, in batches, exactly once; rebuilds them on demand."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
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

    def catch_up(self, names: Sequence[str] | None = None) -> None:
        """Bring views up to the log's head.

        Views within a page of the head (the usual case: a command's few events) are caught up
        together: the new part of the log is read and decoded once, each view folds the events of
        its topics, and every view's rows and position are written in one transaction (views with
        nothing to read just move on). A view further behind replays its own topics page by page.
        """
        head = self.head()
        tracked = self._tracked()
        near: list[tuple[Projection, RowStore, int]] = []
        for name in names or self.names():
            projection, store = self.projections[name], self.stores[name]
            position, version = tracked.get(name) or (store.position(), store.stored_version())
            if version not in (None, projection.version):
                store.reset()  # apply() changed since the view was built: rebuild it
                position = 0
            if position >= head:
                continue
            if head - position > LOG_PAGE_SIZE:
                self._run(projection, store, head, None)
            else:
                near.append((projection, store, position))
        if near:
            self._catch_up_together(near, head)

    def _tracked(self) -> dict[str, tuple[int, int | None]]:
        read_all = getattr(self.storage, "tracked", None)
        return read_all() if read_all else {}

    def _catch_up_together(self, near: list[tuple[Projection, RowStore, int]], head: int) -> None:
        start = min(position for _p, _s, position in near)
        notifications = self.app.recorder.select_notifications(
            start=start, limit=head - start, stop=head, inclusive_of_start=False
        )
        decoded: dict[int, Any] = {}

        def event(notification: Any) -> Any:
            if notification.id not in decoded:
                decoded[notification.id] = self.app.mapper.to_domain_event(notification)
            return decoded[notification.id]

        writes: list[tuple[Projection, RowStore, dict[Any, Any], set[Any], int]] = []
        idle: list[tuple[str, int]] = []
        for projection, store, position in near:
            topics = set(projection.topics)
            events = [
                (event(n), n.id)
                for n in notifications
                if n.id > position and (not topics or n.topic in topics)
            ]
            if not events:
                idle.append((projection.name, position))
                continue
            upserts, deletes = fold_batch(projection, store, events)
            writes.append((projection, store, upserts, deletes, position))
        together = getattr(self.storage, "write_together", None)
        if together is not None and together(
            [(store, upserts, deletes, old, head) for _p, store, upserts, deletes, old in writes], idle, head
        ):
            return
        # One by one (storage without write_together, or another process moved a view meanwhile).
        for projection, store, upserts, deletes, old in writes:
            if not store.write(upserts, deletes, old=old, new=head):
                self._run(projection, store, head, None)  # it goes on from where it now is
        if idle:
            self._advance(idle, head)

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

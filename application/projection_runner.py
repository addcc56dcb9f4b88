"""Keeps views caught up with the log, in batches, exactly once; rebuilds them on demand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
        """Bring views up to the log's head. Views with nothing new to read are moved on together,
        in one transaction: with many views, a command pays for the views its events touch."""
        head = self.head()
        tracked = self._tracked()
        idle: list[tuple[str, int]] = []
        for name in names or self.names():
            projection, store = self.projections[name], self.stores[name]
            position, version = tracked.get(name) or (store.position(), store.stored_version())
            if version not in (None, projection.version):
                store.reset()  # apply() changed since the view was built: rebuild it
                position = 0
            if position >= head:
                continue
            if projection.topics and not self._has_news(projection, position, head):
                idle.append((name, position))
                continue
            self._run(projection, store, head, None)
        if idle:
            self._advance(idle, head)

    def _tracked(self) -> dict[str, tuple[int, int | None]]:
        read_all = getattr(self.storage, "tracked", None)
        return read_all() if read_all else {}

    def _has_news(self, projection: Projection, position: int, head: int) -> bool:
        return bool(
            self.app.recorder.select_notifications(
                start=position, limit=1, stop=head, topics=projection.topics, inclusive_of_start=False
            )
        )

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
        self._run(self.projections[name], store, head, progress)
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
            upserts, deletes = fold_batch(projection, store, events)
            if not store.write(upserts, deletes, old=position, new=reached):
                position = store.position()  # another process moved this view on: go on from there
                continue
            position = reached
            if progress:
                progress(position, head)


def fold_batch(
    projection: Projection, store: RowStore, events: Sequence[tuple[Any, int]]
) -> tuple[dict[Any, Any], set[Any]]:
    """Apply a batch of (event, log position) to the rows they touch, loading each row once."""
    keys = [projection.key_at(event, position) for event, position in events]
    rows: dict[Any, Any] = store.load(set(keys))
    for key, (event, position) in zip(keys, events, strict=True):
        rows[key] = projection.apply_at(rows.get(key), event, position)
    touched = set(keys)
    upserts = {k: rows[k] for k in touched if rows.get(k) is not None}
    return upserts, {k for k in touched if rows.get(k) is None}

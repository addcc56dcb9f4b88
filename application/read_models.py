"""The read models as operators see them: status and rebuild, behind the menu check."""

from __future__ import annotations

from application.context import Actor
from application.projection_runner import Progress, ProjectionRunner
from application.security.access import Access
from projections.base import ViewStatus


class ReadModels:
    def __init__(self, views: ProjectionRunner, access: Access) -> None:
        self.views = views
        self.access = access

    def names(self) -> list[str]:
        return self.views.names()

    def head(self) -> int:
        return self.views.head()

    def status(self, actor: Actor) -> list[ViewStatus]:
        """Each view's position in the log, lag and row count."""
        self.access.require(actor, "projections.status")
        return self.views.status()

    def rebuild(self, actor: Actor, name: str, progress: Progress | None = None) -> int:
        """Drop a view and replay the log into it; returns its row count."""
        self.access.require(actor, "projections.rebuild")
        return self.views.rebuild(name, progress)

    def rebuild_all(self, actor: Actor, progress: Progress | None = None) -> dict[str, int]:
        """Drop every view and replay the log into all of them in one pass; rows per view."""
        self.access.require(actor, "projections.rebuild")
        return self.views.rebuild_all(progress)

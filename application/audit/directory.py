"""Names for ids, read from the aggregates themselves (the activity log's comments need them)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.app import BrigadaApplication


class StoreDirectory:
    def __init__(self, app: BrigadaApplication) -> None:
        self.app = app

    def _attribute(self, aggregate_id: UUID, name: str) -> str | None:
        try:
            value = getattr(self.app.repository.get(aggregate_id), name, None)
        except AggregateNotFoundError:
            return None
        return None if value is None else str(value)

    def chart_number(self, patient_id: UUID) -> str | None:
        return self._attribute(patient_id, "chart_number")

    def username(self, user_id: UUID) -> str | None:
        return self._attribute(user_id, "username")

    def site_code(self, site_id: UUID) -> str | None:
        return self._attribute(site_id, "code")

    def attributes(self, aggregate_id: UUID, names: list[str]) -> dict[str, str] | None:
        """Some attributes of an aggregate as text (None if it or one of them is missing)."""
        values = {name: self._attribute(aggregate_id, name) for name in names}
        if any(v is None for v in values.values()):
            return None
        return {name: str(v) for name, v in values.items()}

    def visit(self, encounter_id: UUID) -> tuple[str, str] | None:
        """(chart number, visit number) of an encounter."""
        chart = self._attribute(encounter_id, "chart_number")
        number = self._attribute(encounter_id, "number")
        return (chart, number) if chart and number else None

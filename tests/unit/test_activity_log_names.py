"""The activity log's names for ids stay bounded in memory; what they forget is asked again."""

from __future__ import annotations

import uuid
from uuid import UUID

from projections.audit.activity_log import NameCache, Recent


class Charts:
    """The directory port, answering from a plain table (as the aggregates would)."""

    def __init__(self, charts: dict[UUID, str]) -> None:
        self.charts = charts
        self.asked = 0

    def chart_number(self, patient_id: UUID) -> str | None:
        self.asked += 1
        return self.charts.get(patient_id)

    def username(self, user_id: UUID) -> str | None:
        return None

    def site_code(self, site_id: UUID) -> str | None:
        return None

    def visit(self, encounter_id: UUID) -> tuple[str, str] | None:
        return None

    def attributes(self, aggregate_id: UUID, names: list[str]) -> dict[str, str] | None:
        return None


def test_recent_forgets_the_oldest_entries_beyond_its_limit() -> None:
    recent = Recent(limit=3)
    for n in range(5):
        recent[n] = str(n)
    assert recent == {2: "2", 3: "3", 4: "4"}


def test_a_forgotten_chart_number_is_asked_of_the_directory_again() -> None:
    patients = {uuid.uuid4(): f"CEN-{n}" for n in range(10)}
    directory = Charts(patients)
    names = NameCache(directory)
    names.charts = Recent(limit=4)
    for patient_id, chart in patients.items():
        names.learn_chart(patient_id, chart)

    assert [names.chart(p) for p in patients] == list(patients.values())
    assert directory.asked == 10  # 6 forgotten before the first read, then each read forgets one

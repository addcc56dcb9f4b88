"""The activity log's names for ids stay bounded in memory; what they forget is read again from
the view that keeps it."""

from __future__ import annotations

from datetime import date

from domain.clinical.patient import Patient
from domain.context import recording
from projections.audit.activity_log import NameCache, Recent
from tests.support.given_when_then import context
from tests.support.read_side import JOSE, CountingViews


def test_recent_forgets_the_oldest_entries_beyond_its_limit() -> None:
    recent: Recent[int, str] = Recent(limit=3)
    for n in range(5):
        recent[n] = str(n)
    assert recent == {2: "2", 3: "3", 4: "4"}


def test_a_forgotten_chart_number_is_read_from_the_patients_view_again() -> None:
    with recording(context()):
        patients = [Patient.register(f"CEN-{n}", JOSE, today=date(2026, 3, 1)) for n in range(10)]
    views = CountingViews(*[event for patient in patients for event in patient.collect_events()])
    names = NameCache(views)
    names.known = Recent(limit=4)
    for patient in patients:
        names.learn(patient.id, {"HIST": patient.chart_number})

    assert [names.chart(p.id) for p in patients] == [f"CEN-{n}" for n in range(10)]
    assert len(views.asked) == 10  # 6 forgotten before the first read, then each read forgets one

"""Duplicate charts and the seed's "Historia - Rectificar": one patient registered at a site and
on central is listed by `patient duplicates`; `patient merge` (central, administrators) moves the
removed chart's encounters to the kept one, all in one save; the removed chart then refuses
changes, leaves searches, and says where it went."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock
from application.brigada import Brigada
from application.errors import AdministratorOnly, CentralOnly
from application.replication import copy_aggregates
from cli.exit_codes import Exit
from cli.main import exit_code
from domain.clinical.encounter import Encounter, EncounterKind
from domain.clinical.patient import ChartHasOpenItems, ChartMerged, Patient, PatientDetails, merge_charts
from domain.errors import InvalidValue
from domain.sites.site import SiteMode
from domain.sites.site_policy import LEASED_RULE, OperationRefused
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone
from projections.audit.activity_log import action_label
from tests.support.cli import Terminal, one_line
from tests.support.clinical import (
    COORDINATOR_PASSWORD,
    Mission,
    OpenStore,
    activity,
    add_user,
    events_since,
    head,
    start_mission,
)
from tests.support.given_when_then import given, when
from tests.support.hashing import QuickArgon2Hasher
from tests.support.security import ADMIN_PASSWORD
from tests.support.sites import JOSE, MARIA, PEDRO, start_central

TODAY = date(2026, 3, 1)


def chart(number: str) -> Patient:
    details = PatientDetails(
        DocumentType.CC, "98765432", "Pedro", "", "Ríos", "", date(1975, 11, 30), Sex.MALE, "27001",
        Zone.RURAL, CoverageStatus.CONTRIBUTORY_BENEFICIARY,
    )  # fmt: skip
    return Patient.register(number, details, today=TODAY)


# -- the aggregates -----------------------------------------------------------------------------
def test_merging_marks_the_removed_chart_and_records_it_on_the_kept_one() -> None:
    kept, removed = given(lambda: chart("CEN-2")), given(lambda: chart("BRG01-1"))

    [absorbed] = when(kept, lambda k: merge_charts(k, removed, []))
    [merged] = removed.collect_events()

    assert isinstance(merged, Patient.MergedInto)
    assert (merged.kept_patient_id, merged.kept_chart) == (kept.id, "CEN-2")
    assert isinstance(absorbed, Patient.Absorbed)
    assert (absorbed.removed_patient_id, absorbed.removed_chart) == (removed.id, "BRG01-1")
    assert (removed.merged_into, kept.absorbed) == ("CEN-2", ["BRG01-1"])


def test_a_merged_chart_refuses_every_change() -> None:
    kept, removed, third = (
        given(lambda: chart("CEN-2")),
        given(lambda: chart("BRG01-1")),
        given(lambda: chart("X-1")),
    )
    when(kept, lambda k: merge_charts(k, removed, []))
    removed.collect_events()

    for change in (
        lambda p: p.correct(TODAY, first_name="Pedrito"),
        lambda p: merge_charts(third, p, []),
        lambda p: merge_charts(p, third, []),
    ):
        with pytest.raises(ChartMerged) as refused:
            when(removed, change)
        assert refused.value.params == {"chart_number": "BRG01-1", "kept_chart": "CEN-2"}
        assert exit_code(refused.value) == Exit.REFUSED
    assert third.collect_events() == []


def test_a_chart_is_not_merged_into_itself_nor_with_open_items() -> None:
    kept, removed = given(lambda: chart("CEN-2")), given(lambda: chart("BRG01-1"))

    with pytest.raises(InvalidValue):
        when(kept, lambda k: merge_charts(k, k, []))
    with pytest.raises(ChartHasOpenItems) as open_items:
        when(kept, lambda k: merge_charts(k, removed, ["ING BRG01-4", "CITA BRG01-9"]))
    assert open_items.value.params == {"chart_number": "BRG01-1", "items": "ING BRG01-4, CITA BRG01-9"}
    assert removed.collect_events() == [] and removed.merged_into is None


def test_reassigning_an_encounter_to_the_chart_it_has_is_no_event() -> None:
    encounter = given(
        lambda: Encounter(
            number="BRG01-1", patient_id=UUID(int=1), chart_number="BRG01-1", kind=EncounterKind.OUTPATIENT,
            visit_date=TODAY, professional="ana", visit_data={}, appointment=None, admission=None,
        )
    )  # fmt: skip
    assert when(encounter, lambda e: e.reassign(UUID(int=1), "BRG01-1")) == []
    [moved] = when(encounter, lambda e: e.reassign(UUID(int=2), "CEN-2"))
    assert (moved.patient_id, moved.chart_number) == (UUID(int=2), "CEN-2")


# -- a duplicate made at a site, merged on central ----------------------------------------------
@dataclass
class Duplicate:
    mission: Mission
    visit: str  # the visit recorded at the site for the duplicate chart

    @property
    def central(self) -> Brigada:
        return self.mission.central


ENCOUNTER_OPTIONS = ["encounter"]


def make_duplicate(mission: Mission) -> Duplicate:
    """PEDRO registered on central (CEN-2) and, at site BRG01, again (BRG01-1) with a finalized
    visit; the site's records reach central as a sync would bring them."""
    central, laptop, ana = mission.central, mission.laptop, mission.ana
    central.patients.register(mission.admin, PEDRO)
    duplicate = laptop.patients.register(ana, PEDRO)
    assert duplicate.chart_number == "BRG01-1"
    visit = laptop.encounters.open(ana, {"chart_number": "BRG01-1", "reason": "Control"})
    laptop.encounters.set_diagnosis(ana, visit.number, {"code": "I10", "role": "principal"})
    laptop.encounters.finalize(ana, visit.number)
    copy_aggregates(laptop.app, central.app, [UUID(duplicate.patient_id), UUID(visit.encounter_id)])
    central.views.catch_up()
    return Duplicate(mission, visit.number)


@contextmanager
def counting_saves(brigada: Brigada) -> Iterator[list[int]]:
    """How many times the application saved (each save is one transaction)."""
    calls: list[int] = []
    original = brigada.app.save

    def save(*aggregates: Any, **kwargs: Any) -> Any:
        calls.append(len(aggregates))
        return original(*aggregates, **kwargs)

    brigada.app.save = save  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        brigada.app.save = original  # type: ignore[method-assign]


class TestOnAStore:
    """Central on SQLite and on PostgreSQL, BRG01's laptop on SQLite."""

    def test_duplicates_are_listed_and_merged_in_one_save(
        self, open_store: OpenStore, store_url: str, tmp_path: Path
    ) -> None:
        found = make_duplicate(start_mission(open_store, store_url, tmp_path, options=ENCOUNTER_OPTIONS))
        central, admin = found.central, found.mission.admin

        [group] = central.charts.duplicates(admin)
        assert (group.document_type, group.document_number) == ("CC", "98765432")
        assert [(r.chart_number, r.site) for r in group.charts] == [("BRG01-1", "BRG01"), ("CEN-2", "CEN")]

        # While BRG01 is on mission its visits are its own: central may not move them.
        before = head(central)
        with pytest.raises(OperationRefused) as leased:
            central.charts.merge(admin, keep="CEN-2", remove="BRG01-1")
        assert leased.value.template == LEASED_RULE
        assert head(central) == before + 1  # only the refusal's access record (issue 17)
        found.mission.set_mode(SiteMode.ON_SITE)  # the end-of-mission sync hands them back

        position = head(central)
        with counting_saves(central) as saves:
            result = central.charts.merge(admin, keep="cen-2", remove="brg01-1")
        assert (result.kept, result.removed, result.encounters_moved) == ("CEN-2", "BRG01-1", [found.visit])
        assert saves == [3]  # removed chart, kept chart and the visit: one transaction
        recorded = events_since(central, position)
        assert [type(e).__qualname__ for e in recorded] == [
            "Patient.MergedInto",
            "Patient.Absorbed",
            "Encounter.Reassigned",
        ]

        kept_id = UUID(central.patients.row("CEN-2").patient_id)
        row = central.charts.encounters.by_number(found.visit)
        assert row is not None
        visit = central.core.existing(Encounter, UUID(row.encounter_id))
        assert (visit.patient_id, visit.chart_number) == (kept_id, "CEN-2")
        full = central.charts.chart(admin, "CEN-2")
        assert [e.number for e in full.encounters] == [found.visit]
        assert [e.chart_number for e in full.encounters] == ["CEN-2"]
        assert full.absorbed == ["BRG01-1"]

        removed = central.patients.show(admin, "BRG01-1")
        assert removed.merged_into == "CEN-2"
        assert [r.chart_number for r in central.patients.search(admin, "pedro rios")] == ["CEN-2"]
        assert central.charts.duplicates(admin) == []
        assert central.charts.chart(admin, "BRG01-1").encounters == []
        with pytest.raises(ChartMerged):
            central.patients.correct(admin, "BRG01-1", {"middle_name": "Luis"})
        with pytest.raises(ChartMerged):
            central.contracts.add(
                admin,
                "BRG01-1",
                {
                    "payer_nit": "800197268",
                    "payer_name": "EPS",
                    "contract_number": "K1",
                    "regime": "contributivo",
                    "coverage_status": "02",
                    "payment_model": "evento",
                    "valid_from": "2026-01-01",
                },
            )
        with pytest.raises(ChartMerged):
            central.charts.merge(admin, keep="CEN-2", remove="BRG01-1")

        [rectify] = activity(central, admin, action="history.merge")
        assert rectify.comment == "HISTNEW=CEN-2 HISTOLD=BRG01-1"
        assert action_label("history.merge") == "History - Rectify"  # "Historia - Rectificar" in Spanish
        [merged] = activity(central, admin, action="history.merged")
        assert merged.comment == "HIST=BRG01-1 HISTNEW=CEN-2"
        [duplicates, *_rest] = activity(central, admin, action="patient.duplicates")
        assert duplicates.comment == "RESULTADOS=1"


def test_merging_is_for_administrators_on_central(
    open_store: OpenStore, sqlite_url: str, tmp_path: Path
) -> None:
    found = make_duplicate(start_mission(open_store, sqlite_url, tmp_path, options=ENCOUNTER_OPTIONS))
    central, admin, laptop = found.central, found.mission.admin, found.mission.laptop

    with pytest.raises(CentralOnly) as on_laptop:
        laptop.charts.merge(found.mission.ana, keep="CEN-1", remove="BRG01-1")
    assert exit_code(on_laptop.value) == Exit.REFUSED
    clerk = add_user(central, admin, "beto", ["patient"], "montaña-verde-al-amanecer")
    with pytest.raises(AdministratorOnly):
        central.charts.merge(clerk, keep="CEN-2", remove="BRG01-1")
    with pytest.raises(InvalidValue):
        central.charts.merge(admin, keep="CEN-2", remove="cen-2")


def test_open_admissions_and_coming_appointments_hold_a_chart_back(
    open_store: OpenStore, sqlite_url: str, clock: FixedClock
) -> None:
    central, admin = start_central(open_store, sqlite_url)
    central.patients.register(admin, JOSE)
    central.patients.register(admin, MARIA)
    admission = central.admissions.admit(admin, {"chart_number": "CEN-2"})
    central.agendas.plan(
        admin, {"professional": "admin", "day": "2026-03-02", "start": "08:00", "end": "09:00"}
    )
    appointment = central.agendas.book(
        admin, {"professional": "admin", "day": "2026-03-02", "time": "08:00", "chart_number": "CEN-2"}
    )
    central.agendas.confirm(admin, appointment.number)

    with pytest.raises(ChartHasOpenItems) as held:
        central.charts.merge(admin, keep="CEN-1", remove="CEN-2")
    assert held.value.params["items"] == f"ING {admission.number}, CITA {appointment.number}"
    central.admissions.discharge(admin, admission.number, {"condition": "01"})
    with pytest.raises(ChartHasOpenItems):
        central.charts.merge(admin, keep="CEN-1", remove="CEN-2")

    clock.advance(days=2)  # the appointment's day has passed: it is history, not an open item
    central.charts.merge(admin, keep="CEN-1", remove="CEN-2")
    full = central.charts.chart(admin, "CEN-1")
    assert [a.number for a in full.appointments] == [appointment.number]  # the merged chart's too
    assert [a.number for a in full.admissions] == [admission.number]
    assert TODAY + timedelta(days=2) == central.core.clock.today()


# -- the commands -------------------------------------------------------------------------------
@pytest.mark.store
def test_duplicates_and_merge_commands_end_to_end(tmp_path: Path, clock: FixedClock) -> None:
    opened: list[Brigada] = []

    def open_store(url: str, *, create: bool = True) -> Brigada:
        opened.append(open_brigada(url, create=create, clock=clock, hasher=QuickArgon2Hasher()))
        return opened[-1]

    central_url = f"sqlite:///{tmp_path}/central.db"
    found = make_duplicate(start_mission(open_store, central_url, tmp_path, options=ENCOUNTER_OPTIONS))
    found.mission.set_mode(SiteMode.ON_SITE)
    for brigada in reversed(opened):
        brigada.close()

    run = Terminal(central_url)
    run.log_in("admin", ADMIN_PASSWORD)
    run.confirm_date()
    [group] = run.json("patient", "duplicates")
    assert [c["chart_number"] for c in group["charts"]] == ["BRG01-1", "CEN-2"]
    assert "98765432" in run("patient", "duplicates").stdout

    merged = run("patient", "merge", "--keep", "CEN-2", "--remove", "BRG01-1")
    assert "Chart BRG01-1 merged into chart CEN-2; visits moved: BRG01-1" in merged.stderr
    again = run("patient", "merge", "--keep", "CEN-2", "--remove", "BRG01-1", code=Exit.REFUSED)
    assert one_line(again) == "chart BRG01-1 was merged into chart CEN-2: use that chart"
    run("patient", "merge", "--keep", "CEN-2", "--remove", "CEN-404", code=Exit.NOT_FOUND)

    shown = run("patient", "show", "BRG01-1")
    assert "Chart BRG01-1 was merged into chart CEN-2: use that chart" in shown.stderr
    assert "Merged into" in shown.stdout
    assert run.json("patient", "show", "BRG01-1")["merged_into"] == "CEN-2"
    assert [p["chart_number"] for p in run.json("patient", "search", "Pedro")] == ["CEN-2"]
    full = run.json("patient", "chart", "CEN-2")
    assert full["absorbed"] == ["BRG01-1"]
    assert [e["number"] for e in full["encounters"]] == ["BRG01-1"]
    assert "Visits" in run("patient", "chart", "CEN-2").stdout
    assert run.json("patient", "duplicates") == []

    laptop = Terminal(f"sqlite:///{tmp_path}/brg01.db")
    laptop.log_in("ana", COORDINATOR_PASSWORD)
    refused = laptop("patient", "merge", "--keep", "CEN-1", "--remove", "BRG01-1", code=Exit.REFUSED)
    assert "central server" in one_line(refused)

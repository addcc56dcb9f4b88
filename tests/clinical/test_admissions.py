"""Admissions (seed 000): the Admission aggregate given / when / then, the use cases on real
stores, the laptop's rules (ambulatory only; emergency and inpatient refused by the sites
policy), and the commands end to end."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.system import FixedClock
from application.clinical.admissions import AdmissionNotFound
from application.errors import MenuDenied
from application.replication import copy_aggregates
from cli.exit_codes import Exit
from cli.main import exit_code
from domain.clinical.admission import (
    ADMISSION_OPERATIONS,
    CARE_OPERATIONS,
    Admission,
    AdmissionFacts,
    AdmissionKind,
    AdmissionNotUsable,
    AdmissionRequired,
    AlreadyAdmitted,
    AlreadyDischarged,
    DischargeCondition,
    care_admission,
)
from domain.clinical.patient import ChartMerged
from domain.context import recording
from domain.errors import InvalidValue
from domain.sites.site import SiteAction, SiteMode
from domain.sites.site_policy import (
    LEASED_RULE,
    NEVER_ON_LAPTOP_RULE,
    NOT_ENABLED_RULE,
    ON_SITE_RULE,
    Forbidden,
    OperationRefused,
)
from tests.support.cli import Terminal, one_line
from tests.support.clinical import OpenStore, activity, add_user, head, patient_options, start_mission
from tests.support.given_when_then import context, when
from tests.support.security import ADMIN_PASSWORD
from tests.support.sites import JOSE, MARIA, start_central

TODAY = date(2026, 3, 1)
JOSE_ID = uuid4()


def admitted(kind: AdmissionKind = AdmissionKind.AMBULATORY) -> Admission:
    with recording(context()):
        admission = Admission.admit("CEN-1", JOSE_ID, "CEN-1", kind, TODAY, "Deshidratación", [])
    admission.collect_events()
    return admission


# -- the aggregate ------------------------------------------------------------------------------
def test_admitting_records_the_patient_kind_date_and_reason() -> None:
    with recording(context()):
        admission = Admission.admit(
            "BRG01-3", JOSE_ID, "CEN-1", AdmissionKind.AMBULATORY, TODAY, "Dengue", []
        )
    [event] = admission.collect_events()

    assert isinstance(event, Admission.Admitted)
    assert (event.number, event.patient_id, event.chart_number) == ("BRG01-3", JOSE_ID, "CEN-1")
    assert (event.kind, event.admitted_on, event.reason) == (AdmissionKind.AMBULATORY, TODAY, "Dengue")
    assert admission.is_open


def test_one_open_admission_per_patient() -> None:
    with recording(context()), pytest.raises(AlreadyAdmitted) as refused:
        Admission.admit("CEN-2", JOSE_ID, "CEN-1", AdmissionKind.AMBULATORY, TODAY, "", ["CEN-1"])
    assert refused.value.params == {"chart_number": "CEN-1", "number": "CEN-1"}
    assert exit_code(refused.value) == Exit.REFUSED


def test_discharging_once_with_a_condition_not_before_the_admission() -> None:
    admission = admitted()

    with pytest.raises(InvalidValue) as too_early:
        when(admission, lambda a: a.discharge(date(2026, 2, 28), DischargeCondition.HOME))
    assert too_early.value.field == "discharged_on"
    [event] = when(admission, lambda a: a.discharge(date(2026, 3, 3), DischargeCondition.REFERRED))

    assert isinstance(event, Admission.Discharged)
    assert (event.discharged_on, event.condition) == (date(2026, 3, 3), DischargeCondition.REFERRED)
    assert not admission.is_open
    with pytest.raises(AlreadyDischarged):
        when(admission, lambda a: a.discharge(date(2026, 3, 4), DischargeCondition.HOME))


def test_each_kind_falls_under_its_rule_of_the_sites_policy() -> None:
    assert ADMISSION_OPERATIONS == {
        AdmissionKind.AMBULATORY: SiteAction.AMBULATORY_ADMISSIONS,
        AdmissionKind.EMERGENCY: Forbidden.EMERGENCY_ADMISSIONS,
        AdmissionKind.INPATIENT: Forbidden.INPATIENT_ADMISSIONS,
    }
    assert [c.value for c in DischargeCondition] == ["01", "02", "03", "04", "05", "06", "07"]


# -- the use cases on a store -------------------------------------------------------------------
class TestOnAStore:
    """Central on SQLite and on PostgreSQL: every kind of admission is allowed there."""

    def test_admit_discharge_and_list(self, open_store: OpenStore, store_url: str, clock: FixedClock) -> None:
        central, admin = start_central(open_store, store_url)
        central.patients.register(admin, JOSE)
        central.patients.register(admin, MARIA)

        first = central.admissions.admit(admin, {"chart_number": "cen-1", "reason": "Deshidratación"})
        assert (first.number, first.chart_number, first.kind, first.state, first.admitted_on) == (
            "CEN-1",
            "CEN-1",
            "ambulatory",
            "open",
            TODAY,
        )
        with pytest.raises(AlreadyAdmitted):
            central.admissions.admit(admin, {"chart_number": "CEN-1", "kind": "emergency"})
        clock.advance(minutes=5)
        second = central.admissions.admit(admin, {"chart_number": "CEN-2", "kind": "inpatient"})
        assert (second.number, second.kind) == ("CEN-2", "inpatient")
        assert [r.number for r in central.admissions.list(admin, only_open=True)] == ["CEN-2", "CEN-1"]

        discharged = central.admissions.discharge(admin, "CEN-1", {"condition": "01"})
        assert (discharged.state, discharged.discharged_on, discharged.condition) == (
            "discharged",
            TODAY,
            "01",
        )
        with pytest.raises(AlreadyDischarged):
            central.admissions.discharge(admin, "CEN-1", {"condition": "02"})
        with pytest.raises(AdmissionNotFound) as unknown:
            central.admissions.discharge(admin, "CEN-9", {"condition": "01"})
        assert exit_code(unknown.value) == Exit.NOT_FOUND
        with pytest.raises(InvalidValue) as invalid:
            central.admissions.discharge(
                admin, "CEN-2", {"condition": "08"}
            )  # a billing cut, not a discharge
        assert invalid.value.field == "condition"
        clock.advance(minutes=5)
        again = central.admissions.admit(admin, {"chart_number": "CEN-1", "kind": "emergency"})
        assert again.number == "CEN-3"
        assert [r.number for r in central.admissions.list(admin, only_open=True)] == ["CEN-3", "CEN-2"]
        assert [r.number for r in central.admissions.list(admin)] == ["CEN-3", "CEN-2", "CEN-1"]
        chart = central.charts.chart(admin, "CEN-1")
        assert [(a.number, a.state) for a in chart.admissions] == [("CEN-1", "discharged"), ("CEN-3", "open")]

        assert [r.comment for r in activity(central, admin, action="admission.admit")] == [
            "ING=CEN-1 HIST=CEN-1 TIPO=ambulatory",
            "ING=CEN-2 HIST=CEN-2 TIPO=inpatient",
            "ING=CEN-3 HIST=CEN-1 TIPO=emergency",
        ]
        [discharge] = activity(central, admin, action="admission.discharge")
        assert discharge.comment == "ING=CEN-1 HIST=CEN-1 EGRESO=01"
        assert "Deshidratación" not in " ".join(r.comment for r in activity(central, admin))
        assert [r.comment for r in activity(central, admin, action="admission.list")] == [
            "RESULTADOS=2",
            "RESULTADOS=2",
            "RESULTADOS=3",
        ]

    def test_a_user_needs_the_admission_options(self, open_store: OpenStore, store_url: str) -> None:
        central, admin = start_central(open_store, store_url)
        central.patients.register(admin, JOSE)
        nurse = add_user(central, admin, "beto", ["admission.admit"], "montaña-verde-al-amanecer")

        admitted_row = central.admissions.admit(nurse, {"chart_number": "CEN-1"})
        with pytest.raises(MenuDenied) as denied:
            central.admissions.discharge(nurse, admitted_row.number, {"condition": "01"})
        assert denied.value.params["option"] == "admission.discharge"
        with pytest.raises(MenuDenied):
            central.admissions.list(nurse)


def test_a_merged_chart_is_not_admitted(open_store: OpenStore, sqlite_url: str) -> None:
    central, admin = start_central(open_store, sqlite_url)
    central.patients.register(admin, JOSE)
    central.patients.register(admin, MARIA)
    central.charts.merge(admin, keep="CEN-1", remove="CEN-2")
    with pytest.raises(ChartMerged):
        central.admissions.admit(admin, {"chart_number": "CEN-2"})


# -- the laptop ---------------------------------------------------------------------------------
def test_a_laptop_admits_to_ambulatory_hospitalization_only(open_store: OpenStore, tmp_path: Path) -> None:
    mission = start_mission(open_store, f"sqlite:///{tmp_path}/central.db", tmp_path)
    laptop, ana = mission.laptop, mission.ana

    for kind, rule in (
        ("emergency", "emergency admissions"),
        ("inpatient", "non-ambulatory hospital admissions"),
    ):
        before = head(laptop)
        with pytest.raises(OperationRefused) as never:
            laptop.admissions.admit(ana, {"chart_number": "CEN-1", "kind": kind})
        assert never.value.template == NEVER_ON_LAPTOP_RULE
        assert never.value.params == {"operation": rule}
        assert exit_code(never.value) == Exit.REFUSED
        assert head(laptop) == before + 1  # nothing written but the refusal's access record
    row = laptop.admissions.admit(ana, {"chart_number": "CEN-1", "kind": "ambulatory"})
    assert (row.number, row.site) == ("BRG01-1", "BRG01")

    # Central holds the admission (as a sync brings it) but may not discharge it on mission.
    central, admin = mission.central, mission.admin
    copy_aggregates(laptop.app, central.app, [UUID(row.admission_id)])
    central.views.catch_up()
    with pytest.raises(OperationRefused) as leased:
        central.admissions.discharge(admin, "BRG01-1", {"condition": "01"})
    assert leased.value.template == LEASED_RULE

    mission.change_parameters(disable=["ambulatory-admissions"])
    with pytest.raises(OperationRefused) as not_enabled:
        laptop.admissions.discharge(ana, "BRG01-1", {"condition": "01"})
    assert not_enabled.value.template == NOT_ENABLED_RULE
    mission.change_parameters(enable=["ambulatory-admissions"])
    assert laptop.admissions.discharge(ana, "BRG01-1", {"condition": "04"}).condition == "04"
    mission.set_mode(SiteMode.ON_SITE)
    with pytest.raises(OperationRefused) as on_site:
        laptop.admissions.admit(ana, {"chart_number": "CEN-1"})
    assert on_site.value.template == ON_SITE_RULE
    assert [r.number for r in laptop.admissions.list(ana)] == ["BRG01-1"]  # reading is allowed


# -- the commands -------------------------------------------------------------------------------
@pytest.mark.store
def test_admission_commands_end_to_end(tmp_path: Path) -> None:
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run.log_in("admin", ADMIN_PASSWORD)
    run("patient", "register", *patient_options(JOSE))

    opened = run("admission", "admit", "--patient", "CEN-1", "--reason", "Deshidratación")
    assert "Admission CEN-1 opened for chart CEN-1" in opened.stderr
    assert "ambulatory hospitalization" in opened.stdout
    twice = run("admission", "admit", "--patient", "CEN-1", "--kind", "emergency", code=Exit.REFUSED)
    assert one_line(twice) == "chart CEN-1 already has open admission CEN-1: discharge it first"
    run("admission", "admit", "--patient", "CEN-1", "--kind", "surgery", code=Exit.INVALID)
    run("admission", "admit", "--patient", "CEN-404", code=Exit.NOT_FOUND)

    assert [a["number"] for a in run.json("admission", "list", "--open")] == ["CEN-1"]
    discharged = run.json("admission", "discharge", "cen-1", "--condition", "01")
    assert (discharged["state"], discharged["condition"]) == ("discharged", "01")
    run("admission", "discharge", "CEN-1", "--condition", "01", code=Exit.REFUSED)
    assert run.json("admission", "list", "--open") == []
    listed = run("admission", "list").stdout
    assert "CEN-1" in listed and "discharged" in listed


# -- care events hang from real admissions ------------------------------------------------------
def test_an_ambulatory_visit_needs_an_open_ambulatory_admission_of_the_patient_here(
    open_store: OpenStore, tmp_path: Path
) -> None:
    mission = start_mission(open_store, f"sqlite:///{tmp_path}/central.db", tmp_path, options=["encounter"])
    central, admin = mission.central, mission.admin
    central_admission = central.admissions.admit(admin, {"chart_number": "CEN-1", "kind": "inpatient"})
    central.admissions.discharge(admin, central_admission.number, {"condition": "01"})
    copy_aggregates(central.app, mission.laptop.app, [UUID(central_admission.admission_id)])
    laptop = Terminal(mission.laptop_url)
    laptop.log_in("ana", "lluvia-sobre-el-rio-cauca")
    laptop.confirm_date()
    laptop("patient", "register", *patient_options(MARIA))  # BRG01-1 on the laptop
    ambulatory = ("encounter", "open", "--patient", "CEN-1", "--kind", "ambulatory")
    before = head(mission.laptop)

    assert one_line(laptop(*ambulatory, "--admission", "NOEXISTE-999", code=Exit.NOT_FOUND)) == (
        "no admission with number NOEXISTE-999"
    )
    assert one_line(laptop(*ambulatory, "--admission", "CEN-1", code=Exit.REFUSED)) == (
        "A disconnected environment may never do this: non-ambulatory hospital care"
    )
    assert one_line(laptop(*ambulatory, code=Exit.REFUSED)) == (
        "an ambulatory-hospitalization visit needs an open ambulatory admission of chart CEN-1 at "
        "BRG01: admit the patient first"
    )
    assert head(mission.laptop) == before + 1  # nothing written but the refusal's access record
    maria = laptop.json("admission", "admit", "--patient", "BRG01-1")["number"]
    assert one_line(laptop(*ambulatory, "--admission", maria, code=Exit.REFUSED)) == (
        f"admission {maria} is not an open ambulatory admission of chart CEN-1 at BRG01"
    )
    jose = laptop.json("admission", "admit", "--patient", "CEN-1")["number"]

    named = laptop.json(*ambulatory, "--admission", jose.lower())
    found = laptop.json(*ambulatory)  # the patient's open ambulatory admission here
    encounters = mission.laptop.encounters
    assert [encounters._load(v["number"]).admission for v in (named, found)] == [jose, jose]

    laptop("admission", "discharge", jose, "--condition", "01")
    assert one_line(laptop(*ambulatory, "--admission", jose, code=Exit.REFUSED)) == (
        f"admission {jose} is not an open ambulatory admission of chart CEN-1 at BRG01"
    )


def test_a_finalized_visit_takes_no_new_orders_but_takes_addenda(
    open_store: OpenStore, tmp_path: Path
) -> None:
    mission = start_mission(
        open_store,
        f"sqlite:///{tmp_path}/central.db",
        tmp_path,
        options=["encounter", "prescription", "order", "diagnostic"],
    )
    laptop = Terminal(mission.laptop_url)
    laptop.log_in("ana", "lluvia-sobre-el-rio-cauca")
    laptop.confirm_date()
    visit = laptop.json("encounter", "open", "--patient", "CEN-1")["number"]
    laptop("encounter", "diagnosis", "add", visit, "--code", "J069")
    laptop("encounter", "finalize", visit)
    before = head(mission.laptop)

    for command, what in (
        (("prescription", "add", visit, "--item", "19943528-1", "--dose", "1", "--route", "oral",
          "--frequency", "c/8h", "--days", "3", "--quantity", "9"), "prescribing"),
        (("order", "add", visit, "--cups", "890301"), "ordering"),
        (("diagnostic", "request", visit, "--cups", "871121"), "requesting a diagnostic service"),
    ):  # fmt: skip
        refused = laptop(*command, code=Exit.REFUSED)
        assert one_line(refused) == f"visit {visit} is finalized: {what} is not possible"
    assert head(mission.laptop) == before
    laptop("encounter", "paragraph", "add", visit, "--name", "NOTA", "--text", "Addendum")


def facts(**changes: object) -> AdmissionFacts:
    base: dict[str, object] = dict(
        number="BRG01-1", patient_id=JOSE_ID, site="BRG01", kind=AdmissionKind.AMBULATORY, is_open=True
    )
    return AdmissionFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_a_care_event_hangs_from_an_open_ambulatory_admission_of_its_patient_at_its_site() -> None:
    assert care_admission(True, JOSE_ID, "CEN-1", "BRG01", facts()) == facts()
    assert care_admission(False, JOSE_ID, "CEN-1", "BRG01", None) is None
    with pytest.raises(AdmissionRequired):
        care_admission(True, JOSE_ID, "CEN-1", "BRG01", None)
    for wrong in (
        facts(is_open=False),
        facts(site="CEN"),
        facts(patient_id=uuid4()),
        facts(kind=AdmissionKind.INPATIENT),
    ):
        for ambulatory in (True, False):
            with pytest.raises(AdmissionNotUsable):
                care_admission(ambulatory, JOSE_ID, "CEN-1", "BRG01", wrong)
    assert CARE_OPERATIONS[AdmissionKind.EMERGENCY] is Forbidden.EMERGENCY_CARE
    assert CARE_OPERATIONS[AdmissionKind.INPATIENT] is Forbidden.INPATIENT_CARE

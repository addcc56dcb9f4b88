"""A patient's payer contracts (seed 000, "asignación de contratos"): the rules on the aggregate
(given / when / then), the use cases on real stores (SQLite and PostgreSQL), the laptop's rules,
and the commands end to end."""

from __future__ import annotations

from datetime import date
from operator import methodcaller
from pathlib import Path
from typing import Any

import pytest

from application.errors import MenuDenied
from cli.exit_codes import Exit
from cli.main import exit_code
from domain.clinical.patient import ChartMerged, Patient, PatientDetails, merge_charts
from domain.clinical.payer_contract import (
    ContractAlreadyEnded,
    ContractNotFound,
    OverlappingContract,
    PaymentModel,
    Regime,
    nit_check_digit,
    payer_nit,
)
from domain.errors import InvalidValue
from domain.sites.site import SiteMode
from domain.sites.site_policy import NOT_ENABLED_RULE, ON_SITE_RULE, OperationRefused
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone
from tests.support.cli import Terminal, one_line
from tests.support.clinical import OpenStore, activity, add_user, patient_options, start_mission
from tests.support.given_when_then import given, when
from tests.support.security import ADMIN_PASSWORD
from tests.support.sites import JOSE, start_central

D = date
EPS_SUR = "800197268"  # NIT with check digit 4
EPS_NORTE = "900123456"
NEW_YEAR = D(2026, 1, 1)


def details() -> PatientDetails:
    return PatientDetails(
        DocumentType.CC, "1032456789", "José", "", "Peña", "", D(1980, 5, 2), Sex.MALE, "05001", Zone.URBAN,
        CoverageStatus.SUBSIDIZED,
    )  # fmt: skip


def patient() -> Patient:
    return Patient.register("CEN-1", details(), today=D(2026, 3, 1))


def contract(
    nit: str = EPS_SUR,
    regime: Regime = Regime.SUBSIDIZED,
    coverage: CoverageStatus = CoverageStatus.SUBSIDIZED,
    valid_from: date = NEW_YEAR,
    valid_to: date | None = None,
) -> Any:
    return lambda p: p.assign_contract(
        nit, "EPS del Sur", "K-2026-01", regime, coverage, PaymentModel.FEE_FOR_SERVICE, valid_from, valid_to
    )


# -- the aggregate ------------------------------------------------------------------------------
def test_assigning_a_contract_records_every_field_and_numbers_it() -> None:
    chart = given(patient)

    [event] = when(chart, contract(valid_to=D(2026, 12, 31)))

    assert isinstance(event, Patient.ContractAssigned)
    assert (event.contract_id, event.payer_nit, event.payer_name, event.contract_number) == (
        "C1",
        EPS_SUR,
        "EPS del Sur",
        "K-2026-01",
    )
    assert (event.regime, event.coverage_status, event.payment_model) == (
        Regime.SUBSIDIZED,
        CoverageStatus.SUBSIDIZED,
        PaymentModel.FEE_FOR_SERVICE,
    )
    assert (event.valid_from, event.valid_to) == (D(2026, 1, 1), D(2026, 12, 31))
    [second] = when(chart, contract(EPS_NORTE))
    assert second.contract_id == "C2"
    assert chart.contracts["C1"].covers(D(2026, 6, 1)) and not chart.contracts["C1"].covers(D(2027, 1, 1))


@pytest.mark.parametrize(
    ("regime", "coverage"),
    [
        (Regime.SUBSIDIZED, CoverageStatus.CONTRIBUTORY_CONTRIBUTOR),
        (Regime.CONTRIBUTORY, CoverageStatus.SUBSIDIZED),
        (Regime.PRIVATE, CoverageStatus.UNINSURED),
    ],
)
def test_the_insurance_status_must_belong_to_the_regime(regime: Regime, coverage: CoverageStatus) -> None:
    chart = given(patient)

    with pytest.raises(InvalidValue) as refused:
        when(chart, contract(regime=regime, coverage=coverage))

    assert refused.value.field == "coverage_status"
    assert chart.contracts == {} and chart.collect_events() == []


def test_a_contract_cannot_end_before_it_starts() -> None:
    chart = given(patient)
    with pytest.raises(InvalidValue) as refused:
        when(chart, contract(valid_from=D(2026, 5, 1), valid_to=D(2026, 4, 30)))
    assert refused.value.field == "valid_to"


def test_two_contracts_with_one_payer_may_not_cover_the_same_day() -> None:
    chart = given(patient, contract(valid_from=D(2026, 1, 1), valid_to=D(2026, 6, 30)))

    for overlapping in (
        contract(valid_from=D(2026, 6, 30)),  # the last day of the first one
        contract(valid_from=D(2025, 1, 1), valid_to=D(2026, 1, 1)),
        contract(valid_from=D(2025, 1, 1)),  # open-ended, from before
    ):
        with pytest.raises(OverlappingContract) as refused:
            when(chart, overlapping)
        assert refused.value.params["contract_id"] == "C1"
        assert exit_code(refused.value) == Exit.REFUSED

    # The day after, or another payer at the same time, is fine.
    assert [e.contract_id for e in when(chart, contract(valid_from=D(2026, 7, 1)))] == ["C2"]
    assert [e.contract_id for e in when(chart, contract(EPS_NORTE, valid_from=D(2026, 3, 1)))] == ["C3"]


def test_ending_a_contract_frees_the_days_after_it() -> None:
    chart = given(patient, contract(valid_from=D(2026, 1, 1)))

    [event] = when(chart, lambda p: p.end_contract("c1", D(2026, 3, 31)))

    assert isinstance(event, Patient.ContractEnded)
    assert (event.contract_id, event.ended_on) == ("C1", D(2026, 3, 31))
    assert chart.contracts["C1"].last_day == D(2026, 3, 31)
    with pytest.raises(OverlappingContract):
        when(chart, contract(valid_from=D(2026, 3, 31)))
    assert [e.contract_id for e in when(chart, contract(valid_from=D(2026, 4, 1)))] == ["C2"]


def test_ending_is_refused_twice_for_unknown_contracts_and_outside_the_validity() -> None:
    chart = given(patient, contract(valid_from=D(2026, 1, 1), valid_to=D(2026, 6, 30)))

    with pytest.raises(ContractNotFound) as unknown:
        when(chart, lambda p: p.end_contract("C9", D(2026, 3, 1)))
    assert exit_code(unknown.value) == Exit.NOT_FOUND
    for outside in (D(2025, 12, 31), D(2026, 7, 1)):
        with pytest.raises(InvalidValue) as invalid:
            when(chart, methodcaller("end_contract", "C1", outside))
        assert invalid.value.field == "ended_on"
    when(chart, lambda p: p.end_contract("C1", D(2026, 2, 1)))
    with pytest.raises(ContractAlreadyEnded):
        when(chart, lambda p: p.end_contract("C1", D(2026, 2, 2)))


def test_a_merged_chart_takes_no_contracts() -> None:
    kept, removed = given(patient), given(patient)
    when(kept, lambda k: merge_charts(k, removed, []))
    removed.collect_events()

    with pytest.raises(ChartMerged):
        when(removed, contract())


def test_the_nit_check_digit_is_dians() -> None:
    assert nit_check_digit("800197268") == "4"  # DIAN's own NIT
    assert nit_check_digit("899999034") == "1"
    assert payer_nit("800197268-4") == payer_nit("800197268") == "800197268"
    with pytest.raises(InvalidValue) as wrong:
        payer_nit("800197268-5")
    assert wrong.value.params == {"nit": "800197268", "expected": "4", "given": "5"}


# -- the use cases on a store -------------------------------------------------------------------
NEW_CONTRACT: dict[str, Any] = {
    "payer_nit": "800197268-4",
    "payer_name": "EPS del Sur",
    "contract_number": "K-2026-01",
    "regime": "subsidiado",
    "coverage_status": "04",
    "payment_model": "capitacion",
    "valid_from": "2026-01-01",
}


class TestOnAStore:
    """Central on SQLite and on PostgreSQL."""

    def test_assign_show_and_end(self, open_store: OpenStore, store_url: str) -> None:
        central, admin = start_central(open_store, store_url)
        central.patients.register(admin, JOSE)

        added = central.contracts.add(admin, "cen-1", NEW_CONTRACT)
        other = central.contracts.add(
            admin, "CEN-1", {**NEW_CONTRACT, "payer_nit": EPS_NORTE, "valid_to": "2026-02-28"}
        )

        assert (added.contract_id, added.payer_nit, added.payment_model, added.in_force) == (
            "C1",
            EPS_SUR,
            "capitacion",
            True,
        )
        assert (other.contract_id, other.in_force) == ("C2", False)  # it ended the day before today
        record = central.charts.record(admin, "CEN-1")
        assert [c.contract_id for c in record.contracts] == ["C1", "C2"]
        assert record.patient.version == 3  # registered, two contracts
        ended = central.contracts.end(admin, "CEN-1", "C1", {"ended_on": "2026-02-15"})
        assert (ended.ended_on, ended.in_force) == (D(2026, 2, 15), False)
        with pytest.raises(OverlappingContract):
            central.contracts.add(admin, "CEN-1", {**NEW_CONTRACT, "valid_from": "2026-02-15"})
        for bad, field in (
            ({"payer_nit": "8001"}, "payer_nit"),
            ({"payer_nit": "800197268-5"}, "payer_nit"),
            ({"regime": "gratis"}, "regime"),
            ({"payment_model": "pgp", "coverage_status": "12"}, "coverage_status"),
            ({"valid_from": "2026-13-01"}, "valid_from"),
            ({"contract_number": ""}, "contract_number"),
        ):
            with pytest.raises(InvalidValue) as invalid:
                central.contracts.add(admin, "CEN-1", {**NEW_CONTRACT, **bad})
            assert invalid.value.field == field

        rows = activity(central, admin, action="patient.contract")
        assert [r.comment for r in rows] == [
            f"HIST=CEN-1 CONTRATO=C1 NIT={EPS_SUR}",
            f"HIST=CEN-1 CONTRATO=C2 NIT={EPS_NORTE}",
        ]
        [end] = activity(central, admin, action="patient.contract-end")
        assert end.comment == "HIST=CEN-1 CONTRATO=C1"

    def test_a_user_needs_the_contract_options(self, open_store: OpenStore, store_url: str) -> None:
        central, admin = start_central(open_store, store_url)
        central.patients.register(admin, JOSE)
        clerk = add_user(central, admin, "beto", ["patient.show"], "montaña-verde-al-amanecer")

        with pytest.raises(MenuDenied) as denied:
            central.contracts.add(clerk, "CEN-1", NEW_CONTRACT)
        assert denied.value.params["option"] == "patient.contract.add"
        assert central.charts.record(clerk, "CEN-1").contracts == []


# -- the laptop ---------------------------------------------------------------------------------
def test_a_laptop_assigns_contracts_on_mission_only(open_store: OpenStore, tmp_path: Path) -> None:
    mission = start_mission(open_store, f"sqlite:///{tmp_path}/central.db", tmp_path)
    laptop, ana = mission.laptop, mission.ana

    assert laptop.contracts.add(ana, "CEN-1", NEW_CONTRACT).contract_id == "C1"
    mission.change_parameters(disable=["patients"])
    with pytest.raises(OperationRefused) as not_enabled:
        laptop.contracts.add(ana, "CEN-1", {**NEW_CONTRACT, "payer_nit": EPS_NORTE})
    assert not_enabled.value.template == NOT_ENABLED_RULE
    mission.change_parameters(enable=["patients"])
    mission.set_mode(SiteMode.ON_SITE)
    with pytest.raises(OperationRefused) as on_site:
        laptop.contracts.end(ana, "CEN-1", "C1", {"ended_on": "2026-03-01"})
    assert on_site.value.template == ON_SITE_RULE
    assert [c.ended_on for c in laptop.charts.record(ana, "CEN-1").contracts] == [None]


# -- the commands -------------------------------------------------------------------------------
@pytest.mark.store
def test_contract_commands_end_to_end(tmp_path: Path) -> None:
    run = Terminal(f"sqlite:///{tmp_path}/central.db")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run.log_in("admin", ADMIN_PASSWORD)
    run("patient", "register", *patient_options(JOSE))
    contract_args = [
        "--payer-nit", "800197268-4", "--payer-name", "EPS del Sur", "--contract", "K-2026-01",
        "--regime", "subsidiado", "--coverage", "04", "--payment-model", "evento", "--from", "2026-01-01",
    ]  # fmt: skip

    added = run("patient", "contract", "add", "CEN-1", *contract_args)
    assert "Contract C1 assigned to chart CEN-1" in added.stderr
    assert "EPS del Sur" in added.stdout
    again = run("patient", "contract", "add", "CEN-1", *contract_args, code=Exit.REFUSED)
    assert "already has contract C1 with payer 800197268" in one_line(again)
    bad = run("patient", "contract", "add", "CEN-1", *contract_args[:-1], "2026-02-30", code=Exit.INVALID)
    assert one_line(bad).startswith("--from:")
    wrong_regime = [*contract_args[:7], "contributivo", *contract_args[8:]]
    assert one_line(run("patient", "contract", "add", "CEN-1", *wrong_regime, code=Exit.INVALID)).startswith(
        "--coverage:"
    )

    ended = run.json("patient", "contract", "end", "CEN-1", "c1", "--on", "2026-12-31")
    assert (ended["contract_id"], ended["ended_on"]) == ("C1", "2026-12-31")
    run("patient", "contract", "end", "CEN-1", "C7", "--on", "2026-12-31", code=Exit.NOT_FOUND)

    shown = run.json("patient", "show", "CEN-1")
    assert shown["chart_number"] == "CEN-1" and shown["merged_into"] == ""
    assert [
        (c["contract_id"], c["payer_nit"], c["regime"], c["coverage_status"]) for c in shown["contracts"]
    ] == [("C1", "800197268", "subsidiado", "04")]
    text = run("patient", "show", "CEN-1").stdout
    assert "Payer contracts" in text and "K-2026-01" in text

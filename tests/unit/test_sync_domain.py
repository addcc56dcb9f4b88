"""The sync's rules without a store: which crossing a sync is, when it is refused, which
function an event belongs to, and which changes on both sides conflict."""

from __future__ import annotations

from typing import Any

import pytest

from domain.sites.site import SiteMode
from domain.sync.sync import (
    AdmissionsOpen,
    CrossingRefused,
    EncountersOpen,
    ModesDisagree,
    SyncCrossing,
    SyncFunction,
    VersionMismatch,
    function_of,
    overlap,
    plan_crossing,
    require_crossing,
)

INS, MSN = SiteMode.ON_SITE, SiteMode.ON_MISSION


def crossing(**changes: Any) -> SyncCrossing:
    situation: dict[str, Any] = {
        "server_version": "1.0",
        "laptop_version": "1.0",
        "open_visits": [],
        "open_admissions": [],
        "laptop_mode": MSN,
        "central_mode": MSN,
        "resuming": None,
    }
    return plan_crossing("BRG01", **{**situation, **changes})


def test_the_laptops_mode_gives_the_crossing() -> None:
    assert crossing() is SyncCrossing.END_OF_MISSION
    assert crossing(laptop_mode=INS, central_mode=INS) is SyncCrossing.START_OF_MISSION


def test_a_sync_cut_half_way_goes_on_with_its_own_crossing_even_though_the_modes_differ() -> None:
    resumed = crossing(laptop_mode=MSN, central_mode=INS, resuming=SyncCrossing.END_OF_MISSION)
    assert resumed is SyncCrossing.END_OF_MISSION


@pytest.mark.parametrize(
    ("changes", "refusal", "message"),
    [
        (
            {"server_version": "1.1"},
            VersionMismatch,
            "the server runs version 1.1, this laptop 1.0: install the same version on both and run"
            " 'brigada upgrade'",
        ),
        (
            {"open_visits": ["BRG01-4", "BRG01-7"]},
            EncountersOpen,
            "encounters not finalized at BRG01: BRG01-4, BRG01-7; finalize them before syncing",
        ),
        (
            {"open_admissions": ["BRG01-1"]},
            AdmissionsOpen,
            "admissions still open at BRG01: BRG01-1; discharge them before syncing",
        ),
        (
            {"central_mode": INS},
            ModesDisagree,
            "central holds site BRG01 in mode INS, this laptop in MSN: ask central to set it",
        ),
    ],
)
def test_the_seeds_conditions_refuse_the_sync(changes: dict[str, Any], refusal: type, message: str) -> None:
    with pytest.raises(refusal) as refused:
        crossing(**changes)
    assert str(refused.value) == message


def test_movements_go_with_what_was_done_and_everything_else_with_its_record() -> None:
    assert function_of("brigada.StockLot.Dispensed") is SyncFunction.DISPENSING
    assert function_of("brigada.SupplyRequest.Administered") is SyncFunction.ADMINISTRATION
    assert function_of("brigada.Prescription.Returned") is SyncFunction.RETURNS
    assert function_of("brigada.StockLot.Received") is SyncFunction.TRANSFERS
    assert function_of("brigada.Encounter.ParagraphAdded") is SyncFunction.ENCOUNTERS
    assert function_of("brigada.User.LoggedIn") is SyncFunction.SECURITY
    assert function_of("brigada.NumberSeries.Advanced") is SyncFunction.SECURITY


def test_fields_changed_on_both_sides_conflict_and_a_closed_record_conflicts_with_any_change() -> None:
    assert overlap(frozenset({"details.zone", "details.first_name"}), frozenset({"details.zone"})) == [
        "details.zone"
    ]
    assert overlap(frozenset({"details.zone"}), frozenset({"details.municipality"})) == []
    assert overlap(frozenset({"details.zone"}), frozenset({"*"})) == ["details.zone"]
    assert overlap(frozenset(), frozenset({"*"})) == []


@pytest.mark.parametrize(
    ("crossing", "mode", "returning", "allowed"),
    [
        (SyncCrossing.END_OF_MISSION, SiteMode.ON_MISSION, False, True),
        (SyncCrossing.START_OF_MISSION, SiteMode.ON_SITE, False, True),
        (SyncCrossing.END_OF_MISSION, SiteMode.ON_SITE, False, False),
        (SyncCrossing.START_OF_MISSION, SiteMode.ON_MISSION, False, False),
        (SyncCrossing.START_OF_MISSION, SiteMode.ON_SITE, True, False),
    ],
)
def test_central_allows_a_new_run_only_for_the_crossing_its_own_lease_calls_for(
    crossing: SyncCrossing, mode: SiteMode, returning: bool, allowed: bool
) -> None:
    if allowed:
        require_crossing("BRG01", crossing, mode, returning)
    else:
        with pytest.raises(CrossingRefused):
            require_crossing("BRG01", crossing, mode, returning)

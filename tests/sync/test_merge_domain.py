"""Given / when / then for central's merge decisions (domain/sync/merge.py), on decoded events and
without a store: what a lost laptop gets, when a re-applied change is a conflict and with which
values, what keeping central's side records again, and when a held event may be released."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from domain.base import BrigadaAggregate
from domain.clinical.patient import Patient
from domain.pharmacy.catalog import CatalogItem, ItemKind
from domain.pharmacy.stock_lot import StockLot, StockSource
from domain.security.user import User
from domain.sync.merge import (
    CannotApply,
    ReleaseOutOfOrder,
    applicable,
    central_changes,
    conflicting_fields,
    hold,
    holds_back,
    is_brigada_event,
    lost_laptop_verdicts,
    rebased,
    record_kind,
    record_reference,
    require_release_in_order,
    resolvable_topic,
    restored_central,
)
from domain.sync.quarantine import stored_state
from domain.sync.sync import WHOLE_RECORD
from domain.sync.sync_trust import Outcome, PushedEvent, TrustRule, Verdict
from tests.support.given_when_then import NOW, context, given, recorded, replayed, when

CHART = uuid.uuid4()


def corrected(version: int, site: str, **changes: Any) -> Patient.Corrected:
    """A correction of the chart's details as ``site`` recorded it."""
    # The event's own fields are dataclass fields the library's metaclass adds, unseen by mypy.
    fields: dict[str, Any] = {"context": context(site), "changes": changes}
    return Patient.Corrected(originator_id=CHART, originator_version=version, timestamp=NOW, **fields)


def merged_away(version: int) -> Patient.MergedInto:
    """Central closed the chart: it was a duplicate of another."""
    fields: dict[str, Any] = {
        "context": context("CEN"),
        "kept_patient_id": uuid.uuid4(),
        "kept_chart": "CEN-2",
    }
    return Patient.MergedInto(originator_id=CHART, originator_version=version, timestamp=NOW, **fields)


def pushed(position: int, event: Any) -> PushedEvent:
    return PushedEvent(
        position, event.originator_id, event.originator_version, type(event).TOPIC, event, event.context.site
    )


def lot(code: str = "A1") -> StockLot:
    return given(
        lambda: StockLot(warehouse="BRG01-FARMACIA", item="19943528-1", lot=code, expiry=date(2026, 12, 31)),
        lambda s: s.receive(10, StockSource.TRANSFER, "TRA CEN-1"),
    )


# -- a laptop replaced as lost -----------------------------------------------------------------------
def test_every_event_a_lost_laptop_pushes_is_held_for_a_person_naming_when_it_was_replaced() -> None:
    events = [pushed(7, corrected(2, "BRG01", phone="300")), pushed(8, corrected(3, "BRG01", phone="301"))]

    verdicts = lost_laptop_verdicts(events, date(2026, 2, 20))

    assert [(v.position, v.outcome, v.rule, v.detail) for v in verdicts] == [
        (7, Outcome.QUARANTINE, TrustRule.LOST_LAPTOP, {"date": "2026-02-20"}),
        (8, Outcome.QUARANTINE, TrustRule.LOST_LAPTOP, {"date": "2026-02-20"}),
    ]


def test_a_held_event_keeps_what_was_pushed_the_rule_that_held_it_and_who_recorded_it() -> None:
    event = corrected(2, "BRG01", phone="300")
    [verdict] = lost_laptop_verdicts([pushed(7, event)], date(2026, 2, 20))
    run = uuid.uuid4()

    held = recorded(lambda: hold("BRG01", run, "gen-1", pushed(7, event), b'{"raw": 1}', verdict))

    assert (held.site, held.run_id, held.generation, held.position) == ("BRG01", run, "gen-1", 7)
    assert (held.record_id, held.record_version, held.topic) == (CHART, 2, "brigada.Patient.Corrected")
    assert (held.rule, held.detail) == ("lost-laptop", {"date": "2026-02-20"})
    assert (held.user, held.event_id) == (event.context.user, event.context.event_id.hex)
    assert stored_state(held.state) == b'{"raw": 1}'


def test_an_undecodable_event_is_held_byte_for_byte_with_nobody_named() -> None:
    garbage = PushedEvent(9, CHART, 3, "brigada." + "X" * 300, None, "")
    verdict = Verdict(9, Outcome.QUARANTINE, rule=TrustRule.UNKNOWN_TOPIC)

    held = recorded(lambda: hold("BRG01", uuid.uuid4(), "gen-1", garbage, b"\xff\x00", verdict))

    assert (held.user, held.event_id, len(held.topic)) == ("", "", 200)
    assert stored_state(held.state) == b"\xff\x00"


def test_a_lost_laptops_held_event_holds_back_nothing_of_the_current_laptop_but_any_other_does() -> None:
    assert not holds_back(TrustRule.LOST_LAPTOP.value)
    assert all(holds_back(rule.value) for rule in TrustRule if rule is not TrustRule.LOST_LAPTOP)


# -- re-applying a change on central's newer copy ------------------------------------------------------
def test_the_changes_a_laptop_did_not_know_are_those_recorded_elsewhere() -> None:
    own, central, other_site = corrected(3, "BRG01"), corrected(4, "CEN"), corrected(5, "BRG02")

    assert central_changes([own, central, other_site], "BRG01") == [central, other_site]


def test_a_field_both_sides_changed_is_a_conflict_with_centrals_newest_value_and_the_sites() -> None:
    older, newer = corrected(3, "CEN", phone="310", address="Calle 1"), corrected(4, "CEN", phone="320")
    laptop = corrected(3, "BRG01", phone="399", zone="02")

    found = conflicting_fields(laptop, [older, newer])

    assert found is not None
    assert found.fields == ["details.phone"]
    assert found.central_values == {"details.phone": "320"}
    assert found.site_values == {"details.phone": "399"}
    assert found.central_events == [newer.context.event_id.hex]


def test_changes_to_different_fields_merge_without_a_conflict() -> None:
    assert conflicting_fields(corrected(3, "BRG01", zone="02"), [corrected(3, "CEN", phone="310")]) is None


def test_a_chart_central_closed_conflicts_with_every_field_the_laptop_changed() -> None:
    closed = merged_away(3)

    found = conflicting_fields(corrected(3, "BRG01", phone="399", zone="02"), [closed])

    assert found is not None
    assert found.fields == ["details.phone", "details.zone"]
    assert found.central_values == {"details.phone": "MergedInto", "details.zone": "MergedInto"}
    assert found.central_events == [closed.context.event_id.hex]


@for_all(
    st.sets(st.sampled_from(["phone", "address", "zone", "email"])),
    st.lists(st.sets(st.sampled_from(["phone", "address", "zone", "email"]), min_size=1), max_size=4),
)
def test_a_conflict_is_exactly_the_fields_both_sides_changed_each_valued_by_centrals_newest_change(
    laptop_fields: set[str], central_changes_fields: list[set[str]]
) -> None:
    laptop = corrected(3, "BRG01", **{f: f"site-{f}" for f in laptop_fields})
    theirs = [
        corrected(4 + i, "CEN", **{f: f"cen{i}-{f}" for f in fields})
        for i, fields in enumerate(central_changes_fields)
    ]

    found = conflicting_fields(laptop, theirs)

    both = sorted(f"details.{f}" for f in laptop_fields & set().union(*central_changes_fields))
    if not both:
        assert found is None
        return
    assert found is not None and found.fields == both
    for field in both:
        newest = max(
            i for i, fields in enumerate(central_changes_fields) if field.removeprefix("details.") in fields
        )
        assert found.central_values[field] == f"cen{newest}-{field.removeprefix('details.')}"
        assert found.site_values[field] == f"site-{field.removeprefix('details.')}"
    assert len(found.central_events) == len(set(found.central_events))


def test_a_re_applied_event_keeps_its_origin_at_its_new_version() -> None:
    laptop = corrected(3, "BRG01", phone="399")

    moved = rebased(laptop, 6)

    assert (moved.originator_version, moved.context, moved.changes) == (6, laptop.context, laptop.changes)


def test_a_conflict_names_the_chart_or_the_user_or_else_the_records_id() -> None:
    record = uuid.uuid4()
    user = recorded(lambda: User(username="ana", full_name="Ana Ruiz", is_admin=False, password_hash="x"))

    assert record_reference(type("Chart", (), {"chart_number": "CEN-9"})(), record) == "CEN-9"
    assert record_reference(user, record) == "ana"
    assert record_reference(None, record) == record.hex[:8]
    assert record_kind(corrected(2, "CEN")) == "Patient"


# -- keeping central's side ------------------------------------------------------------------------
def test_keeping_central_records_its_conflicting_changes_again_on_top_stamped_by_the_reviewer() -> None:
    registered_fix, central_fix, laptop_fix = corrected(2, "CEN"), corrected(3, "CEN", phone="320"), None
    laptop_fix = corrected(4, "BRG01", phone="399")
    reviewer = context("CEN")

    restored = restored_central(
        [registered_fix, central_fix, laptop_fix], [central_fix.context.event_id.hex], reviewer
    )

    [again] = restored
    assert (again.originator_version, again.changes) == (5, {"phone": "320"})
    assert again.context.user == reviewer.user and again.context.event_id != reviewer.event_id
    assert again.context.event_id != central_fix.context.event_id and again.timestamp == reviewer.recorded_at


def test_closing_the_record_is_never_recorded_again() -> None:
    closed = merged_away(3)

    assert (
        restored_central([corrected(2, "CEN"), closed], [closed.context.event_id.hex], context("CEN")) == []
    )


# -- releasing a held event --------------------------------------------------------------------------
def test_a_records_held_events_are_released_oldest_first() -> None:
    require_release_in_order("aaaaaaaa01", ["aaaaaaaa01", "bbbbbbbb02"])
    with pytest.raises(ReleaseOutOfOrder, match="aaaaaaaa"):
        require_release_in_order("bbbbbbbb02", ["aaaaaaaa01", "bbbbbbbb02"])


def test_a_held_creation_applies_on_a_record_central_does_not_have_stamped_with_the_reviewer() -> None:
    [added] = recorded(lambda: CatalogItem.add(ItemKind.SERVICE, "902210", "Hemograma")).collect_events()

    applied = applicable(added, 0, "admin2", lambda: pytest.fail("nothing to load"), "q1")

    assert applied.originator_version == 1 and applied.context.reviewer == "admin2"
    assert replayed([applied]).name == "Hemograma"


def test_a_held_change_applies_at_the_version_after_centrals_head() -> None:
    central = lot()
    laptop = lot()
    [received] = when(laptop, lambda s: s.receive(5, StockSource.TRANSFER, "TRA CEN-2"), site="BRG01")
    moved = rebased(received, 2)

    applied = applicable(moved, 2, "admin2", lambda: central, "q1")

    assert applied.originator_version == 3 and central.on_hand == 15
    assert applied.context.site == "BRG01" and applied.context.reviewer == "admin2"


def test_a_creation_on_an_existing_record_or_a_change_on_a_missing_one_cannot_be_applied() -> None:
    [added] = recorded(lambda: CatalogItem.add(ItemKind.SERVICE, "902210", "Hemograma")).collect_events()
    [received] = when(lot(), lambda s: s.receive(5, StockSource.TRANSFER, "TRA CEN-2"))

    with pytest.raises(CannotApply, match="q1"):
        applicable(added, 3, "admin2", lambda: None, "q1")
    with pytest.raises(CannotApply, match="q2"):
        applicable(received, 0, "admin2", lambda: None, "q2")
    with pytest.raises(CannotApply, match="q3"):
        applicable(None, 0, "admin2", lambda: None, "q3")


def test_a_held_change_that_does_not_fit_centrals_record_stays_held() -> None:
    [received] = when(lot(), lambda s: s.receive(5, StockSource.TRANSFER, "TRA CEN-2"))
    another = lot("B2")  # central's record is not the one the change was made on

    with pytest.raises(CannotApply):
        applicable(received, 2, "admin2", lambda: another, "q1")


# -- what central decodes ------------------------------------------------------------------------------
def test_only_brigadas_own_topics_are_resolved_and_only_as_the_event_they_name() -> None:
    event = corrected(2, "BRG01", phone="300")

    assert resolvable_topic("brigada.Patient.Corrected")
    assert not resolvable_topic("os:system") and not resolvable_topic("brigada.x:y")
    assert is_brigada_event(event, "brigada.Patient.Corrected")
    assert not is_brigada_event(event, "brigada.Patient.MergedInto")
    assert not is_brigada_event({"changes": {}}, "brigada.Patient.Corrected")
    assert isinstance(event, BrigadaAggregate.Event) and WHOLE_RECORD not in event.changes

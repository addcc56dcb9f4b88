"""The keyed chain (domain/chain.py), central's checkpoint of a laptop's chain
(domain/sync/checkpoint.py) and the quarantine of events central did not apply (domain/sync/quarantine.py),
without a store: links and keys, a chain verified whole or followed from a checkpoint, and a held
event released or rejected once."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.chain import GENESIS, ChainBreak, ChainedEvent, follow, link, site_key, site_of, verify
from domain.context import EventContext, recording
from domain.errors import InvalidValue
from domain.sync.checkpoint import ChainCheckpoint, checkpoint_id
from domain.sync.quarantine import (
    AlreadyDecided,
    HoldStatus,
    Quarantine,
    quarantine_id,
    shown_fields,
    state_text,
    stored_state,
)

KEY = site_key(b"central's master key", "BRG01", "key-1")
OTHER_KEY = site_key(b"someone else's key", "BRG01", "key-1")
TOPIC = "brigada.Patient.Corrected"
RECORD = uuid.uuid4().hex
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TODAY = date(2026, 3, 1)


def context(site: str = "CEN", user: str = "admin") -> EventContext:
    return EventContext(uuid.uuid4(), site, user, "pc", 7, NOW, TODAY)


def state(site: str, n: int, **fields: Any) -> bytes:
    """A stored state as the application writes it: compact JSON, the context first."""
    data = {
        "context": {"_type_": "ctx", "_data_": {"event_id": uuid.uuid4().hex, "site": site, "user": "ana"}},
        "n": n,
        **fields,
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def chained(
    sites: list[str], key: bytes = KEY, start: int = 1, heads: dict[str, str] | None = None
) -> list[Any]:
    """One event per entry of ``sites``, in log order from ``start``, each linked in its site's chain
    (from ``heads``, else the genesis) with ``key``."""
    last = dict(heads or {})
    events = []
    for position, site in enumerate(sites, start=start):
        previous = last.get(site, GENESIS)
        event_state = state(site, position)
        recorded = link(key, previous, site, RECORD, position, TOPIC, event_state)
        events.append(ChainedEvent(position, RECORD, position, TOPIC, event_state, site, previous, recorded))
        last[site] = recorded
    return events


# -- links and keys -----------------------------------------------------------------------------
def test_a_link_depends_on_the_key() -> None:
    inputs = (GENESIS, "BRG01", RECORD, 1, TOPIC, state("BRG01", 1))

    assert link(KEY, *inputs) == link(KEY, *inputs)
    assert link(KEY, *inputs) != link(OTHER_KEY, *inputs)


@pytest.mark.parametrize(
    "changed",
    [
        {"previous": "1" * 64},
        {"site": "BRG02"},
        {"originator_id": uuid.uuid4().hex},
        {"version": 2},
        {"topic": "brigada.Patient.Registered"},
        {"state": b"{}"},
    ],
)
def test_a_link_depends_on_every_part_of_the_event(changed: dict[str, Any]) -> None:
    parts: dict[str, Any] = {
        "previous": GENESIS,
        "site": "BRG01",
        "originator_id": RECORD,
        "version": 1,
        "topic": TOPIC,
        "state": b'{"n":1}',
    }

    assert link(KEY, **parts) != link(KEY, **{**parts, **changed})


def test_each_site_and_each_provisioning_of_it_has_its_own_key() -> None:
    master = b"central's master key"

    assert site_key(master, "BRG01", "key-1") == site_key(master, "BRG01", "key-1")
    assert site_key(master, "BRG01", "key-1") != site_key(master, "BRG02", "key-1")
    assert site_key(master, "BRG01", "key-1") != site_key(master, "BRG01", "key-2")
    assert site_key(master, "BRG01", "key-1") != site_key(b"another master", "BRG01", "key-1")
    assert len(site_key(master, "BRG01", "key-1")) == 32


def test_the_site_of_a_state_is_read_from_its_stamped_context() -> None:
    assert site_of(state("BRG01", 1)) == "BRG01"
    assert site_of(b'{"n":1}') == ""


# -- a store's chains verified whole ------------------------------------------------------------
def test_an_untouched_store_verifies() -> None:
    assert verify(chained(["BRG01", "CEN", "BRG01", "CEN"]), [], KEY) is None
    assert verify([], [], KEY) is None


def test_a_changed_event_breaks_the_chain_at_that_event() -> None:
    events = chained(["BRG01", "CEN", "BRG01"])
    events[2] = replace(events[2], state=state("BRG01", 99))

    assert verify(events, [], KEY) == ChainBreak(3, "BRG01", "changed")


def test_a_deleted_event_breaks_its_sites_chain_at_the_next_event() -> None:
    events = chained(["BRG01", "CEN", "BRG01", "BRG01"])
    del events[2]

    assert verify(events, [], KEY) == ChainBreak(4, "BRG01", "deleted")


def test_a_deleted_event_whose_link_is_left_behind_is_found_at_its_position() -> None:
    events = chained(["BRG01", "CEN", "BRG01"])
    del events[1]

    assert verify(events, [2], KEY) == ChainBreak(2, "", "deleted")


def test_the_last_event_deleted_is_found_by_its_link_left_behind() -> None:
    events = chained(["BRG01", "CEN"])

    assert verify(events[:1], [2], KEY) == ChainBreak(2, "", "deleted")


def test_an_inserted_event_without_a_link_breaks_the_chain_at_that_event() -> None:
    events = chained(["BRG01", "BRG01"])
    inserted = ChainedEvent(2, RECORD, 9, TOPIC, state("BRG01", 9), None, None, None)
    events = [events[0], inserted, replace(events[1], position=3)]

    assert verify(events, [], KEY) == ChainBreak(2, "BRG01", "inserted")


def test_a_chain_recomputed_with_another_key_is_changed_from_its_first_event() -> None:
    assert verify(chained(["BRG01", "CEN"], key=OTHER_KEY), [], KEY) == ChainBreak(1, "BRG01", "changed")


def test_an_event_moved_to_another_sites_chain_is_changed_in_the_chain_it_was_recorded_in() -> None:
    events = chained(["BRG01", "BRG01"])
    events[1] = replace(events[1], state=state("BRG02", 2))

    assert verify(events, [], KEY) == ChainBreak(2, "BRG01", "changed")


# -- a pushed run followed from central's checkpoint --------------------------------------------
def test_a_run_that_continues_from_the_checkpoint_reaches_its_last_link() -> None:
    log = chained(["BRG01"] * 5)
    checkpoint = log[1].recorded_link

    assert follow(log[2:], "BRG01", checkpoint, KEY) == (None, log[4].recorded_link)


def test_an_empty_run_stays_at_the_checkpoint() -> None:
    assert follow([], "BRG01", "a" * 64, KEY) == (None, "a" * 64)


def test_a_run_that_does_not_start_at_the_checkpoint_is_refused_as_deleted() -> None:
    log = chained(["BRG01"] * 5)
    checkpoint = log[1].recorded_link

    assert follow(log[3:], "BRG01", checkpoint, KEY) == (ChainBreak(4, "BRG01", "deleted"), checkpoint)


def test_a_run_rewritten_from_the_genesis_does_not_continue_the_checkpoint() -> None:
    log = chained(["BRG01"] * 3)
    rewritten = chained(["BRG01"] * 3, start=3)

    assert follow(rewritten, "BRG01", log[1].recorded_link, KEY)[0] == ChainBreak(3, "BRG01", "deleted")


def test_a_changed_event_in_a_run_is_refused_and_the_last_good_link_reached() -> None:
    log = chained(["BRG01"] * 5)
    log[3] = replace(log[3], topic="brigada.Patient.Registered")

    assert follow(log[2:], "BRG01", log[1].recorded_link, KEY) == (
        ChainBreak(4, "BRG01", "changed"),
        log[2].recorded_link,
    )


def test_an_event_with_no_link_in_a_run_is_refused_as_inserted() -> None:
    log = chained(["BRG01"] * 4)
    log[2] = replace(log[2], recorded_link=None)

    assert follow(log[1:], "BRG01", log[0].recorded_link, KEY)[0] == ChainBreak(3, "BRG01", "inserted")


def test_a_run_linked_with_another_sites_key_is_refused_as_changed() -> None:
    heads = {"BRG01": "c" * 64}
    run = chained(["BRG01"] * 2, key=site_key(b"central's master key", "BRG02", "key-1"), heads=heads)

    assert follow(run, "BRG01", "c" * 64, KEY)[0] == ChainBreak(1, "BRG01", "changed")


# -- central's checkpoint -----------------------------------------------------------------------
def opened_checkpoint(position: int = 10, chain_link: str = "a" * 64) -> ChainCheckpoint:
    with recording(context()):
        checkpoint = ChainCheckpoint(site="BRG01", generation="g1", position=position, link=chain_link)
    checkpoint.collect_events()
    return checkpoint


def test_a_checkpoint_is_one_per_site_and_generation() -> None:
    checkpoint = opened_checkpoint()

    assert checkpoint.id == checkpoint_id("BRG01", "g1")
    assert checkpoint_id("BRG01", "g1") != checkpoint_id("BRG01", "g2")
    assert checkpoint_id("BRG01", "g1") != checkpoint_id("BRG02", "g1")


def test_a_checkpoint_advances_to_a_later_position() -> None:
    checkpoint = opened_checkpoint()

    with recording(context()):
        checkpoint.advance(12, "b" * 64)

    [advanced] = checkpoint.collect_events()
    assert isinstance(advanced, ChainCheckpoint.Advanced)
    assert (advanced.position, advanced.link) == (12, "b" * 64)
    assert (checkpoint.position, checkpoint.link) == (12, "b" * 64)


@pytest.mark.parametrize("position", [10, 9, 0])
def test_a_checkpoint_never_moves_back_nor_takes_another_link_at_its_position(position: int) -> None:
    checkpoint = opened_checkpoint()

    with recording(context()):
        checkpoint.advance(position, "b" * 64)

    assert checkpoint.collect_events() == []
    assert (checkpoint.position, checkpoint.link) == (10, "a" * 64)


# -- the quarantine -----------------------------------------------------------------------------
def held_event(**changes: Any) -> Quarantine:
    fields: dict[str, Any] = {
        "site": "BRG01",
        "run_id": uuid.uuid4(),
        "generation": "g1",
        "position": 7,
        "record_id": uuid.uuid4(),
        "record_version": 2,
        "topic": "brigada.User.PasswordChanged",
        "state": state_text(state("BRG01", 7)),
        "rule": "changed-on-central",
        "detail": {},
        "user": "ana",
        "event_id": uuid.uuid4().hex,
    }
    with recording(context()):
        held = Quarantine(**{**fields, **changes})
    held.collect_events()
    return held


def decide(held: Quarantine, decision: str) -> list[Any]:
    with recording(context()):
        if decision == "release":
            held.release(applied_version=3)
        else:
            held.reject("a forged password change")
    return list(held.collect_events())


def test_a_held_event_is_one_per_position_of_a_laptops_log() -> None:
    held = held_event()

    assert held.id == quarantine_id("BRG01", "g1", 7)
    assert held.status is HoldStatus.HELD
    assert held.kind == "User.PasswordChanged"
    assert quarantine_id("BRG01", "g1", 7) != quarantine_id("BRG01", "g1", 8)
    assert quarantine_id("BRG01", "g1", 7) != quarantine_id("BRG01", "g2", 7)


def test_a_held_event_released_records_the_version_it_was_applied_as() -> None:
    held = held_event()

    [released] = decide(held, "release")

    assert isinstance(released, Quarantine.Released)
    assert released.applied_version == 3
    assert held.status is HoldStatus.RELEASED


def test_a_held_event_rejected_records_the_reason() -> None:
    held = held_event()

    with recording(context()):
        held.reject("  a forged password change  ")

    [rejected] = held.collect_events()
    assert isinstance(rejected, Quarantine.Rejected)
    assert rejected.reason == "a forged password change"
    assert held.status is HoldStatus.REJECTED


@pytest.mark.parametrize("first", ["release", "reject"])
@pytest.mark.parametrize("second", ["release", "reject"])
def test_a_held_event_is_decided_once(first: str, second: str) -> None:
    held = held_event()
    decide(held, first)

    with pytest.raises(AlreadyDecided) as refused:
        decide(held, second)

    status = HoldStatus.RELEASED if first == "release" else HoldStatus.REJECTED
    assert str(refused.value) == f"quarantined event {held.short_id} was already {status.value}"
    assert held.status is status
    assert held.collect_events() == []


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_rejection_needs_a_reason(reason: str) -> None:
    held = held_event()

    with pytest.raises(InvalidValue) as refused, recording(context()):
        held.reject(reason)

    assert refused.value.field == "reason"
    assert held.status is HoldStatus.HELD
    assert held.collect_events() == []


def test_a_pushed_state_is_kept_as_readable_text_when_it_is_utf8() -> None:
    assert state_text('{"name":"Peña"}'.encode()) == 'u:{"name":"Peña"}'
    assert state_text(b"\xff\xfe") == "x:fffe"


@given(st.binary())
@example(b"\xff\xfe\x00")
@example("u:Peña".encode("latin-1"))
def test_any_pushed_state_is_given_back_byte_for_byte(pushed: bytes) -> None:
    assert stored_state(state_text(pushed)) == pushed


@given(st.text())
def test_any_utf8_state_is_kept_as_text_and_given_back_byte_for_byte(text: str) -> None:
    pushed = text.encode("utf-8")

    assert state_text(pushed) == "u:" + text
    assert stored_state(state_text(pushed)) == pushed


def test_a_held_events_fields_spread_the_context_and_hide_secrets() -> None:
    pushed = state(
        "BRG01",
        7,
        password_hash="argon2$secret",
        secret="JBSWY3DPEHPK3PXP",
        unlock_key="k",
        token_hash="t",
        totp_secret="s",
        details={"zone": "rural"},
        set_on="2026-03-01",
    )

    shown = shown_fields(pushed)

    assert shown["context.site"] == "BRG01"
    assert shown["context.user"] == "ana"
    assert "context" not in shown
    for secret in ("password_hash", "secret", "unlock_key", "token_hash", "totp_secret"):
        assert shown[secret] == "••••"
    assert shown["n"] == "7"
    assert shown["details"] == '{"zone": "rural"}'
    assert shown["set_on"] == "2026-03-01"


def test_a_held_events_long_values_are_cut_short() -> None:
    shown = shown_fields(state("BRG01", 1, text="ñ" * 500))

    assert shown["text"] == "ñ" * 200


@pytest.mark.parametrize(
    ("pushed", "shown"),
    [
        (b"not json at all", {"state": "not json at all"}),
        (b"\xff\xfe{", {"state": "\ufffd\ufffd{"}),
        (b"[1, 2]", {"state": "[1, 2]"}),
        (b'"text"', {"state": "text"}),
    ],
)
def test_a_state_that_is_not_a_json_object_is_shown_whole(pushed: bytes, shown: dict[str, str]) -> None:
    assert shown_fields(pushed) == shown

"""Snapshots across the sync: each store's snapshots are its own (never copied, a rebuilt laptop
starts without any), and an aggregate snapshotted on central, then given the laptop's events by
the end-of-mission merge, loads as the replay of all its events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from application.app import SNAPSHOT_INTERVAL
from domain.numbering import series_id
from domain.security.user import User, user_id
from tests.support.inventory import NURSE
from tests.support.sites import JOSE
from tests.support.snapshots import loaded, snapshot_versions
from tests.support.sync import Field, on_mission, provisioned_field


@pytest.fixture
def field(open_store: Any, store_url: str, tmp_path: Path) -> Field:
    return provisioned_field(open_store, store_url, tmp_path)


def test_snapshots_stay_with_their_store_and_merged_events_load_after_them(field: Field) -> None:
    nurse_id, series = user_id(NURSE), series_id("BRG01", "HIST")
    for n in range(SNAPSHOT_INTERVAL + 10):  # central's own history of the nurse: snapshotted there
        with field.central.core.acting_as(field.admin.username):
            nurse = field.central.core.existing(User, nurse_id)
            nurse.update(full_name=f"Ana {n}")
            field.central.core.save(nurse, catch_up=False)
    assert snapshot_versions(field.central.app, nurse_id)

    on_mission(field)  # the laptop rebuilt from central: events copied, snapshots not
    assert snapshot_versions(field.laptop.app, nurse_id) == []
    nurse_actor = field.nurse()  # a login on the laptop: the nurse's next version
    for n in range(SNAPSHOT_INTERVAL + 5):
        field.laptop.patients.register(nurse_actor, {**JOSE, "document_number": str(70_000_000 + n)})
    assert snapshot_versions(field.laptop.app, series) == [SNAPSHOT_INTERVAL]
    on_laptop = loaded(field.laptop.app, series)

    field.sync()  # end of mission: the laptop's events merged into central

    merged_nurse = loaded(field.central.app, nurse_id)
    assert vars(merged_nurse) == vars(loaded(field.central.app, nurse_id, snapshots=False))
    assert merged_nurse.version > max(snapshot_versions(field.central.app, nurse_id))
    assert merged_nurse.sessions  # the laptop's login, after central's snapshot
    assert snapshot_versions(field.central.app, series) == []  # the laptop's stayed there
    on_central = loaded(field.central.app, series)
    assert (on_central.version, on_central.last) == (on_laptop.version, SNAPSHOT_INTERVAL + 5)
    assert vars(on_laptop) == vars(loaded(field.laptop.app, series, snapshots=False))

"""The sync screen's steps (seed 000): every function, in the seed's order, with the records it
moves and their events, read from (topic, record, events) rows of the laptop's log."""

from __future__ import annotations

import uuid

from domain.sync.sync import StepCount, SyncFunction, tally


def test_a_record_counts_once_however_many_events_it_has_and_every_step_is_shown() -> None:
    visit, patient, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    steps = tally(
        [
            ("brigada.Encounter.Opened", visit, 1),
            ("brigada.Encounter.DiagnosisSet", visit, 2),
            ("brigada.Encounter.Finalized", visit, 1),
            ("brigada.Patient.Registered", patient, 1),
            ("brigada.Patient.Registered", other, 1),
        ]
    )

    assert list(steps) == list(SyncFunction)
    assert steps[SyncFunction.ENCOUNTERS] == StepCount(records=1, events=4)
    assert steps[SyncFunction.PATIENTS] == StepCount(records=2, events=2)
    assert steps[SyncFunction.SURGERIES] == StepCount(0, 0)


def test_a_vouchers_slot_adds_its_events_but_is_no_record_of_its_own() -> None:
    voucher, slot = uuid.uuid4(), uuid.uuid4()

    steps = tally([("brigada.ServiceVoucher.Issued", voucher, 1), ("brigada.VoucherSlot.Opened", slot, 1)])

    assert steps[SyncFunction.VOUCHERS] == StepCount(records=1, events=2)

"""One voucher in force per visit, held in the event store itself.

A visit's voucher slot is an aggregate with a deterministic id per visit. Issuing a voucher
holds the slot and is saved with it in one transaction; voiding frees it. Two processes issuing
for the same visit at once both write the slot's next version: the store takes one and refuses
the other with a concurrency conflict, whatever the views said when each of them looked (the
same way domain/numbering.py keeps numbers unique and domain/clinical/agenda.py keeps a slot booked once).
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError


class AlreadyVouchered(DomainError):
    template = N_("visit {number} is already on voucher {voucher}: void it first to issue another")


class VoucherSlot(BrigadaAggregate):
    TOPIC = "brigada.VoucherSlot"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.VoucherSlot.Event"

    class Opened(BrigadaAggregate.Created):
        TOPIC = "brigada.VoucherSlot.Opened"
        encounter_id: UUID
        visit_number: str

    class Held(Event):
        TOPIC = "brigada.VoucherSlot.Held"
        voucher_number: str

    class Freed(Event):
        TOPIC = "brigada.VoucherSlot.Freed"
        voucher_number: str

    @staticmethod
    def create_id(encounter_id: UUID, visit_number: str) -> UUID:
        return voucher_slot_id(encounter_id)

    @event(Opened)
    def __init__(self, encounter_id: UUID, visit_number: str) -> None:
        self.encounter_id = encounter_id
        self.visit_number = visit_number
        self.voucher: str | None = None

    def hold(self, voucher_number: str) -> None:
        if self.voucher is not None:
            raise AlreadyVouchered(number=self.visit_number, voucher=self.voucher)
        self._hold(voucher_number=voucher_number)

    @event(Held)
    def _hold(self, voucher_number: str) -> None:
        self.voucher = voucher_number

    def free(self, voucher_number: str) -> None:
        """Only the voucher that holds the slot frees it (an older one, voided, changes nothing)."""
        if self.voucher == voucher_number:
            self._free(voucher_number=voucher_number)

    @event(Freed)
    def _free(self, voucher_number: str) -> None:
        self.voucher = None


def voucher_slot_id(encounter_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"brigada:voucher-slot:{encounter_id}")

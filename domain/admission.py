"""An admission (the seed's "ingreso"): a patient admitted to ambulatory hospitalization, to the
emergency service or as an inpatient, until discharged with a RIPS condition and destination.

A disconnected site admits to ambulatory hospitalization only; emergency and inpatient admissions
exist on central (seed 000). Which rule of the sites policy applies to each kind is named here.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue
from domain.site import SiteAction
from domain.site_policy import Forbidden, Operation


class AdmissionKind(Enum):
    AMBULATORY = "ambulatory"  # hospitalización ambulatoria
    EMERGENCY = "emergency"  # urgencias
    INPATIENT = "inpatient"  # hospitalización no ambulatoria


class DischargeCondition(Enum):
    """CondicionyDestinoUsuarioEgreso (08, "continues in the service", is a billing cut, not a
    discharge). Verify against the live SISPRO table before release."""

    HOME = "01"
    DEAD = "02"
    OTHER_SERVICE = "03"
    REFERRED = "04"
    COUNTER_REFERRED = "05"
    HOME_HOSPITALIZATION = "06"
    SOCIAL_SERVICE = "07"


ADMISSION_ENUMS: tuple[type[Enum], ...] = (AdmissionKind, DischargeCondition)

# The sites-policy rule each kind of admission (and its discharge) falls under.
ADMISSION_OPERATIONS: dict[AdmissionKind, Operation] = {
    AdmissionKind.AMBULATORY: SiteAction.AMBULATORY_ADMISSIONS,
    AdmissionKind.EMERGENCY: Forbidden.EMERGENCY_ADMISSIONS,
    AdmissionKind.INPATIENT: Forbidden.INPATIENT_ADMISSIONS,
}


class AlreadyAdmitted(DomainError):
    template = N_("chart {chart_number} already has open admission {number}: discharge it first")


class AlreadyDischarged(DomainError):
    template = N_("admission {number} was discharged on {discharged_on}")


class Admission(BrigadaAggregate):
    TOPIC = "brigada.Admission"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Admission.Event"

    class Admitted(BrigadaAggregate.Created):
        TOPIC = "brigada.Admission.Admitted"
        number: str
        patient_id: UUID
        chart_number: str
        kind: AdmissionKind
        admitted_on: date
        reason: str

    class Discharged(Event):
        TOPIC = "brigada.Admission.Discharged"
        discharged_on: date
        condition: DischargeCondition

    @event(Admitted)
    def __init__(
        self,
        number: str,
        patient_id: UUID,
        chart_number: str,
        kind: AdmissionKind,
        admitted_on: date,
        reason: str,
    ) -> None:
        self.number = number
        self.patient_id = patient_id
        self.chart_number = chart_number
        self.kind = kind
        self.admitted_on = admitted_on
        self.reason = reason
        self.discharged_on: date | None = None
        self.condition: DischargeCondition | None = None

    @classmethod
    def admit(
        cls,
        number: str,
        patient_id: UUID,
        chart_number: str,
        kind: AdmissionKind,
        today: date,
        reason: str,
        open_admissions: list[str],
    ) -> Admission:
        """``open_admissions`` are the patient's admissions not yet discharged: one at a time."""
        if open_admissions:
            raise AlreadyAdmitted(chart_number=chart_number, number=open_admissions[0])
        return cls(
            number=number,
            patient_id=patient_id,
            chart_number=chart_number,
            kind=kind,
            admitted_on=today,
            reason=reason,
        )

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None

    def discharge(self, today: date, condition: DischargeCondition) -> None:
        if self.discharged_on is not None:
            raise AlreadyDischarged(number=self.number, discharged_on=self.discharged_on.isoformat())
        if today < self.admitted_on:
            raise InvalidValue(
                "discharged_on",
                N_("admission {number} began on {admitted_on}: it cannot be discharged on {today}"),
                number=self.number,
                admitted_on=self.admitted_on.isoformat(),
                today=today.isoformat(),
            )
        self._discharge(discharged_on=today, condition=condition)

    @event(Discharged)
    def _discharge(self, discharged_on: date, condition: DischargeCondition) -> None:
        self.discharged_on = discharged_on
        self.condition = condition

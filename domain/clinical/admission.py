"""An admission (the seed's "ingreso"): a patient admitted to ambulatory hospitalization, to the
emergency service or as an inpatient, until discharged with a RIPS condition and destination.

A disconnected site admits to ambulatory hospitalization only; emergency and inpatient admissions
exist on central (seed 000). Which rule of the sites policy applies to each kind is named here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError, InvalidValue
from domain.sites.site import SiteAction
from domain.sites.site_policy import Forbidden, Operation


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


# The sites-policy rule for care given under each kind of admission (emergency and inpatient
# care, like those admissions, happen on central only).
CARE_OPERATIONS: dict[AdmissionKind, Operation] = {
    AdmissionKind.AMBULATORY: SiteAction.CARE,
    AdmissionKind.EMERGENCY: Forbidden.EMERGENCY_CARE,
    AdmissionKind.INPATIENT: Forbidden.INPATIENT_CARE,
}


class AdmissionRequired(DomainError):
    template = N_(
        "an ambulatory-hospitalization visit needs an open ambulatory admission of chart "
        "{chart_number} at {site}: admit the patient first"
    )


class AdmissionNotUsable(DomainError):
    template = N_("admission {number} is not an open ambulatory admission of chart {chart_number} at {site}")


@dataclass(frozen=True)
class AdmissionFacts:
    """What a care event checks of the admission it names (read from the admissions view)."""

    number: str
    patient_id: UUID
    site: str
    kind: AdmissionKind
    is_open: bool


def care_admission(
    ambulatory: bool, patient_id: UUID, chart_number: str, site: str, admission: AdmissionFacts | None
) -> AdmissionFacts | None:
    """The admission a visit opened at ``site`` hangs from: an ambulatory-hospitalization visit
    needs an open ambulatory admission of the same patient at the same site; a consultation may
    name one too, on the same conditions. (Which sites-policy rule care under each kind of
    admission falls under is CARE_OPERATIONS': the application asks it first.)"""
    if admission is None:
        if ambulatory:
            raise AdmissionRequired(chart_number=chart_number, site=site)
        return None
    if (
        not admission.is_open
        or admission.kind is not AdmissionKind.AMBULATORY
        or admission.patient_id != patient_id
        or admission.site != site
    ):
        raise AdmissionNotUsable(number=admission.number, chart_number=chart_number, site=site)
    return admission


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

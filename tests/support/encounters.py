"""Encounter stores: users made to order, a patient, a visit with one of everything
(the fixtures are in tests/encounters/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from application.brigada import Brigada
from application.context import Actor
from domain.security import menu
from domain.security.sections import Section
from projections.audit.activity_log import ActivityRow
from tests.support.security import log_in
from tests.support.sites import JOSE

MakeUser = Callable[..., Actor]  # the make_user fixture: (username, *, options, sections)

TREATMENT = "Acetaminofén 500 mg cada 8 horas, reposo relativo"
OBSERVATIONS = "Paciente refiere dolor nocturno; vive solo en la vereda"
DOCUMENT = b"%PDF-1.4 resultado de laboratorio: hemoglobina 13.2\n"
FORM = "JUSTIFICANTE DE ASISTENCIA A CONSULTA"


def password_of(username: str) -> str:
    """A passphrase any password policy of these tests accepts."""
    return "camina-lejos-por-la-vereda-verde-42"  # never contains a user name


def make_user_on(
    brigada: Brigada,
    admin: Actor,
    username: str,
    *,
    options: frozenset[str] = menu.EVERYTHING,
    sections: frozenset[Section] = frozenset(Section),
) -> Actor:
    """A non-administrator with these menu options and visit sections, logged in."""
    brigada.users.create(admin, {"username": username, "full_name": username.title()}, password_of(username))
    brigada.users.change_access(admin, username, sorted(options), sorted(menu.EVERYTHING - options))
    brigada.users.change_sections(
        admin, username, [s.value for s in sections], [s.value for s in set(Section) - set(sections)]
    )
    return log_in(brigada, username, password_of(username))


def register_patient(brigada: Brigada, admin: Actor, details: dict[str, Any] | None = None) -> str:
    return brigada.patients.register(admin, details or JOSE).chart_number


def event_count(brigada: Brigada) -> int:
    """How many events the store holds (its log's head)."""
    return brigada.app.recorder.max_notification_id() or 0


@dataclass(frozen=True)
class Visit:
    """A visit with one of everything: paragraph P1, service S1, a document, J069 + I10X."""

    number: str
    chart: str
    document_id: str


def full_visit(brigada: Brigada, actor: Actor, chart: str) -> Visit:
    encounters = brigada.encounters
    number = encounters.open(actor, {"chart_number": chart, "reason": "Fiebre y tos"}).number
    encounters.add_paragraph(actor, number, {"name": "TRATAMIENTO", "text": TREATMENT})
    encounters.add_service(actor, number, {"cups": "890201", "quantity": 1, "description": "Consulta"})
    encounters.set_observations(actor, number, OBSERVATIONS)
    document_id = encounters.attach_document(actor, number, "laboratorio.pdf", DOCUMENT, "application/pdf")
    encounters.set_diagnosis(actor, number, {"code": "J069", "role": "principal"})
    encounters.set_diagnosis(actor, number, {"code": "I10", "role": "related"})
    return Visit(number, chart, document_id)


def activity(brigada: Brigada, admin: Actor, **criteria: Any) -> list[ActivityRow]:
    """Activity-log rows matching the criteria, oldest first."""
    return list(reversed(brigada.audit.export_rows(admin, criteria)))

"""The 8 sections (tabs) of the visit screen (seed 004), granted per user.

A query or command that touches a section the user lacks is refused; the clinical chapter calls
``Access.require_section`` on every one of them.
"""

from __future__ import annotations

from enum import Enum

from domain.errors import N_, InvalidValue


class Section(Enum):
    DIARY = "diary"
    VISIT = "visit"
    REPORT = "report"
    SERVICES = "services"
    OBSERVATIONS = "observations"
    DOCUMENTS = "documents"
    FORMS = "forms"
    HISTORY = "history"


# English msgids for the seed's tab names (Diario de visitas, Visitas, Informe, Servicios,
# Observaciones, Documentos, Formularios, Historia clínica).
SECTION_LABELS: dict[Section, str] = {
    Section.DIARY: N_("Visit diary"),
    Section.VISIT: N_("Visits"),
    Section.REPORT: N_("Report"),
    Section.SERVICES: N_("Services"),
    Section.OBSERVATIONS: N_("Observations"),
    Section.DOCUMENTS: N_("Documents"),
    Section.FORMS: N_("Forms"),
    Section.HISTORY: N_("Clinical history"),
}

ALL_SECTIONS: frozenset[Section] = frozenset(Section)


def section(value: str | Section) -> Section:
    """The section named by its id (``report``), or InvalidValue listing them."""
    if isinstance(value, Section):
        return value
    try:
        return Section(value.strip().lower())
    except ValueError:
        raise InvalidValue(
            "section",
            N_("{section} is not a visit section; the sections are: {sections}"),
            section=value,
            sections=", ".join(s.value for s in Section),
        ) from None

"""The section matrix (seed 004, "Pestañas de la pantalla de visitas"): every command and query
that touches one of the 8 sections is refused to a user who has every menu option but lacks that
section (nothing is written), and works once the section is granted; `encounter show` omits
exactly the sections the user lacks and records the "Pestaña" accesses only for what it shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock, Host
from application.brigada import Brigada
from application.context import Actor
from application.errors import SectionDenied
from domain.access_log import HISTORY_TAB, REPORT_TAB
from domain.security.sections import Section
from tests.support.encounters import (
    DOCUMENT,
    FORM,
    TREATMENT,
    activity,
    event_count,
    make_user_on,
    register_patient,
)
from tests.support.hashing import QuickArgon2Hasher
from tests.support.output import unseen
from tests.support.sites import start_central


@dataclass
class World:
    central: Brigada
    admin: Actor
    chart: str
    full: Actor  # every option and every section
    lacking: dict[Section, Actor]  # every option, every section but one

    def prepared(self, needs: str = "") -> Prepared:
        """A fresh visit, made by the administrator, with what the command needs."""
        encounters, admin = self.central.encounters, self.admin
        number = encounters.open(admin, {"chart_number": self.chart}).number
        document = ""
        if "paragraph" in needs:
            encounters.add_paragraph(admin, number, {"name": "TRATAMIENTO", "text": TREATMENT})
        if "service" in needs:
            encounters.add_service(admin, number, {"cups": "890201"})
        if "document" in needs:
            document = encounters.attach_document(admin, number, "lab.pdf", DOCUMENT, "application/pdf")
        if "diagnosis" in needs:
            encounters.set_diagnosis(admin, number, {"code": "J069"})
        return Prepared(number, document, self.chart)


@dataclass(frozen=True)
class Prepared:
    number: str
    document: str
    chart: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp("sections")
    clock, host = FixedClock(datetime(2026, 3, 1, 12, tzinfo=UTC)), Host("pc", 7)
    opened: list[Brigada] = []

    def open_store(url: str) -> Brigada:
        brigada = open_brigada(url, create=True, clock=clock, host=host, hasher=QuickArgon2Hasher())
        opened.append(brigada)
        return brigada

    central, admin = start_central(open_store, f"sqlite:///{folder}/central.db")
    lacking = {
        s: make_user_on(central, admin, f"sin-{s.value}", sections=frozenset(Section) - {s}) for s in Section
    }
    full = make_user_on(central, admin, "todo")
    yield World(central, admin, register_patient(central, admin), full, lacking)
    for brigada in reversed(opened):
        brigada.close()


# -- every command and query, with the section it touches ---------------------------------------
Call = Callable[[Brigada, Actor, Prepared], Any]


@dataclass(frozen=True)
class Case:
    name: str
    section: Section
    call: Call
    needs: str = ""


CASES = [
    Case("diary", Section.DIARY, lambda b, a, v: b.encounters.diary(a)),
    Case("open", Section.VISIT, lambda b, a, v: b.encounters.open(a, {"chart_number": v.chart})),
    Case("show", Section.VISIT, lambda b, a, v: b.encounters.show(a, v.number)),
    Case(
        "change_visit_data",
        Section.VISIT,
        lambda b, a, v: b.encounters.change_visit_data(a, v.number, {"reason": "Control"}),
    ),
    Case("finalize", Section.VISIT, lambda b, a, v: b.encounters.finalize(a, v.number), "diagnosis"),
    Case("delete", Section.VISIT, lambda b, a, v: b.encounters.delete(a, v.number)),
    Case(
        "add_paragraph",
        Section.REPORT,
        lambda b, a, v: b.encounters.add_paragraph(a, v.number, {"name": "PLAN", "text": "Control"}),
    ),
    Case(
        "change_paragraph",
        Section.REPORT,
        lambda b, a, v: b.encounters.change_paragraph(a, v.number, "P1", "Reposo absoluto"),
        "paragraph",
    ),
    Case(
        "delete_paragraph",
        Section.REPORT,
        lambda b, a, v: b.encounters.delete_paragraph(a, v.number, "P1"),
        "paragraph",
    ),
    Case("report view", Section.REPORT, lambda b, a, v: b.encounters.report(a, v.number, "view", unseen)),
    Case("report print", Section.REPORT, lambda b, a, v: b.encounters.report(a, v.number, "print", unseen)),
    Case("report zip", Section.REPORT, lambda b, a, v: b.encounters.report(a, v.number, "zip", unseen)),
    Case(
        "paragraph view",
        Section.REPORT,
        lambda b, a, v: b.encounters.paragraph(a, v.number, "P1", "view", unseen),
        "paragraph",
    ),
    Case(
        "paragraph print",
        Section.REPORT,
        lambda b, a, v: b.encounters.paragraph(a, v.number, "P1", "print", unseen),
        "paragraph",
    ),
    Case(
        "add_service",
        Section.SERVICES,
        lambda b, a, v: b.encounters.add_service(a, v.number, {"cups": "890201"}),
    ),
    Case(
        "remove_service",
        Section.SERVICES,
        lambda b, a, v: b.encounters.remove_service(a, v.number, "S1"),
        "service",
    ),
    Case(
        "set_observations",
        Section.OBSERVATIONS,
        lambda b, a, v: b.encounters.set_observations(a, v.number, "Vive solo"),
    ),
    Case(
        "attach_document",
        Section.DOCUMENTS,
        lambda b, a, v: b.encounters.attach_document(a, v.number, "rx.png", b"png", "image/png"),
    ),
    Case(
        "delete_document",
        Section.DOCUMENTS,
        lambda b, a, v: b.encounters.delete_document(a, v.number, v.document),
        "document",
    ),
    Case(
        "document_content",
        Section.DOCUMENTS,
        lambda b, a, v: b.encounters.document_content(a, v.number, v.document, unseen),
        "document",
    ),
    Case("report zip", Section.DOCUMENTS, lambda b, a, v: b.encounters.report(a, v.number, "zip", unseen)),
    Case(
        "report zip documents",
        Section.DOCUMENTS,
        lambda b, a, v: b.encounters.documents_of(a, v.number),
        "document",
    ),
    Case("form", Section.FORMS, lambda b, a, v: b.encounters.form(a, v.number, FORM, unseen)),
    Case(
        "set_diagnosis",
        Section.HISTORY,
        lambda b, a, v: b.encounters.set_diagnosis(a, v.number, {"code": "J069"}),
    ),
    Case(
        "remove_diagnosis",
        Section.HISTORY,
        lambda b, a, v: b.encounters.remove_diagnosis(a, v.number, "J069"),
        "diagnosis",
    ),
    Case(
        "history view",
        Section.HISTORY,
        lambda b, a, v: b.encounters.history(a, v.number, "DIAGNOSTICOS", "view", unseen),
    ),
    Case(
        "history print",
        Section.HISTORY,
        lambda b, a, v: b.encounters.history(a, v.number, "DIAGNOSTICOS", "print", unseen),
    ),
]


def test_the_matrix_covers_the_eight_sections() -> None:
    assert {case.section for case in CASES} == set(Section)


def granted_elsewhere(world: World, case: Case) -> Actor:
    """A user with every option who lacks some section this command does not touch (report zip
    touches two), so has the touched one granted."""
    touched = {c.section for c in CASES if c.name == case.name}
    others = [s for s in Section if s not in touched and s is not Section.VISIT]
    return world.lacking[others[len(case.name) % len(others)]]


@pytest.mark.store
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.section.value}-{c.name}")
def test_without_the_section_refused_and_nothing_written_with_it_allowed(world: World, case: Case) -> None:
    visit = world.prepared(case.needs)
    before = event_count(world.central)

    with pytest.raises(SectionDenied) as denied:
        case.call(world.central, world.lacking[case.section], visit)

    assert denied.value.params["section"] == case.section.value
    assert event_count(world.central) == before + 1  # only the refused attempt's access record
    case.call(world.central, granted_elsewhere(world, case), visit)


@pytest.mark.store
def test_granting_a_section_opens_it_and_revoking_closes_it_on_the_next_command(world: World) -> None:
    """The issue's example: without "observaciones" a user neither reads nor writes them."""
    visit = world.prepared()
    user = make_user_on(
        world.central, world.admin, "sin-obs", sections=frozenset(Section) - {Section.OBSERVATIONS}
    )
    assert world.central.encounters.show(user, visit.number).observations is None
    with pytest.raises(SectionDenied):
        world.central.encounters.set_observations(user, visit.number, "Vive solo")

    world.central.users.change_sections(world.admin, "sin-obs", ["observations"], [])
    world.central.encounters.set_observations(user, visit.number, "Vive solo")
    assert world.central.encounters.show(user, visit.number).observations == "Vive solo"

    world.central.users.change_sections(world.admin, "sin-obs", [], ["observations"])
    with pytest.raises(SectionDenied):
        world.central.encounters.set_observations(user, visit.number, "Otra")
    assert world.central.encounters.show(user, visit.number).observations is None


# -- encounter show -----------------------------------------------------------------------------
SHOWN_AS = {
    Section.REPORT: "paragraphs",
    Section.SERVICES: "services",
    Section.OBSERVATIONS: "observations",
    Section.DOCUMENTS: "documents",
    Section.HISTORY: "diagnoses",
}
VIEW_FIELDS = ["visit_data", *SHOWN_AS.values()]


def tabs_recorded(world: World, number: str) -> list[str]:
    """The "Pestaña" accesses recorded for this visit: report.tab first, then history.tab."""
    return [
        row.action
        for action in (REPORT_TAB, HISTORY_TAB)
        for row in activity(world.central, world.admin, action=action, texts=[f"VISITA={number}"])
        if row.comment.split()[1] == f"VISITA={number}"
    ]


@pytest.mark.store
@pytest.mark.parametrize("lacks", [s for s in Section if s is not Section.VISIT], ids=lambda s: s.value)
def test_show_omits_exactly_the_sections_the_user_lacks(world: World, lacks: Section) -> None:
    visit = world.prepared("paragraph service document diagnosis")

    view = world.central.encounters.show(world.lacking[lacks], visit.number)

    hidden = [name for name in VIEW_FIELDS if getattr(view, name) is None]
    assert hidden == ([SHOWN_AS[lacks]] if lacks in SHOWN_AS else [])
    expected_tabs = [
        tab for tab, s in ((REPORT_TAB, Section.REPORT), (HISTORY_TAB, Section.HISTORY)) if s != lacks
    ]
    assert tabs_recorded(world, visit.number) == expected_tabs


@pytest.mark.store
def test_show_for_the_seeds_secretary_hides_all_medical_information(world: World) -> None:
    """Seed 004: no Informe, Observaciones, Documentos or Historia Clínica for Julia Serrano."""
    julia = make_user_on(
        world.central,
        world.admin,
        "julia",
        sections=frozenset({Section.DIARY, Section.VISIT, Section.SERVICES, Section.FORMS}),
    )
    visit = world.prepared("paragraph service document diagnosis")

    view = world.central.encounters.show(julia, visit.number)

    assert (view.paragraphs, view.observations, view.documents, view.diagnoses) == (None, None, None, None)
    assert view.visit_data is not None and [s.label for s in view.services or []] == ["890201"]
    assert tabs_recorded(world, visit.number) == []
    full = world.central.encounters.show(world.full, visit.number)
    assert all(getattr(full, name) is not None for name in VIEW_FIELDS)
    assert tabs_recorded(world, visit.number) == [REPORT_TAB, HISTORY_TAB]


@pytest.mark.store
def test_show_needs_the_visit_section(world: World) -> None:
    visit = world.prepared()
    before = event_count(world.central)

    with pytest.raises(SectionDenied):
        world.central.encounters.show(world.lacking[Section.VISIT], visit.number)

    assert event_count(world.central) == before + 1  # only the refused attempt's access record

"""Every audited action of the visit screen appears in the activity log with the seed's comment
(seed 004, "Lista de acciones"): HIST and VISITA, then INF=, HC=, PAR= or FORM=; its Spanish
display name is the seed's; and no clinical text ever reaches the log."""

from __future__ import annotations

import gettext
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock, Host
from application.brigada import Brigada
from application.context import Actor
from cli import i18n
from cli.i18n import _, set_language
from projections.audit.activity_log import ActivityRow, action_label
from tests.support.encounters import (
    DOCUMENT,
    FORM,
    OBSERVATIONS,
    TREATMENT,
    activity,
    make_user_on,
    password_of,
)
from tests.support.hashing import QuickArgon2Hasher
from tests.support.output import unseen
from tests.support.security import ADMIN_PASSWORD, log_in
from tests.support.sites import JOSE, start_central

CHANGED_TEXT = "Ibuprofeno 400 mg si persiste el dolor torácico"
PLAN_TEXT = "Control en ocho días con radiografía de tórax"
REASON = "Dolor torácico opresivo desde anoche"


@dataclass
class Log:
    central: Brigada
    admin: Actor
    url: str
    chart: str
    number: str
    rows: list[ActivityRow]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    """One visit through every audited action, by a doctor who is not an administrator."""
    folder: Path = tmp_path_factory.mktemp("audit")
    clock, host = FixedClock(datetime(2026, 3, 1, 12, tzinfo=UTC)), Host("consultorio-2", 61)
    opened: list[Brigada] = []

    def open_store(url: str) -> Brigada:
        brigada = open_brigada(url, create=True, clock=clock, host=host, hasher=QuickArgon2Hasher())
        opened.append(brigada)
        return brigada

    url = f"sqlite:///{folder}/central.db"
    central, admin = start_central(open_store, url)
    doctor = make_user_on(central, admin, "medico")
    chart = central.patients.register(admin, JOSE).chart_number
    visits = central.encounters
    number = visits.open(doctor, {"chart_number": chart, "reason": "Fiebre"}).number
    visits.change_visit_data(doctor, number, {"reason": REASON})
    visits.add_paragraph(doctor, number, {"name": "tratamiento", "text": TREATMENT})
    visits.add_paragraph(doctor, number, {"name": "PLAN", "text": PLAN_TEXT})
    visits.change_paragraph(doctor, number, "P1", CHANGED_TEXT)
    visits.add_service(doctor, number, {"cups": "890201", "description": "Consulta de primera vez"})
    visits.set_observations(doctor, number, OBSERVATIONS)
    document = visits.attach_document(doctor, number, "laboratorio.pdf", DOCUMENT, "application/pdf")
    visits.document_content(doctor, number, document, unseen)
    visits.set_diagnosis(doctor, number, {"code": "R074"})
    visits.set_diagnosis(doctor, number, {"code": "I10", "role": "related"})
    visits.show(doctor, number)
    for how in ("view", "print", "zip"):
        visits.report(doctor, number, how, unseen)
    for how in ("view", "print"):
        visits.history(doctor, number, "diagnosticos", how, unseen)
        visits.paragraph(doctor, number, "P1", how, unseen)
    visits.form(doctor, number, FORM.lower(), unseen)
    visits.delete_paragraph(doctor, number, "P1")
    visits.delete(doctor, number)
    yield Log(central, admin, url, chart, number, activity(central, admin))
    for brigada in reversed(opened):
        brigada.close()


def visit_fields(log: Log) -> str:
    return f"HIST={log.chart} VISITA={log.number}"


# action -> what follows HIST= VISITA= in its comment (seed 004's formats)
SEED_COMMENTS: dict[str, dict[str, str]] = {
    "report.view": {"INF": "IMPRESO BASICO"},
    "report.print": {"INF": "IMPRESO BASICO"},
    "report.zip": {"INF": "IMPRESO BASICO"},
    "report.tab": {},
    "history.view": {"HC": "DIAGNOSTICOS"},
    "history.print": {"HC": "DIAGNOSTICOS"},
    "history.tab": {"HC": "DIAGNOSTICOS"},
    "paragraph.view": {"PAR": "TRATAMIENTO"},
    "paragraph.print": {"PAR": "TRATAMIENTO"},
    "paragraph.delete": {"PAR": "TRATAMIENTO"},
    "form.print": {"FORM": "JUSTIFICANTE DE ASISTENCIA A CONSULTA"},
    "visit.delete": {},
}


@pytest.mark.store
@pytest.mark.parametrize(("action", "extra"), sorted(SEED_COMMENTS.items()))
def test_each_seed_action_is_logged_once_with_the_seeds_comment(
    log: Log, action: str, extra: dict[str, str]
) -> None:
    [row] = [row for row in log.rows if row.action == action]

    assert row.comment == " ".join([visit_fields(log), *(f"{k}={v}" for k, v in extra.items())])
    assert json.loads(row.fields) == {"HIST": log.chart, "VISITA": log.number, **extra}
    assert (row.user, row.computer, row.ip_octet, row.site) == ("medico", "consultorio-2", 61, "CEN")


@pytest.mark.store
def test_the_comments_follow_the_seed_examples(log: Log) -> None:
    """E.g. "HIST=61 VISITA=457 INF=IMPRESO BASICO": keys in capitals, values as the seed shows them."""
    seed_format = re.compile(r"^HIST=\S+ VISITA=\S+( (INF|HC|PAR|FORM)=[A-Z ]+)?$")
    for row in log.rows:
        if row.action in SEED_COMMENTS:
            assert seed_format.match(row.comment), row


@pytest.mark.store
def test_every_change_to_the_visit_is_logged_with_hist_and_visita(log: Log) -> None:
    visit_rows = [row for row in log.rows if row.comment.startswith(visit_fields(log))]
    actions = [row.action for row in visit_rows]

    for expected in (
        "visit.open",
        "visit.change",
        "paragraph.add",
        "paragraph.change",
        "service.add",
        "observations.change",
        "document.store",
        "document.attach",
        "document.view",
        "diagnosis.set",
    ):
        assert expected in actions
    assert actions[-2:] == ["paragraph.delete", "visit.delete"]
    assert "HIST=?" not in " ".join(row.comment for row in log.rows)


@pytest.mark.store
def test_no_clinical_text_ever_reaches_the_activity_log(log: Log) -> None:
    clinical = [TREATMENT, CHANGED_TEXT, PLAN_TEXT, OBSERVATIONS, REASON, DOCUMENT.decode()]
    personal = [JOSE["first_name"], JOSE["first_surname"], JOSE["document_number"]]
    words = {word for text in clinical for word in text.split() if len(word) > 6}
    for row in log.rows:
        for text in [*clinical, *personal, *words]:
            assert text not in row.comment, (row.action, text)
            assert text not in row.fields, (row.action, text)


@pytest.mark.store
def test_a_store_opened_again_names_the_visit_in_new_rows_and_rebuilds_the_same_log(log: Log) -> None:
    """The names in the comments come from the store, not from what one process remembers."""
    clock, host = FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)), Host("consultorio-2", 61)
    again = open_brigada(log.url, clock=clock, host=host, hasher=QuickArgon2Hasher())
    try:
        doctor = log_in(again, "medico", password_of("medico"))
        number = again.encounters.open(doctor, {"chart_number": log.chart}).number
        again.encounters.add_paragraph(doctor, number, {"name": "TRATAMIENTO", "text": "Reposo"})
        again.close()
        again = open_brigada(log.url, clock=clock, host=host, hasher=QuickArgon2Hasher())
        admin = log_in(again, "admin", ADMIN_PASSWORD)
        doctor = log_in(again, "medico", password_of("medico"))
        again.encounters.delete_paragraph(doctor, number, "P1")

        rows = activity(again, admin)
        assert rows[-1].action == "paragraph.delete"
        assert rows[-1].comment == f"HIST={log.chart} VISITA={number} PAR=TRATAMIENTO"

        again.read_models.rebuild(admin, "activity_log")
        rebuilt = activity(again, admin)
        assert [(r.position, r.action, r.comment, r.fields) for r in rebuilt] == [
            (r.position, r.action, r.comment, r.fields) for r in rows
        ]
    finally:
        again.close()


# -- display names ------------------------------------------------------------------------------
SEED_NAMES = {
    "report.view": "Informe - Ver",
    "report.print": "Informe - Imprimir",
    "report.zip": "Informe - Zip",
    "report.tab": "Informe - Pestaña",
    "history.view": "Historia Clínica - Ver",
    "history.print": "Historia Clínica - Imprimir",
    "history.tab": "Historia Clínica - Pestaña",
    "paragraph.view": "Párrafo - Ver",
    "paragraph.print": "Párrafo - Imprimir",
    "paragraph.delete": "Párrafo - Borrar",
    "form.print": "Formularios - Imprimir",
    "visit.delete": "Visita - Borrar",
}


def _translated(code: str) -> bool:
    spanish = gettext.translation(i18n.DOMAIN, i18n.LOCALE_DIR, languages=["es"], fallback=True)
    return spanish.gettext(action_label(code)) != action_label(code)


@pytest.fixture
def spanish() -> Iterator[None]:
    before = i18n.language()
    set_language("es")
    try:
        yield
    finally:
        set_language(before)


@pytest.mark.parametrize(
    ("code", "seed_name"),
    [
        pytest.param(
            code,
            name,
            marks=pytest.mark.xfail(
                not _translated(code),
                reason="the Spanish catalog lacks this action's name yet (another engineer is translating)",
                strict=False,
            ),
        )
        for code, name in sorted(SEED_NAMES.items())
    ],
)
def test_the_actions_show_the_seeds_spanish_names(spanish: None, code: str, seed_name: str) -> None:
    assert _(action_label(code)) == seed_name


def test_every_action_of_the_visit_screen_has_a_display_name() -> None:
    for code in SEED_NAMES:
        assert action_label(code) != code

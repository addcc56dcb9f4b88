"""brigada encounter ...: visits and their sections, finalizing, deleting, and printed outputs."""

from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from adapters.clinical.documents import write_zip
from application.clinical.encounters import Deliver, EncounterView, PrintedDocument
from cli.base import Command, group
from cli.env import Env, pass_env, plain
from cli.i18n import N_, _
from cli.options import json_option, out_option, pdf, pdf_to, write_out
from cli.text import visible
from domain.clinical.cie10 import rips_form, with_name
from projections.clinical.encounters import EncounterRow

Output = Callable[..., None]  # (env, mode, deliver, **arguments): a document viewed or printed

ROW_COLUMNS = [
    ("number", N_("Visit")),
    ("chart_number", N_("HIST")),
    ("visit_date", N_("Date")),
    ("kind", N_("Kind")),
    ("professional", N_("Professional")),
    ("principal_diagnosis", N_("Diagnosis")),
    ("state", N_("State")),
]
KIND_NAMES = {"outpatient": N_("outpatient consultation"), "ambulatory": N_("ambulatory hospitalization")}
STATE_NAMES = {"open": N_("open"), "finalized": N_("finalized"), "deleted": N_("deleted")}
VISIT_FIELD_NAMES = {
    "modality": N_("Care modality (RIPS)"),
    "purpose": N_("Purpose (RIPS)"),
    "cause": N_("External cause (RIPS)"),
    "reason": N_("Reason for the visit"),
}
LOCK_NAMES = {
    "delete_visit": N_("deleting the visit"),
    "change_visit_data": N_("changing the visit data"),
    "change_observations": N_("changing the observations"),
}


def displayed(row: EncounterRow) -> dict[str, Any]:
    """A diary row with its kind and state in the reader's language and its diagnosis named."""
    values = plain(row)
    values["kind"] = _(KIND_NAMES.get(row.kind, row.kind))
    values["state"] = _(STATE_NAMES.get(row.state, row.state))
    values["principal_diagnosis"] = with_name(row.principal_diagnosis)
    return values


def show_row(env: Env, row: EncounterRow, as_json: bool, message: str | None = None) -> None:
    if as_json:
        env.emit_json(row)
        return
    if message:
        env.say(message)
    env.table(_("Visits"), [(f, _(h)) for f, h in ROW_COLUMNS], [displayed(row)])


def visit_options(command: Any) -> Any:
    for name, help_text in reversed(
        [
            ("--modality", N_("RIPS care modality (04 = extramural health day).")),
            ("--purpose", N_("RIPS purpose code (e.g. 16 treatment).")),
            ("--cause", N_("RIPS external cause code (e.g. 38 general illness).")),
            ("--reason", N_("Reason for the visit.")),
        ]
    ):
        command = click.option(name, default=None, help=help_text)(command)
    return command


@group(help=N_("Visits: open, sections, finalize, delete, print."))
def encounter() -> None:
    pass


@encounter.command("open", cls=Command, help=N_("Open a visit for a patient (consultation or ambulatory)."))
@click.option("--patient", "chart_number", required=True, help=N_("Patient's chart number (HIST)."))
@click.option(
    "--kind",
    type=click.Choice(["outpatient", "ambulatory"]),
    default="outpatient",
    show_default=True,
    help=N_("Outpatient consultation or ambulatory hospitalization."),
)
@click.option("--appointment", help=N_("Appointment number, if any."))
@click.option("--admission", help=N_("Admission number (ambulatory hospitalization)."))
@visit_options
@json_option
@pass_env
def open_visit(env: Env, as_json: bool, **given: Any) -> None:
    actor = env.actor()
    row = env.brigada().encounters.open(actor, {k: v for k, v in given.items() if v is not None})
    show_row(env, row, as_json, _("Visit {number} opened").format(number=row.number))


@encounter.command("list", cls=Command, help=N_("The visit diary."))
@click.option("--date", "day", help=N_("Only this date (YYYY-MM-DD)."))
@click.option("--professional", help=N_("Only this professional."))
@json_option
@pass_env
def list_visits(env: Env, day: str | None, professional: str | None, as_json: bool) -> None:
    actor = env.actor()
    rows = env.brigada().encounters.diary(actor, day, professional)
    if as_json:
        env.emit_json(rows)
        return
    env.table(_("Visit diary"), [(f, _(h)) for f, h in ROW_COLUMNS], [displayed(r) for r in rows])


@encounter.command(
    "show", cls=Command, help=N_("Show a visit: only the sections you may see, and its locks.")
)
@click.argument("number")
@json_option
@pass_env
def show(env: Env, number: str, as_json: bool) -> None:
    actor = env.actor()
    view = env.brigada().encounters.show(actor, number)
    if as_json:
        env.emit_json(view)
        return
    render_view(env, view)


def render_view(env: Env, view: EncounterView) -> None:
    env.record(
        _("Visit {number}").format(number=view.number),
        [
            (_("HIST"), view.chart_number),
            (_("Patient"), view.patient_name),
            (_("Date"), view.visit_date),
            (_("Kind"), _(KIND_NAMES.get(view.kind, view.kind))),
            (_("Professional"), view.professional),
            (_("State"), _(STATE_NAMES.get(view.state, view.state))),
            *[(_(VISIT_FIELD_NAMES.get(k, k)), v) for k, v in (view.visit_data or {}).items()],
            (_("Observations"), view.observations if view.observations is not None else _("(hidden)")),
        ],
    )
    lock = "🔒 "
    for title, items in (
        (_("Report"), view.paragraphs),
        (_("Services"), view.services),
        (_("Documents"), view.documents),
        (_("Clinical history"), view.diagnoses),
    ):
        if items is None:
            env.say(_("{section}: hidden (no permission)").format(section=title))
            continue
        env.table(
            title,
            [("item", _("Id")), ("label", _("Name")), ("detail", _("Detail")), ("on", _("Date"))],
            [
                {
                    "item": (lock if i.locked else "") + i.item_id,
                    "label": i.label,
                    "detail": i.detail,
                    "on": i.on,
                }
                for i in items
            ],
        )
    if view.locks:
        env.say(
            lock + _("Locks in force: {locks}").format(locks=", ".join(_(LOCK_NAMES[x]) for x in view.locks))
        )


@encounter.command("visit", cls=Command, help=N_("Change the visit data."))
@click.argument("number")
@visit_options
@json_option
@pass_env
def change_visit(env: Env, number: str, as_json: bool, **given: Any) -> None:
    actor = env.actor()
    row = env.brigada().encounters.change_visit_data(
        actor, number, {k: v for k, v in given.items() if v is not None}
    )
    show_row(env, row, as_json)


# -- outputs -------------------------------------------------------------------------------------
def view_and_print(
    group: click.Group, view_help: str, print_help: str, *params: Callable[[Any], Any]
) -> Callable[[Output], Output]:
    """Two commands of ``group`` over one output: ``view`` (the text on the terminal) and
    ``print`` (a PDF file, ``--out``); ``params`` are the arguments and options both take."""

    def commands(output: Output) -> Output:
        def view(env: Env, **given: Any) -> None:
            output(env, "view", print_text, **given)

        def print_pdf(env: Env, out: Path | None, **given: Any) -> None:
            output(env, "print", pdf_to(env, out), **given)

        for name, help_text, callback in (("view", view_help, view), ("print", print_help, print_pdf)):
            command = pass_env(callback)
            command = out_option(command) if name == "print" else command
            for param in reversed(params):
                command = param(command)
            group.command(name, cls=Command, help=help_text)(command)
        return output

    return commands


def print_text(document: PrintedDocument) -> None:
    click.echo(document.title)
    for label, value in document.header:
        click.echo(f"{label}: {value}")
    for heading, text in document.body:
        click.echo("")
        if heading:
            click.echo(heading)
        click.echo(text)


# -- paragraphs --------------------------------------------------------------------------------
@encounter.group(
    "paragraph", cls=type(encounter), help=N_("Report paragraphs: add, edit, delete, view, print.")
)
def paragraph() -> None:
    pass


def text_of(text: str | None, text_file: Path | None) -> str:
    if text_file is not None:
        return text_file.read_text(encoding="utf-8")
    if text is None:
        raise click.UsageError(_("give --text or --text-file"))
    return text


@paragraph.command("add", cls=Command, help=N_("Add a paragraph (always allowed, even when locked)."))
@click.argument("number")
@click.option("--name", required=True, help=N_("Paragraph name, e.g. TRATAMIENTO."))
@click.option("--text", help=N_("The paragraph's text."))
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=N_("Read the text from a file."),
)
@pass_env
def paragraph_add(env: Env, number: str, name: str, text: str | None, text_file: Path | None) -> None:
    actor = env.actor()
    paragraph_id = env.brigada().encounters.add_paragraph(
        actor, number, {"name": name, "text": text_of(text, text_file)}
    )
    env.say(_("Paragraph {id} added").format(id=paragraph_id))


@paragraph.command("edit", cls=Command, help=N_("Change a paragraph's text."))
@click.argument("number")
@click.argument("paragraph_id")
@click.option("--text", help=N_("The paragraph's text."))
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=N_("Read the text from a file."),
)
@pass_env
def paragraph_edit(
    env: Env, number: str, paragraph_id: str, text: str | None, text_file: Path | None
) -> None:
    actor = env.actor()
    env.brigada().encounters.change_paragraph(actor, number, paragraph_id, text_of(text, text_file))
    env.say(_("Paragraph {id} changed").format(id=paragraph_id.upper()))


@paragraph.command("delete", cls=Command, help=N_("Delete a paragraph."))
@click.argument("number")
@click.argument("paragraph_id")
@pass_env
def paragraph_delete(env: Env, number: str, paragraph_id: str) -> None:
    actor = env.actor()
    env.brigada().encounters.delete_paragraph(actor, number, paragraph_id)
    env.say(_("Paragraph {id} deleted").format(id=paragraph_id.upper()))


@view_and_print(
    paragraph,
    N_("Show a paragraph."),
    N_("Print a paragraph to a PDF file."),
    click.argument("number"),
    click.argument("paragraph_id"),
)
def paragraph_output(env: Env, mode: str, deliver: Deliver, number: str, paragraph_id: str) -> None:
    actor = env.actor()
    env.brigada().encounters.paragraph(actor, number, paragraph_id, mode, deliver)


# -- services, observations, diagnoses ----------------------------------------------------------
@encounter.group("service", cls=type(encounter), help=N_("Services of the visit (they feed vouchers)."))
def service() -> None:
    pass


@service.command("add", cls=Command, help=N_("Add a service line (CUPS code and quantity)."))
@click.argument("number")
@click.option("--cups", required=True, help=N_("CUPS code (6 digits), e.g. 890201."))
@click.option("--quantity", default=1, show_default=True, type=int, help=N_("Quantity."))
@click.option("--description", default="", help=N_("Description."))
@pass_env
def service_add(env: Env, number: str, cups: str, quantity: int, description: str) -> None:
    actor = env.actor()
    data = {"cups": cups, "quantity": quantity, "description": description}
    line_id = env.brigada().encounters.add_service(actor, number, data)
    env.say(_("Service line {id} added").format(id=line_id))


@service.command("remove", cls=Command, help=N_("Remove a service line."))
@click.argument("number")
@click.argument("line_id")
@pass_env
def service_remove(env: Env, number: str, line_id: str) -> None:
    actor = env.actor()
    env.brigada().encounters.remove_service(actor, number, line_id)
    env.say(_("Service line {id} removed").format(id=line_id.upper()))


@encounter.command("observations", cls=Command, help=N_("Set the visit's observations."))
@click.argument("number")
@click.option("--text", required=True, help=N_("The observations."))
@pass_env
def observations(env: Env, number: str, text: str) -> None:
    actor = env.actor()
    env.brigada().encounters.set_observations(actor, number, text)
    env.say(_("Observations saved"))


@encounter.group("diagnosis", cls=type(encounter), help=N_("CIE-10 diagnoses of the visit."))
def diagnosis() -> None:
    pass


@diagnosis.command("add", cls=Command, help=N_("Set the principal diagnosis or add a related one."))
@click.argument("number")
@click.option("--code", required=True, help=N_("CIE-10 code, e.g. J069 or I10X."))
@click.option("--related", is_flag=True, help=N_("A related diagnosis (default: principal)."))
@click.option(
    "--type",
    "kind",
    type=click.Choice(["01", "02", "03"]),
    default="02",
    show_default=True,
    help=N_("01 impression, 02 confirmed new, 03 confirmed repeated."),
)
@pass_env
def diagnosis_add(env: Env, number: str, code: str, related: bool, kind: str) -> None:
    actor = env.actor()
    data = {"code": code, "role": "related" if related else "principal", "type": kind}
    saved = env.brigada().encounters.set_diagnosis(actor, number, data)
    env.say(_("Diagnosis {code} recorded").format(code=with_name(saved)))


@diagnosis.command("remove", cls=Command, help=N_("Remove a diagnosis."))
@click.argument("number")
@click.argument("code")
@pass_env
def diagnosis_remove(env: Env, number: str, code: str) -> None:
    actor = env.actor()
    env.brigada().encounters.remove_diagnosis(actor, number, code)
    env.say(_("Diagnosis {code} removed").format(code=with_name(rips_form(code))))


# -- documents -----------------------------------------------------------------------------------
@encounter.group("document", cls=type(encounter), help=N_("Documents attached to the visit."))
def document() -> None:
    pass


@document.command("attach", cls=Command, help=N_("Attach a file (kept in the store with its SHA-256)."))
@click.argument("number")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@pass_env
def document_attach(env: Env, number: str, file: Path) -> None:
    actor = env.actor()
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    document_id = env.brigada().encounters.attach_document(
        actor, number, file.name, file.read_bytes(), media_type
    )
    env.say(_("Document {id} attached").format(id=document_id[:8]))


@document.command("delete", cls=Command, help=N_("Delete a document (its events stay in the history)."))
@click.argument("number")
@click.argument("document_id")
@pass_env
def document_delete(env: Env, number: str, document_id: str) -> None:
    actor = env.actor()
    env.brigada().encounters.delete_document(actor, number, document_id)
    env.say(_("Document {id} deleted").format(id=document_id))


@document.command("get", cls=Command, help=N_("Write a document's content to a file."))
@click.argument("number")
@click.argument("document_id")
@out_option
@pass_env
def document_get(env: Env, number: str, document_id: str, out: Path | None) -> None:
    actor = env.actor()

    def write(filename: str, content: bytes) -> None:
        write_out(env, out or Path(Path(filename).name), lambda target: target.write_bytes(content))

    env.brigada().encounters.document_content(actor, number, document_id, write)


# -- closing -------------------------------------------------------------------------------------
@encounter.command("finalize", cls=Command, help=N_("Finalize the visit (needs a principal diagnosis)."))
@click.argument("number")
@json_option
@pass_env
def finalize(env: Env, number: str, as_json: bool) -> None:
    actor = env.actor()
    row = env.brigada().encounters.finalize(actor, number)
    show_row(env, row, as_json, _("Visit {number} finalized").format(number=row.number))


@encounter.command("delete", cls=Command, help=N_("Delete the visit (a void: its history stays)."))
@click.argument("number")
@click.option("--yes", is_flag=True, help=N_("Delete without asking for confirmation."))
@json_option
@pass_env
def delete(env: Env, number: str, yes: bool, as_json: bool) -> None:
    actor = env.actor()
    if not yes:  # not confirmed (or no terminal to ask): click.Abort, "Cancelled.", exit 1
        click.confirm(visible(_("Delete visit {number}?").format(number=number)), abort=True, err=True)
    row = env.brigada().encounters.delete(actor, number)
    show_row(env, row, as_json, _("Visit {number} deleted").format(number=row.number))


@encounter.group("report", cls=type(encounter), help=N_("The medical report: view, print, zip."))
def report() -> None:
    pass


@view_and_print(
    report, N_("Show the report."), N_("Print the report to a PDF file."), click.argument("number")
)
def report_output(env: Env, mode: str, deliver: Deliver, number: str) -> None:
    actor = env.actor()
    env.brigada().encounters.report(actor, number, mode, deliver)


@report.command("zip", cls=Command, help=N_("A zip with the report PDF and the visit's documents."))
@click.argument("number")
@out_option
@pass_env
def report_zip(env: Env, number: str, out: Path | None) -> None:
    actor = env.actor()
    encounters = env.brigada().encounters
    files = encounters.documents_of(actor, number)

    def zipped(target: Path, printed: PrintedDocument) -> None:
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / f"{printed.file_stem}.pdf"
            pdf(report, printed)
            write_zip(target, [(report.name, report.read_bytes()), *files])

    def write(printed: PrintedDocument) -> None:
        write_out(env, out or Path(f"{printed.file_stem}.zip"), lambda target: zipped(target, printed))

    encounters.report(actor, number, "zip", write)


@encounter.group("history", cls=type(encounter), help=N_("Clinical history views: view, print."))
def history() -> None:
    pass


@view_and_print(
    history,
    N_("Show a clinical history view (DIAGNOSTICOS, VISITAS)."),
    N_("Print a clinical history view to a PDF file."),
    click.argument("number"),
    click.option("--name", default="DIAGNOSTICOS", show_default=True, help=N_("History view name.")),
)
def history_output(env: Env, mode: str, deliver: Deliver, number: str, name: str) -> None:
    actor = env.actor()
    env.brigada().encounters.history(actor, number, name, mode, deliver)


@encounter.group("form", cls=type(encounter), help=N_("Forms printed from templates."))
def form() -> None:
    pass


@form.command("print", cls=Command, help=N_("Print a form for the visit to a PDF file."))
@click.argument("number")
@click.option(
    "--name", default="JUSTIFICANTE DE ASISTENCIA A CONSULTA", show_default=True, help=N_("Form name.")
)
@out_option
@pass_env
def form_print(env: Env, number: str, name: str, out: Path | None) -> None:
    actor = env.actor()
    env.brigada().encounters.form(actor, number, name, pdf_to(env, out))

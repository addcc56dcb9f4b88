"""Accesses that change nothing but must be accountable: views, prints, zips, exports, backups,
logins refused for unknown names. Each is one small aggregate, so recording never contends."""

from __future__ import annotations

import unicodedata

from eventsourcing.domain import event

from domain.base import BrigadaAggregate


class Access(BrigadaAggregate):
    TOPIC = "brigada.Access"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.Access.Event"

    class Recorded(BrigadaAggregate.Created):
        TOPIC = "brigada.Access.Recorded"
        action: str
        fields: dict[str, str]

    @event(Recorded)
    def __init__(self, action: str, fields: dict[str, str]) -> None:
        self.action = action
        self.fields = fields


# Access actions: codes (stable, stored) whose display names live in projections/audit/activity_log.py.
BACKUP = "backup"
AUDIT_EXPORT = "audit.export"
AUDIT_VERIFY = "audit.verify"
LOGIN_UNKNOWN_USER = "login.failed"  # shown as "Login incorrecto", like a wrong password
TRIED_NAME_LIMIT = 30


def tried_name(typed: str) -> str:
    """The name typed at a login that matched no user, as the log keeps it (issue 17: that is how
    an administrator sees guessing): without control or invisible characters, at most
    TRIED_NAME_LIMIT characters (a password typed in the name box is not kept whole)."""
    shown = "".join(
        c for c in unicodedata.normalize("NFC", typed) if unicodedata.category(c)[0] not in "CZ" or c == " "
    )
    return shown.strip()[:TRIED_NAME_LIMIT]


PATIENT_VIEW = "patient.view"
PATIENT_SEARCH = "patient.search"
PATIENT_DUPLICATES = "patient.duplicates"
AGENDA_VIEW = "agenda.view"
ADMISSION_LIST = "admission.list"
# The seed's visit-screen accesses (comment: HIST= VISITA= and INF= / HC= / PAR= / FORM=).
REPORT_TAB = "report.tab"
REPORT_VIEW = "report.view"
REPORT_PRINT = "report.print"
REPORT_ZIP = "report.zip"
HISTORY_TAB = "history.tab"
HISTORY_VIEW = "history.view"
HISTORY_PRINT = "history.print"
PARAGRAPH_VIEW = "paragraph.view"
PARAGRAPH_PRINT = "paragraph.print"
FORM_PRINT = "form.print"
DOCUMENT_VIEW = "document.view"
SYNC_AUTH_FAILED = "sync.auth-failed"  # central: a request to `brigada serve` that proved nothing
DIAGNOSTIC_VIEW = "diagnostic.view"  # reading a diagnostic result (comment AYD=, HIST=, VISITA=)
VOUCHER_PRINT = "voucher.print"  # the activity log's "Voucher - Print"
# A refused attempt by a logged-in user (issue 17): a menu option (OPCION=), a visit section
# (SECCION=), a time lock or the sites policy (REGLA=), so an administrator sees who tried what.
ACCESS_DENIED = "access.denied"
# A user confirmed the computer's date after a gap (domain/store_time.py): FECHA= ANTERIOR=.
DATE_CONFIRM = "date.confirm"

# What a laptop's staff may record as an access (domain/sync/sync_trust.py): any other action code in
# a pushed access record (one that names a change, or central's work) is never applied.
SITE_ACCESS_ACTIONS = frozenset(
    {
        BACKUP,
        LOGIN_UNKNOWN_USER,
        PATIENT_VIEW,
        PATIENT_SEARCH,
        PATIENT_DUPLICATES,
        AGENDA_VIEW,
        ADMISSION_LIST,
        REPORT_TAB,
        REPORT_VIEW,
        REPORT_PRINT,
        REPORT_ZIP,
        HISTORY_TAB,
        HISTORY_VIEW,
        HISTORY_PRINT,
        PARAGRAPH_VIEW,
        PARAGRAPH_PRINT,
        FORM_PRINT,
        DOCUMENT_VIEW,
        DIAGNOSTIC_VIEW,
        VOUCHER_PRINT,
        ACCESS_DENIED,
        DATE_CONFIRM,
    }
)

"""The activity log (seed 004, "Registro de actividad"): one row per event in the store.

Each row has the date and time (UTC), user, computer, last IP octet, site, an action and a comment.
Actions are stable codes; their display names are gettext msgids whose Spanish texts are the
seed's ("Login incorrecto", "Visita - Borrar", ...). The comment is kept both as the seed's string
(``HIST=61 VISITA=457``) and as structured fields (JSON). Passwords, tokens and clinical text
never enter it: comments carry identifiers and field names only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from domain.access_log import Access
from domain.billing.invoice import Invoice
from domain.billing.invoice_series import InvoiceSeries
from domain.billing.service_voucher import ServiceVoucher
from domain.billing.voucher_slot import VoucherSlot
from domain.clinical.admission import Admission
from domain.clinical.agenda import AgendaDay
from domain.clinical.encounter import Encounter, StoredDocument
from domain.clinical.patient import Patient
from domain.errors import N_
from domain.numbering import NumberSeries
from domain.pharmacy.catalog import CatalogItem
from domain.pharmacy.diagnostic_service import DiagnosticService
from domain.pharmacy.prescription import Prescription
from domain.pharmacy.price_list import PriceList
from domain.pharmacy.service_order import ServiceOrder
from domain.pharmacy.stock_lot import StockLot
from domain.pharmacy.supply_request import SupplyRequest
from domain.pharmacy.surgery import Surgery
from domain.pharmacy.warehouse import Warehouse
from domain.security.locks import LockPolicy
from domain.security.password_policy import PasswordPolicy
from domain.security.user import User
from domain.sites.site import Site
from domain.store_identity import StoreIdentity
from domain.sync.checkpoint import ChainCheckpoint
from domain.sync.quarantine import Quarantine, event_kind
from domain.sync.sync import SyncConflict, SyncRun
from domain.sync.sync_refusal import SyncRefusal
from projections.base import ByLogPosition, OtherViews, Projection, StoredEvent, event_type
from projections.billing.invoices import InvoiceSeriesProjection, InvoicesProjection
from projections.billing.vouchers import VouchersProjection
from projections.clinical.admissions import AdmissionsProjection
from projections.clinical.agenda import AgendaDaysProjection
from projections.clinical.encounters import EncountersProjection
from projections.clinical.patients import PatientsProjection
from projections.pharmacy.catalog import PriceListsProjection
from projections.pharmacy.orders import OrdersProjection
from projections.pharmacy.stock import StockProjection
from projections.security.users import UsersProjection
from projections.sites.sites import SitesProjection
from projections.sync.sync import QuarantineProjection


@dataclass(frozen=True)
class ActivityRow:
    position: int
    event_id: str
    recorded_at: str  # ISO 8601, UTC
    user: str
    computer: str
    ip_octet: int | None
    site: str
    action: str
    comment: str
    fields: str  # the comment's fields as JSON


Fields = Callable[[Any, "NameCache"], dict[str, str]]


@dataclass(frozen=True)
class Action:
    code: str
    label: str  # English msgid; the Spanish catalog holds the seed's name


def _no_fields(event: Any, names: NameCache) -> dict[str, str]:
    return {}


def _hist(event: Any, names: NameCache) -> dict[str, str]:
    return {"HIST": names.chart(event.originator_id)}


def _user(event: Any, names: NameCache) -> dict[str, str]:
    return {"USUARIO": names.user(event.originator_id)}


# Orders, pharmacy and inventory: a lot's identifiers, an order's number with HIST and VISITA,
# and a movement's reference ("TRA CEN-4" becomes TRA=CEN-4; a purchase document, DOC=).
REFERENCE_SERIES = ("TRA", "SOL", "FORM")


def _lot(event: Any, names: NameCache) -> dict[str, str]:
    return names.recall(
        event.originator_id, StockProjection, {"BODEGA": "warehouse", "ITEM": "item", "LOTE": "lot"}
    )


def _movement(event: Any, names: NameCache) -> dict[str, str]:
    series, _space, number = event.reference.partition(" ")
    if series in REFERENCE_SERIES and number:
        reference = {series: number}
    else:
        reference = {"DOC": event.reference.replace(" ", "_")} if event.reference else {}
    return {**_lot(event, names), "CANT": str(event.quantity), **reference}


def _ordered(series: str) -> Fields:
    def fields(event: Any, names: NameCache) -> dict[str, str]:
        found = {series: event.number, "HIST": event.chart_number, "VISITA": event.visit_number}
        return names.learn(event.originator_id, found)

    return fields


def _order(series: str) -> Fields:
    def fields(event: Any, names: NameCache) -> dict[str, str]:
        wanted = {series: "number", "HIST": "chart_number", "VISITA": "visit_number"}
        return names.recall(event.originator_id, OrdersProjection, wanted)

    return fields


def _chain(series: str) -> Fields:
    def fields(event: Any, names: NameCache) -> dict[str, str]:
        lot = {"ITEM": event.item, "BODEGA": event.warehouse, "LOTE": event.lot, "CANT": str(event.quantity)}
        return {**_order(series)(event, names), **lot}

    return fields


def _voucher(event: Any, names: NameCache) -> dict[str, str]:
    return names.recall(event.originator_id, VouchersProjection, {"VISITA": "visit_number", "VOL": "number"})


def _slot(event: Any, names: NameCache) -> dict[str, str]:
    # A slot's visit is its voucher's: the vouchers view answers when the slot's opening was not seen.
    voucher = {"number": event.voucher_number}
    visit = names.recall(event.originator_id, VouchersProjection, {"VISITA": "visit_number"}, voucher)
    return {**visit, "VOL": event.voucher_number}


def _quarantined(event: Any, names: NameCache) -> dict[str, str]:
    held = names.recall(event.originator_id, QuarantineProjection, {"SEDE": "site", "TIPO": "kind"})
    return {"SEDE": held["SEDE"], "EVENTO": event.originator_id.hex[:8], "TIPO": held["TIPO"]}


# topic -> (action, how to build its comment). Seed actions keep the seed's names and formats.
def _rectified(event: Any, invoice: dict[str, str]) -> dict[str, str]:
    # The invoices view keeps the visits space-separated; the log, comma-separated.
    visits = ",".join(invoice["VISITA"].split())
    return {"VISITA": visits, "FRA": event.note_number, "RECTIFICA": invoice["FRA"]}


ACTIONS: dict[str, tuple[Action, Fields]] = {
    StoreIdentity.Established.TOPIC: (
        Action("store.create", N_("Store - Create")),
        lambda e, n: {"SEDE": e.site_code},
    ),
    User.Created.TOPIC: (
        Action("user.create", N_("User - Create")),
        lambda e, n: n.learn(e.originator_id, {"USUARIO": e.username}),
    ),
    User.LoggedIn.TOPIC: (Action("login", N_("Login")), _no_fields),
    User.LoginFailed.TOPIC: (Action("login.failed", N_("Incorrect login")), _no_fields),
    # An authentic unlock code typed after its expiry: a refused login, the code spent for good.
    User.UnlockCodeExpired.TOPIC: (
        Action("login.failed", N_("Incorrect login")),
        lambda e, n: {"MOTIVO": "unlock-code-expired"},
    ),
    User.LoggedOut.TOPIC: (Action("logout", N_("Logout")), _no_fields),
    # A session a rule closed: shown as a logout, the rule in the comment (MOTIVO=12-hours...).
    User.SessionClosed.TOPIC: (Action("logout", N_("Logout")), lambda e, n: {"MOTIVO": e.reason}),
    User.Updated.TOPIC: (Action("user.update", N_("User - Update")), _user),
    User.Deactivated.TOPIC: (Action("user.deactivate", N_("User - Deactivate")), _user),
    User.Reactivated.TOPIC: (Action("user.reactivate", N_("User - Reactivate")), _user),
    User.PasswordChanged.TOPIC: (
        Action("user.password", N_("User - Change password")),
        lambda e, n: {**_user(e, n), "FORZAR_CAMBIO": "SI" if e.must_change else "NO"},
    ),
    User.Locked.TOPIC: (Action("user.lock", N_("User - Lock")), _user),
    User.Unlocked.TOPIC: (
        Action("user.unlock", N_("User - Unlock")),
        lambda e, n: {**_user(e, n), "CODIGO": "SI" if e.code_digest else "NO"},
    ),
    User.MenuChanged.TOPIC: (
        Action("user.menu", N_("User - Menu access")),
        lambda e, n: {**_user(e, n), "OPCIONES": str(len(e.options))},
    ),
    User.SectionsChanged.TOPIC: (
        Action("user.sections", N_("User - Visit sections")),
        lambda e, n: {**_user(e, n), "PESTANAS": ",".join(sorted(e.sections))},
    ),
    User.UnlockKeySet.TOPIC: (Action("user.unlock-key", N_("User - Unlock key")), _user),
    User.UnlockCodeIssued.TOPIC: (
        Action("user.unlock-code", N_("User - Unlock code issued")),
        lambda e, n: {**_user(e, n), "SEDE": e.site},
    ),
    User.TotpEnrolled.TOPIC: (Action("user.totp-enrol", N_("User - Second factor on")), _user),
    User.TotpRemoved.TOPIC: (Action("user.totp-remove", N_("User - Second factor off")), _user),
    User.SecondFactorUsed.TOPIC: (Action("user.totp-used", N_("User - Second factor used")), _user),
    PasswordPolicy.Started.TOPIC: (Action("policy.start", N_("Password policy - Start")), _no_fields),
    PasswordPolicy.Set.TOPIC: (
        Action("policy.set", N_("Password policy - Change")),
        lambda e, n: {k: str(v) for k, v in sorted(e.settings.items())},
    ),
    StoreIdentity.Upgraded.TOPIC: (
        Action("store.upgrade", N_("Store - Upgrade")),
        lambda e, n: {"VERSION_ANTERIOR": e.from_version, "VERSION": e.to_version},
    ),
    StoreIdentity.CentralAddressed.TOPIC: (
        Action("store.central", N_("Store - Central's address")),
        lambda e, n: {"URL": e.url[:80]},
    ),
    StoreIdentity.AdministratorsNoted.TOPIC: (  # the names only, never the verifiers
        Action("store.administrators", N_("Store - Central's administrators")),
        lambda e, n: {"USUARIOS": ", ".join(sorted(e.verifiers))[:200]},
    ),
    StoreIdentity.Provisioned.TOPIC: (
        Action("store.provisioned", N_("Store - Provisioned")),
        lambda e, n: {"CENTRAL": e.central_code},
    ),
    Site.Registered.TOPIC: (
        Action("site.register", N_("Site - Register")),
        lambda e, n: n.learn(e.originator_id, {"SEDE": e.code}),
    ),
    Site.WarehouseAdded.TOPIC: (
        Action("site.warehouse", N_("Site - Add warehouse")),
        lambda e, n: {"SEDE": n.site(e.originator_id), "BODEGA": e.warehouse},
    ),
    Site.ParametersChanged.TOPIC: (
        Action("site.params", N_("Site - Parameters")),
        lambda e, n: {"SEDE": n.site(e.originator_id), "ACCIONES": ",".join(sorted(e.actions))},
    ),
    Site.Provisioned.TOPIC: (
        Action("site.provision", N_("Site - Provision")),
        lambda e, n: {"SEDE": n.site(e.originator_id), "VERSION": e.software_version},
    ),
    Site.ModeChanged.TOPIC: (
        Action("site.mode", N_("Site - Mode")),
        lambda e, n: {"SEDE": n.site(e.originator_id), "MODO": e.mode.value},
    ),
    Site.Returning.TOPIC: (
        Action("site.returning", N_("Site - Handing back")),
        lambda e, n: {"SEDE": n.site(e.originator_id)},
    ),
    Site.Returned.TOPIC: (
        Action("site.returned", N_("Site - Handed back")),
        lambda e, n: {"SEDE": n.site(e.originator_id)},
    ),
    Site.Revoked.TOPIC: (
        Action("site.revoke", N_("Site - Revoke")),
        lambda e, n: {"SEDE": n.site(e.originator_id)},
    ),
    # The reason is the administrator's free text: it stays in the event, out of the comment.
    Site.LaptopReplaced.TOPIC: (
        Action("site.replace-laptop", N_("Site - Laptop replaced as lost")),
        lambda e, n: {"SEDE": n.site(e.originator_id), "GENERACIONES": str(len(e.lost_generations))},
    ),
    # Sync (seed 000): central's record of each sync and of each conflict.
    SyncRun.Started.TOPIC: (
        Action("sync.start", N_("Sync - Start")),
        lambda e, n: {"SEDE": e.site, "PASO": e.crossing.value, "REGISTROS": str(sum(e.pending.values()))},
    ),
    SyncRun.Merged.TOPIC: (
        Action("sync.merge", N_("Sync - Merge")),
        lambda e, n: {"REGISTROS": str(sum(e.counts.values())), "HASTA": str(e.upto)},
    ),
    SyncRun.ModeFlipped.TOPIC: (
        Action("sync.mode", N_("Sync - Mode")),
        lambda e, n: {"MODO": e.mode.value},
    ),
    SyncRun.Completed.TOPIC: (
        Action("sync.end", N_("Sync - Completed")),
        lambda e, n: {"RECONSTRUIDOS": str(e.rebuilt)},
    ),
    SyncRefusal.Recorded.TOPIC: (
        Action("sync.refused", N_("Sync - Refused")),
        lambda e, n: {"SEDE": e.site, "PASO": e.crossing.value},
    ),
    SyncConflict.Recorded.TOPIC: (
        Action("sync.conflict", N_("Sync - Conflict")),
        lambda e, n: {"SEDE": e.site, "REGISTRO": e.reference, "CAMPOS": ",".join(e.fields)},
    ),
    SyncConflict.Resolved.TOPIC: (
        Action("sync.resolve", N_("Sync - Conflict resolved")),
        lambda e, n: {"CONSERVA": e.keep.value},
    ),
    # What central did not apply from a laptop (domain/sync/sync_trust.py), and a person's decision.
    Quarantine.Held.TOPIC: (
        Action("sync.quarantine", N_("Sync - Quarantine")),
        lambda e, n: (
            n.learn(
                e.originator_id,
                {"SEDE": e.site, "EVENTO": e.originator_id.hex[:8], "TIPO": event_kind(e.topic)},
            )
            | {"POSICION": str(e.position), "REGLA": e.rule}
        ),
    ),
    Quarantine.Released.TOPIC: (
        Action("sync.quarantine-release", N_("Sync - Quarantine released")),
        _quarantined,
    ),
    Quarantine.Rejected.TOPIC: (
        Action("sync.quarantine-reject", N_("Sync - Quarantine rejected")),
        _quarantined,
    ),
    ChainCheckpoint.Opened.TOPIC: (
        Action("sync.checkpoint", N_("Sync - Checkpoint")),
        lambda e, n: {"SEDE": e.site, "POSICION": str(e.position)},
    ),
    ChainCheckpoint.Advanced.TOPIC: (
        Action("sync.checkpoint", N_("Sync - Checkpoint")),
        lambda e, n: {"POSICION": str(e.position)},
    ),
    # Encounters (the seed's "visitas"): comments carry HIST and VISITA, never clinical text.
    Encounter.Opened.TOPIC: (
        Action("visit.open", N_("Visit - Open")),
        lambda e, n: n.learn(e.originator_id, {"HIST": e.chart_number, "VISITA": e.number}),
    ),
    Encounter.VisitDataChanged.TOPIC: (
        Action("visit.change", N_("Visit - Change")),
        lambda e, n: {**n.visit(e.originator_id), "CAMPOS": ",".join(sorted(e.changes))},
    ),
    Encounter.ParagraphAdded.TOPIC: (
        Action("paragraph.add", N_("Paragraph - Add")),
        lambda e, n: {**n.visit(e.originator_id), "PAR": e.name},
    ),
    Encounter.ParagraphChanged.TOPIC: (
        Action("paragraph.change", N_("Paragraph - Change")),
        lambda e, n: {**n.visit(e.originator_id), "PARID": e.paragraph_id},
    ),
    Encounter.ParagraphDeleted.TOPIC: (
        Action("paragraph.delete", N_("Paragraph - Delete")),
        lambda e, n: {**n.visit(e.originator_id), "PAR": e.name},
    ),
    Encounter.ServiceAdded.TOPIC: (
        Action("service.add", N_("Service - Add")),
        lambda e, n: {**n.visit(e.originator_id), "CUPS": e.cups_code, "CANT": str(e.quantity)},
    ),
    Encounter.ServiceRemoved.TOPIC: (
        Action("service.remove", N_("Service - Remove")),
        lambda e, n: {**n.visit(e.originator_id), "LINEA": e.line_id},
    ),
    Encounter.ObservationsChanged.TOPIC: (
        Action("observations.change", N_("Observations - Change")),
        lambda e, n: n.visit(e.originator_id),
    ),
    Encounter.DocumentAttached.TOPIC: (
        Action("document.attach", N_("Document - Attach")),
        lambda e, n: {**n.visit(e.originator_id), "DOC": e.filename},
    ),
    Encounter.DocumentDeleted.TOPIC: (
        Action("document.delete", N_("Document - Delete")),
        lambda e, n: {**n.visit(e.originator_id), "DOCID": e.document_id.hex[:8]},
    ),
    StoredDocument.Stored.TOPIC: (
        Action("document.store", N_("Document - Store")),
        lambda e, n: {**n.visit(e.encounter_id), "SHA256": e.sha256[:16]},
    ),
    Encounter.DiagnosisSet.TOPIC: (
        Action("diagnosis.set", N_("Diagnosis - Set")),
        lambda e, n: {**n.visit(e.originator_id), "DX": e.code, "TIPO": e.role.value},
    ),
    Encounter.DiagnosisRemoved.TOPIC: (
        Action("diagnosis.remove", N_("Diagnosis - Remove")),
        lambda e, n: {**n.visit(e.originator_id), "DX": e.code},
    ),
    Encounter.Finalized.TOPIC: (
        Action("visit.finalize", N_("Visit - Finalize")),
        lambda e, n: n.visit(e.originator_id),
    ),
    Encounter.Deleted.TOPIC: (
        Action("visit.delete", N_("Visit - Delete")),
        lambda e, n: n.visit(e.originator_id),
    ),
    Encounter.Reassigned.TOPIC: (
        Action("visit.reassign", N_("Visit - Reassign")),
        lambda e, n: n.learn(
            e.originator_id, {"HIST": e.chart_number, "VISITA": n.visit(e.originator_id)["VISITA"]}
        ),
    ),
    LockPolicy.Started.TOPIC: (Action("locks.start", N_("Locks - Start")), _no_fields),
    LockPolicy.Set.TOPIC: (
        Action("locks.set", N_("Locks - Change")),
        lambda e, n: {k: str(v) for k, v in sorted(e.settings.items())},
    ),
    NumberSeries.Started.TOPIC: (
        Action("numbering.start", N_("Numbering - Start")),
        lambda e, n: {"SERIE": e.series},
    ),
    NumberSeries.Advanced.TOPIC: (
        Action("numbering.take", N_("Numbering - Assign")),
        lambda e, n: {"NUM": str(e.value)},
    ),
    Patient.Registered.TOPIC: (
        Action("patient.create", N_("Patient - Create")),
        lambda e, n: n.learn(e.originator_id, {"HIST": e.chart_number}),
    ),
    Patient.Corrected.TOPIC: (
        Action("patient.correct", N_("Patient - Correct")),
        lambda e, n: {**_hist(e, n), "CAMPOS": ",".join(sorted(e.changes))},
    ),
    # Clinical: contracts, merged charts, agendas and appointments, admissions. Comments carry
    # identifiers only (HIST, CITA, ING, the payer's NIT), never a reason or other clinical text.
    Patient.ContractAssigned.TOPIC: (
        Action("patient.contract", N_("Patient - Assign contract")),
        lambda e, n: {**_hist(e, n), "CONTRATO": e.contract_id, "NIT": e.payer_nit},
    ),
    Patient.ContractEnded.TOPIC: (
        Action("patient.contract-end", N_("Patient - End contract")),
        lambda e, n: {**_hist(e, n), "CONTRATO": e.contract_id},
    ),
    Patient.MergedInto.TOPIC: (
        Action("history.merged", N_("History - Merged into another")),
        lambda e, n: {**_hist(e, n), "HISTNEW": e.kept_chart},
    ),
    Patient.Absorbed.TOPIC: (
        Action("history.merge", N_("History - Rectify")),
        lambda e, n: {"HISTNEW": n.chart(e.originator_id), "HISTOLD": e.removed_chart},
    ),
    AgendaDay.Planned.TOPIC: (
        Action("agenda.plan", N_("Agenda - Plan")),
        lambda e, n: n.learn(e.originator_id, {"PROFESIONAL": e.professional, "FECHA": e.day.isoformat()}),
    ),
    AgendaDay.Replanned.TOPIC: (
        Action("agenda.replan", N_("Agenda - Replan")),
        lambda e, n: n.recall(
            e.originator_id, AgendaDaysProjection, {"PROFESIONAL": "professional", "FECHA": "day"}
        ),
    ),
    AgendaDay.AppointmentBooked.TOPIC: (
        Action("appointment.book", N_("Appointment - Book")),
        lambda e, n: {"CITA": e.number, "HIST": e.chart_number},
    ),
    AgendaDay.AppointmentConfirmed.TOPIC: (
        Action("appointment.confirm", N_("Appointment - Confirm")),
        lambda e, n: {"CITA": e.number},
    ),
    AgendaDay.AppointmentCancelled.TOPIC: (
        Action("appointment.cancel", N_("Appointment - Cancel")),
        lambda e, n: {"CITA": e.number},
    ),
    AgendaDay.AppointmentNoShow.TOPIC: (
        Action("appointment.no-show", N_("Appointment - No-show")),
        lambda e, n: {"CITA": e.number},
    ),
    Admission.Admitted.TOPIC: (
        Action("admission.admit", N_("Admission - Admit")),
        lambda e, n: {
            **n.learn(e.originator_id, {"ING": e.number, "HIST": e.chart_number}),
            "TIPO": e.kind.value,
        },
    ),
    Admission.Discharged.TOPIC: (
        Action("admission.discharge", N_("Admission - Discharge")),
        lambda e, n: {
            **n.recall(e.originator_id, AdmissionsProjection, {"ING": "number", "HIST": "chart_number"}),
            "EGRESO": e.condition.value,
        },
    ),
    # Orders, pharmacy and inventory. Comments carry codes, lots, quantities and numbers only:
    # never a dose, a frequency or a diagnostic result.
    CatalogItem.Added.TOPIC: (
        Action("catalog.add", N_("Catalog - Add")),
        lambda e, n: {"CODIGO": e.code, "TIPO": e.kind.value},
    ),
    PriceList.Started.TOPIC: (
        Action("prices.start", N_("Prices - Start")),
        lambda e, n: n.learn(e.originator_id, {"NIT": e.payer_nit, "CONTRATO": e.contract}),
    ),
    PriceList.PriceSet.TOPIC: (
        Action("prices.set", N_("Prices - Set")),
        lambda e, n: {
            **n.recall(e.originator_id, PriceListsProjection, {"NIT": "payer_nit", "CONTRATO": "contract"}),
            "CODIGO": e.code,
            "VALOR": str(e.unit_value),
        },
    ),
    Warehouse.Created.TOPIC: (
        Action("warehouse.create", N_("Warehouse - Create")),
        lambda e, n: {"BODEGA": e.code, "TIPO": e.kind.value, **({"SEDE": e.site} if e.site else {})},
    ),
    StockLot.Opened.TOPIC: (
        Action("lot.open", N_("Lot - Open")),
        lambda e, n: {
            **n.learn(e.originator_id, {"BODEGA": e.warehouse, "ITEM": e.item, "LOTE": e.lot}),
            "VENCE": e.expiry.isoformat(),
        },
    ),
    StockLot.Received.TOPIC: (
        Action("inventory.receive", N_("Inventory - Receive")),
        lambda e, n: {**_movement(e, n), "ORIGEN": e.source.value},
    ),
    StockLot.Sent.TOPIC: (Action("transfer.send", N_("Transfer - Send")), _movement),
    StockLot.Dispensed.TOPIC: (Action("inventory.dispense", N_("Inventory - Dispense")), _movement),
    StockLot.Returned.TOPIC: (Action("inventory.return", N_("Inventory - Return")), _movement),
    Prescription.Prescribed.TOPIC: (
        Action("prescription.create", N_("Prescription - Create")),
        lambda e, n: {**_ordered("FORM")(e, n), "ITEM": e.item, "CANT": str(e.quantity)},
    ),
    Prescription.Dispensed.TOPIC: (
        Action("prescription.dispense", N_("Prescription - Dispense")),
        _chain("FORM"),
    ),
    Prescription.Returned.TOPIC: (
        Action("prescription.return", N_("Prescription - Return")),
        _chain("FORM"),
    ),
    ServiceOrder.Ordered.TOPIC: (
        Action("order.create", N_("Service order - Create")),
        lambda e, n: {**_ordered("ORD")(e, n), "CUPS": e.cups_code, "CANT": str(e.quantity)},
    ),
    DiagnosticService.Requested.TOPIC: (
        Action("diagnostic.request", N_("Diagnostic service - Request")),
        lambda e, n: {**_ordered("AYD")(e, n), "CUPS": e.cups_code},
    ),
    DiagnosticService.ResultRecorded.TOPIC: (
        Action("diagnostic.result", N_("Diagnostic service - Result")),
        _order("AYD"),
    ),
    Surgery.Linked.TOPIC: (
        Action("surgery.link", N_("Surgery - Link")),
        lambda e, n: {
            **_ordered("CIR")(e, n),
            "CUPS": e.cups_code,
            "FECHA": e.performed_on.isoformat(),
            "CIRUJANO": e.surgeon,
        },
    ),
    SupplyRequest.Requested.TOPIC: (
        Action("request.create", N_("Request - Create")),
        lambda e, n: {**_ordered("SOL")(e, n), "LINEAS": str(len(e.lines))},
    ),
    SupplyRequest.Dispensed.TOPIC: (Action("request.dispense", N_("Request - Dispense")), _chain("SOL")),
    SupplyRequest.Administered.TOPIC: (
        Action("request.administer", N_("Request - Administer")),
        _chain("SOL"),
    ),
    SupplyRequest.Returned.TOPIC: (Action("request.return", N_("Request - Return")), _chain("SOL")),
    # Service vouchers and central billing (seed: "Factura - Emitida", "Factura - Rectificada").
    ServiceVoucher.Issued.TOPIC: (
        Action("voucher.issue", N_("Voucher - Issue")),
        lambda e, n: n.learn(e.originator_id, {"VISITA": e.visit_number, "VOL": e.number}),
    ),
    ServiceVoucher.Voided.TOPIC: (Action("voucher.void", N_("Voucher - Void")), _voucher),
    ServiceVoucher.Priced.TOPIC: (Action("voucher.price", N_("Voucher - Price")), _voucher),
    VoucherSlot.Opened.TOPIC: (
        Action("voucher.slot.open", N_("Voucher slot - Open")),
        lambda e, n: n.learn(e.originator_id, {"VISITA": e.visit_number}),
    ),
    VoucherSlot.Held.TOPIC: (Action("voucher.slot.hold", N_("Voucher slot - Hold")), _slot),
    VoucherSlot.Freed.TOPIC: (Action("voucher.slot.free", N_("Voucher slot - Free")), _slot),
    ServiceVoucher.Invoiced.TOPIC: (
        Action("voucher.invoiced", N_("Voucher - Invoiced")),
        lambda e, n: {**_voucher(e, n), "FRA": e.invoice_number},
    ),
    ServiceVoucher.Released.TOPIC: (
        Action("voucher.release", N_("Voucher - Release")),
        lambda e, n: {**_voucher(e, n), "FRA": e.invoice_number, "NOTA": e.note_number},
    ),
    InvoiceSeries.Added.TOPIC: (
        Action("invoice.series.add", N_("Invoice series - Add")),
        lambda e, n: {
            **n.learn(e.originator_id, {"SERIE": e.prefix}),
            "DESDE": str(e.first),
            "HASTA": str(e.last),
        },
    ),
    InvoiceSeries.NumberTaken.TOPIC: (
        Action("invoice.series.take", N_("Invoice series - Assign")),
        lambda e, n: {
            **n.recall(e.originator_id, InvoiceSeriesProjection, {"SERIE": "prefix"}),
            "NUM": str(e.value),
        },
    ),
    Invoice.Issued.TOPIC: (
        Action("invoice.issue", N_("Invoice - Issued")),
        lambda e, n: n.learn(e.originator_id, {"VISITA": ",".join(e.visit_numbers), "FRA": e.number}),
    ),
    # Seed 004: "Factura - Rectificada ... FRA=(serie factura)-(nº factura)", the rectifying
    # document's (Ej: FRA=FAR-77); the invoice it rectifies beside it.
    Invoice.Rectified.TOPIC: (
        Action("invoice.rectify", N_("Invoice - Rectified")),
        lambda e, n: _rectified(
            e, n.recall(e.originator_id, InvoicesProjection, {"VISITA": "visit_numbers", "FRA": "number"})
        ),
    ),
}

# Access events carry their action code; these are their display names.
ACCESS_LABELS: dict[str, str] = {
    "backup": N_("Backup"),
    "audit.export": N_("Activity log - Export"),
    "audit.verify": N_("Activity log - Verify"),
    "sync.auth-failed": N_("Sync - Authentication failed"),
    "patient.view": N_("Patient - View"),
    "patient.search": N_("Patient - Search"),
    "report.tab": N_("Report - Tab"),
    "report.view": N_("Report - View"),
    "report.print": N_("Report - Print"),
    "report.zip": N_("Report - Zip"),
    "history.tab": N_("Clinical history - Tab"),
    "history.view": N_("Clinical history - View"),
    "history.print": N_("Clinical history - Print"),
    "paragraph.view": N_("Paragraph - View"),
    "paragraph.print": N_("Paragraph - Print"),
    "form.print": N_("Forms - Print"),
    "voucher.print": N_("Voucher - Print"),
    "invoice.print": N_("Invoice - Print"),
    "invoice.rips": N_("Invoice - RIPS"),
    "document.view": N_("Document - View"),
    "patient.duplicates": N_("Patient - Duplicates"),
    "agenda.view": N_("Agenda - View"),
    "admission.list": N_("Admission - List"),
    "diagnostic.view": N_("Diagnostic service - View result"),
    "access.denied": N_("Access - Denied"),
    "date.confirm": N_("Date - Confirm"),
}


def action_label(code: str) -> str:
    """The msgid naming an action code (unknown codes name themselves)."""
    for action, _fields in ACTIONS.values():
        if action.code == code:
            return action.label
    return ACCESS_LABELS.get(code, code)


def all_action_codes() -> list[str]:
    return sorted({a.code for a, _f in ACTIONS.values()} | set(ACCESS_LABELS))


def render_comment(fields: dict[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in fields.items())


_quoted = json.encoder.encode_basestring  # how json.dumps(..., ensure_ascii=False) writes a string


def fields_json(fields: dict[str, str]) -> str:
    """``json.dumps(fields, ensure_ascii=False)``, written directly when every value is text
    (the same escapes and separators, without setting up an encoder for each row)."""
    if all(type(value) is str for value in fields.values()):
        return "{" + ", ".join(f"{_quoted(key)}: {_quoted(value)}" for key, value in fields.items()) + "}"
    return json.dumps(fields, ensure_ascii=False)


K = TypeVar("K")
V = TypeVar("V")


class Recent(dict[K, V]):
    """A dict that forgets its oldest entries beyond ``limit``: what is forgotten is asked of the
    other views again, so memory stays bounded however long the log (a rebuild, a sync's merge)."""

    def __init__(self, limit: int = 5_000) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        if len(self) > self.limit:
            del self[next(iter(self))]


class NameCache:
    """Each aggregate's comment fields (HIST, VISITA, USUARIO...): learnt from its earlier events,
    else read from the view that keeps it (the patients view for a chart number, ...), which
    catches up before the activity log does."""

    def __init__(self, views: OtherViews | None) -> None:
        self.views = views
        self.known: dict[UUID, dict[str, str]] = Recent()

    def learn(self, aggregate_id: UUID, fields: dict[str, str]) -> dict[str, str]:
        """Remember an aggregate's comment fields for its later events."""
        self.known[aggregate_id] = dict(fields)
        return dict(fields)

    def recall(
        self,
        aggregate_id: UUID,
        view: type[Projection],
        columns: dict[str, str],
        where: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """Fields learnt from an earlier event, else read from ``view``: ``columns`` maps each
        comment field to the view's column that holds it; the row is the aggregate's own, or the
        one ``where`` names."""
        if aggregate_id not in self.known and self.views is not None:
            row = self.views.find_one(view.name, **(where or {view.key_fields[0]: aggregate_id.hex}))
            if row is not None:
                self.known[aggregate_id] = {field: str(getattr(row, c)) for field, c in columns.items()}
        return dict(self.known.get(aggregate_id, dict.fromkeys(columns, "?")))

    def visit(self, encounter_id: UUID) -> dict[str, str]:
        return self.recall(encounter_id, EncountersProjection, {"HIST": "chart_number", "VISITA": "number"})

    def site(self, site_id: UUID) -> str:
        return self.recall(site_id, SitesProjection, {"SEDE": "code"})["SEDE"]

    def chart(self, patient_id: UUID) -> str:
        return self.recall(patient_id, PatientsProjection, {"HIST": "chart_number"})["HIST"]

    def user(self, user_id: UUID) -> str:
        return self.recall(user_id, UsersProjection, {"USUARIO": "username"})["USUARIO"]


class ActivityLogProjection(ByLogPosition):
    name = "activity_log"
    # 2: the position is the table's key order (SQLite's rowid); (recorded_at, position).
    # 3: "Factura - Rectificada" says FRA= the rectifying document, as seed 004 does.
    version = 3
    topics = ()  # every event
    reads_stored = True  # the context and a field or two of each event
    row_type = ActivityRow
    text_indexed = ("comment",)
    indexes = (
        ("recorded_at", "position"),
        ("action", "position"),
        ("user", "position"),
        ("computer", "position"),
        ("ip_octet", "position"),
        ("site", "position"),
    )

    def __init__(self, views: OtherViews | None = None) -> None:
        self.names = NameCache(views)

    def row_at(self, event: Any, position: int) -> ActivityRow:
        if isinstance(event, StoredEvent):
            # The context as stored is what EventContext.as_dict() gave, and these columns are
            # its values: read as they are, without building the context's UUID and datetimes.
            data = event.stored_state["context"]["_data_"]  # as StoredEvent.context_data
            event_id, recorded_at = data["event_id"], data["recorded_at"]
            user, computer, ip_octet, site = data["user"], data["computer"], data["ip_octet"], data["site"]
        else:
            context = event.context
            event_id, recorded_at = context.event_id.hex, context.recorded_at.isoformat()
            user, computer, ip_octet, site = context.user, context.computer, context.ip_octet, context.site
        action, fields = self.describe(event)
        return ActivityRow(
            position=position,
            event_id=event_id,
            recorded_at=recorded_at,
            user=user,
            computer=computer,
            ip_octet=ip_octet,
            site=site,
            action=action,
            comment=render_comment(fields),
            fields=fields_json(fields),
        )

    def describe(self, event: Any) -> tuple[str, dict[str, str]]:
        kind = event_type(event)
        if issubclass(kind, Access.Recorded):
            return event.action, dict(event.fields)
        topic = getattr(kind, "TOPIC", kind.__qualname__)
        known = ACTIONS.get(topic)
        if known is None:
            # An event this table does not name yet still appears, under its kind.
            return event_kind(topic).lower(), {}
        action, fields = known
        return action.code, fields(event, self.names)

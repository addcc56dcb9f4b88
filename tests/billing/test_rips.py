"""The RIPS JSON of an invoice against the note's rules (notes/colombia-domain.md §2)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.billing.invoice import Invoice
from domain.billing.rips import rips_document
from tests.support.billing_domain import TODAY, voucher
from tests.support.given_when_then import recorded

ARRAYS = {
    "consultas",
    "procedimientos",
    "urgencias",
    "hospitalizacion",
    "recienNacidos",
    "medicamentos",
    "otrosServicios",
}
UNIT_FIELDS = {
    "medicamentos": ("vrUnitMedicamento", "cantidadMedicamento"),
    "otrosServicios": ("vrUnitOS", "cantidadOS"),
}
DATE_FIELDS = ("fechaInicioAtencion", "fechaDispensAdmon", "fechaSuministroTecnologia")


def check_users(document: dict[str, Any]) -> None:
    users = document["usuarios"]
    ids = [(u["tipoDocumentoIdentificacion"], u["numDocumentoIdentificacion"]) for u in users]
    assert len(ids) == len(set(ids)), "duplicate users"
    assert [u["consecutivo"] for u in users] == list(range(1, len(users) + 1))
    for user in users:
        assert 4 <= len(user["numDocumentoIdentificacion"]) <= 20
        assert any(user["servicios"].values()), "a user without services"
        assert set(user["servicios"]) <= ARRAYS


def check_services(document: dict[str, Any], today: date) -> None:
    for user in document["usuarios"]:
        for array, services in user["servicios"].items():
            assert [s["consecutivo"] for s in services] == list(range(1, len(services) + 1))
            for service in services:
                if array in UNIT_FIELDS:
                    unit, quantity = UNIT_FIELDS[array]
                    assert service[unit] * service[quantity] == service["vrServicio"]
                if service["conceptoRecaudo"] == "05":
                    assert service["valorPagoModerador"] == 0 and service["numFEVPagoModerador"] is None
                principal = service.get("codDiagnosticoPrincipal")
                related = [v for k, v in service.items() if k.startswith("codDiagnosticoRelacionado") and v]
                assert principal not in related
                for field in DATE_FIELDS:
                    if field in service:
                        day = date.fromisoformat(service[field][:10])
                        assert date.fromisoformat(user["fechaNacimiento"]) <= day <= today


def test_the_rips_of_an_invoice_follows_the_note() -> None:
    given = voucher()
    invoice = recorded(lambda: Invoice.from_voucher("FE", "FE-12", given, TODAY))

    document = rips_document(invoice, [given], "900999888", "190010000001")

    assert (document["numDocumentoIdObligado"], document["numFactura"]) == ("900999888", "FE12")
    assert document["tipoNota"] is None and document["numNota"] is None
    [user] = document["usuarios"]
    assert (user["tipoUsuario"], user["codSexo"], user["codZonaTerritorialResidencia"]) == ("04", "M", "02")
    assert {k: len(v) for k, v in user["servicios"].items()} == {
        "consultas": 1,
        "procedimientos": 1,
        "medicamentos": 1,
    }
    consultation = user["servicios"]["consultas"][0]
    assert (consultation["codConsulta"], consultation["vrServicio"]) == ("890201", 35000)
    assert (consultation["codDiagnosticoPrincipal"], consultation["codDiagnosticoRelacionado1"]) == (
        "I10X",
        "E119",
    )
    assert user["servicios"]["procedimientos"][0]["vrServicio"] == 12500.5
    check_users(document)
    check_services(document, TODAY)


def test_one_user_entry_per_patient_across_vouchers() -> None:
    first, second = voucher("CEN-1"), voucher("CEN-2")
    invoice = recorded(lambda: Invoice.from_voucher("FE", "FE-1", first, TODAY))
    document = rips_document(invoice, [first, second], "900999888", "190010000001")
    [user] = document["usuarios"]
    assert [s["consecutivo"] for s in user["servicios"]["consultas"]] == [1, 2]
    check_users(document)
    check_services(document, TODAY)

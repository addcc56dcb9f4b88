"""The RIPS JSON of an invoice, in the shape of Res. 2275/2023 (notes/colombia-domain.md §2).

Built only from the invoice and its vouchers' snapshots: one user per patient, each service in its
array with its own ``consecutivo`` from 1, ``vrServicio`` = unit value × quantity, no patient
payment (``conceptoRecaudo`` 05). Sending to DIAN, the CUFE and MinSalud's MUV are out of scope.
The professional's ID fields are null: users carry no identity document yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from domain.billing.invoice import Invoice
from domain.billing.service_voucher import LineKind, ServiceVoucher, VoucherLine

COLOMBIA = "170"
NO_PATIENT_PAYMENT = "05"
ARRAYS = (
    "consultas",
    "procedimientos",
    "urgencias",
    "hospitalizacion",
    "recienNacidos",
    "medicamentos",
    "otrosServicios",
)
ARRAY_OF: dict[LineKind, str] = {
    LineKind.CONSULTATION: "consultas",
    LineKind.PROCEDURE: "procedimientos",
    LineKind.MEDICINE: "medicamentos",
    LineKind.OTHER: "otrosServicios",
}


def _amount(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _diagnoses(voucher: ServiceVoucher) -> tuple[str | None, list[str], str | None]:
    principal = next((d for d in voucher.diagnoses if d["role"] == "principal"), None)
    code = principal["code"] if principal else None
    related = [d["code"] for d in voucher.diagnoses if d["role"] == "related" and d["code"] != code]
    return code, related[:3], principal["type"] if principal else None


def _payment() -> dict[str, Any]:
    return {"conceptoRecaudo": NO_PATIENT_PAYMENT, "valorPagoModerador": 0, "numFEVPagoModerador": None}


def _service(voucher: ServiceVoucher, line: VoucherLine, provider_code: str) -> dict[str, Any]:
    principal, related, principal_type = _diagnoses(voucher)
    when = voucher.visit.get("started_at") or f"{voucher.visit['visit_date']} 00:00"
    professional = {"tipoDocumentoIdentificacion": None, "numDocumentoIdentificacion": None}
    common = {"codPrestador": provider_code, "numAutorizacion": None}
    value = _amount(line.total)
    if line.kind is LineKind.CONSULTATION:
        return {
            **common,
            "fechaInicioAtencion": when,
            "codConsulta": line.code,
            "modalidadGrupoServicioTecSal": voucher.visit.get("modality", "04"),
            "grupoServicios": "01",
            "codServicio": 328,
            "finalidadTecnologiaSalud": voucher.visit.get("purpose", "16"),
            "causaMotivoAtencion": voucher.visit.get("cause", "38"),
            "codDiagnosticoPrincipal": principal,
            **{
                f"codDiagnosticoRelacionado{i}": (related[i - 1] if len(related) >= i else None)
                for i in (1, 2, 3)
            },
            "tipoDiagnosticoPrincipal": principal_type,
            **professional,
            "vrServicio": value,
            **_payment(),
        }
    if line.kind is LineKind.PROCEDURE:
        return {
            **common,
            "fechaInicioAtencion": when,
            "idMIPRES": None,
            "codProcedimiento": line.code,
            "viaIngresoServicioSalud": "01",
            "modalidadGrupoServicioTecSal": voucher.visit.get("modality", "04"),
            "grupoServicios": "02",
            "codServicio": 328,
            "finalidadTecnologiaSalud": "15",
            **professional,
            "codDiagnosticoPrincipal": principal,
            "codDiagnosticoRelacionado": related[0] if related else None,
            "codComplicacion": None,
            "vrServicio": value,
            **_payment(),
        }
    if line.kind is LineKind.MEDICINE:
        return {
            **common,
            "idMIPRES": None,
            "fechaDispensAdmon": when,
            "codDiagnosticoPrincipal": principal,
            "codDiagnosticoRelacionado": related[0] if related else None,
            "tipoMedicamento": "01",
            "codTecnologiaSalud": line.code,
            "nomTecnologiaSalud": line.description,
            "concentracionMedicamento": line.details.get("concentration", ""),
            "unidadMedida": line.details.get("unit", ""),
            "formaFarmaceutica": line.details.get("form", ""),
            "unidadMinDispensa": line.details.get("unit", ""),
            "cantidadMedicamento": line.quantity,
            "diasTratamiento": 1,
            **professional,
            "vrUnitMedicamento": _amount(line.unit_value),
            "vrServicio": value,
            **_payment(),
        }
    return {
        **common,
        "idMIPRES": None,
        "fechaSuministroTecnologia": when,
        "tipoOS": "01",
        "codTecnologiaSalud": line.code,
        "nomTecnologiaSalud": line.description,
        "cantidadOS": line.quantity,
        **professional,
        "vrUnitOS": _amount(line.unit_value),
        "vrServicio": value,
        **_payment(),
    }


def rips_document(
    invoice: Invoice, vouchers: Sequence[ServiceVoucher], provider_nit: str, provider_code: str
) -> dict[str, Any]:
    """The RIPS of ``invoice``; ``vouchers`` are the ones it names."""
    users: dict[tuple[str, str], dict[str, Any]] = {}
    for voucher in vouchers:
        patient = voucher.patient
        key = (patient["document_type"], patient["document_number"])
        if key not in users:
            users[key] = {
                "tipoDocumentoIdentificacion": patient["document_type"],
                "numDocumentoIdentificacion": patient["document_number"],
                "tipoUsuario": voucher.contract["coverage"],
                "fechaNacimiento": patient["birth_date"],
                "codSexo": patient["sex"],
                "codPaisResidencia": COLOMBIA,
                "codMunicipioResidencia": patient["municipality"],
                "codZonaTerritorialResidencia": patient["zone"],
                "incapacidad": "NO",
                "codPaisOrigen": COLOMBIA,
                "consecutivo": len(users) + 1,
                "servicios": {},
            }
        services = users[key]["servicios"]
        for line in voucher.lines:
            entries = services.setdefault(ARRAY_OF[line.kind], [])
            entries.append({**_service(voucher, line, provider_code), "consecutivo": len(entries) + 1})
    return {
        "numDocumentoIdObligado": provider_nit,
        "numFactura": invoice.number.replace("-", ""),
        "tipoNota": None,
        "numNota": None,
        "usuarios": list(users.values()),
    }

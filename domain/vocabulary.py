"""Colombian code systems used by the patient record (see notes/colombia-domain.md §1)."""

from __future__ import annotations

from enum import Enum

from domain.errors import N_


class DocumentType(Enum):
    """TipoIDPISIS: the patient's identity document."""

    CC = "CC"  # cédula de ciudadanía
    TI = "TI"  # tarjeta de identidad
    RC = "RC"  # registro civil
    CE = "CE"  # cédula de extranjería
    PA = "PA"  # pasaporte
    PE = "PE"  # permiso especial de permanencia
    PT = "PT"  # permiso por protección temporal
    CD = "CD"  # carné diplomático
    SC = "SC"  # salvoconducto
    CN = "CN"  # certificado de nacido vivo
    DE = "DE"  # documento extranjero
    AS = "AS"  # adulto sin identificación
    MS = "MS"  # menor sin identificación


class Sex(Enum):
    MALE = "M"
    FEMALE = "F"
    INDETERMINATE = "I"


class Zone(Enum):
    """ZonaVersion2."""

    RURAL = "01"
    URBAN = "02"


class CoverageStatus(Enum):
    """RIPSTipoUsuarioVersion2: the patient's insurance status."""

    CONTRIBUTORY_CONTRIBUTOR = "01"
    CONTRIBUTORY_BENEFICIARY = "02"
    CONTRIBUTORY_ADDITIONAL = "03"
    SUBSIDIZED = "04"
    UNINSURED = "05"
    SPECIAL = "06"
    SPECIAL_BENEFICIARY = "07"
    PRISON_POPULATION = "08"
    OCCUPATIONAL_RISK = "09"
    SOAT = "10"
    VOLUNTARY_PLAN = "11"
    PRIVATE = "12"
    SPECIAL_NON_CONTRIBUTOR = "13"


# DANE department codes: the first two digits of a DIVIPOLA municipality code.
DEPARTMENT_CODES = frozenset(
    {
        "05",
        "08",
        "11",
        "13",
        "15",
        "17",
        "18",
        "19",
        "20",
        "23",
        "25",
        "27",
        "41",
        "44",
        "47",
        "50",
        "52",
        "54",
        "63",
        "66",
        "68",
        "70",
        "73",
        "76",
        "81",
        "85",
        "86",
        "88",
        "91",
        "94",
        "95",
        "97",
        "99",
    }
)

# Which documents fit which ages (SISPRO rule RVC007), as inclusive (min, max) years.
DOCUMENT_AGE_RANGES: dict[DocumentType, tuple[int, int]] = {
    DocumentType.CC: (18, 200),
    DocumentType.TI: (7, 17),
    DocumentType.RC: (0, 17),
    DocumentType.CN: (0, 3),
    DocumentType.AS: (18, 200),
    DocumentType.MS: (0, 17),
}

DOCUMENT_AGE_RULE = N_("a {document_type} is for ages {low} to {high}; the patient is {age}")

# Colombian civil documents are numbers; passports and foreign documents may carry letters.
NUMERIC_DOCUMENTS = frozenset({DocumentType.CC, DocumentType.TI, DocumentType.RC})

ALL_ENUMS: tuple[type[Enum], ...] = (DocumentType, Sex, Zone, CoverageStatus)

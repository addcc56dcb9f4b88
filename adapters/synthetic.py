"""Realistic Colombian patients for the demo, tests and benchmarks (Faker es_CO), deterministic
for a given seed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from faker import Faker

from domain.clinical.patient import age_on

COVERAGE_WEIGHTS = {"04": 55, "01": 20, "02": 15, "05": 5, "12": 5}


class PatientFaker:
    def __init__(self, seed: int = 0, today: date | None = None) -> None:
        self.faker = Faker("es_CO")
        self.faker.seed_instance(seed)
        self.today = today or date.today()

    def patient(self) -> dict[str, Any]:
        f = self.faker
        sex = f.random_element(("M", "F"))
        age_days = f.random_int(0, 90 * 365)
        birth = self.today - timedelta(days=age_days)
        years = age_on(birth, self.today)
        if years >= 18:
            document_type = f.random_element(("CC",) * 18 + ("CE", "PT"))
        elif years >= 7:
            document_type = "TI"
        else:
            document_type = "RC"
        first = f.first_name_male() if sex == "M" else f.first_name_female()
        middle = (f.first_name_male() if sex == "M" else f.first_name_female()) if f.boolean(40) else ""
        coverage = self._weighted_coverage()
        return {
            "document_type": document_type,
            "document_number": str(f.random_int(1_000_000, 1_299_999_999)),
            "first_name": first.split()[0],
            "middle_name": middle.split()[0] if middle else "",
            "first_surname": f.last_name().split()[0],
            "second_surname": f.last_name().split()[0],
            "birth_date": birth.isoformat(),
            "sex": sex,
            "municipality": f.municipality_code(),
            "zone": f.random_element(("01", "02")),
            "coverage_status": coverage,
        }

    def _weighted_coverage(self) -> str:
        roll = self.faker.random_int(1, sum(COVERAGE_WEIGHTS.values()))
        for code, weight in COVERAGE_WEIGHTS.items():
            roll -= weight
            if roll <= 0:
                return code
        return "04"


# Common primary-care consultations in a health day: reason, CIE-10, treatment paragraph.
CONSULTATIONS = (
    (
        "Fiebre y dolor de garganta",
        "J029",
        "Acetaminofén 500 mg cada 8 horas por 3 días. Líquidos abundantes.",
    ),
    (
        "Control de presión arterial",
        "I10X",
        "Losartán 50 mg cada 12 horas. Dieta baja en sal. Control en 1 mes.",
    ),
    ("Diarrea de 2 días", "A09X", "Sales de rehidratación oral. Signos de alarma explicados."),
    ("Dolor lumbar", "M545", "Ibuprofeno 400 mg cada 8 horas por 5 días. Pausas activas."),
    ("Tos y congestión nasal", "J069", "Lavados nasales con suero fisiológico. Acetaminofén si hay fiebre."),
    ("Control de diabetes", "E119", "Metformina 850 mg con el almuerzo. Glucometría en próxima brigada."),
    ("Parasitosis intestinal", "B829", "Albendazol 400 mg dosis única. Higiene de manos y agua hervida."),
    ("Lesiones en la piel", "L309", "Crema hidratante. Evitar rascado. Control si empeora."),
)


class EncounterFaker:
    def __init__(self, seed: int = 0) -> None:
        self.faker = Faker("es_CO")
        self.faker.seed_instance(seed)

    def consultation(self) -> tuple[str, str, str]:
        """(reason, CIE-10 code, treatment text)."""
        return self.faker.random_element(CONSULTATIONS)

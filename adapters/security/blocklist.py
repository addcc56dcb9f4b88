"""The shipped blocklist of common passwords (NIST SP 800-63B; ASVS 6.2.4): zxcvbn's list of the
30,000 most common passwords plus a few Spanish ones, checked offline (laptops cannot call breach
APIs). Obvious variants count too: letter case, l33t spelling, and digits or symbols stuck on
either end ("Password2026!!!!" is "password")."""

from __future__ import annotations

from functools import cached_property

# Frequent in Colombia and missing from zxcvbn's (mostly English) list.
SPANISH = frozenset(
    {
        "contraseña",
        "contrasena",
        "clave",
        "colombia",
        "bogota",
        "medellin",
        "enfermera",
        "enfermero",
        "hospital",
        "salud",
        "doctor",
        "doctora",
        "medico",
        "brigadas",
        "usuario",
        "administrador",
        "teamo",
        "tequiero",
        "amorcito",
        "princesa",
        "mariposa",
        "futbol",
        "millonarios",
        "nacional",
    }
)
LEET = str.maketrans(
    {"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t"}
)
EDGES = "0123456789!@#$%^&*()_+-=.,;:?¿¡/\\|[]{}<>'\"`~ "
MIN_STEM = 4  # shorter stems ("abc" + digits) would refuse too much


class CommonPasswords:
    """``is_common`` for the application's PasswordBlocklist port."""

    @cached_property
    def words(self) -> frozenset[str]:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS  # ~50 ms: only when a password is set

        return frozenset(FREQUENCY_LISTS["passwords"]) | SPANISH

    def is_common(self, password: str) -> bool:
        folded = password.casefold()
        candidates = {folded, folded.strip(EDGES), folded.translate(LEET)}
        candidates.add(folded.translate(LEET).strip(EDGES))
        candidates.add(folded.strip(EDGES).translate(LEET))
        return any(c in self.words for c in candidates if c == folded or len(c) >= MIN_STEM)

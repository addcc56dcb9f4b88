"""CIE-10, the diagnosis codes of RIPS, and their Spanish names.

Codes are kept as RIPS writes them: four characters, no dot, three-character categories without
subcategories padded with X (I10 -> I10X, J06.9 -> J069). The catalog is data/cie10.tsv, derived
from the `cie` package (see that file's header and scripts/cie10_from_wheel.py); it is read on
first use and kept, so only the commands that validate or show a diagnosis pay for it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from domain.errors import N_, InvalidValue

CATALOG_FILE = Path(__file__).with_name("data") / "cie10.tsv"
UPDATES_FILE = CATALOG_FILE.with_name("cie10_updates.tsv")
# The shape RIPS takes: a letter, two digits, then a digit or X.
CIE10 = re.compile(r"^[A-Z][0-9]{2}[0-9X]$")


@cache
def catalog() -> dict[str, str]:
    """Every code a diagnosis may carry, with its Spanish name: the derived catalog, and the WHO
    updates its edition lacks (data/cie10_updates.tsv: dengue A97, COVID-19 U07.1 and U07.2)."""
    return {**_codes(CATALOG_FILE), **_codes(UPDATES_FILE)}


def _codes(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = (line.partition("\t") for line in lines if not line.startswith("#"))
    return {code: name for code, _tab, name in rows}


def rips_form(typed: str) -> str:
    """The code as RIPS writes it: upper case, no dot, a three-character category padded with X."""
    code = typed.strip().upper().replace(".", "")
    return code + "X" if len(code) == 3 else code


def known_code(typed: str) -> str:
    """The RIPS form of a code in the catalog; anything else is refused naming the rule."""
    code = rips_form(typed)
    if not CIE10.match(code):
        raise InvalidValue(
            "code", N_("{code} is not a CIE-10 code (a letter, 2 digits, a digit or X)"), code=code
        )
    if code in catalog():
        return code
    if code.endswith("X"):
        subcategories = sorted(c for c in catalog() if c[:3] == code[:3])
        if subcategories:
            raise InvalidValue(
                "code",
                N_("{code} is a CIE-10 category with subcategories: give one of them, {first} to {last}"),
                code=code[:3],
                first=subcategories[0],
                last=subcategories[-1],
            )
    raise InvalidValue("code", N_("{code} is not in the CIE-10 catalog"), code=code)


def name_of(code: str) -> str | None:
    return catalog().get(code)


def with_name(code: str) -> str:
    """``J069 Infección aguda de las vías respiratorias superiores, no especificada``; a code the
    catalog lacks (recorded before it was checked) is shown alone."""
    name = catalog().get(code)
    return f"{code} {name}" if name else code

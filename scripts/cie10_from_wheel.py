"""Regenerate domain/clinical/data/cie10.tsv, the CIE-10 catalog Brigada ships, from the `cie` wheel.

    pip download --no-deps cie==0.208 -d /tmp/cie
    python scripts/cie10_from_wheel.py /tmp/cie/cie-0.208-py3-none-any.whl

The wheel (MIT, Andrés Vázquez, https://github.com/cluster311/cie10) holds cie/data/cie-10.zip,
whose cie-10.csv lists chapters and blocks (ranges such as A00-B99), three-character categories
and four-character subcategories, codes without dots, with Spanish descriptions scraped from
icdcode.info plus Chile's DEIS. Brigada does not depend on the package at run time (it writes
into its own folder on first use); it ships this derived file instead:

- one row per code a diagnosis may carry, in the form RIPS writes it: every four-character
  subcategory as is (J069), and every three-character category without subcategories padded with
  X (I10 -> I10X), as SISPRO's CIE10 table does;
- categories with subcategories (J06) and ranges are not codes: they are left out;
- descriptions trimmed, inner runs of white space collapsed; nothing else is changed.

Running it twice on the same wheel writes the same file.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "domain" / "clinical" / "data" / "cie10.tsv"
CODE = re.compile(r"^[A-Z][0-9]{2}[0-9]?$")


def catalog_rows(wheel: Path) -> tuple[str, list[tuple[str, str]]]:
    """The wheel's version and the (RIPS code, Spanish name) rows, sorted by code."""
    with zipfile.ZipFile(wheel) as outer:
        [metadata] = [n for n in outer.namelist() if n.endswith(".dist-info/METADATA")]
        version = next(
            line.split(":", 1)[1].strip()
            for line in outer.read(metadata).decode().splitlines()
            if line.startswith("Version:")
        )
        inner = zipfile.ZipFile(io.BytesIO(outer.read("cie/data/cie-10.zip")))
    text = inner.read("cie-10.csv").decode("utf-8")
    names: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = row["code"].strip()
        if CODE.match(code):  # ranges (chapters, blocks) are not codes
            names[code] = " ".join(row["description"].split())
    parents = {code[:3] for code in names if len(code) == 4}
    rows = [
        (code if len(code) == 4 else code + "X", name)
        for code, name in names.items()
        if len(code) == 4 or code not in parents
    ]
    return version, sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="cie-0.208-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    version, rows = catalog_rows(args.wheel)
    digest = hashlib.sha256(args.wheel.read_bytes()).hexdigest()
    header = [
        "# CIE-10 (ICD-10 in Spanish): the codes a diagnosis may carry, as RIPS writes them.",
        f"# Source: PyPI package cie {version} (MIT, Andrés Vázquez, https://github.com/cluster311/cie10),",
        "# cie/data/cie-10.zip; its descriptions come from icdcode.info and Chile's DEIS (deis.cl).",
        f"# Wheel: {args.wheel.name} sha256:{digest}",
        "# Derived by scripts/cie10_from_wheel.py: four-character subcategories as is (J069), three-",
        "# character categories without subcategories padded with X (I10X); ranges and categories",
        "# with subcategories left out. Do not edit by hand: run the script again.",
        f"# {len(rows)} codes. Columns: code, name (tab-separated, UTF-8).",
    ]
    lines = header + [f"{code}\t{name}" for code, name in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(rows)} codes from cie {version}")


if __name__ == "__main__":
    main()

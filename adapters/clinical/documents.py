"""Clinical documents as files: a report, history view, paragraph or form as PDF (fpdf2), and the
report's zip (its PDF plus the visit's attached documents)."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from adapters.pdf_text import latin1


def write_document_pdf(
    path: Path, title: str, header: Sequence[tuple[str, str]], body: Sequence[tuple[str, str]], footer: str
) -> None:
    from fpdf import FPDF

    class Printed(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("helvetica", size=8)
            self.cell(0, 8, latin1(footer.format(page=self.page_no(), pages="{nb}")), align="C")

    pdf = Printed(format="A4")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 10, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    for label, value in header:
        pdf.cell(0, 5, latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, text in body:
        if heading:
            pdf.set_font("helvetica", "B", 10)
            pdf.cell(0, 6, latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=10)
        pdf.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(path))


def write_zip(path: Path, files: Sequence[tuple[str, bytes]]) -> None:
    """Files under their own names; a repeated name gets a numbered prefix."""
    seen: set[str] = set()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, (name, content) in enumerate(files, start=1):
            safe = Path(name).name or f"documento-{index}"
            if safe in seen:
                safe = f"{index}-{safe}"
            seen.add(safe)
            archive.writestr(safe, content)

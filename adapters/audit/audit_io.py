"""Reading the tamper-evidence chain beside the events, backups, and exports (CSV, PDF)."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from adapters.pdf_text import latin1
from adapters.recorders import SQLITE_CHAIN
from adapters.store import StoreLocation
from domain.chain import ChainedEvent
from domain.errors import N_, DomainError

STREAM_PAGE = 2000


class BackupRefused(DomainError):
    template = N_("cannot back up the store: {reason}")


class SqlChainReader:
    """Events in log order, each with the link recorded for it."""

    def __init__(self, location: StoreLocation, engine: sa.Engine) -> None:
        self.engine = engine
        if location.kind == "sqlite":
            self.events, self.position, self.chain = "stored_events", "rowid", SQLITE_CHAIN
        else:
            schema = location.schema
            self.events, self.position = f'"{schema}".brigada_events', "notification_id"
            self.chain = f'"{schema}".brigada_chain'

    def chained_events(self) -> Iterator[ChainedEvent]:
        last = 0
        statement = sa.text(
            f"SELECT e.{self.position} AS position, e.originator_id, e.originator_version, e.topic,"
            f" e.state, c.site, c.previous, c.link FROM {self.events} e"
            f" LEFT JOIN {self.chain} c ON c.position = e.{self.position}"
            f" WHERE e.{self.position} > :last ORDER BY e.{self.position} LIMIT {STREAM_PAGE}"
        )
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(statement, {"last": last}).all()
            if not rows:
                return
            for row in rows:
                originator = row.originator_id
                yield ChainedEvent(
                    position=row.position,
                    originator_id=originator.hex if isinstance(originator, UUID) else str(originator),
                    version=row.originator_version,
                    topic=row.topic,
                    state=bytes(row.state),
                    recorded_site=row.site,
                    recorded_previous=row.previous,
                    recorded_link=row.link,
                )
            last = rows[-1].position

    def orphan_links(self) -> list[int]:
        statement = sa.text(
            f"SELECT c.position FROM {self.chain} c LEFT JOIN {self.events} e"
            f" ON e.{self.position} = c.position WHERE e.{self.position} IS NULL ORDER BY c.position"
        )
        with self.engine.connect() as conn:
            return [row.position for row in conn.execute(statement)]


class StoreBackups:
    def __init__(self, location: StoreLocation) -> None:
        self.location = location

    def backup(self, folder: Path, stamp: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if self.location.kind == "sqlite":
            assert self.location.path is not None
            target = folder / f"{self.location.path.stem}-{stamp}.db"
            target.touch(mode=0o600)  # never readable by others, not even while copying
            # SQLite's online backup API: a consistent copy while others keep writing.
            with sqlite3.connect(self.location.path) as source, sqlite3.connect(target) as copy:
                source.backup(copy)
            source.close()
            copy.close()
            target.chmod(0o600)
            return target
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise BackupRefused(reason=N_("pg_dump is not installed on this computer"))
        target = folder / f"{self.location.database}-{self.location.schema}-{stamp}.dump"
        command = [
            pg_dump,
            "--format=custom",
            f"--schema={self.location.schema}",
            f"--host={self.location.host}",
            f"--port={self.location.port}",
            f"--username={self.location.user}",
            f"--file={target}",
            self.location.database,
        ]
        # The rest of the environment stays (PATH, HOME for .pgpass, PGSSLMODE...).
        env = {**os.environ, "PGPASSWORD": self.location.password} if self.location.password else None
        # The dump holds every record and password hash: readable by its owner only, from the start.
        target.touch(mode=0o600)
        target.chmod(0o600)
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            target.unlink(missing_ok=True)
            raise BackupRefused(reason=(done.stderr.strip().splitlines() or ["pg_dump"])[-1])
        return target


# A cell a spreadsheet may run as a formula starts with one of these, or with white space before
# one (some trim it): the ASCII signs, their full-width forms (which some spreadsheets fold to
# ASCII), and control characters.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\0")


def spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP: CSV injection)."""
    text = "" if value is None else str(value)
    risky = text.startswith(FORMULA_STARTS) or text[:1].isspace()  # tab, CR, LF, space, no-break space
    return "'" + text if risky else text


def write_csv(
    path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]], separator: str = ";"
) -> None:
    """UTF-8 with a byte order mark, so a spreadsheet opening it reads the accents right."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=separator)
        writer.writerow([spreadsheet_safe(h) for h in headers])
        writer.writerows([[spreadsheet_safe(v) for v in row] for row in rows])


def write_pdf(
    path: Path,
    title: str,
    criteria: Sequence[str],
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    page_label: str,
) -> None:
    from fpdf import FPDF

    class Report(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("helvetica", size=8)
            self.cell(0, 8, page_label.format(page=self.page_no(), pages="{nb}"), align="C")

    pdf = Report(orientation="L", format="A4")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 10, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    for line in criteria:
        pdf.cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("helvetica", size=7)
    with pdf.table(col_widths=tuple(widths), text_align="LEFT", first_row_as_headings=True) as table:
        table.row([latin1(h) for h in headers])
        for row in rows:
            table.row([latin1("" if v is None else str(v)) for v in row])
    pdf.output(str(path))

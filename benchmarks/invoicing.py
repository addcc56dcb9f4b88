"""`brigada invoice from-vouchers` in batches (issue 19, point 6), next to today's path.

    python benchmarks/invoicing.py [--vouchers N] [--quick] [--no-postgres]

A central store with N vouchers issued and not invoiced: one voucher is made the real way
(catalog, price, patient, payer contract, finalized visit, ``vouchers.issue``), the others are
copies of it under their own numbers, saved a few hundred per transaction (the voucher is all
that invoicing reads). The store is built twice, alike; on one ``invoicing.from_vouchers`` runs
with its batches (``INVOICE_BATCH`` invoices a transaction, the views caught up once a batch), on
the other with ``batch=1``: the same code, one invoice a transaction and a catch-up after each,
which is what the command did before batches (series read, number taken, invoice and voucher
saved, views caught up, per voucher), only with the rows it returns read in one query, as the
batched run reads them (before: one query an invoice), so the reference is if anything faster
than the old command. The batched run goes first, so any cold start is charged to it. Ratio:
today's milliseconds per invoice over the batched ones; goal >= 5.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Protocol

from generate import MISSION_START, PASSWORD, log_in, open_store
from rows import Row

from adapters.synthetic import PatientFaker
from adapters.system import FixedClock
from application.billing.invoicing import INVOICE_BATCH
from demo.billing import CONTRACT, PAYER, payer_contract
from domain.billing.service_voucher import ServiceVoucher, voucher_id

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CONSULTATION = "890201"
SAVED_TOGETHER = 500  # copied vouchers a transaction while building


class Settings(Protocol):
    """What this section reads of benchmarks/run.py's settings."""

    @property
    def quick(self) -> bool: ...
    @property
    def folder(self) -> Path: ...
    @property
    def postgres(self) -> str | None: ...


@dataclass(frozen=True)
class Run:
    invoices: int
    seconds: float

    @property
    def ms_per_invoice(self) -> float:
        return self.seconds * 1000 / self.invoices


def build(url: str, vouchers: int) -> None:
    """A central store holding ``vouchers`` vouchers issued and not invoiced, and a series."""
    clock = FixedClock(MISSION_START)
    central = open_store(url, clock, "srv-central", 10)
    try:
        central.setup.initialize("central", "CEN", "admin", "Administrador", PASSWORD)
        admin = log_in(central, "admin")
        central.catalog.add_service(admin, {"code": CONSULTATION, "name": "Consulta general"})
        price = {"payer_nit": PAYER, "contract": CONTRACT, "code": CONSULTATION, "unit_value": "35000"}
        central.catalog.set_price(admin, price)
        patient = PatientFaker(seed=1, today=clock.today()).patient()
        chart = central.patients.register(admin, patient).chart_number
        central.contracts.add(admin, chart, payer_contract(clock.today(), "EPS Río"))
        visit = central.encounters.open(admin, {"chart_number": chart}).number
        central.encounters.add_service(admin, visit, {"cups": CONSULTATION, "quantity": 1})
        central.encounters.set_diagnosis(admin, visit, {"code": "I10X"})
        central.encounters.finalize(admin, visit)
        first = central.vouchers.issue(admin, {"encounter": visit}).number
        today = clock.today()
        year = {"valid_from": today.replace(month=1, day=1), "valid_to": today.replace(month=12, day=31)}
        central.invoicing.add_series(admin, {"prefix": "FE", "first": 1, "last": 10**6, **year})
        template = central.core.existing(ServiceVoucher, voucher_id(first))
        copies = (copy_of(template, n) for n in range(2, vouchers + 1))
        with central.core.acting_as("admin"):
            chunk: list[ServiceVoucher] = []
            for voucher in copies:
                chunk.append(voucher)
                if len(chunk) == SAVED_TOGETHER:
                    central.core.save(*chunk, catch_up=False)
                    chunk = []
            central.core.save(*chunk, catch_up=False)
        central.views.catch_up()
    finally:
        central.close()


def copy_of(template: ServiceVoucher, n: int) -> ServiceVoucher:
    """The template voucher under number ``BENCH-n``, for a visit of its own."""
    return ServiceVoucher(
        number=f"BENCH-{n}",
        encounter_id=uuid.uuid5(template.encounter_id, str(n)),
        visit_number=template.visit_number,
        patient_id=template.patient_id,
        chart_number=template.chart_number,
        patient=template.patient,
        visit=template.visit,
        contract=template.contract,
        lines=[line.as_dict() for line in template.lines],
        diagnoses=template.diagnoses,
        issued_on=template.issued_on,
        site=template.site,
    )


def invoice(url: str, batch: int, expected: int) -> Run:
    central = open_store(url, FixedClock(MISSION_START), "srv-central", 10)
    try:
        admin = log_in(central, "admin")
        started = time.perf_counter()
        rows = central.invoicing.from_vouchers(admin, {}, batch=batch)
        seconds = time.perf_counter() - started
    finally:
        central.close()
    if len(rows) != expected or len({r.number for r in rows}) != expected:
        raise AssertionError(f"batch={batch}: {len(rows)} invoices for {expected} vouchers")
    return Run(len(rows), seconds)


@contextmanager
def schemas(server: str) -> Iterator[list[str]]:
    """PostgreSQL store URLs made on demand (``made.append``), their schemas dropped at the end."""
    import psycopg

    made: list[str] = []
    try:
        yield made
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            for schema in made:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def compare(kind: str, batched_url: str, today_url: str, vouchers: int) -> Row:
    print(f"invoicing: {kind}, {vouchers:,} vouchers, two stores", file=sys.stderr, flush=True)
    build(batched_url, vouchers)
    build(today_url, vouchers)
    batched = invoice(batched_url, INVOICE_BATCH, vouchers)
    today = invoice(today_url, 1, vouchers)
    return Row(
        "invoicing",
        f"from-vouchers, {vouchers:,} vouchers, {INVOICE_BATCH} a transaction ({kind})",
        f"{batched.ms_per_invoice:.2f} ms/invoice ({batched.seconds:.1f} s)",
        f"one a transaction, today's path: {today.ms_per_invoice:.2f} ms/invoice ({today.seconds:.1f} s)",
        f"{today.ms_per_invoice / batched.ms_per_invoice:.1f}",
        ">= 5",
    )


def invoicing_section(settings: Settings, vouchers: int | None = None) -> list[Row]:
    vouchers = vouchers or (50 if settings.quick else 1_000)
    folder = settings.folder
    rows = [
        compare("sqlite", f"sqlite:///{folder / 'inv-a.db'}", f"sqlite:///{folder / 'inv-b.db'}", vouchers)
    ]
    if settings.postgres:
        with schemas(settings.postgres) as made:
            made += [f"bench_inv_{uuid.uuid4().hex[:10]}" for _ in range(2)]
            batched, today = (f"{settings.postgres}?schema={schema}" for schema in made)
            rows.append(compare("postgresql", batched, today, vouchers))
    return rows


@dataclass(frozen=True)
class CommandLine:
    quick: bool
    folder: Path
    postgres: str | None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vouchers", type=int, help="vouchers to invoice (default 1,000; --quick: 50)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with TemporaryDirectory() as folder:
        settings = CommandLine(args.quick, Path(folder), None if args.no_postgres else args.postgres)
        rows = invoicing_section(settings, args.vouchers)
    for row in rows:
        print(f"{row.measure}: {row.figure}; {row.reference}; ratio {row.ratio} (goal {row.goal})")


if __name__ == "__main__":
    main()

"""Projection rebuild rate next to a raw read-and-decode of the same events, in the same run.

    python benchmarks/projection_rebuild.py [--patients N] [--quick] [--postgres URL]

Builds a store with N patients (each registered, a third of them corrected), then measures:
  raw:     read the view's events from the log in pages and decode them to domain events;
  rebuild: drop the view and replay the log into it (read + decode + apply + write rows).
Figures are events/s; the ratio rebuild/raw is what to compare between machines.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from adapters.bootstrap import open_brigada
from adapters.synthetic import PatientFaker
from adapters.system import FixedClock, Host
from application.app import LOG_PAGE_SIZE
from application.brigada import Brigada
from application.context import event_context
from domain.clinical.patient import Patient, PatientDetails
from domain.context import recording
from domain.numbering import NumberSeries
from domain.vocabulary import CoverageStatus, DocumentType, Sex, Zone
from projections.clinical.patients import PatientsProjection

BATCH = 500


def fill(url: str, patients: int) -> tuple[Brigada, int]:
    clock = FixedClock(datetime(2026, 3, 4, 14, 0, tzinfo=UTC))
    host = Host("bench-pc", 10)
    brigada = open_brigada(url, create=True, clock=clock, host=host)
    brigada.setup.initialize("central", "CEN", "admin", "Admin", "benchmark-password-123")
    faker = PatientFaker(seed=1, today=clock.today())
    with recording(event_context("CEN", "admin", clock, host)):
        series = NumberSeries(site="CEN", series="HIST")
        pending: list[Patient] = []
        for i in range(patients):
            data = faker.patient()
            details = PatientDetails(
                document_type=DocumentType(data["document_type"]),
                document_number=data["document_number"],
                first_name=data["first_name"],
                middle_name=data["middle_name"],
                first_surname=data["first_surname"],
                second_surname=data["second_surname"],
                birth_date=datetime.fromisoformat(data["birth_date"]).date(),
                sex=Sex(data["sex"]),
                municipality=data["municipality"],
                zone=Zone(data["zone"]),
                coverage_status=CoverageStatus(data["coverage_status"]),
            )
            patient = Patient.register(series.take(), details, today=clock.today())
            if i % 3 == 0:
                patient.correct(clock.today(), zone=Zone.RURAL if details.zone is Zone.URBAN else Zone.URBAN)
            pending.append(patient)
            if len(pending) >= BATCH:
                brigada.app.save(series, *pending)
                pending = []
        brigada.app.save(series, *pending)
    return brigada, brigada.app.recorder.max_notification_id() or 0


def raw_read_decode(brigada: Brigada, topics: tuple[str, ...]) -> int:
    app = brigada.app
    position, count = 0, 0
    while True:
        page = app.recorder.select_notifications(
            start=position, limit=LOG_PAGE_SIZE, topics=topics, inclusive_of_start=False
        )
        if not page:
            return count
        for notification in page:
            app.mapper.to_domain_event(notification)
        count += len(page)
        position = page[-1].id


def measure(label: str, url: str, patients: int) -> None:
    brigada, _head = fill(url, patients)
    topics = PatientsProjection.topics
    best_raw = best_rebuild = float("inf")
    events = 0
    for _round in range(3):
        started = time.perf_counter()
        events = raw_read_decode(brigada, topics)
        best_raw = min(best_raw, time.perf_counter() - started)
        started = time.perf_counter()
        brigada.views.rebuild("patients")
        best_rebuild = min(best_rebuild, time.perf_counter() - started)
    rows = brigada.views.store("patients").count()
    raw_rate, rebuild_rate = events / best_raw, events / best_rebuild
    print(
        f"{label:<10} {events:>8} {rows:>8} {raw_rate:>14,.0f} {rebuild_rate:>14,.0f}"
        f" {rebuild_rate / raw_rate:>8.2f}"
    )
    brigada.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="a CI-sized run (checks it runs)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    patients = 1_000 if args.quick else args.patients
    print(f"projection rebuild vs raw read+decode, {patients} patients, best of 3")
    print(f"{'store':<10} {'events':>8} {'rows':>8} {'raw ev/s':>14} {'rebuild ev/s':>14} {'ratio':>8}")
    with tempfile.TemporaryDirectory() as folder:
        measure("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", patients)
    if not args.no_postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        try:
            measure("postgres", f"{args.postgres}?schema={schema}", patients)
        finally:
            import psycopg

            with psycopg.connect(args.postgres.replace("postgresql://", "postgresql://", 1)) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()

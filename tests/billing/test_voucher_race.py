"""One voucher in force per visit, with two real processes issuing it at once (issue 16, point 6).

Each process is the real CLI, ``brigada voucher issue``, on the same SQLite file or PostgreSQL
schema. It stops right after the command read the views for the visit's vouchers (the check that
used to be the only one) and waits for a line on stdin, so both have seen "no voucher yet" before
either writes. The test then releases them at the same instant, or one after the other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support.billing import billing_central, finalized_visit, insured_patient
from tests.support.cli import cli_log_in, computer_today
from tests.support.security import ADMIN_PASSWORD

# `brigada ARGS`, paused after the views were read for the visit's vouchers until stdin says go.
PAUSED_CLI = """
import sys
from projections.billing.vouchers import VoucherQueries
from cli.main import main

read = VoucherQueries.of_encounter

def read_then_wait(self, encounter_id):
    rows = read(self, encounter_id)
    print("ready", file=sys.stderr, flush=True)
    sys.stdin.readline()
    return rows

VoucherQueries.of_encounter = read_then_wait
sys.argv[0] = "brigada"
main()
"""
REFUSALS = {1: "is already on voucher CEN-1", 4: "someone changed the same record at the same time"}


def paused_issue(store: str, visit: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED_CLI, "--store", store, "voucher", "issue", "--encounter", visit],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BRIGADA_LANG": "en"},
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line == "ready\n", line + process.stderr.read()
    return process


def go(*processes: subprocess.Popen[str]) -> None:
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


def finished(process: subprocess.Popen[str]) -> tuple[int, str]:
    _out, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.parametrize("release", ["at the same instant", "one after the other"])
def test_two_processes_issuing_the_same_visits_voucher_leave_one(
    open_store, store_url: str, tmp_path: Path, release: str
) -> None:
    brigada, admin = billing_central(open_store, store_url)
    visit = finalized_visit(brigada, admin, insured_patient(brigada, admin))
    brigada.close()
    cli_log_in(CliRunner(), store_url, "admin", ADMIN_PASSWORD)
    confirmed = CliRunner().invoke(cli, ["--store", store_url, "date", "confirm", computer_today()])
    assert confirmed.exit_code == 0, confirmed.output  # the store was made on the tests' clock
    first, second = paused_issue(store_url, visit), paused_issue(store_url, visit)

    if release == "at the same instant":
        go(first, second)
        outcomes = sorted([finished(first), finished(second)])
    else:
        go(first)
        winner = finished(first)
        go(second)
        outcomes = [winner, finished(second)]

    (won, _), (lost, refusal) = outcomes
    assert won == 0 and lost in REFUSALS, outcomes
    assert REFUSALS[lost] in refusal and "Traceback" not in refusal
    if release == "one after the other":  # the second saw the visit's slot held: named
        assert lost == 1
    rows = open_store(store_url, create=False).vouchers.queries.listing()
    assert [(r.number, r.visit_number, r.state) for r in rows] == [("CEN-1", visit, "issued")]

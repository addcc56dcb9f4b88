"""`invoice from-vouchers` in batches (issue 19, point 6): each batch of invoices is one
transaction, all or none; numbers stay gapless and unique across batches; a rerun invoices
nothing twice; the activity log records every invoice."""

from __future__ import annotations

from typing import Any

import pytest

from application.brigada import Brigada
from application.context import Actor
from domain.billing.invoice import Invoice, invoice_id
from domain.billing.invoice_series import NoSeriesInForce
from domain.errors import Conflict
from tests.support.billing import add_series, billing_central, comments, finalized_visit, insured_patient
from tests.support.sites import JOSE


@pytest.fixture
def central(open_store, store_url: str) -> tuple[Brigada, Actor]:
    return billing_central(open_store, store_url)


def issued_vouchers(brigada: Brigada, admin: Actor, count: int) -> list[str]:
    """``count`` vouchers, each for its own patient's finalized visit, in issue order."""
    numbers = []
    for n in range(count):
        chart = insured_patient(brigada, admin, {**JOSE, "document_number": f"10324560{n:02d}"})
        visit = finalized_visit(brigada, admin, chart)
        numbers.append(brigada.vouchers.issue(admin, {"encounter": visit}).number)
    return numbers


def invoice_of(brigada: Brigada, admin: Actor) -> dict[str, str]:
    """Each voucher's invoice number ("" while not invoiced), as the views say."""
    return {r.number: r.invoice_number for r in brigada.vouchers.listing(admin)}


def test_vouchers_invoiced_in_batches_get_gapless_unique_numbers_and_each_is_logged(central) -> None:
    brigada, admin = central
    add_series(brigada, admin, "FE", 1, 100)
    vouchers = issued_vouchers(brigada, admin, 5)

    invoices = brigada.invoicing.from_vouchers(admin, {}, batch=2)

    assert [(i.number, i.voucher_numbers) for i in invoices] == [
        (f"FE-{n}", voucher) for n, voucher in enumerate(vouchers, start=1)
    ]
    assert invoice_of(brigada, admin) == {v: f"FE-{n}" for n, v in enumerate(vouchers, start=1)}
    assert brigada.invoicing.list_series(admin)[0].next_number == 6
    assert comments(brigada, "invoice.series.take") == [f"SERIE=FE NUM={n}" for n in range(1, 6)]
    assert [c.split(" FRA=")[1] for c in comments(brigada, "invoice.issue")] == [
        f"FE-{n}" for n in range(1, 6)
    ]
    assert brigada.invoicing.from_vouchers(admin, {}, batch=2) == []  # a rerun invoices nothing twice
    assert brigada.invoicing.from_vouchers(admin, {}) == []
    assert [r.number for r in brigada.invoicing.listing(admin)] == [f"FE-{n}" for n in range(1, 6)]


def test_a_batch_that_fails_at_the_store_leaves_none_of_its_invoices_and_the_earlier_batch_stays(
    central, open_store, store_url: str
) -> None:
    """Another process (a second store on the same database) voids the last voucher while this
    run is about to write its second batch: the store refuses that batch's transaction at the
    voucher, after its numbers and invoices were inserted; none of them stays."""
    brigada, admin = central
    add_series(brigada, admin, "FE", 1, 100)
    first, second, third, last = issued_vouchers(brigada, admin, 4)
    other = open_store(store_url, create=False)
    save, saves = brigada.core.save, [0]

    def the_other_voids_then_save(*aggregates: Any, **options: Any) -> None:
        saves[0] += 1
        if saves[0] == 2:
            other.vouchers.void(admin, last, {"reason": "duplicated"})
        save(*aggregates, **options)

    brigada.core.save = the_other_voids_then_save

    with pytest.raises(Conflict):
        brigada.invoicing.from_vouchers(admin, {}, batch=2)

    brigada.core.save = save
    brigada.views.catch_up()
    assert [r.number for r in brigada.invoicing.listing(admin)] == ["FE-1", "FE-2"]
    assert brigada.core.get(Invoice, invoice_id("FE-3")) is None  # in the store, not only the views
    assert brigada.core.get(Invoice, invoice_id("FE-4")) is None
    assert brigada.invoicing.list_series(admin)[0].next_number == 3  # no number lost
    assert invoice_of(brigada, admin) == {first: "FE-1", second: "FE-2", third: "", last: ""}
    assert len(comments(brigada, "invoice.issue")) == 2

    [again] = brigada.invoicing.from_vouchers(admin, {}, batch=2)

    assert (again.number, again.voucher_numbers) == ("FE-3", third)
    assert comments(brigada, "invoice.series.take") == [f"SERIE=FE NUM={n}" for n in range(1, 4)]


def test_a_series_running_out_inside_a_batch_hands_over_to_the_next_one(central) -> None:
    brigada, admin = central
    add_series(brigada, admin, "FE", 1, 2)
    add_series(brigada, admin, "FF", 10, 20)
    vouchers = issued_vouchers(brigada, admin, 4)

    invoices = brigada.invoicing.from_vouchers(admin, {})

    assert [i.number for i in invoices] == ["FE-1", "FE-2", "FF-10", "FF-11"]
    assert invoice_of(brigada, admin) == dict(zip(vouchers, ["FE-1", "FE-2", "FF-10", "FF-11"], strict=True))


def test_a_batch_refused_by_the_domain_writes_nothing_of_that_batch(central) -> None:
    brigada, admin = central
    add_series(brigada, admin, "FE", 1, 3)
    vouchers = issued_vouchers(brigada, admin, 5)

    with pytest.raises(NoSeriesInForce):
        brigada.invoicing.from_vouchers(admin, {}, batch=2)  # FE-1, FE-2; then FE-3 and no number

    assert [r.number for r in brigada.invoicing.listing(admin)] == ["FE-1", "FE-2"]
    assert brigada.invoicing.list_series(admin)[0].next_number == 3
    assert brigada.core.get(Invoice, invoice_id("FE-3")) is None
    assert list(invoice_of(brigada, admin).values()) == ["FE-1", "FE-2", "", "", ""]

    add_series(brigada, admin, "FF", 1, 10)
    invoices = brigada.invoicing.from_vouchers(admin, {}, batch=2)

    assert [(i.number, i.voucher_numbers) for i in invoices] == list(
        zip(["FE-3", "FF-1", "FF-2"], vouchers[2:], strict=True)
    )

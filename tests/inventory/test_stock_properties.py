"""Random histories of receipts, transfers, dispensings, administrations and returns.

The rules are commands, so every history is one an operator could produce, refusals included
(a refused command must leave every aggregate untouched). After every step:

- stock is never negative;
- per lot, received + transferred in - transferred out - dispensed + returned = on hand;
- per request and lot, administered <= dispensed and returned <= dispensed - administered; what
  the requests dispensed from a lot, net of returns, is what the lot shows;
- the stock view and the kardex built incrementally equal the ones rebuilt from the log, and
  agree with the aggregates.

The fast machine runs the domain with in-memory views; the slow one runs the application on real
SQLite stores (a copy of the mission's central store), with the site's mode flipping under it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from adapters.bootstrap import open_brigada
from adapters.system import FixedClock, Host
from application.projection_runner import fold_batch
from domain.context import recording
from domain.errors import DomainError
from domain.pharmacy.catalog import CatalogItem, ItemKind
from domain.pharmacy.clinical_order import VisitRef
from domain.pharmacy.dispensing import dispense, return_unused
from domain.pharmacy.stock_lot import StockLot, StockSource, fefo_plan, lot_id, transfer
from domain.pharmacy.supply_request import SupplyRequest
from domain.sites.site import SiteMode
from projections.base import InMemoryRowStore
from projections.pharmacy.kardex import KardexProjection, KardexQueries
from projections.pharmacy.stock import StockProjection
from tests.support.given_when_then import NOW, context
from tests.support.hashing import QuickArgon2Hasher
from tests.support.inventory import (
    ACETAMINOPHEN,
    AMOXICILLIN,
    CENTRAL_WAREHOUSE,
    FIELD,
    FIELD_2,
    OTHER_FIELD,
    SALINE,
    Templates,
)
from tests.support.security import head, only_denials_since
from tests.support.sites import set_site_mode

TODAY = date(2026, 3, 1)
WAREHOUSES = ("CEN", "F1", "F2")
ITEMS = ("I1", "I2")
LOTS = {"L0": date(2026, 2, 1), "L1": date(2026, 12, 31), "L2": date(2027, 6, 30)}  # L0 has expired
quantities = st.integers(min_value=1, max_value=40)


def conserved(lot: Any) -> bool:
    received = lot.purchased + lot.transferred_in
    return received - lot.transferred_out - lot.dispensed + lot.returned == lot.on_hand


class StockHistories(RuleBasedStateMachine):
    """The domain: lots, requests, and the stock and kardex views folded one save at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.lots: dict[tuple[str, str, str], StockLot] = {}
        self.requests: list[SupplyRequest] = []
        self.log: list[Any] = []
        self.stock, self.kardex = StockProjection(), KardexProjection()
        self.stock_rows, self.kardex_rows = InMemoryRowStore(self.stock), InMemoryRowStore(self.kardex)
        self.items = {code: self._item(code) for code in ITEMS}

    @staticmethod
    def _item(code: str) -> CatalogItem:
        with recording(context()):
            return CatalogItem.add(ItemKind.SUPPLY, code, code, dispensing_unit="unidad")

    # -- saving: one batch per command, as the application saves -----------------------------------
    def _save(self, *aggregates: Any) -> None:
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        start = len(self.log)
        self.log.extend(events)
        for projection, rows in ((self.stock, self.stock_rows), (self.kardex, self.kardex_rows)):
            batch = [(e, start + i + 1) for i, e in enumerate(events) if type(e).TOPIC in projection.topics]
            upserts, deletes = fold_batch(projection, rows, batch)
            assert rows.write(upserts, deletes, old=rows.position(), new=len(self.log))

    def _untouched(self, *aggregates: Any) -> None:
        assert all(not aggregate.pending_events for aggregate in aggregates), "a refusal recorded an event"

    def _lot(self, warehouse: str, item: str, lot: str) -> StockLot:
        key = (warehouse, item, lot)
        if key not in self.lots:
            self.lots[key] = StockLot(warehouse=warehouse, item=item, lot=lot, expiry=LOTS[lot])
        return self.lots[key]

    # -- rules ----------------------------------------------------------------------------------
    @rule(item=st.sampled_from(ITEMS), lot=st.sampled_from(sorted(LOTS)), quantity=quantities)
    def receive(self, item: str, lot: str, quantity: int) -> None:
        with recording(context()):
            received = self._lot("CEN", item, lot)
            received.receive(quantity, StockSource.PURCHASE, "FAC-1")
        self._save(received)

    @rule(
        source=st.sampled_from(WAREHOUSES),
        to=st.sampled_from(WAREHOUSES),
        item=st.sampled_from(ITEMS),
        lot=st.sampled_from(sorted(LOTS)),
        quantity=quantities,
    )
    def move(self, source: str, to: str, item: str, lot: str, quantity: int) -> None:
        target = to
        if (source, item, lot) not in self.lots:
            return
        sent_from, known = self.lots[(source, item, lot)], (target, item, lot) in self.lots
        with recording(context()):
            into = self._lot(target, item, lot)
            try:
                transfer(sent_from, into, quantity, "TRA CEN-1", TODAY, into_field=target != "CEN")
            except DomainError:
                self._untouched(sent_from)
                if not known:
                    del self.lots[(target, item, lot)]
                else:
                    self._untouched(into)
                return
        self._save(sent_from, into)

    @precondition(lambda self: len(self.requests) < 3)  # a few requests, each worked on at length
    @rule(lines=st.dictionaries(st.sampled_from(ITEMS), quantities, min_size=1, max_size=2))
    def request(self, lines: dict[str, int]) -> None:
        visit = VisitRef(context().event_id, "BRG01-1", context().event_id, "CEN-1")
        wanted = [(self.items[code], quantity) for code, quantity in lines.items()]
        with recording(context()):
            made = SupplyRequest.request(f"BRG01-{len(self.requests) + 1}", visit, wanted, "ana")
        made.collect_events()  # requests are not stock: the views need none of their events
        self.requests.append(made)

    @precondition(lambda self: self.requests)
    @rule(
        data=st.data(),
        warehouse=st.sampled_from(WAREHOUSES),
        item=st.sampled_from(ITEMS),
        named=st.sampled_from([None, *sorted(LOTS)]),
        quantity=quantities,
    )
    def dispense(
        self, data: st.DataObject, warehouse: str, item: str, named: str | None, quantity: int
    ) -> None:
        order = self.requests[data.draw(st.integers(0, len(self.requests) - 1))]
        candidates = [lot for (w, i, _l), lot in self.lots.items() if (w, i) == (warehouse, item)]
        with recording(context()):
            try:
                if named is None:
                    plan = fefo_plan(warehouse, item, candidates, quantity, TODAY)
                elif (warehouse, item, named) in self.lots:
                    plan = [(self.lots[(warehouse, item, named)], quantity)]
                else:
                    return
                dispense(order, plan, TODAY)
            except DomainError:
                self._untouched(order, *candidates)
                return
        self._save(order, *(lot for lot, _quantity in plan))

    @precondition(lambda self: self.requests)
    @rule(data=st.data())
    def fill(self, data: st.DataObject) -> None:
        """What a pharmacist does most: dispense a request's pending item from where it is."""
        order = self.requests[data.draw(st.integers(0, len(self.requests) - 1))]
        for item in sorted(order.ledger.requested):
            for warehouse in WAREHOUSES:
                lots = [lot for (w, i, _l), lot in self.lots.items() if (w, i) == (warehouse, item)]
                usable = sum(lot.on_hand for lot in lots if not lot.expired(TODAY))
                wanted = min(order.ledger.pending(item), usable)
                if wanted > 0:
                    with recording(context()):
                        plan = fefo_plan(warehouse, item, lots, wanted, TODAY)
                        dispense(order, plan, TODAY)
                    self._save(order, *(lot for lot, _quantity in plan))
                    return

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), item=st.sampled_from(ITEMS), give_back=st.booleans())
    def apply_or_return(self, data: st.DataObject, item: str, give_back: bool) -> None:
        order = self.requests[data.draw(st.integers(0, len(self.requests) - 1))]
        holding = [t for t in order.ledger.of_item(item) if t.in_hand > 0]
        if not holding:
            return
        tally = holding[data.draw(st.integers(0, len(holding) - 1))]
        # All that is in hand, one more than that (refused), or some of it.
        quantity = data.draw(
            st.sampled_from([tally.in_hand, tally.in_hand + 1]) | st.integers(1, tally.in_hand)
        )
        lot = self.lots[(tally.warehouse, item, tally.lot)]
        with recording(context()):
            try:
                if give_back:
                    return_unused(order, tally, lot, quantity)
                else:
                    order.administer(tally, quantity, lot.expiry, TODAY)
            except DomainError:
                self._untouched(order, lot)
                return
        self._save(order, lot)

    # -- invariants -----------------------------------------------------------------------------
    @invariant()
    def stock_is_never_negative_and_each_lot_balances(self) -> None:
        for lot in self.lots.values():
            assert lot.on_hand >= 0
            assert conserved(lot)

    @invariant()
    def the_chain_never_applies_or_returns_more_than_it_dispensed(self) -> None:
        by_lot: dict[tuple[str, str, str], int] = defaultdict(int)
        for order in self.requests:
            for code, requested in order.ledger.requested.items():
                assert order.ledger.total(code, "dispensed") <= requested
            for tally in order.ledger.lots.values():
                assert tally.administered <= tally.dispensed
                assert tally.returned <= tally.dispensed - tally.administered
                by_lot[(tally.warehouse, tally.item, tally.lot)] += tally.dispensed - tally.returned
        for key, lot in self.lots.items():
            assert by_lot.get(key, 0) == lot.dispensed - lot.returned

    @invariant()
    def the_views_rebuilt_equal_the_incremental_ones_and_the_aggregates(self) -> None:
        for projection, rows in ((self.stock, self.stock_rows), (self.kardex, self.kardex_rows)):
            rebuilt = InMemoryRowStore(projection)
            everything = [(e, i + 1) for i, e in enumerate(self.log) if type(e).TOPIC in projection.topics]
            upserts, deletes = fold_batch(projection, rebuilt, everything)
            rebuilt.write(upserts, deletes, old=0, new=len(self.log))
            assert rebuilt.all_rows() == rows.all_rows()
        saved = {(r.warehouse, r.item, r.lot): r.on_hand for r in self.stock_rows.all_rows()}
        assert saved == {
            key: lot.on_hand for key, lot in self.lots.items() if lot.version > 0 and key in saved
        }
        balances = {
            (line.warehouse, line.item): line.balance
            for i in ITEMS
            for line in KardexQueries(self.kardex_rows).kardex(i)
        }
        for (warehouse, item), balance in balances.items():
            assert balance == sum(
                lot.on_hand for (w, i, _l), lot in self.lots.items() if (w, i) == (warehouse, item)
            )


def test_random_stock_histories_keep_their_invariants() -> None:
    run_state_machine_as_test(StockHistories, settings=settings(stateful_step_count=40))


@pytest.mark.slow
def test_long_random_stock_histories_keep_their_invariants() -> None:
    run_state_machine_as_test(
        StockHistories,
        settings=settings(
            max_examples=300, stateful_step_count=80, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )


class StoreHistories(RuleBasedStateMachine):
    """The application on real SQLite stores: a copy of the mission's central store, where BRG01's
    mode flips under the commands and central's own visits drive the medication chain."""

    templates: Templates
    folder: Path
    ITEMS = (ACETAMINOPHEN, AMOXICILLIN, SALINE)
    LOTS = {
        "A1": "2026-12-31",
        "B2": "2027-06-30",
        "S1": "2028-01-31",
        "X9": "2027-01-31",
        "N7": "2027-09-30",
    }
    STORES = (CENTRAL_WAREHOUSE, FIELD, FIELD_2, OTHER_FIELD)

    def __init__(self) -> None:
        super().__init__()

        def open_store(url: str, *, create: bool = True) -> Any:
            return open_brigada(
                url, create=create, clock=FixedClock(NOW), host=Host("test-pc", 7), hasher=QuickArgon2Hasher()
            )

        run = self.folder / f"run-{id(self)}"
        run.mkdir()
        mission = self.templates.mission(open_store, run)
        mission.laptop.close()
        self.central, self.admin = mission.central, mission.admin
        self.central.admissions.admit(self.admin, {"chart_number": "CEN-1"})
        self.visit = self.central.encounters.open(
            self.admin, {"chart_number": "CEN-1", "kind": "ambulatory"}
        ).number
        self.requests: list[str] = []
        self.on_mission = True

    def teardown(self) -> None:
        try:
            for name in ("stock", "kardex", "orders"):
                incremental = self.central.views.store(name).all_rows()
                self.central.views.rebuild(name)
                assert self.central.views.store(name).all_rows() == incremental, name
        finally:
            self.central.close()

    def _attempt(self, command: Any) -> None:
        """Run a command; a refusal must leave the store as it was, but for its own record."""
        before = head(self.central)
        try:
            command()
        except DomainError:
            assert only_denials_since(self.central, before)

    @rule(item=st.sampled_from(ITEMS), lot=st.sampled_from(sorted(LOTS)), quantity=quantities)
    def receive(self, item: str, lot: str, quantity: int) -> None:
        data = {
            "warehouse": CENTRAL_WAREHOUSE,
            "item": item,
            "lot": lot,
            "expiry": self.LOTS[lot],
            "quantity": quantity,
        }
        self._attempt(lambda: self.central.inventory.receive(self.admin, data))

    @rule(
        source=st.sampled_from(STORES),
        to=st.sampled_from(STORES),
        item=st.sampled_from(ITEMS),
        lot=st.sampled_from(sorted(LOTS)),
        quantity=quantities,
    )
    def move(self, source: str, to: str, item: str, lot: str, quantity: int) -> None:
        data = {"source": source, "target": to, "item": item, "lot": lot, "quantity": quantity}
        self._attempt(lambda: self.central.inventory.transfer(self.admin, data))

    @rule()
    def flip(self) -> None:
        self.on_mission = not self.on_mission
        mode = SiteMode.ON_MISSION if self.on_mission else SiteMode.ON_SITE
        set_site_mode(self.central, self.admin, "BRG01", mode)

    @precondition(lambda self: len(self.requests) < 3)
    @rule(lines=st.dictionaries(st.sampled_from(ITEMS), quantities, min_size=1, max_size=2))
    def request(self, lines: dict[str, int]) -> None:
        data = {"lines": [{"item": item, "quantity": quantity} for item, quantity in lines.items()]}
        self.requests.append(self.central.pharmacy.request(self.admin, self.visit, data).number)

    @precondition(lambda self: self.requests)
    @rule(
        data=st.data(),
        item=st.sampled_from(ITEMS),
        warehouse=st.sampled_from(STORES),
        quantity=st.none() | quantities,
    )
    def dispense(self, data: st.DataObject, item: str, warehouse: str, quantity: int | None) -> None:
        number = data.draw(st.sampled_from(self.requests))
        given = {"item": item, "warehouse": warehouse, **({"quantity": quantity} if quantity else {})}
        self._attempt(lambda: self.central.pharmacy.dispense(self.admin, "request", number, given))

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), item=st.sampled_from(ITEMS), quantity=quantities, give_back=st.booleans())
    def apply_or_return(self, data: st.DataObject, item: str, quantity: int, give_back: bool) -> None:
        number = data.draw(st.sampled_from(self.requests))
        pharmacy, given = self.central.pharmacy, {"item": item, "quantity": quantity % 6 + 1}
        if give_back:
            self._attempt(lambda: pharmacy.return_unused(self.admin, "request", number, given))
        else:
            self._attempt(lambda: pharmacy.administer(self.admin, number, given))

    @invariant()
    def stock_balances_and_the_views_agree_with_the_lots(self) -> None:
        for row in self.central.views.store("stock").all_rows():
            assert row.on_hand >= 0 and conserved(row)
            lot = self.central.core.existing(StockLot, lot_id(row.warehouse, row.item, row.lot))
            assert (lot.on_hand, lot.dispensed, lot.returned) == (row.on_hand, row.dispensed, row.returned)

    @invariant()
    def the_requests_never_apply_or_return_more_than_they_dispensed(self) -> None:
        for number in self.requests:
            for status in self.central.pharmacy.show(self.admin, "request", number):
                assert status.dispensed <= status.requested
                assert status.administered + status.returned <= status.dispensed
                assert status.in_hand >= 0


@pytest.mark.store
@pytest.mark.slow
def test_random_histories_through_the_application_keep_their_invariants(
    templates: Templates, tmp_path: Path
) -> None:
    StoreHistories.templates, StoreHistories.folder = templates, tmp_path
    run_state_machine_as_test(
        StoreHistories,
        settings=settings(
            max_examples=8, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )

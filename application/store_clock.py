"""The store's time as people see it: 'brigada date show' and 'brigada date confirm'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from application.context import Actor
from application.core import Core
from domain import store_time
from domain.access_log import DATE_CONFIRM
from domain.store_time import Dating


@dataclass(frozen=True)
class StoreDate:
    computer: date  # the clock's date
    recorded: date | None  # the newest confirmed business date here (None: nothing recorded)
    days_ahead: int
    needs_confirmation: bool  # dated changes are refused until someone confirms


class StoreClock:
    def __init__(self, core: Core) -> None:
        self.core = core

    def show(self) -> StoreDate:
        today, confirmed = self.core.clock.today(), self.core.confirmed()
        ahead = store_time.days_ahead(today, confirmed)
        return StoreDate(
            today, confirmed.day if confirmed else None, ahead, ahead > store_time.MAX_DAYS_AHEAD
        )

    def confirm(self, actor: Actor, given: date) -> StoreDate:
        """An authenticated user stands behind the computer's date; recorded ('Fecha - Confirmar',
        FECHA= and the date recorded before, ANTERIOR=)."""
        today, confirmed = self.core.clock.today(), self.core.confirmed()
        store_time.check_confirmation(given, today, confirmed)
        previous = confirmed.day.isoformat() if confirmed else "-"
        fields = {"FECHA": today.isoformat(), "ANTERIOR": previous}
        self.core.record_access(actor.username, DATE_CONFIRM, fields, dating=Dating.CONFIRMING)
        return self.show()

"""The activity log: recording accesses, searching by the seed's criteria, exporting, verifying
the tamper-evidence chain, and backups (themselves recorded)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from pydantic import Field, field_validator

from application.context import Actor
from application.core import Core
from application.security.access import Access
from application.validation import Command, parse
from domain.access_log import AUDIT_EXPORT, AUDIT_VERIFY, BACKUP
from domain.chain import ChainBreak, ChainedEvent, verify
from domain.errors import N_, InvalidValue
from projections.audit.activity_log import ActivityRow, all_action_codes
from projections.base import Query, RowStore

PAGE_SIZE = 50
SCAN_BATCH = 1000  # rows read at a time when a criterion is finished in Python (the computer)
MAX_TEXTS = 3  # seed: "hasta 3 casillas de texto"
MAX_TEXT_LENGTH = 100
MAX_NAME = 100
TOO_MANY_TEXTS = N_("search for at most {limit} texts at once ({count} given)")
TEXT_TOO_LONG = N_("a text to search for has at most {limit} characters (one has {length})")


class ChainReader(Protocol):
    def chained_events(self) -> Iterator[ChainedEvent]: ...
    def orphan_links(self) -> list[int]: ...


class BackupWriter(Protocol):
    def backup(self, folder: Path, stamp: str) -> Path: ...


class AuditCriteria(Command):
    date_from: date | None = None
    date_to: date | None = None
    action: str | None = None
    ip: int | None = Field(None, ge=0, le=255)
    computer: str | None = Field(None, max_length=MAX_NAME)
    user: str | None = Field(None, max_length=MAX_NAME)
    site: str | None = Field(None, max_length=MAX_NAME)
    texts: list[str] = Field(default_factory=list)

    @field_validator("texts")
    @classmethod
    def _few_short_texts(cls, texts: list[str]) -> list[str]:
        # Beyond these a search is a mistake (or an attack on the text index), never a need.
        if len(texts) > MAX_TEXTS:
            raise InvalidValue("texts", TOO_MANY_TEXTS, limit=MAX_TEXTS, count=len(texts))
        longest = max((len(t) for t in texts), default=0)
        if longest > MAX_TEXT_LENGTH:
            raise InvalidValue("texts", TEXT_TOO_LONG, limit=MAX_TEXT_LENGTH, length=longest)
        return texts

    def query(self, page: int, page_size: int) -> Query:
        """One page, plus one more row that tells whether another page follows."""
        return self.window(offset=(page - 1) * page_size, limit=page_size + 1)

    def window(self, offset: int, limit: int) -> Query:
        # Usernames are lower case (USERNAME_PATTERN), so a user matches in any case by lowering
        # it; a computer's name keeps the case it has, so it is found as a case-insensitive
        # substring here and kept only when the whole name matches (``keeps``).
        equals = {
            name: value
            for name, value in (
                ("action", self.action),
                ("ip_octet", self.ip),
                ("user", self.user.lower() if self.user else None),
                ("site", self.site),
            )
            if value is not None and value != ""
        }
        low = _utc_start(self.date_from) if self.date_from else None
        high = _utc_end(self.date_to) if self.date_to else None
        ranges = {"recorded_at": (low, high)} if (low or high) else {}
        contains = {"comment": [t for t in self.texts if t]} if self.texts else {}
        if self.computer:
            contains["computer"] = [self.computer]
        return Query(
            equals=equals,
            ranges=ranges,
            contains=contains,
            order_by="position",
            descending=True,
            limit=limit,
            offset=offset,
        )

    def keeps(self, row: ActivityRow) -> bool:
        """Whether a row the query found matches the computer's whole name (in any case)."""
        return not self.computer or row.computer.casefold() == self.computer.casefold()

    def described(self) -> dict[str, str]:
        data = self.model_dump(exclude_none=True)
        if not data.get("texts"):
            data.pop("texts", None)
        return {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in data.items()}


def _utc_start(day: date) -> str:
    """Local midnight of ``day`` as the UTC ISO text the log stores (dates are local to the reader)."""
    return datetime.combine(day, time.min).astimezone().astimezone(UTC).isoformat()


def _utc_end(day: date) -> str:
    """The last microsecond of ``day`` (local) as UTC ISO text: ranges are inclusive, so the
    next day's local midnight must not match."""
    next_midnight = datetime.combine(day + timedelta(days=1), time.min).astimezone()
    return (next_midnight - timedelta(microseconds=1)).astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Page:
    rows: list[ActivityRow]
    page: int
    has_more: bool


class Audit:
    def __init__(
        self, core: Core, access: Access, log: RowStore, chain: ChainReader, backups: BackupWriter
    ) -> None:
        self.core = core
        self.access = access
        self.log = log
        self.chain = chain
        self.backups = backups

    def search(
        self, actor: Actor, data: dict[str, object], page: int = 1, page_size: int = PAGE_SIZE
    ) -> Page:
        """Newest first, by the seed's criteria (all given criteria must match)."""
        self._require_admin(actor)
        criteria = parse(AuditCriteria, data)
        rows = self._select(criteria, offset=(page - 1) * page_size, limit=page_size + 1)
        return Page(rows=rows[:page_size], page=page, has_more=len(rows) > page_size)

    def export_rows(self, actor: Actor, data: dict[str, object], limit: int = 1_000_000) -> list[ActivityRow]:
        self._require_admin(actor)
        criteria = parse(AuditCriteria, data)
        return self._select(criteria, offset=0, limit=limit)

    def action_codes(self, actor: Actor) -> list[str]:
        """Every action the log names (the seed's "proceso" picker)."""
        self._require_admin(actor)
        return all_action_codes()

    def _select(self, criteria: AuditCriteria, offset: int, limit: int) -> list[ActivityRow]:
        if not criteria.computer:
            return self.log.select(criteria.window(offset, limit))
        kept: list[ActivityRow] = []
        read = 0
        while len(kept) < offset + limit:
            batch = self.log.select(criteria.window(read, SCAN_BATCH))
            kept += [row for row in batch if criteria.keeps(row)]
            read += len(batch)
            if len(batch) < SCAN_BATCH:
                break
        return kept[offset : offset + limit]

    def exported(self, actor: Actor, data: dict[str, object], fmt: str, path: Path, rows: int) -> None:
        """Record that the log was exported (after the file is written, so it is not in it)."""
        criteria = parse(AuditCriteria, data).described()
        fields = {"FORMATO": fmt, "ARCHIVO": str(path), "FILAS": str(rows), **_criteria_fields(criteria)}
        self.core.record_access(actor.username, AUDIT_EXPORT, fields)

    def verify(self, actor: Actor) -> tuple[ChainBreak | None, int]:
        """Recompute every site's chain; the first broken link, and how many events were checked."""
        self._require_admin(actor)
        checked = 0

        def counted() -> Iterator[ChainedEvent]:
            nonlocal checked
            for event in self.chain.chained_events():
                checked += 1
                yield event

        keys = self.core.app.keys
        broken = verify(counted(), self.chain.orphan_links(), keys.chain_key(), keys.legacy_until())
        outcome = "OK" if broken is None else f"ROTO@{broken.position}"
        self.core.record_access(actor.username, AUDIT_VERIFY, {"EVENTOS": str(checked), "RESULTADO": outcome})
        return broken, checked

    def backup(self, actor: Actor, folder: Path) -> Path:
        """A consistent online copy of the store, recorded as "Copia de seguridad". Administrators
        only, whatever the menu grants: the copy holds every patient's clinical text, every
        section of every visit, past any section a user is denied."""
        self.access.require(actor, "backup")
        self.access.require_admin(actor, N_("make a backup of the store"))
        stamp = self.core.clock.now().strftime("%Y%m%d-%H%M%S")
        path = self.backups.backup(folder, stamp)
        self.core.record_access(actor.username, BACKUP, {"CARPETA": str(folder)})
        return path

    def _require_admin(self, actor: Actor) -> None:
        if not actor.is_admin:  # refused, and the refusal recorded (issue 17)
            self.access.require_admin(actor, N_("open the activity log"))


def _criteria_fields(criteria: dict[str, str]) -> dict[str, str]:
    names = {
        "date_from": "DESDE",
        "date_to": "HASTA",
        "action": "ACCION",
        "ip": "IP",
        "computer": "EQUIPO",
        "user": "USR",
        "site": "SEDE",
        "texts": "TEXTO",
    }
    return {names[k]: v for k, v in criteria.items() if k in names}

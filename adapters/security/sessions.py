"""The session file: one per store, readable by its owner only (mode 0600)."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from uuid import UUID

from application.ports import SessionTicket


class SessionFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, store_url: str) -> Path:
        digest = hashlib.sha256(store_url.encode()).hexdigest()[:16]
        return self.folder / f"session-{digest}.json"

    def load(self, store_url: str) -> SessionTicket | None:
        path = self.path_for(store_url)
        try:
            data = json.loads(path.read_text())
            return SessionTicket(
                username=data["username"],
                session_id=UUID(data["session_id"]),
                token=data["token"],
                started_at=datetime.fromisoformat(data["started_at"]),
                last_seen=datetime.fromisoformat(data["last_seen"]),
                seal=str(data.get("seal", "")),
            )
        except (OSError, ValueError, KeyError):
            return None

    def save(self, store_url: str, ticket: SessionTicket) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.path_for(store_url)
        payload = json.dumps(
            {
                "username": ticket.username,
                "session_id": str(ticket.session_id),
                "token": ticket.token,
                "started_at": ticket.started_at.isoformat(),
                "last_seen": ticket.last_seen.isoformat(),
                "seal": ticket.seal,
            }
        )
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(payload)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)

    def delete(self, store_url: str) -> None:
        self.path_for(store_url).unlink(missing_ok=True)

"""The laptop's side of `brigada serve`: the sync port (application/sync_port.Central) over HTTPS,
through httpx. Each request is signed with the site's private key (a fresh nonce per attempt), its
body gzip-compressed when large; central's certificate is pinned (the one recorded at provisioning
is the only one trusted). Transient failures (a connection refused or dropped, a timeout, a 502,
503 or 504) are retried with backoff: every call is safe to repeat (a batch central already
merged is merged once; a run started again is the same run), so a cut connection converges on
rerun exactly as a killed sync does.
"""

from __future__ import annotations

import gzip
import json
import ssl
import time
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.persistence import StoredEvent

from adapters.store import StoreUnreachable
from adapters.sync.site_credentials import pinned_context, signed_headers
from adapters.sync.wire import (
    merge_of,
    run_of,
    status_of,
    stored_of,
    wire_event,
)
from application.setup import SOFTWARE_VERSION
from application.sync.sync_port import Batch, CentralStatus, MergeResult, RunState
from domain.errors import N_, Conflict, DomainError, InvalidValue, Msgid, NotFound
from domain.sync.sync import SyncCrossing, SyncRefused

COMPRESS_FROM = 4096  # bytes of JSON from which a request body is gzip-compressed
TRANSIENT = (502, 503, 504)


class CentralUnreachable(StoreUnreachable):
    template = N_("cannot reach central at {store}: {reason}")


class CertificateRefused(DomainError):
    template = N_(
        "central at {url} did not present the certificate recorded at provisioning: refusing to talk to it"
    )


class CredentialRefused(SyncRefused):
    template = N_("central refused this laptop's credential: {reason}")


class HttpCentral:
    """application/sync_port.Central through `brigada serve` at ``url``."""

    def __init__(
        self,
        url: str,
        certificate: str,
        site: str,
        operator: str,
        private_key: bytes,
        *,
        timeout: float = 120.0,
        attempts: int = 6,
        backoff: float = 0.5,
    ) -> None:
        self.url = url.rstrip("/")
        self.site = site
        self.operator = operator
        self.private_key = private_key
        self.attempts = attempts
        self.backoff = backoff
        self.client = httpx.Client(
            base_url=self.url,
            verify=pinned_context(certificate),
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": f"brigada/{SOFTWARE_VERSION}", "Accept-Encoding": "gzip"},
        )

    def close(self) -> None:
        self.client.close()

    # -- the port -----------------------------------------------------------------------------------
    def status(self, site: str, generation: str, software_version: str) -> CentralStatus:
        answer = self._post(
            "/v1/sync/status", {"generation": generation, "software_version": software_version}
        )
        return status_of(answer)

    def start(
        self, site: str, run_id: UUID, crossing: SyncCrossing, generation: str, pending: dict[str, int]
    ) -> RunState:
        payload = {
            "run_id": run_id.hex,
            "crossing": crossing.value,
            "generation": generation,
            "pending": pending,
        }
        return run_of(self._post("/v1/sync/start", payload))

    def merge(self, site: str, run_id: UUID, batch: Batch) -> MergeResult:
        payload = {"run_id": run_id.hex, "upto": batch.upto, "events": [wire_event(e) for e in batch.events]}
        return merge_of(self._post("/v1/sync/merge", payload))

    def flip(self, site: str, run_id: UUID) -> None:
        self._post("/v1/sync/flip", {"run_id": run_id.hex})

    def complete(self, site: str, run_id: UUID, rebuilt: int, genesis: tuple[int, str] | None) -> None:
        payload: dict[str, Any] = {"run_id": run_id.hex, "rebuilt": rebuilt}
        if genesis is not None:
            payload.update(genesis_position=genesis[0], genesis_link=genesis[1])
        self._post("/v1/sync/complete", payload)

    def site_records(self, site: str) -> list[UUID]:
        return [UUID(i) for i in self._post("/v1/sync/site-records", {})["ids"]]

    def slice(self, site: str) -> list[UUID]:
        return [UUID(i) for i in self._post("/v1/sync/slice", {})["ids"]]

    def read(self, site: str, wanted: list[tuple[UUID, int | None]]) -> list[StoredEvent]:
        payload = {"wanted": [{"record_id": i.hex, "after": after} for i, after in wanted]}
        return [stored_of(e) for e in self._post("/v1/sync/read", payload)["events"]]

    # -- inside -------------------------------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        content, encoding = (
            (gzip.compress(body, 1), "gzip") if len(body) >= COMPRESS_FROM else (body, "identity")
        )
        reason = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 8.0))
            headers = signed_headers(self.private_key, "POST", path, body, self.site, self.operator)
            headers.update({"Content-Type": "application/json", "Content-Encoding": encoding})
            try:
                response = self.client.post(path, content=content, headers=headers)
            except httpx.TransportError as error:
                if _certificate_failure(error):
                    raise CertificateRefused(url=self.url) from error
                reason = type(error).__name__
                continue
            if response.status_code in TRANSIENT:
                reason = f"HTTP {response.status_code}"
                continue
            if response.status_code == 200:
                return response.json()
            raise refusal(response)
        raise CentralUnreachable(store=self.url, reason=reason)


def _certificate_failure(error: Exception) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def refusal(response: httpx.Response) -> DomainError:
    """Central's answer to a refused call as the laptop's own error: a rule's refusal keeps its
    message template (translated here, in the laptop's language) and its parameters."""
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        error = {"kind": "refused", "message": f"HTTP {response.status_code}"}
    message = str(error.get("message", ""))[:300]
    if response.status_code in (401, 429):
        return CredentialRefused(reason=message)
    template = error.get("template")
    params = {k: str(v) for k, v in (error.get("params") or {}).items()} if template else {"reason": message}
    kind = error.get("kind")
    if not template:
        template = N_("central refused the sync: {reason}")
    template = Msgid(template)
    if kind == "invalid":
        return InvalidValue(str(error.get("field") or "sync"), template, **params)
    if kind == "not-found":
        return NotFound(template, **params)
    if kind == "conflict":
        return Conflict(template, **params)
    return SyncRefused(template, **params)

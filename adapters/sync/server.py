"""`brigada serve`: central's sync port over HTTP(S), and nothing else a laptop could use to read or
write central's data. An ASGI app (FastAPI, for its request models and the OpenAPI schema it
publishes at /openapi.json) that uvicorn runs.

Every request but /health is signed by a provisioned laptop (adapters/sync/site_credentials.py); the
signature names the site, so a laptop can only ever act as itself, and central then judges every
event it pushes (domain/sync/sync_trust.py). Bad input gets a 4xx with a one-line reason and nothing
written: an unsigned or badly signed request 401, a replay 401, too many failures from one address
429, a body too large 413, not JSON 415, a gzip body that cannot be read (or a body that is not
UTF-8) 400, a malformed body 422, a refusal by a rule 409, an unknown run 404; a failure that
passes (the store out of reach a moment, a write met by other writers too often) 503 with
Retry-After, which the laptop retries. Every refusal has the same body (sync_wire.ErrorBody), and
the schema says so. Failed authentications are recorded in central's activity log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
import zlib
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.bootstrap import open_brigada
from adapters.store import StoreLocation, StoreUnreachable, schema_lock
from adapters.sync.site_credentials import BadCredential, check, read_headers
from adapters.sync.wire import (
    CompleteRequest,
    Empty,
    ErrorBody,
    MergeRequest,
    ReadRequest,
    RunRequest,
    StartRequest,
    StatusRequest,
    batch_of,
    merge_json,
    run_json,
    status_json,
    stored_json,
)
from application.brigada import Brigada
from application.core import CONFLICT
from application.setup import SOFTWARE_VERSION
from domain.access_log import SYNC_AUTH_FAILED
from domain.errors import Conflict, DomainError, InvalidValue, NotFound
from domain.sites.site import Site, site_id

STORE_VARIABLE = "BRIGADA_SERVE_STORE"  # how uvicorn's worker processes learn the store
MAX_BODY = 64 * 1024 * 1024  # bytes a request may send, compressed or not
MAX_FAILURES = 10  # failed authentications from one address per minute before 429
MAX_NONCE = 64  # characters of a nonce the ledger keeps
# What the schema says of every signed call's refusals (the body of each: sync_wire.ErrorBody).
REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "a gzip body that cannot be read, or a body that is not UTF-8 JSON"),
        (401, "unsigned, badly signed, stale, replayed, or from a site central does not know"),
        (404, "a record that does not exist"),
        (409, "refused by a rule"),
        (413, "a body larger than the limit, compressed or inflated"),
        (415, "not application/json, or compressed otherwise than gzip"),
        (422, "a malformed body"),
        (429, "too many failed authentications from this address"),
        (503, "central is busy or its store out of reach a moment: nothing written, try again"),
    )
}
log = logging.getLogger("brigada.serve")


class Caller:
    """A request proved to come from a provisioned laptop: its site, and its operator."""

    def __init__(self, site: str, operator: str, credential: str) -> None:
        self.site = site
        self.operator = operator
        self.credential = credential  # the public key that verified the signature


class NonceLedger:
    """Nonces central has seen, in its own database, so a replay is refused by every worker."""

    def __init__(self, url: str) -> None:
        self.engine = StoreLocation.parse(url).sqlalchemy_engine()
        metadata = sa.MetaData()
        self.table = sa.Table(
            "brigada_nonces",
            metadata,
            sa.Column("site", sa.String(20), primary_key=True),
            sa.Column("nonce", sa.String(64), primary_key=True),
            sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
        )
        metadata.create_all(self.engine, checkfirst=True)

    def first_use(self, site: str, nonce: str, now: dt.datetime) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.delete(self.table).where(self.table.c.seen_at < now - dt.timedelta(minutes=15))
                )
                conn.execute(sa.insert(self.table).values(site=site, nonce=nonce, seen_at=now))
        except sa.exc.IntegrityError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


class Failures:
    """Failed authentications per client address in the last minute (per worker)."""

    def __init__(self) -> None:
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def too_many(self, address: str) -> bool:
        recent = self.seen[address]
        while recent and recent[0] < time.monotonic() - 60:
            recent.popleft()
        return len(recent) >= MAX_FAILURES

    def failed(self, address: str) -> None:
        self.seen[address].append(time.monotonic())


class Service:
    """Central's store, opened once per worker; requests use it one at a time (the application
    objects are not shared between threads), workers in parallel through the database."""

    def __init__(self, url: str, opener: Callable[[str], Brigada] = open_brigada) -> None:
        self.url = url
        self.opener = opener
        self.lock = threading.Lock()
        self.brigada: Brigada | None = None
        self.nonces: NonceLedger | None = None
        self.failures = Failures()

    def open(self) -> Brigada:
        if self.brigada is None:
            self.brigada = self.opener(self.url)
            if not self.brigada.core.require_identity().is_central:
                raise RuntimeError("brigada serve runs on central's store")
            with schema_lock(StoreLocation.parse(self.url)):  # workers create the table in turn
                self.nonces = NonceLedger(self.url)
        return self.brigada

    def close(self) -> None:
        if self.brigada is not None:
            self.brigada.close()
            self.brigada = None
        if self.nonces is not None:
            self.nonces.close()

    def authenticate(self, request: Request, body: bytes) -> Caller:
        address = request.client.host if request.client else "?"
        if self.failures.too_many(address):
            raise Refusal(429, "too many failed authentications from this address: wait a minute")
        try:
            signed = read_headers({k.lower(): v for k, v in request.headers.items()})
            if len(signed.nonce) > MAX_NONCE:
                raise BadCredential("malformed")
            with self.lock:
                brigada = self.open()
                record = brigada.core.get(Site, site_id(signed.site))
                # The current laptop's key, or a laptop's replaced as lost (central then only
                # lets it hand in its own log, to quarantine: application/sync/central.py).
                keys = [k for k in (record.public_key, *record.retired_keys) if k] if record else []
                if record is None or record.revoked or not keys:
                    raise BadCredential("unknown-site")
                now = dt.datetime.now(dt.UTC)
                credential = self._verified(keys, signed, request, body, now)
                assert self.nonces is not None
                if not self.nonces.first_use(record.code, signed.nonce, now):
                    raise BadCredential("replayed")
                # Every call, reads too, names who runs the sync: a user central knows and hands
                # to sites (a rule's refusal, 409: the laptop did prove it is the site).
                brigada.sync_central.require_operator(signed.operator)
            return Caller(record.code, signed.operator, credential)
        except BadCredential as error:
            self.failures.failed(address)
            self._record_failure(request, address, error.reason)
            raise Refusal(
                401, f"this request does not prove it comes from a provisioned site ({error.reason})"
            ) from error

    @staticmethod
    def _verified(keys: list[str], signed: Any, request: Request, body: bytes, now: dt.datetime) -> str:
        """The key that signed the request (the first to verify it)."""
        refused = BadCredential("bad-signature")
        for key in keys:
            try:
                check(key, signed, request.method, request.url.path, body, now)
            except BadCredential as error:
                refused = error
                continue
            return key
        raise refused

    def _record_failure(self, request: Request, address: str, reason: str) -> None:
        site = request.headers.get("x-brigada-site", "")[:20]
        fields = {"SEDE": "".join(c for c in site if c.isalnum()) or "?", "IP": address[:45], "RAZON": reason}
        with self.lock:
            self.open().core.record_access("?", SYNC_AUTH_FAILED, fields)

    def call(self, work: Callable[[Brigada], Any]) -> Any:
        with self.lock:
            return work(self.open())


class Refusal(Exception):
    def __init__(self, status: int, message: str, kind: str = "refused") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


class RequestLimits:
    """Before FastAPI reads a request: JSON only, a bounded body (gzip accepted, bounded once
    inflated too), and one access-log line per request (site, run, batch, outcome, duration)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if scope["method"] == "POST":
                receive = await self._bounded(scope, receive, headers)
            await self.app(scope, receive, sending)
        except Refusal as refusal:
            await error_response(refusal.status, refusal.message, refusal.kind)(scope, receive, sending)
        finally:
            log.info(
                "%s %s site=%s status=%s %.0fms",
                scope["method"],
                scope["path"],
                headers.get("x-brigada-site", "-")[:20],
                status["code"],
                (time.perf_counter() - started) * 1000,
            )

    async def _bounded(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> Receive:
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise Refusal(415, "send application/json", "invalid")
        declared = headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            raise Refusal(413, f"the body is larger than {MAX_BODY} bytes", "invalid")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":  # the laptop went away mid-body (killed):
                # a half-sent request proves nothing and tried nothing, so it is no failed login
                raise Refusal(400, "the request ended before its body did", "invalid")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise Refusal(413, f"the body is larger than {MAX_BODY} bytes", "invalid")
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if headers.get("content-encoding", "identity") == "gzip":
            body = inflate(body)
            scope["headers"] = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        elif headers.get("content-encoding", "identity") != "identity":
            raise Refusal(415, "send the body plain or gzip-compressed", "invalid")
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay


def inflate(body: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(body, MAX_BODY)
    except zlib.error as error:
        raise Refusal(400, "the gzip body cannot be read", "invalid") from error
    if inflater.unconsumed_tail:
        raise Refusal(413, f"the body is larger than {MAX_BODY} bytes once inflated", "invalid")
    if not inflater.eof or inflater.unused_data:  # cut short (its checksum unread), or more after it
        raise Refusal(400, "the gzip body cannot be read", "invalid")
    return inflated


def error_response(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"kind": kind, "message": message}}, status_code=status)


def busy(error: Exception) -> JSONResponse:
    """A failure that passes (central's store out of reach a moment, a write met by another
    writer too often): 503 with Retry-After, which the laptop retries; every call is safe to
    repeat, and nothing was written."""
    log.warning("busy: %s", " ".join(str(error).split())[:200])
    response = error_response(503, "central is busy: try again shortly", "busy")
    response.headers["Retry-After"] = "1"
    return response


def domain_error(error: DomainError) -> JSONResponse:
    """A rule's refusal, with its untranslated template and parameters so the laptop shows it in
    its own language."""
    if isinstance(error, InvalidValue):
        status, kind = 422, "invalid"
    elif isinstance(error, NotFound):
        status, kind = 404, "not-found"
    elif isinstance(error, Conflict):
        status, kind = 409, "conflict"
    else:
        status, kind = 409, "refused"
    body = {
        "kind": kind,
        "message": str(error),
        "template": str(error.template),
        "params": {k: str(v) for k, v in error.params.items()},
        "field": getattr(error, "field", None),
    }
    return JSONResponse({"error": body}, status_code=status)


async def caller(request: Request) -> Caller:
    """The dependency of every signed endpoint: the site and operator the request proves."""
    body = await request.body()
    return await run_in_threadpool(request.app.state.service.authenticate, request, body)


Who = Annotated[Caller, Depends(caller)]


def create_app(url: str, opener: Callable[[str], Brigada] = open_brigada) -> FastAPI:
    """The service for central's store at ``url`` (``opener`` opens it: tests pass one whose
    clock they hold)."""
    service = Service(url, opener)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()  # at shutdown

    app = FastAPI(
        lifespan=lifespan,
        title="Brigada sync",
        version=SOFTWARE_VERSION,
        description="Central's side of the laptops' sync. Every call but /health is signed by a site.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(GZipMiddleware, minimum_size=4096)
    app.add_middleware(RequestLimits)

    @app.exception_handler(Refusal)
    async def refused(request: Request, refusal: Refusal) -> JSONResponse:
        return error_response(refusal.status, refusal.message, refusal.kind)

    @app.exception_handler(DomainError)
    async def ruled(request: Request, error: DomainError) -> JSONResponse:
        if isinstance(error, StoreUnreachable) or error.template == CONFLICT:
            return busy(error)
        return domain_error(error)

    @app.exception_handler(sa.exc.OperationalError)
    async def store_lost(request: Request, error: sa.exc.OperationalError) -> JSONResponse:
        return busy(error)

    @app.exception_handler(HTTPException)
    async def rejected(request: Request, error: HTTPException) -> JSONResponse:
        """FastAPI's and Starlette's own refusals (a body that is not UTF-8 JSON, an unknown
        path, a wrong method) in the same shape as every other."""
        kind = "not-found" if error.status_code == 404 else "invalid"
        response = error_response(error.status_code, str(error.detail), kind)
        response.headers.update(error.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        if first.get("type") == "json_invalid":  # its location is a character, not a field
            where = f"body at character {first['loc'][-1]}" if len(first.get("loc", ())) > 1 else "body"
            return error_response(422, f"{where}: not JSON", "invalid")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(422, f"{where or 'body'}: {first.get('msg', 'malformed')}", "invalid")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "central could not answer: see its log", "internal")

    app.state.service = service

    def handle(work: Callable[[Brigada], Any]) -> Awaitable[Any]:
        return run_in_threadpool(service.call, work)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": SOFTWARE_VERSION}

    @app.post("/v1/sync/status", responses=REFUSALS)
    async def status(body: StatusRequest, who: Who) -> dict[str, Any]:
        return await handle(
            lambda b: status_json(b.sync_central.status(who.site, body.generation, credential=who.credential))
        )

    @app.post("/v1/sync/start", responses=REFUSALS)
    async def start(body: StartRequest, who: Who) -> dict[str, Any]:
        run_id = UUID(body.run_id)
        return await handle(
            lambda b: run_json(
                b.sync_central.start(
                    who.site,
                    run_id,
                    body.crossing,
                    body.generation,
                    body.pending,
                    who.operator,
                    credential=who.credential,
                )
            )
        )

    @app.post("/v1/sync/merge", responses=REFUSALS)
    async def merge(body: MergeRequest, who: Who) -> dict[str, int]:
        batch = batch_of(body)
        run_id = UUID(body.run_id)
        return await handle(
            lambda b: merge_json(
                b.sync_central.merge(who.site, run_id, batch, who.operator, credential=who.credential)
            )
        )

    @app.post("/v1/sync/flip", responses=REFUSALS)
    async def flip(body: RunRequest, who: Who) -> dict[str, bool]:
        await handle(
            lambda b: b.sync_central.flip(
                who.site, UUID(body.run_id), who.operator, credential=who.credential
            )
        )
        return {"done": True}

    @app.post("/v1/sync/complete", responses=REFUSALS)
    async def complete(body: CompleteRequest, who: Who) -> dict[str, bool]:
        genesis = None
        if body.genesis_position is not None and body.genesis_link is not None:
            genesis = (body.genesis_position, body.genesis_link)
        await handle(
            lambda b: b.sync_central.complete(
                who.site, UUID(body.run_id), body.rebuilt, genesis, who.operator, credential=who.credential
            )
        )
        return {"done": True}

    @app.post("/v1/sync/site-records", responses=REFUSALS)
    async def site_records(body: Empty, who: Who) -> dict[str, list[str]]:
        ids = await handle(lambda b: b.sync_central.site_records(who.site, credential=who.credential))
        return {"ids": [i.hex for i in ids]}

    @app.post("/v1/sync/slice", responses=REFUSALS)
    async def slice_ids(body: Empty, who: Who) -> dict[str, list[str]]:
        ids = await handle(lambda b: b.sync_central.slice(who.site, credential=who.credential))
        return {"ids": [i.hex for i in ids]}

    @app.post("/v1/sync/read", responses=REFUSALS)
    async def read(body: ReadRequest, who: Who) -> dict[str, list[dict[str, Any]]]:
        wanted = [(UUID(w.record_id), w.after) for w in body.wanted]
        events = await handle(lambda b: b.sync_central.read(who.site, wanted, credential=who.credential))
        return {"events": [stored_json(e) for e in events]}

    return app


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker process: the store comes in ``BRIGADA_SERVE_STORE``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return create_app(os.environ[STORE_VARIABLE])

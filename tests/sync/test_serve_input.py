"""Bad input to `brigada serve` (adapters/sync/server.py), over HTTPS to a real process on
127.0.0.1, central on SQLite and on PostgreSQL: every refusal is a 4xx with a one-line reason
(``{"error": {"kind", "message", ...}}``), never a 5xx nor a traceback, and writes nothing to
central but, for a failed authentication, exactly one access event ("sync.auth-failed") in its
activity log. Then a schemathesis fuzz of the API from the OpenAPI schema it publishes, unsigned
and signed with the laptop's key.

Most tests share one server per backend (a module fixture); each of them talks from a loopback
address of its own (127.0.0.x), so the failures one test provokes never reach another's
per-address limit. Tests that change the site (revoke it, provision it again, sync it) get a
server of their own.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import itertools
import json
import secrets
import socket
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest
import requests
import requests.adapters
import requests.auth
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Err, Ok
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from adapters.bootstrap import open_brigada
from adapters.sync.server import MAX_BODY, MAX_FAILURES, create_app
from adapters.sync.site_credentials import canonical, pinned_context, signed_headers
from adapters.sync.wire import MAX_EVENTS, wire_event
from adapters.system import FixedClock, Host
from application.brigada import Brigada
from domain.chain import SITE_SIGNING_KEY
from domain.sync.sync import SyncCrossing
from tests.support.hashing import QuickArgon2Hasher
from tests.support.inventory import NURSE
from tests.support.serve import over_http, served_field
from tests.support.sync import Field, finalized_visit, log_generation

SITE = "BRG01"
ACCESS = "brigada.Access."  # the topics of the activity log's access events
RUN = "0123456789abcdef0123456789abcdef"  # a run central never started
STARTED = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
_addresses = itertools.count(2)


def next_address() -> str:
    """A loopback address no other test of this module speaks from."""
    number = next(_addresses)
    return f"127.0.{number // 250}.{number % 250 + 2}"


# -- servers ------------------------------------------------------------------------------------
def _root_conftest(config: pytest.Config) -> Any:
    """tests/conftest.py, as pytest loaded it (its PostgreSQL helpers, for a module fixture)."""
    wanted = (Path(__file__).resolve().parent.parent / "conftest.py").resolve()
    for plugin in config.pluginmanager.get_plugins():
        found = getattr(plugin, "__file__", None)
        if found and Path(found).resolve() == wanted:
            return plugin
    raise LookupError(wanted)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    """Central (stocked) and BRG01's laptop, provisioned, with `brigada serve` on central: one
    per backend for the module (what the shared tests do leaves BRG01 as it was)."""
    folder = tmp_path_factory.mktemp("serve-input")
    root = _root_conftest(request.config)
    if request.param == "sqlite":
        url, schema = f"sqlite:///{folder}/central.db", None
    else:
        root.require_postgres()
        schema = f"t_{uuid4().hex}"
        url = f"{root.POSTGRES_SERVER}?schema={schema}"
    opened: list[Brigada] = []

    def open_store(store_url: str, *, create: bool = True) -> Brigada:
        brigada = open_brigada(
            store_url,
            create=create,
            clock=FixedClock(STARTED),
            host=Host("test-pc", 7),
            hasher=QuickArgon2Hasher(),
        )
        opened.append(brigada)
        return brigada

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BRIGADA_HOME", str(folder / "home"))
            patch.setenv("BRIGADA_CONFIG", str(folder / "no-config.toml"))
            patch.setenv("BRIGADA_LANG", "en")
            patch.delenv("BRIGADA_STORE", raising=False)
            with served_field(open_store, url, folder) as field:
                yield field
    finally:
        for brigada in reversed(opened):
            brigada.close()
        if schema is not None:
            root.drop_schema(schema)


@pytest.fixture
def own(open_store: Any, store_url: str, tmp_path: Path) -> Iterator[Field]:
    """A served field of the test's own, for a test that changes BRG01."""
    with served_field(open_store, store_url, tmp_path) as field:
        yield field


# -- talking to it --------------------------------------------------------------------------------
def encoded(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def laptop_key(field: Field) -> bytes:
    key = field.laptop.app.keys.key(SITE_SIGNING_KEY, create=False)
    assert key is not None
    return key


def signed_at(
    key: bytes,
    path: str,
    body: bytes,
    when: dt.datetime,
    *,
    site: str = SITE,
    operator: str = NURSE,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers `signed_headers` makes, with a timestamp (and nonce) of the test's choosing."""
    timestamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = nonce or secrets.token_hex(16)
    signature = Ed25519PrivateKey.from_private_bytes(key).sign(
        canonical("POST", path, body, site, operator, timestamp, nonce)
    )
    return {
        "X-Brigada-Site": site,
        "X-Brigada-Operator": operator,
        "X-Brigada-Timestamp": timestamp,
        "X-Brigada-Nonce": nonce,
        "X-Brigada-Signature": base64.b64encode(signature).decode(),
    }


class Wire:
    """Requests to the served field from one loopback address, signed by BRG01's laptop (or not)."""

    def __init__(self, field: Field, address: str | None = None) -> None:
        self.field = field
        self.address = address or next_address()
        transport = httpx.HTTPTransport(
            verify=pinned_context(field.server.certificate), local_address=self.address
        )
        self.client = httpx.Client(base_url=field.server.url, transport=transport, timeout=120)

    def close(self) -> None:
        self.client.close()

    def headers(self, path: str, body: bytes, *, site: str = SITE, operator: str = NURSE) -> dict[str, str]:
        return signed_headers(laptop_key(self.field), "POST", path, body, site, operator)

    def post(
        self,
        path: str,
        payload: Any = None,
        *,
        content: bytes | None = None,
        signed: bool = True,
        headers: dict[str, str] | None = None,
        operator: str = NURSE,
    ) -> httpx.Response:
        """``payload`` as JSON (or ``content`` as it is), signed as the laptop signs, with
        ``headers`` on top."""
        body = encoded(payload) if content is None else content
        sent = {"Content-Type": "application/json"}
        if signed:
            sent.update(self.headers(path, body, operator=operator))
        sent.update(headers or {})
        return self.client.post(path, content=body, headers=sent)

    def raw(self, path: str, head: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """A request written by hand on a TLS socket (headers httpx would not send as they are):
        the status and the JSON body of the answer."""
        parts = urlsplit(self.field.server.url)
        assert parts.hostname is not None and parts.port is not None
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in head.items()]
        context = pinned_context(self.field.server.certificate)
        with (
            socket.create_connection((parts.hostname, parts.port), 30, (self.address, 0)) as plain,
            context.wrap_socket(plain) as tls,
        ):
            tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        _, _, content = rest.partition(b"\r\n\r\n")
        return int(status_line.split()[1]), json.loads(content)


@pytest.fixture
def wire(shared: Field) -> Iterator[Wire]:
    talk = Wire(shared)
    yield talk
    talk.close()


# -- what a refusal looks like, and what it writes --------------------------------------------------
def refused(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """A refusal with ``status``: JSON, one error with a kind and a one-line message (containing
    ``words``), no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    return refusal_body(response.json(), response.text, *words)


def refusal_body(answer: Any, text: str, *words: str) -> dict[str, Any]:
    assert set(answer) == {"error"}, text
    error = answer["error"]
    assert isinstance(error["kind"], str) and error["kind"], text
    message = error["message"]
    assert isinstance(message, str) and message.strip(), text
    assert "\n" not in message and len(message) <= 300, text
    assert "Traceback" not in text and 'File "' not in text, text
    for word in words:
        assert word in message, text
    return error


def auth_failures(field: Field) -> list[dict[str, str]]:
    """The fields of every "sync.auth-failed" line of central's activity log, oldest first."""
    page = field.central.audit.search(field.admin, {"action": "sync.auth-failed"}, page_size=10_000)
    return [json.loads(row.fields) for row in reversed(page.rows)]


class Ledger:
    """Central's stored events (raw SQL) and failed authentications (its activity log) as a
    test began, to check what it wrote since."""

    def __init__(self, field: Field, count_events: Callable[..., int]) -> None:
        self.field = field
        self.count = count_events
        self.url = field.server.store_url
        self.events = count_events(self.url)
        self.access = count_events(self.url, ACCESS)
        self.failures = len(auth_failures(field))

    def wrote(self, failures: int = 0) -> list[dict[str, str]]:
        """Assert central wrote nothing since but ``failures`` access events, each a failed
        authentication in its activity log; returns their fields."""
        assert self.count(self.url) - self.events == failures
        assert self.count(self.url, ACCESS) - self.access == failures
        logged = auth_failures(self.field)
        assert len(logged) - self.failures == failures
        return logged[self.failures :]


@contextlib.contextmanager
def writes(field: Field, count_events: Callable[..., int], failures: int = 0) -> Iterator[Ledger]:
    ledger = Ledger(field, count_events)
    yield ledger
    ledger.wrote(failures)


# -- malformed requests: refused before or after the signature, never written ------------------
STATUS = "/v1/sync/status"
STATUS_BODY = {"generation": "g", "software_version": "0"}


@pytest.mark.parametrize(
    "content, status",
    [
        pytest.param(b'{"generation": "g", ', 422, id="cut-short"),
        pytest.param(b"{'generation': 'g'}", 422, id="single-quotes"),
        pytest.param(b"NaN", 422, id="not-an-object"),
        pytest.param(b"", 422, id="empty"),
        pytest.param(b'{"generation": "\xc3", "software_version": "0"}', 400, id="not-utf-8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, 400, id="nested-too-deep"),
    ],
)
def test_a_malformed_json_body_is_refused(
    wire: Wire, count_events: Callable[..., int], content: bytes, status: int
) -> None:
    """Refused before its signature is read (FastAPI reads the body first): a 422, or a 400
    for a body Python's JSON reader cannot even decode; nothing written, nothing recorded."""
    with writes(wire.field, count_events):
        error = refused(wire.post(STATUS, content=content), status)
    assert error["kind"] == "invalid"


def test_an_unknown_path_or_method_is_refused_in_the_same_shape(
    wire: Wire, count_events: Callable[..., int]
) -> None:
    with writes(wire.field, count_events):
        assert refused(wire.post("/v1/sync/nothing", {}), 404)["kind"] == "not-found"
        answer = wire.client.get(STATUS)
        refused(answer, 405)
        assert answer.headers["allow"] == "POST"


def _event(position: int) -> dict[str, Any]:
    return {
        "position": position,
        "originator_id": uuid4().hex,
        "version": 1,
        "topic": "brigada.Patient.Registered",
        "state": base64.b64encode(b"{}").decode(),
        "previous": None,
        "link": None,
    }


SCHEMA_BREAKS = {
    "generation-not-a-string": (STATUS, {"generation": 7, "software_version": "0"}, "generation"),
    "field-missing": (STATUS, {"generation": "g"}, "software_version"),
    "not-an-object": (STATUS, ["g", "0"], "body"),
    "run-id-not-hex": ("/v1/sync/flip", {"run_id": "z" * 32}, "run_id"),
    "run-id-short": ("/v1/sync/flip", {"run_id": RUN[:31]}, "run_id"),
    "run-id-a-uuid-with-dashes": ("/v1/sync/flip", {"run_id": str(uuid4())}, "run_id"),
    "crossing-unknown": (
        "/v1/sync/start",
        {"run_id": RUN, "crossing": "sideways", "generation": "g", "pending": {}},
        "crossing",
    ),
    "pending-not-counts": (
        "/v1/sync/start",
        {"run_id": RUN, "crossing": "start-of-mission", "generation": "g", "pending": {"x": "many"}},
        "pending",
    ),
    "events-not-a-list": ("/v1/sync/merge", {"run_id": RUN, "upto": 1, "events": "all"}, "events"),
    "too-many-events": (
        "/v1/sync/merge",
        {"run_id": RUN, "upto": 1, "events": [_event(1)] * (MAX_EVENTS + 1)},
        "events",
    ),
    "state-not-base64": (
        "/v1/sync/merge",
        {"run_id": RUN, "upto": 1, "events": [{**_event(1), "state": "not base64!"}]},
        "state",
    ),
    "position-negative": ("/v1/sync/merge", {"run_id": RUN, "upto": 1, "events": [_event(-1)]}, "position"),
    "rebuilt-negative": ("/v1/sync/complete", {"run_id": RUN, "rebuilt": -1}, "rebuilt"),
    "rebuilt-beyond-bigint": ("/v1/sync/complete", {"run_id": RUN, "rebuilt": 2**63}, "rebuilt"),
    "upto-beyond-bigint": ("/v1/sync/merge", {"run_id": RUN, "upto": 2**63, "events": []}, "upto"),
    "generation-with-a-nul": (STATUS, {"generation": "g\x00", "software_version": "0"}, "generation"),
    "start-generation-with-a-nul": (
        "/v1/sync/start",
        {"run_id": RUN, "crossing": "start-of-mission", "generation": "\x00"},
        "generation",
    ),
    "too-many-wanted": (
        "/v1/sync/read",
        {"wanted": [{"record_id": RUN, "after": None}] * 1001},
        "wanted",
    ),
    "version-too-large": ("/v1/sync/read", {"wanted": [{"record_id": RUN, "after": 2**64}]}, "after"),
}


@pytest.mark.parametrize("case", SCHEMA_BREAKS, ids=list(SCHEMA_BREAKS))
def test_a_signed_body_that_breaks_the_schema_is_refused(
    wire: Wire, count_events: Callable[..., int], case: str
) -> None:
    path, payload, where = SCHEMA_BREAKS[case]
    with writes(wire.field, count_events):
        error = refused(wire.post(path, payload), 422, where)
    assert error["kind"] == "invalid"


def test_a_body_declared_larger_than_the_cap_is_refused_before_it_is_read(
    wire: Wire, count_events: Callable[..., int]
) -> None:
    body = encoded(STATUS_BODY)
    head = {"Content-Type": "application/json", "Content-Length": str(MAX_BODY + 1)}
    head.update(wire.headers(STATUS, body))
    with writes(wire.field, count_events):
        status, answer = wire.raw(STATUS, head, body)
    assert status == 413
    assert "larger than" in refusal_body(answer, json.dumps(answer))["message"]


def gzip_bomb(inflated: int) -> tuple[bytes, bytes]:
    """A JSON body of ``inflated`` bytes (mostly one long string) and its gzip, a few dozen KiB."""
    head, tail, filler = b'{"generation":"', b'","software_version":"0"}', b"a" * (1 << 20)
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    plain, packed = [head], [squeezer.compress(head)]
    size = len(head) + len(tail)
    while size < inflated:
        plain.append(filler)
        packed.append(squeezer.compress(filler))
        size += len(filler)
    plain.append(tail)
    packed += [squeezer.compress(tail), squeezer.flush()]
    return b"".join(plain), b"".join(packed)


def test_a_gzip_bomb_is_refused_once_it_inflates_past_the_cap(
    wire: Wire, count_events: Callable[..., int]
) -> None:
    body, bomb = gzip_bomb(MAX_BODY + 1)
    assert len(bomb) < MAX_BODY // 100
    headers = {"Content-Encoding": "gzip", **wire.headers(STATUS, body)}
    with writes(wire.field, count_events):
        refused(wire.post(STATUS, content=bomb, signed=False, headers=headers), 413, "inflated")


def test_a_gzip_body_under_the_cap_is_read(wire: Wire, count_events: Callable[..., int]) -> None:
    body = encoded(STATUS_BODY)
    headers = {"Content-Encoding": "gzip", **wire.headers(STATUS, body)}
    with writes(wire.field, count_events):
        answer = wire.post(STATUS, content=gzip.compress(body), signed=False, headers=headers)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_declared_json_is_refused(
    wire: Wire, count_events: Callable[..., int], content_type: str
) -> None:
    with writes(wire.field, count_events):
        error = refused(wire.post(STATUS, STATUS_BODY, headers={"Content-Type": content_type}), 415)
    assert error["kind"] == "invalid"


@pytest.mark.parametrize("encoding", ["gzip", "br"])
@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda packed: b"this is not gzip", id="not-gzip"),
        pytest.param(lambda packed: packed[: len(packed) // 2], id="cut-short"),
        pytest.param(lambda packed: packed[:-8], id="trailer-cut"),
        pytest.param(lambda packed: packed[:-8] + b"\0" * 8, id="checksum-wrong"),
    ],
)
def test_a_bad_compressed_body_is_refused(
    wire: Wire, count_events: Callable[..., int], encoding: str, mangle: Callable[[bytes], bytes]
) -> None:
    body = encoded(STATUS_BODY)
    headers = {"Content-Encoding": encoding, **wire.headers(STATUS, body)}
    with writes(wire.field, count_events):
        answer = wire.post(STATUS, content=mangle(gzip.compress(body)), signed=False, headers=headers)
        error = refused(answer, 400 if encoding == "gzip" else 415)
    assert error["kind"] == "invalid"


# -- authentication: each failure a 401 and one line in central's activity log ----------------------
def test_an_unsigned_request_is_refused(wire: Wire, count_events: Callable[..., int]) -> None:
    with writes(wire.field, count_events, failures=2) as ledger:
        refused(wire.post(STATUS, STATUS_BODY, signed=False), 401, "unsigned")
        headers = wire.headers(STATUS, encoded(STATUS_BODY))
        del headers["X-Brigada-Signature"]
        refused(wire.post(STATUS, STATUS_BODY, signed=False, headers=headers), 401, "unsigned")
    assert [f["RAZON"] for f in ledger.wrote(2)] == ["unsigned", "unsigned"]


def test_a_body_changed_after_signing_is_refused(wire: Wire, count_events: Callable[..., int]) -> None:
    headers = wire.headers(STATUS, encoded(STATUS_BODY))
    changed = {**STATUS_BODY, "generation": "another"}
    with writes(wire.field, count_events, failures=1):
        refused(wire.post(STATUS, changed, signed=False, headers=headers), 401, "bad-signature")


def test_a_request_sent_to_another_path_than_signed_is_refused(
    wire: Wire, count_events: Callable[..., int]
) -> None:
    body = encoded({})
    headers = wire.headers("/v1/sync/slice", body)
    with writes(wire.field, count_events, failures=1):
        refused(wire.post("/v1/sync/site-records", content=body, signed=False, headers=headers), 401)


def test_a_signature_that_is_not_one_is_refused(wire: Wire, count_events: Callable[..., int]) -> None:
    body = encoded(STATUS_BODY)
    cases = {"not-base64": "%%%", "too-short": base64.b64encode(b"sig").decode()}
    with writes(wire.field, count_events, failures=len(cases)):
        for signature in cases.values():
            headers = {**wire.headers(STATUS, body), "X-Brigada-Signature": signature}
            refused(wire.post(STATUS, content=body, signed=False, headers=headers), 401, "bad-signature")


@pytest.mark.parametrize("minutes", [-10, 10])
def test_a_stale_timestamp_is_refused(wire: Wire, count_events: Callable[..., int], minutes: int) -> None:
    body = encoded(STATUS_BODY)
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    headers = signed_at(laptop_key(wire.field), STATUS, body, when)
    with writes(wire.field, count_events, failures=1):
        refused(wire.post(STATUS, content=body, signed=False, headers=headers), 401, "stale")


@pytest.mark.parametrize(
    "header, value",
    [
        ("X-Brigada-Timestamp", "yesterday"),
        ("X-Brigada-Nonce", "n" * 201),
        ("X-Brigada-Site", "B" * 300),
    ],
)
def test_a_malformed_credential_is_refused(
    wire: Wire, count_events: Callable[..., int], header: str, value: str
) -> None:
    body = encoded(STATUS_BODY)
    headers = {**wire.headers(STATUS, body), header: value}
    with writes(wire.field, count_events, failures=1):
        refused(wire.post(STATUS, content=body, signed=False, headers=headers), 401, "malformed")


def test_a_validly_signed_nonce_longer_than_the_ledger_keeps_is_refused(
    wire: Wire, count_events: Callable[..., int]
) -> None:
    """The nonce ledger keeps 64 characters: a longer nonce, however well signed, is malformed
    (it was a 500 on PostgreSQL, whose column refuses it)."""
    body = encoded(STATUS_BODY)
    when = dt.datetime.now(dt.UTC)
    headers = signed_at(laptop_key(wire.field), STATUS, body, when, nonce="f" * 65)
    with writes(wire.field, count_events, failures=1):
        refused(wire.post(STATUS, content=body, signed=False, headers=headers), 401, "malformed")


def test_a_replayed_request_is_refused(wire: Wire, count_events: Callable[..., int]) -> None:
    body = encoded(STATUS_BODY)
    headers = wire.headers(STATUS, body)
    with writes(wire.field, count_events, failures=1):
        first = wire.post(STATUS, content=body, signed=False, headers=headers)
        assert first.status_code == 200, first.text
        refused(wire.post(STATUS, content=body, signed=False, headers=headers), 401, "replayed")


@pytest.mark.parametrize("site", ["NOPE1", "OTHER", "brg02"])
def test_a_site_central_does_not_know_as_signed_is_refused(
    wire: Wire, count_events: Callable[..., int], site: str
) -> None:
    """An unregistered site, and a registered one never provisioned (it has no key)."""
    body = encoded(STATUS_BODY)
    headers = signed_at(laptop_key(wire.field), STATUS, body, dt.datetime.now(dt.UTC), site=site)
    with writes(wire.field, count_events, failures=1):
        refused(wire.post(STATUS, content=body, signed=False, headers=headers), 401, "unknown-site")


def test_a_revoked_site_is_refused(own: Field, count_events: Callable[..., int]) -> None:
    wire = Wire(own)
    assert wire.post(STATUS, STATUS_BODY).status_code == 200
    own.central.sites.revoke(own.admin, SITE)
    with writes(own, count_events, failures=1):
        refused(wire.post(STATUS, STATUS_BODY), 401, "unknown-site")
    wire.close()


def test_a_site_provisioned_again_refuses_the_old_laptops_key(
    own: Field, open_store: Any, tmp_path: Path, count_events: Callable[..., int]
) -> None:
    old = Wire(own)
    assert old.post(STATUS, STATUS_BODY).status_code == 200
    old_key = laptop_key(own)
    replacement = open_store(f"sqlite:///{tmp_path}/brg01-again.db")
    own.central.sites.provision(
        own.admin,
        SITE,
        replacement,
        "brg01-again.db",
        central_url=own.server.url,
        central_certificate=own.server.certificate,
    )
    own.laptop = replacement
    assert laptop_key(own) != old_key
    new = Wire(own)
    with writes(own, count_events, failures=1):
        headers = signed_headers(old_key, "POST", STATUS, encoded(STATUS_BODY), SITE, NURSE)
        refused(old.post(STATUS, STATUS_BODY, signed=False, headers=headers), 401, "bad-signature")
        assert new.post(STATUS, STATUS_BODY).status_code == 200
    old.close()
    new.close()


def test_more_failures_than_allowed_from_one_address_get_429(
    shared: Field, count_events: Callable[..., int]
) -> None:
    """The eleventh failed attempt within a minute is refused before its credential is read (a
    good one included) and recorded no more; another address is still served."""
    wire, other = Wire(shared), Wire(shared)
    with writes(shared, count_events, failures=MAX_FAILURES):
        for _ in range(MAX_FAILURES):
            refused(wire.post(STATUS, STATUS_BODY, signed=False), 401, "unsigned")
        refused(wire.post(STATUS, STATUS_BODY, signed=False), 429, "too many")
        refused(wire.post(STATUS, STATUS_BODY), 429, "too many")
        assert other.post(STATUS, STATUS_BODY).status_code == 200
    wire.close()
    other.close()


def test_every_failed_authentication_is_in_centrals_activity_log(
    wire: Wire, count_events: Callable[..., int]
) -> None:
    body = encoded(STATUS_BODY)
    key, now = laptop_key(wire.field), dt.datetime.now(dt.UTC)
    replayed = signed_at(key, STATUS, body, now)
    assert wire.post(STATUS, content=body, signed=False, headers=replayed).status_code == 200
    attempts = {
        "unsigned": {},
        "malformed": {**signed_at(key, STATUS, body, now), "X-Brigada-Timestamp": "soon"},
        "stale": signed_at(key, STATUS, body, now - dt.timedelta(hours=1)),
        "bad-signature": signed_at(key, STATUS, b"{}", now),
        "replayed": replayed,
        "unknown-site": signed_at(key, STATUS, body, now, site="NOPE1"),
    }
    with writes(wire.field, count_events, failures=len(attempts)) as ledger:
        for reason, headers in attempts.items():
            refused(wire.post(STATUS, content=body, signed=False, headers=headers), 401, reason)
    logged = ledger.wrote(len(attempts))
    assert [f["RAZON"] for f in logged] == list(attempts)
    assert {f["IP"] for f in logged} == {wire.address}
    assert [f["SEDE"] for f in logged] == ["?", *[SITE] * 4, "NOPE1"]


# -- signed, well formed, refused by central's rules: 409 (or 404), nothing written -----------------
def _laptop_of(field: Field, open_store: Any, folder: Path, code: str) -> Brigada:
    laptop = open_store(f"sqlite:///{folder}/{code.lower()}-{uuid4().hex[:6]}.db")
    field.central.sites.provision(
        field.admin,
        code,
        laptop,
        f"{code.lower()}.db",
        central_url=field.server.url,
        central_certificate=field.server.certificate,
    )
    return laptop


RUN_CALLS = {
    "merge": lambda run: ("/v1/sync/merge", {"run_id": run, "upto": 1, "events": [_event(1)]}),
    "flip": lambda run: ("/v1/sync/flip", {"run_id": run}),
    "complete": lambda run: ("/v1/sync/complete", {"run_id": run, "rebuilt": 0}),
}


@pytest.mark.parametrize("call", RUN_CALLS)
def test_a_run_central_never_started_is_refused(
    wire: Wire, count_events: Callable[..., int], call: str
) -> None:
    path, payload = RUN_CALLS[call](uuid4().hex)
    with writes(wire.field, count_events):
        error = refused(wire.post(path, payload), 409, "no sync run")
    assert error["kind"] == "refused" and error["template"] == "no sync run {run} for site {site}"


def test_another_sites_run_is_refused(
    wire: Wire, count_events: Callable[..., int], open_store: Any, tmp_path: Path
) -> None:
    """A run OTHER's laptop started, named in BRG01's signed calls."""
    field = wire.field
    other = _laptop_of(field, open_store, tmp_path, "OTHER")
    generation = log_generation(other)
    theirs = over_http(other, NURSE)
    run = theirs.start("OTHER", uuid4(), SyncCrossing.START_OF_MISSION, generation, {})
    theirs.close()
    with writes(field, count_events):
        for call in RUN_CALLS.values():
            path, payload = call(run.run_id.hex)
            error = refused(wire.post(path, payload), 409, "no sync run", run.run_id.hex[:8], SITE)
            assert error["kind"] == "refused"


@pytest.mark.parametrize("operator", ["admin", "nadie"])
@pytest.mark.parametrize("call", ["start", *RUN_CALLS])
def test_an_operator_central_does_not_hand_to_sites_is_refused(
    wire: Wire, count_events: Callable[..., int], operator: str, call: str
) -> None:
    """An administrator, or a user central does not know, may not run a sync (the signature
    is good: the laptop's key signs for whatever operator it names)."""
    if call == "start":
        generation = log_generation(wire.field.laptop)
        path = "/v1/sync/start"
        payload = {"run_id": uuid4().hex, "crossing": "start-of-mission", "generation": generation}
    else:
        path, payload = RUN_CALLS[call](uuid4().hex)
    with writes(wire.field, count_events):
        refused(wire.post(path, payload, operator=operator), 409, f"user {operator} may not synchronize")


READS: dict[str, dict[str, Any]] = {
    "/v1/sync/status": {"generation": "0" * 32, "software_version": "0"},
    "/v1/sync/site-records": {},
    "/v1/sync/slice": {},
    "/v1/sync/read": {"wanted": []},
}


@pytest.mark.parametrize("operator", ["admin", "nadie"])
@pytest.mark.parametrize("path", READS)
def test_an_operator_central_does_not_hand_to_sites_reads_nothing(
    wire: Wire, count_events: Callable[..., int], operator: str, path: str
) -> None:
    """Reads name their operator too: refused before central reads anything for them."""
    with writes(wire.field, count_events):
        refused(wire.post(path, READS[path], operator=operator), 409, f"user {operator} may not synchronize")


def test_batches_out_of_order_are_refused_and_nothing_is_merged(
    own: Field, count_events: Callable[..., int]
) -> None:
    """On mission, with a visit recorded: the end-of-mission run's batch sent without its first
    event, or reversed, breaks the laptop's chain from central's checkpoint: 409, nothing
    merged; the batch as the laptop sends it is then merged."""
    own.sync()
    finalized_visit(own)
    laptop, wire = own.laptop, Wire(own)
    identity = laptop.core.require_identity()
    assert identity.generation is not None
    central = over_http(laptop, NURSE)
    status = central.status(SITE, identity.generation, "0")
    run = central.start(SITE, uuid4(), SyncCrossing.END_OF_MISSION, identity.generation, {})
    central.close()
    after = max(status.tracked, identity.slice_end)
    events = [e for batch in laptop.sync._batches(SITE, after) for e in batch.events]
    assert len(events) >= 3

    def batch(chosen: list[Any]) -> dict[str, Any]:
        return {
            "run_id": run.run_id.hex,
            "upto": chosen[-1].position,
            "events": list(map(wire_event, chosen)),
        }

    with writes(own, count_events):
        for chosen in (events[1:], events[::-1], events[:1] + events[2:]):
            error = refused(wire.post("/v1/sync/merge", batch(chosen)), 409, "broken at position")
            assert error["kind"] == "refused"
    merged = wire.post("/v1/sync/merge", batch(events))
    assert merged.status_code == 200, merged.text
    assert merged.json()["merged"] + merged.json()["quarantined"] == len(events)
    assert count_events(own.server.store_url) > 0
    wire.close()


# -- the published schema -------------------------------------------------------------------------
@pytest.mark.store
@pytest.mark.filterwarnings("ignore:\\s*on_event is deprecated:DeprecationWarning")
def test_the_openapi_schema_is_published_with_every_sync_path(wire: Wire) -> None:
    answer = wire.client.get("/openapi.json")
    assert answer.status_code == 200
    schema = answer.json()
    assert schema["openapi"].startswith("3.")
    app = create_app(wire.field.server.store_url)
    routes = {
        route.path for route in app.routes if isinstance(route, Route) and route.path.startswith("/v1/sync/")
    }
    assert len(routes) == 8
    published = {path for path in schema["paths"] if path.startswith("/v1/sync/")}
    assert published == routes
    for path in routes:
        operation = schema["paths"][path]["post"]
        assert "application/json" in operation["requestBody"]["content"]
        for status in ("401", "409", "413", "415", "422", "429"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}


# -- fuzzing from the schema ----------------------------------------------------------------------
class SourceAddress(requests.adapters.HTTPAdapter):
    """A requests adapter that connects from one loopback address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class LaptopSignature(requests.auth.AuthBase):
    """Signs each prepared request's exact method, path and body as BRG01's laptop does."""

    def __init__(self, key: bytes, operator: str = NURSE) -> None:
        self.key = key
        self.operator = operator

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        assert isinstance(body, bytes)
        path = urlsplit(request.url or "").path
        method = request.method or "POST"
        request.headers.update(signed_headers(self.key, method, path, body, SITE, self.operator))
        return request


def certificate_of(field: Field) -> Path:
    """The server's certificate file (beside its log, in the folder served_field made)."""
    return Path(field.server.log_path).parent / "central.crt"


FUZZ_EXAMPLES = 6  # cases per operation and per mode (data that fits the schema, data that does not)
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)


def served_schema(field: Field) -> BaseSchema:
    """The schema the server publishes, as schemathesis loads it from the server itself."""
    config = SchemathesisConfig.from_dict(
        {
            "tls-verify": str(certificate_of(field)),
            "request-timeout": 60,
        }
    )
    return schemathesis.openapi.from_url(
        f"{field.server.url}/openapi.json", config=config, verify=str(certificate_of(field)), timeout=30
    )


def fuzz(field: Field, auth: requests.auth.AuthBase | None, judge: Callable[[Case, Any], None]) -> int:
    """Every operation of the served schema, FUZZ_EXAMPLES cases of each generation mode, sent
    from a loopback address of their own (with ``auth`` on each prepared request) and judged by
    ``judge`` (its case, its response); returns how many were sent."""
    schema = served_schema(field)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), [result.err() for result in results if isinstance(result, Err)]
    assert {operation.path for operation in operations} >= {"/health", STATUS}
    sent = 0
    with requests.Session() as session:
        session.mount("https://", SourceAddress(next_address()))
        session.auth = auth
        for operation in operations:
            # An operation without a body (/health) has nothing to make wrong.
            modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if len(operation.body) else [])]
            for mode in modes:

                @FUZZ_SETTINGS
                @given(case=operation.as_strategy(generation_mode=mode))
                def one(case: Case) -> None:
                    nonlocal sent
                    response = case.call(session=session)
                    sent += 1
                    assert response.status_code < 500, f"{case.path}: {response.text}"
                    assert "Traceback" not in response.text
                    judge(case, response)
                    case.validate_response(response, checks=FUZZ_CHECKS)

                one()
    return sent


# What schemathesis checks of each answer: its status is one the schema documents for the
# operation, and its content type and body conform to what the schema says of that status.
FUZZ_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def test_fuzz_unsigned_requests_all_get_a_4xx(shared: Field, count_events: Callable[..., int]) -> None:
    """Nothing but /health answers a request that proves nothing: a 401 (then, past the limit,
    429), or 415/422 for a body refused before the credential is read; nothing written but the
    failures recorded."""
    statuses: list[int] = []

    def judge(case: Case, response: Any) -> None:
        if case.path == "/health":
            return
        assert 400 <= response.status_code < 500, response.text
        refusal_body(response.json(), response.text)
        statuses.append(response.status_code)

    url = shared.server.store_url
    before, before_access = count_events(url), count_events(url, ACCESS)
    sent = fuzz(shared, None, judge)
    assert sent >= 8 * 2
    assert {401, 429} <= set(statuses)
    recorded = count_events(url, ACCESS) - before_access
    assert count_events(url) - before == recorded == statuses.count(401)


def test_fuzz_signed_requests_never_get_a_5xx(own: Field) -> None:
    """Bodies signed by BRG01's laptop reach the endpoints' validation and rules (schemathesis
    reuses the run ids central answers, so runs are started, merged into, flipped and completed:
    a server of the test's own): data that breaks the schema gets a 4xx, and nothing a 5xx."""
    statuses: list[int] = []

    def judge(case: Case, response: Any) -> None:
        statuses.append(response.status_code)
        if response.status_code >= 400:
            refusal_body(response.json(), response.text)
        if case.meta is not None and case.meta.generation.mode.is_negative and case.path != "/health":
            assert 400 <= response.status_code < 500, response.text

    fuzz(own, LaptopSignature(laptop_key(own)), judge)
    assert 401 not in statuses and 429 not in statuses
    assert {200, 409, 422} <= set(statuses)
    assert "Traceback" not in own.server.log()

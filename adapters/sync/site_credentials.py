"""A site's credential: an Ed25519 key pair made at provisioning. The laptop keeps the private key
in its store's keys (never an event, never sent); central records only the public key, which lets
nobody sign. Every request the laptop sends is signed over its method, path, body digest, a
timestamp and a nonce; central checks the signature, refuses a timestamp too far from its clock and
a nonce it has seen (a replay).

Also here: central's TLS certificate, which the laptop pins (the certificate recorded at
provisioning is the only one it trusts), and a self-signed certificate for a clinic's LAN.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from domain.errors import N_, InvalidValue

SCHEME = "brigada-v1"
MAX_SKEW = dt.timedelta(minutes=5)  # how far a request's timestamp may be from central's clock
HEADERS = (
    "x-brigada-site",
    "x-brigada-operator",
    "x-brigada-timestamp",
    "x-brigada-nonce",
    "x-brigada-signature",
)


def new_signing_key() -> tuple[bytes, str]:
    """(the private key's raw bytes, for the laptop; the public key, hex, for central)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw, public.hex()


def canonical(
    method: str, path: str, body: bytes, site: str, operator: str, timestamp: str, nonce: str
) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([SCHEME, method.upper(), path, digest, site, operator, timestamp, nonce]).encode()


def signed_headers(
    private_key: bytes, method: str, path: str, body: bytes, site: str, operator: str
) -> dict[str, str]:
    """The headers that prove a request comes from the laptop holding ``private_key``."""
    timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = secrets.token_hex(16)
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    signature = key.sign(canonical(method, path, body, site, operator, timestamp, nonce))
    return {
        "X-Brigada-Site": site,
        "X-Brigada-Operator": operator,
        "X-Brigada-Timestamp": timestamp,
        "X-Brigada-Nonce": nonce,
        "X-Brigada-Signature": base64.b64encode(signature).decode(),
    }


@dataclass(frozen=True)
class SignedRequest:
    site: str
    operator: str
    timestamp: str
    nonce: str
    signature: str


class BadCredential(Exception):
    """A request that does not prove it comes from a provisioned laptop; ``reason`` says why
    (for central's log, never for the client beyond one line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_headers(headers: dict[str, str]) -> SignedRequest:
    values = {name: headers.get(name, "") for name in HEADERS}
    if not all(values.values()):
        raise BadCredential("unsigned")
    if any(len(v) > 200 or not v.isprintable() for v in values.values()):
        raise BadCredential("malformed")
    return SignedRequest(*values.values())


def check(
    public_key_hex: str, request: SignedRequest, method: str, path: str, body: bytes, now: dt.datetime
) -> None:
    """The signature is the site's and the timestamp is close to ``now`` (the nonce's novelty is
    the caller's: it needs a shared ledger)."""
    try:
        stamped = dt.datetime.strptime(request.timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError as error:
        raise BadCredential("malformed") from error
    if abs(now - stamped) > MAX_SKEW:
        raise BadCredential("stale")
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        signature = base64.b64decode(request.signature, validate=True)
        message = canonical(
            method, path, body, request.site, request.operator, request.timestamp, request.nonce
        )
        key.verify(signature, message)
    except (ValueError, InvalidSignature) as error:
        raise BadCredential("bad-signature") from error


# -- TLS ------------------------------------------------------------------------------------------
def pinned_context(certificate_pem: str) -> ssl.SSLContext:
    """A client context that trusts exactly central's certificate recorded at provisioning (a
    self-signed one on a clinic's LAN included) and nothing else: a man in the middle, whatever
    certificate authority signed his, is refused. The host name is not checked: the pin is the
    certificate itself."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=certificate_pem)
    return context


def read_certificate(path: Path) -> str:
    """A PEM certificate file's text, checked to be one (a key or anything else is refused)."""
    try:
        text = path.read_text(encoding="ascii")
        x509.load_pem_x509_certificate(text.encode())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InvalidValue("--central-cert", N_("{path} is not a PEM certificate"), path=str(path)) from error
    return text


def fingerprint(certificate_pem: str) -> str:
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    return certificate.fingerprint(hashes.SHA256()).hex(":")


def self_signed(folder: Path, host: str, days: int = 825) -> tuple[Path, Path]:
    """A certificate and key for ``host`` (a name or an IP address), signed by itself, written to
    ``folder`` as central.crt and central.key (the key readable by its owner only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alternative: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alternative = x509.DNSName(host)
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "central.crt", folder / "central.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path

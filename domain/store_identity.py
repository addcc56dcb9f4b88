"""What this store is: the central server, or one disconnected site's laptop, and the version of
Brigada its log was last brought to (``brigada upgrade``)."""

from __future__ import annotations

import re
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate
from domain.errors import N_, DomainError

STORE_IDENTITY_ID: UUID = uuid5(NAMESPACE_URL, "brigada:store-identity")
# A laptop's own bookkeeping (its upgrades) is linked in a chain of its own: see ``home_chain``.
# Site codes are capital letters and digits, so no site's chain can have this name.
LOCAL_CHAIN_SUFFIX = ".local"

_VERSION = re.compile(r"(\d+(?:\.\d+)*)(.*)")
_PRE_RELEASE = re.compile(r"[.\-_]?(a|b|c|rc|alpha|beta|pre|preview|dev)", re.IGNORECASE)


def version_order(version: str) -> tuple[tuple[int, ...], int, str]:
    """A key that sorts release numbers as releases go (``0.10.0`` after ``0.9.1``, ``1.0`` the
    same as ``1.0.0``, a pre-release such as ``1.0rc1`` or ``1.0.dev3`` before ``1.0``, a post
    release after it); local labels (``+unknown``) are left out. Text that is no version at all
    sorts before every release."""
    public = version.strip().lower().removeprefix("v").split("+", 1)[0]
    found = _VERSION.fullmatch(public)
    if found is None:
        return ((), 0, public)
    release = tuple(int(part) for part in found.group(1).split("."))
    while release and release[-1] == 0:
        release = release[:-1]
    suffix = found.group(2)
    rank = 1 if not suffix else 0 if _PRE_RELEASE.match(suffix) else 2
    return (release, rank, suffix)


class StoreBehindSoftware(DomainError):
    """The software was upgraded and this store not yet: it must be before it syncs or serves."""

    template = N_(
        "this store is at version {store} and the software at {software}: run 'brigada upgrade' first"
    )


class StoreAheadOfSoftware(DomainError):
    """The software installed is older than the store: a store is never downgraded."""

    template = N_(
        "this store is at version {store}, newer than the software ({software}): install version "
        "{store} or newer; a store is never downgraded"
    )


class StoreRole(Enum):
    CENTRAL = "central"
    SITE = "site"


class StoreIdentity(BrigadaAggregate):
    TOPIC = "brigada.StoreIdentity"

    class Event(BrigadaAggregate.Event):
        TOPIC = "brigada.StoreIdentity.Event"

    class Established(BrigadaAggregate.Created):
        TOPIC = "brigada.StoreIdentity.Established"
        role: StoreRole
        site_code: str
        software_version: str

    class Provisioned(Event):
        """A laptop store made by ``site provision``: who its central is, and the secret it
        proves itself with at sync (central keeps only the secret's hash)."""

        TOPIC = "brigada.StoreIdentity.Provisioned"
        central_code: str
        sync_secret: str
        generation: str  # this store's log generation: a rebuilt laptop store starts a new one
        slice_end: int  # the last log position copied from central: the laptop's own events follow

    class CentralAddressed(Event):
        """Where a provisioned laptop finds central (`brigada serve`) and the certificate it
        pins there: the only one it trusts."""

        TOPIC = "brigada.StoreIdentity.CentralAddressed"
        url: str
        certificate: str  # PEM

    class AdministratorsNoted(Event):
        """Central's administrators, each with a partial verifier of their password (its first
        byte only: adapters/system.Argon2Hasher.partial), so that an administrator who tries to
        log in on this laptop is told why not, and anyone else is told nothing (seed 000)."""

        TOPIC = "brigada.StoreIdentity.AdministratorsNoted"
        verifiers: dict[str, str]  # username -> partial verifier

    class Upgraded(Event):
        """The store brought to the software that runs it (``brigada upgrade``): from then on
        ``software_version`` is ``to_version``.

        Upgrading moves no stored event. An event class whose fields change between releases
        reads its old events through eventsourcing's upcasting (a ``class_version`` and an
        ``upcast_vN_vM`` method on the event class, applied as each event is read), so every
        release can read every older store. Up to 0.2.0 no event needed one: each field added
        since 0.1.0 (a site's ``key_id`` and ``public_key``, a merged batch's ``quarantined``,
        the context's ``reviewer``) has a default that old events take."""

        TOPIC = "brigada.StoreIdentity.Upgraded"
        from_version: str
        to_version: str

    @staticmethod
    def create_id() -> UUID:
        return STORE_IDENTITY_ID

    @event(Established)
    def __init__(self, role: StoreRole, site_code: str, software_version: str) -> None:
        self.role = role
        self.site_code = site_code
        self.software_version = software_version
        self.central_code: str | None = None
        self.sync_secret: str | None = None
        self.generation: str | None = None
        self.slice_end = 0
        self.central_url = ""
        self.central_certificate = ""
        self.administrators: dict[str, str] = {}

    def mark_provisioned(self, central_code: str, sync_secret: str, generation: str, slice_end: int) -> None:
        self._mark_provisioned(
            central_code=central_code, sync_secret=sync_secret, generation=generation, slice_end=slice_end
        )

    @event(Provisioned)
    def _mark_provisioned(self, central_code: str, sync_secret: str, generation: str, slice_end: int) -> None:
        self.central_code = central_code
        self.sync_secret = sync_secret
        self.generation = generation
        self.slice_end = slice_end

    def note_administrators(self, verifiers: dict[str, str]) -> None:
        if verifiers != self.administrator_verifiers:
            self._note_administrators(verifiers={k.lower(): v for k, v in verifiers.items()})

    @event(AdministratorsNoted)
    def _note_administrators(self, verifiers: dict[str, str]) -> None:
        self.administrators = dict(verifiers)

    @property
    def administrator_verifiers(self) -> dict[str, str]:
        return getattr(self, "administrators", {})  # none in a store made before 0.2.0

    def address_central(self, url: str, certificate: str) -> None:
        if (url, certificate) != (self.central_url, self.central_certificate):
            self._address_central(url=url, certificate=certificate)

    @event(CentralAddressed)
    def _address_central(self, url: str, certificate: str) -> None:
        self.central_url = url
        self.central_certificate = certificate

    def upgrade(self, software_version: str) -> bool:
        """Record that the store now runs ``software_version``; False when it already does.
        Refused when the store is newer than that software."""
        if self.behind(software_version):
            self._upgrade(from_version=self.software_version, to_version=software_version)
            return True
        self._refuse_downgrade(software_version)
        return False

    @event(Upgraded)
    def _upgrade(self, from_version: str, to_version: str) -> None:
        self.software_version = to_version

    def behind(self, software_version: str) -> bool:
        """Whether the software is newer than the store (``brigada upgrade`` has work to do)."""
        return version_order(self.software_version) < version_order(software_version)

    def require_current(self, software_version: str) -> None:
        """Refuse unless the store is at the version of the software running it: an older store
        must be upgraded first, and a newer store is never run by older software."""
        if self.behind(software_version):
            raise StoreBehindSoftware(store=self.software_version, software=software_version)
        self._refuse_downgrade(software_version)

    def _refuse_downgrade(self, software_version: str) -> None:
        if version_order(self.software_version) > version_order(software_version):
            raise StoreAheadOfSoftware(store=self.software_version, software=software_version)

    def home_chain(self) -> str:
        """The site the store's own bookkeeping (its upgrades) is recorded at, and so linked in.

        Central: its own site. A laptop: a chain of its own (``BRG01.local``). A laptop's
        identity never leaves it, and central checks that the laptop's pushed events follow one
        another in its site's chain from the link where its log started: an identity event in
        the middle of a mission would be a gap there, and central would refuse the push.
        """
        return self.site_code if self.is_central else self.site_code + LOCAL_CHAIN_SUFFIX

    @property
    def is_central(self) -> bool:
        return self.role is StoreRole.CENTRAL

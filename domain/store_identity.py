"""What this store is: the central server, or one disconnected site's laptop."""

from __future__ import annotations

from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import BrigadaAggregate

STORE_IDENTITY_ID: UUID = uuid5(NAMESPACE_URL, "brigada:store-identity")


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

    def address_central(self, url: str, certificate: str) -> None:
        if (url, certificate) != (self.central_url, self.central_certificate):
            self._address_central(url=url, certificate=certificate)

    @event(CentralAddressed)
    def _address_central(self, url: str, certificate: str) -> None:
        self.central_url = url
        self.central_certificate = certificate

    @property
    def is_central(self) -> bool:
        return self.role is StoreRole.CENTRAL

"""The sites policy as use cases ask it: with this store's situation filled in."""

from __future__ import annotations

from application.context import Actor
from application.core import Core
from domain.errors import N_, NotFound
from domain.sites import site_policy
from domain.sites.site import Site, SiteMode, site_id
from domain.sites.site_policy import Forbidden, Operation, OperationRefused

# A site's warehouse code, as a pharmacy's warehouse or a site's field warehouse names it.
WAREHOUSE_HINT = N_("2 to 20 capital letters, digits or dashes")


class SiteNotFound(NotFound):
    template = N_("no site with code {site}")


# The sites policy's rules as an access-denied record names them (REGLA=).
RULE_CODES: dict[str, str] = {
    site_policy.ON_SITE_RULE: "INS",
    site_policy.NOT_ENABLED_RULE: "not-enabled",
    site_policy.NEVER_ON_LAPTOP_RULE: "central-only",
    site_policy.LEASED_RULE: "MSN",
    site_policy.FIELD_TRANSFER_ON_CENTRAL_RULE: "MSN",
}


class Operations:
    """The sites policy, asked with this store's situation (central or laptop, mode, parameters)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def require(self, actor: Actor, operation: Operation, owner_site: str | None = None) -> None:
        """Refuse what the sites policy forbids here; the refusal is recorded first (issue 17:
        an administrator sees who tried what)."""
        try:
            self._require(operation, owner_site)
        except OperationRefused as refusal:
            rule = RULE_CODES.get(refusal.template, "policy")
            self.core.record_denied(actor.username, {"OPERACION": operation.value, "REGLA": rule})
            raise

    def _require(self, operation: Operation, owner_site: str | None) -> None:
        identity = self.core.require_identity()
        if identity.is_central:
            owner = self.core.get(Site, site_id(owner_site)) if owner_site else None
            site_policy.require(
                operation,
                on_central=True,
                mode=None,
                enabled=frozenset(),
                owner_site=owner_site if owner else None,
                owner_mode=owner.lease_mode if owner else None,
            )
            return
        site = self.core.get(Site, site_id(identity.site_code))
        site_policy.require(
            operation,
            on_central=False,
            mode=site.mode if site else SiteMode.ON_SITE,
            enabled=site.enabled if site else frozenset(),
        )

    def report_site(self, actor: Actor, requested: str | None) -> str | None:
        """The site a report or listing covers. On a laptop: its own site (also when none is
        asked), and another site's is refused (seed 000: no reports of other sites). Central
        reports on any site, or on all (None)."""
        identity = self.core.require_identity()
        wanted = requested.strip().upper() if requested else None
        if identity.is_central:
            return wanted
        if wanted is not None and wanted != identity.site_code:
            self.require(actor, Forbidden.OTHER_SITES_REPORTS)
        return identity.site_code

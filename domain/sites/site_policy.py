"""One answer to "may this store do this operation here and now?" (seed 000, DESIGN.md §6).

A laptop (a disconnected site's store) may log in and out, sync and read; it performs the 14 site
actions only on mission (MSN) and only those its parameters enable; it never does what the seed
forbids a disconnected environment. Central does everything except touch, while a site is on
mission, the data that site holds under its lease (its field warehouses, above all).
"""

from __future__ import annotations

from enum import Enum
from typing import NotRequired, TypedDict, Unpack

from domain.errors import N_, DomainError
from domain.sites.site import ACTION_LABELS, SiteAction, SiteMode


class Forbidden(Enum):
    """What a disconnected environment may never do (seed 000, "acciones no permitidas")."""

    ADMINISTRATION = "administration"
    CONFIGURATION = "configuration"
    EMERGENCY_ADMISSIONS = "emergency-admissions"
    INPATIENT_ADMISSIONS = "inpatient-admissions"
    EMERGENCY_CARE = "emergency-care"
    INPATIENT_CARE = "inpatient-care"
    CONNECTED_WAREHOUSE_MOVEMENTS = "connected-warehouse-movements"
    FIELD_WAREHOUSE_ENTRIES = "field-warehouse-entries"
    INVOICING = "invoicing"
    SURGICAL_SCHEDULING = "surgical-scheduling"
    CLINICAL_LABORATORY = "clinical-laboratory"
    OTHER_SITES_REPORTS = "other-sites-reports"
    RECEIVABLES = "receivables"


class Always(Enum):
    """What any store may do in any mode."""

    LOGIN = "login"
    READ = "read"
    SYNC = "sync"


Operation = SiteAction | Forbidden | Always

FORBIDDEN_LABELS: dict[Forbidden, str] = {
    Forbidden.ADMINISTRATION: N_("administrative options"),
    Forbidden.CONFIGURATION: N_("configuration and parameters"),
    Forbidden.EMERGENCY_ADMISSIONS: N_("emergency admissions"),
    Forbidden.INPATIENT_ADMISSIONS: N_("non-ambulatory hospital admissions"),
    Forbidden.EMERGENCY_CARE: N_("emergency care"),
    Forbidden.INPATIENT_CARE: N_("non-ambulatory hospital care"),
    Forbidden.CONNECTED_WAREHOUSE_MOVEMENTS: N_("inventory movements in warehouses not marked disconnected"),
    Forbidden.FIELD_WAREHOUSE_ENTRIES: N_("inventory entries into field warehouses (only transfers)"),
    Forbidden.INVOICING: N_("invoicing (a laptop issues service vouchers only)"),
    Forbidden.SURGICAL_SCHEDULING: N_("surgical scheduling"),
    Forbidden.CLINICAL_LABORATORY: N_("clinical laboratory"),
    Forbidden.OTHER_SITES_REPORTS: N_("reports of other sites"),
    Forbidden.RECEIVABLES: N_("receivables and objections"),
}


class OperationRefused(DomainError):
    """A refusal by the sites policy; the template names the rule."""


ON_SITE_RULE = N_("The environment is in INS mode (on site): only sync, queries and login are allowed here")
NOT_ENABLED_RULE = N_("This site is not authorized for: {action}")
NEVER_ON_LAPTOP_RULE = N_("A disconnected environment may never do this: {operation}")
LEASED_RULE = N_("Site {site} is on mission (MSN): central cannot change its data until it syncs")
FIELD_TRANSFER_ON_CENTRAL_RULE = N_(
    "Site {site} is on mission (MSN): central cannot transfer to or from its warehouses"
)


def label(operation: Operation) -> str:
    if isinstance(operation, SiteAction):
        return ACTION_LABELS[operation]
    if isinstance(operation, Forbidden):
        return FORBIDDEN_LABELS[operation]
    return operation.value


def laptop_decision(
    operation: Operation, mode: SiteMode, enabled: frozenset[SiteAction]
) -> OperationRefused | None:
    """On a laptop: None when allowed, else the refusal naming the rule."""
    if isinstance(operation, Always):
        return None
    if isinstance(operation, Forbidden):
        return OperationRefused(NEVER_ON_LAPTOP_RULE, operation=label(operation))
    if mode is SiteMode.ON_SITE:
        return OperationRefused(ON_SITE_RULE)
    if operation not in enabled:
        return OperationRefused(NOT_ENABLED_RULE, action=label(operation))
    return None


def central_decision(
    operation: Operation, site: str | None, site_mode: SiteMode | None
) -> OperationRefused | None:
    """On central: writes to data a site holds under its lease wait until that site syncs.

    ``site`` names the site owning the data touched (None for central's own data).
    """
    if (
        site is None
        or site_mode is not SiteMode.ON_MISSION
        or operation in (Always.LOGIN, Always.READ, Always.SYNC)
    ):
        return None
    if operation is SiteAction.FIELD_TRANSFERS:
        return OperationRefused(FIELD_TRANSFER_ON_CENTRAL_RULE, site=site)
    return OperationRefused(LEASED_RULE, site=site)


def decide(
    operation: Operation,
    *,
    on_central: bool,
    mode: SiteMode | None,
    enabled: frozenset[SiteAction],
    owner_site: str | None = None,
    owner_mode: SiteMode | None = None,
) -> OperationRefused | None:
    if on_central:
        return central_decision(operation, owner_site, owner_mode)
    return laptop_decision(operation, mode or SiteMode.ON_SITE, enabled)


class Situation(TypedDict):
    """Where an operation is attempted, as ``decide`` takes it."""

    on_central: bool
    mode: SiteMode | None
    enabled: frozenset[SiteAction]
    owner_site: NotRequired[str | None]
    owner_mode: NotRequired[SiteMode | None]


def require(operation: Operation, **situation: Unpack[Situation]) -> None:
    refusal = decide(operation, **situation)
    if refusal is not None:
        raise refusal

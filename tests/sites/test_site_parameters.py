"""A site's parameters (the actions it may perform on mission), given / when / then."""

from __future__ import annotations

import pytest

from domain.errors import InvalidValue
from domain.sites.site import Site, SiteAction
from tests.support.given_when_then import given, when

BOTH = {SiteAction.PATIENTS, SiteAction.APPOINTMENTS}


def a_site() -> Site:
    return Site.register("BRG01", "Sede", ["BRG01-FARMACIA"], {SiteAction.PATIENTS})


def test_actions_both_enabled_and_disabled_at_once_are_refused_naming_the_first_by_name() -> None:
    site = given(a_site)
    with pytest.raises(InvalidValue) as refused:
        when(site, lambda s: s.change_parameters(enable=BOTH, disable=BOTH))
    assert refused.value.field == "action"
    assert refused.value.params["action"] == "appointments"
    assert list(site.collect_events()) == []


def test_enabling_and_disabling_different_actions_records_the_new_set() -> None:
    site = given(a_site)
    events = when(site, lambda s: s.change_parameters(enable={SiteAction.APPOINTMENTS}, disable=set()))
    assert [type(e).__name__ for e in events] == ["ParametersChanged"]
    assert site.enabled == {SiteAction.PATIENTS, SiteAction.APPOINTMENTS}

"""Who may do what to which user record (seed 004): administrator / other user × own / another's
record. A refusal is one rule, exit code 1, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from application.brigada import Brigada
from application.context import Actor
from application.errors import AdministratorOnly, CentralOnly, NotYourself, OwnRecordOnly
from domain.errors import DomainError
from domain.security.user import AdminNotOnSite, UserRuleRefused, user_id
from tests.support.security import ADMIN_PASSWORD, PASSWORDS, MakeUser, head, log_in, only_denials_since

OK = None
Operation = Callable[[Brigada, Actor, str], Any]

OPERATIONS: dict[str, Operation] = {
    "show": lambda b, a, u: b.users.show(a, u),
    "update": lambda b, a, u: b.users.update(a, u, {"full_name": "Nombre Nuevo"}),
    "see access": lambda b, a, u: b.users.access_tree(a, u),
    "see sections": lambda b, a, u: b.users.section_list(a, u),
    "enrol totp": lambda b, a, u: b.users.enroll_totp(a, u),
    "change access": lambda b, a, u: b.users.change_access(a, u, [], ["patient.correct"]),
    "change sections": lambda b, a, u: b.users.change_sections(a, u, [], ["report"]),
    "reset password": lambda b, a, u: b.users.reset_password(a, u, "temporal-de-la-oficina"),
    "unlock code": lambda b, a, u: b.users.unlock_code(a, u, {"site": "BRG01"}),
    "deactivate": lambda b, a, u: b.users.deactivate(a, u),
}
# (administrator on own, administrator on another's, user on own, user on another's)
EXPECTED: dict[str, tuple[type[DomainError] | None, ...]] = {
    "show": (OK, OK, OK, OwnRecordOnly),
    "update": (OK, OK, OK, OwnRecordOnly),
    "see access": (OK, OK, OK, OwnRecordOnly),
    "see sections": (OK, OK, OK, OwnRecordOnly),
    "enrol totp": (OK, OK, OK, OwnRecordOnly),
    "change access": (OK, OK, AdministratorOnly, AdministratorOnly),
    "change sections": (OK, OK, AdministratorOnly, AdministratorOnly),
    "reset password": (OK, OK, AdministratorOnly, AdministratorOnly),
    "unlock code": (UserRuleRefused, OK, AdministratorOnly, AdministratorOnly),  # admins: no key
    "deactivate": (NotYourself, OK, AdministratorOnly, AdministratorOnly),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_administrator_and_user_on_own_and_other_records(
    name: str,
    central: Brigada,
    admin: Actor,
    make_user: MakeUser,
    count_events: Any,
    central_url: str,
) -> None:
    ana = make_user("ana")  # every menu option: only the record rules can refuse
    make_user("beto", log_in_now=False)
    cases = [(admin, "admin"), (admin, "beto"), (ana, "ana"), (ana, "beto")]
    # Refusals first, so no success changes what a later case sees.
    order = sorted(range(4), key=lambda i: EXPECTED[name][i] is OK)

    for i in order:
        actor, target = cases[i]
        expected = EXPECTED[name][i]
        before = head(central)
        if expected is OK:
            OPERATIONS[name](central, actor, target)
            continue
        with pytest.raises(expected):
            OPERATIONS[name](central, actor, target)
        # Nothing written but the refused attempt's own record (an administrators-only refusal).
        assert only_denials_since(central, before), (name, actor.username, target)


def test_only_an_administrator_creates_unlocks_and_reactivates_users(
    central: Brigada, admin: Actor, make_user: MakeUser, count_events: Any, central_url: str
) -> None:
    ana = make_user("ana")
    before = head(central)

    with pytest.raises(AdministratorOnly):
        central.users.create(ana, {"username": "beto", "full_name": "Beto"}, PASSWORDS["beto"])
    with pytest.raises(AdministratorOnly):
        central.users.unlock(ana, "ana")
    with pytest.raises(AdministratorOnly):
        central.users.reactivate(ana, "ana")
    with pytest.raises(AdministratorOnly):
        central.policies.set(ana, {"min_length": "20"})
    with pytest.raises(AdministratorOnly):
        central.policies.show(ana)
    with pytest.raises(AdministratorOnly):
        central.users.who(ana, "patient")
    assert head(central) == before + 6 and only_denials_since(central, before)  # one record each


def test_a_user_lists_only_themself_and_an_administrator_everyone(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    make_user("beto", log_in_now=False)

    assert [r.username for r in central.users.list_users(ana)] == ["ana"]
    assert [r.username for r in central.users.list_users(admin)] == ["admin", "ana", "beto"]


def test_a_user_shown_never_carries_a_hash_a_key_or_a_secret(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    central.users.enroll_totp(ana, "ana")

    shown = central.users.show(admin, "ana")

    assert set(vars(shown)) == {
        "username",
        "full_name",
        "is_admin",
        "active",
        "locked",
        "failed_attempts",
        "must_change_password",
        "password_set_on",
        "second_factor",
        "options",
        "sections",
    }
    assert shown.second_factor is True


def test_user_administration_happens_on_central_only(open_store: Any, tmp_path: Any) -> None:
    site = open_store(f"sqlite:///{tmp_path}/site.db")
    site.setup.initialize("site", "BRG01", "coord", "Coordinación", PASSWORDS["coord"])
    coord = log_in(site, "coord", PASSWORDS["coord"])
    # Even an administrator's actor (who cannot log in here) is refused by the application.
    administrator = Actor("admin", user_id("admin"), True, None)

    with pytest.raises(CentralOnly):
        site.users.create(administrator, {"username": "beto", "full_name": "B"}, PASSWORDS["beto"])
    with pytest.raises(CentralOnly):
        site.policies.set(administrator, {"min_length": "20"})
    with pytest.raises(AdministratorOnly):
        site.users.create(coord, {"username": "beto", "full_name": "B"}, PASSWORDS["beto"])
    assert site.users.update(coord, "coord", {"full_name": "Coordinación BRG01"}).full_name == (
        "Coordinación BRG01"
    )


def test_the_administrator_profile_cannot_log_in_on_a_site(
    open_store: Any, tmp_path: Any, central: Brigada
) -> None:
    site = open_store(f"sqlite:///{tmp_path}/site.db")
    site.setup.initialize("site", "BRG01", "coord", "Coordinación", PASSWORDS["coord"])
    site.app.recorder.insert_events(central.app.recorder.select_events(user_id("admin")))

    with pytest.raises(AdminNotOnSite):
        site.auth.login("admin", ADMIN_PASSWORD)

"""Menu access (seed 004, "Acceso a menú") and visit sections: the tree, grants and revokes, the
"who can open X" view, and enforcement in the application, deny by default."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from application.brigada import Brigada
from application.context import Actor
from application.errors import MenuDenied, SectionDenied
from application.security.access import Access
from application.security.users import Users
from domain.context import EventContext, recording
from domain.errors import InvalidValue
from domain.security import menu
from domain.security.sections import Section
from domain.security.user import User, user_id
from projections.base import InMemoryRowStore
from projections.security.users import UserQueries, UsersProjection
from tests.support.security import PASSWORDS, MakeUser, log_in

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
JOSE: dict[str, Any] = {
    "document_type": "CC",
    "document_number": "1032456789",
    "first_name": "José",
    "first_surname": "Peña",
    "birth_date": "1980-05-02",
    "sex": "M",
    "municipality": "05001",
    "zone": "02",
    "coverage_status": "04",
}


def context() -> EventContext:
    return EventContext(uuid.uuid4(), "CEN", "admin", "pc", 7, NOW, date(2026, 3, 1))


# -- the tree -----------------------------------------------------------------------------------
# Commands every logged-in user (or nobody yet) needs: they sit outside the menu.
# serve runs as central's service, by whoever may open central's store, not in a user's session.
OUTSIDE_THE_MENU = {"init", "login", "logout", "whoami", "date", "demo", "serve"}  # any user, or before one


def test_every_cli_command_group_has_its_menu_option_and_every_option_names_a_command() -> None:
    import click

    from cli.main import cli

    groups = [o.id for o in menu.MENU if o.parent is None]
    assert all(o.parent is None or o.parent in menu.OPTIONS for o in menu.MENU)
    ctx = click.Context(cli)
    assert set(groups) == set(cli.list_commands(ctx)) - OUTSIDE_THE_MENU
    for option in menu.MENU:
        path = option.id.split(".")
        command: click.Command = cli
        for part in path:
            assert isinstance(command, click.Group), option.id
            command = command.get_command(ctx, part) or command  # a sub-option may name a verb group
    for name in ("patient", "site", "user"):
        group = cli.get_command(ctx, name)
        assert isinstance(group, click.Group)
        assert {f"{name}.{verb}" for verb in group.commands} <= set(menu.OPTIONS), name
    assert menu.descendants("policy")[:3] == [
        "policy.password",
        "policy.password.show",
        "policy.password.set",
    ]


def test_granting_an_option_grants_its_ancestors_and_all_its_descendants() -> None:
    assert menu.grant(frozenset(), "policy.password.show") == {
        "policy",
        "policy.password",
        "policy.password.show",
    }
    assert menu.grant(frozenset(), "patient") == {"patient", *menu.descendants("patient")}


def test_revoking_an_option_revokes_it_and_all_its_descendants_only() -> None:
    everything = menu.EVERYTHING

    assert menu.revoke(everything, "patient") == everything - {"patient", *menu.descendants("patient")}
    assert menu.revoke(everything, "patient.show") == everything - {"patient.show"}


def test_an_option_opens_only_when_it_and_every_ancestor_are_granted() -> None:
    assert menu.can_open({"policy", "policy.password", "policy.password.set"}, "policy.password.set")
    assert not menu.can_open({"policy", "policy.password.set"}, "policy.password.set")
    assert not menu.can_open(set(), "passwd")
    assert not menu.is_consistent({"policy.password"})
    assert not menu.is_consistent({"no-such-option"})


def test_an_unknown_option_is_invalid_input_naming_the_groups() -> None:
    with pytest.raises(InvalidValue) as refused:
        menu.grant(frozenset(), "billing")
    assert refused.value.field == "option"
    assert "patient" in refused.value.params["groups"]


# -- any sequence of grants and revokes ---------------------------------------------------------
class MenuGrants(RuleBasedStateMachine):
    """Grants and revokes on a few users; their trees, the users view and "who" must agree."""

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, User] = {}
        self.events: list[Any] = []
        self.projection = UsersProjection()
        self.rows = InMemoryRowStore(self.projection)
        with recording(context()):
            for name, is_admin in (("admin", True), ("ana", False), ("beto", False), ("coord", False)):
                self.users[name] = User(username=name, full_name=name, is_admin=is_admin, password_hash="x")
        self._collect()

    def _collect(self) -> None:
        """Keep the events, and fold them into the users view as the projection runner does."""
        for user in self.users.values():
            for event in user.collect_events():
                self.events.append(event)
                key = self.projection.key(event)
                self.rows.rows[key] = self.projection.apply(self.rows.rows.get(key), event)

    @rule(name=st.sampled_from(["ana", "beto", "coord", "admin"]), option=st.sampled_from(menu.MENU))
    def grant(self, name: str, option: menu.MenuOption) -> None:
        user = self.users[name]
        with recording(context()):
            user.change_menu(menu.grant(user.menu, option.id))
        self._collect()

    @rule(name=st.sampled_from(["ana", "beto", "coord"]), option=st.sampled_from(menu.MENU))
    def revoke(self, name: str, option: menu.MenuOption) -> None:
        user = self.users[name]
        before = user.menu
        with recording(context()):
            user.change_menu(menu.revoke(user.menu, option.id))
        assert not {option.id, *menu.descendants(option.id)} & user.menu
        assert user.menu == before - {option.id, *menu.descendants(option.id)}
        self._collect()

    @invariant()
    def no_option_is_open_under_a_closed_parent(self) -> None:
        for user in self.users.values():
            assert menu.is_consistent(user.menu)
            assert all(menu.can_open(user.menu, o) for o in user.menu)

    @invariant()
    def who_agrees_with_every_users_tree(self) -> None:
        users = Users(None, Access(SimpleNamespace(checked_user=None)), None, UserQueries(self.rows))  # type: ignore[arg-type]
        admin = Actor("admin", user_id("admin"), True, None)
        for option in menu.MENU:
            expected = {
                name
                for name, user in self.users.items()
                if user.is_admin or menu.can_open(user.menu, option.id)
            }
            assert {row.username for row in users.who(admin, option.id)} == expected

    @invariant()
    def replaying_the_events_rebuilds_the_same_trees(self) -> None:
        rebuilt: dict[Any, Any] = {}
        for event in self.events:
            rebuilt[event.originator_id] = event.mutate(rebuilt.get(event.originator_id))
        for user in self.users.values():
            assert rebuilt[user.id].menu == user.menu


TestMenuGrants = MenuGrants.TestCase
TestMenuGrants.settings = settings(stateful_step_count=25)


# -- in the application -------------------------------------------------------------------------
def test_a_user_with_no_option_is_denied_by_default(central: Brigada, make_user: MakeUser) -> None:
    ana = make_user("ana", options=frozenset(), sections=frozenset())

    with pytest.raises(MenuDenied) as refused:
        central.patients.search(ana, "José")
    assert refused.value.params == {"option": "patient.search", "label": "Search patients"}
    with pytest.raises(SectionDenied):
        central.access.require_section(ana, Section.REPORT)


def test_every_patient_use_case_and_the_views_need_their_option(
    central: Brigada, admin: Actor, make_user: MakeUser, count_events: Any, central_url: str
) -> None:
    central.patients.register(admin, JOSE)
    ana = make_user("ana", options=frozenset({"passwd"}))
    before = count_events(central_url)
    accesses = count_events(central_url, "brigada.Access.")

    attempts = [
        lambda: central.patients.register(ana, {**JOSE, "document_number": "99887766"}),
        lambda: central.patients.correct(ana, "CEN-1", {"first_name": "Josefa"}),
        lambda: central.patients.show(ana, "CEN-1"),
        lambda: central.patients.search(ana, "José"),
        lambda: central.read_models.status(ana),
        lambda: central.read_models.rebuild(ana, "users"),
    ]
    for attempt in attempts:
        with pytest.raises(MenuDenied):
            attempt()
    # nothing written but each refused attempt's access record (issue 17)
    assert count_events(central_url) == before + len(attempts)
    assert count_events(central_url, "brigada.Access.") == accesses + len(attempts)


def test_granted_options_open_and_revoking_the_group_closes_its_commands(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    central.patients.register(admin, JOSE)
    ana = make_user("ana", options=menu.grant(frozenset(), "patient.show"))

    assert central.patients.show(ana, "CEN-1").chart_number == "CEN-1"
    with pytest.raises(MenuDenied):
        central.patients.search(ana, "José")

    lines = central.users.change_access(admin, "ana", [], ["patient"])

    assert not any(line.granted for line in lines if line.option.startswith("patient"))
    with pytest.raises(MenuDenied):
        central.patients.show(ana, "CEN-1")


def test_access_who_agrees_with_every_users_tree_in_the_store(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    make_user("ana", options=menu.grant(menu.grant(frozenset(), "patient"), "passwd"), log_in_now=False)
    make_user("beto", options=menu.grant(frozenset(), "policy.password.show"), log_in_now=False)
    make_user("coord", options=frozenset(), log_in_now=False)
    central.users.change_access(admin, "ana", ["user.show"], ["patient.correct"])

    trees = {name: central.users.access_tree(admin, name) for name in ("admin", "ana", "beto", "coord")}
    for option in menu.MENU:
        expected = {
            name for name, tree in trees.items() for line in tree if line.option == option.id and line.granted
        }
        assert {row.username for row in central.users.who(admin, option.id)} == expected


def test_menu_changed_records_the_full_resulting_set(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    make_user("ana", options=frozenset(), sections=frozenset(), log_in_now=False)

    central.users.change_access(admin, "ana", ["patient.show", "passwd"], [])

    last = list(central.app.events.get(user_id("ana")))[-1]
    assert isinstance(last, User.MenuChanged)
    assert last.options == ["passwd", "patient", "patient.show"]


def test_a_new_user_like_another_gets_the_same_options_and_sections_plus_passwd(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    make_user(
        "ana",
        options=menu.grant(frozenset(), "patient.search"),
        sections=frozenset({Section.DIARY, Section.VISIT}),
        log_in_now=False,
    )

    beto = central.users.create(
        admin, {"username": "beto", "full_name": "Beto", "like": "ana"}, PASSWORDS["beto"]
    )

    assert beto.options == ["patient", "patient.search", "passwd"]
    assert beto.sections == ["diary", "visit"]


def test_sections_are_allowed_and_denied_one_by_one(
    central: Brigada, admin: Actor, make_user: MakeUser
) -> None:
    ana = make_user("ana", sections=frozenset())

    lines = central.users.change_sections(admin, "ana", ["report", "diary"], ["diary"])

    assert [line.section for line in lines if line.allowed] == ["report"]
    central.access.require_section(ana, "report")
    central.access.require_section(admin, Section.HISTORY)  # administrators pass
    with pytest.raises(SectionDenied) as refused:
        central.access.require_section(ana, Section.HISTORY)
    assert refused.value.params == {"section": "history", "label": "Clinical history"}
    with pytest.raises(InvalidValue):
        central.users.change_sections(admin, "ana", ["billing"], [])


def test_a_sites_first_user_gets_every_option_and_section(open_store: Any, tmp_path: Any) -> None:
    site = open_store(f"sqlite:///{tmp_path}/site.db")
    site.setup.initialize("site", "BRG01", "coord", "Coordinación", PASSWORDS["coord"])
    coord = log_in(site, "coord", PASSWORDS["coord"])

    assert {line.option for line in site.users.access_tree(coord, "coord") if line.granted} == set(
        menu.EVERYTHING
    )
    assert all(line.allowed for line in site.users.section_list(coord, "coord"))

"""Menu access seen by option (seed 004, "Administrador, Acceso a Menú"): `brigada access who`
marks every user for one option and grants or revokes it from there; `brigada access tree` shows
the whole menu, each option under its own parent. Through click, on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.security import menu
from tests.support import cli
from tests.support.security import ADMIN_PASSWORD, ANA_PASSWORD

pytestmark = pytest.mark.store

BETO = "otra-clave-para-el-rio-magdalena"


class Terminal(cli.Terminal):
    def marks(self, option: str) -> dict[str, bool]:
        return {
            u["username"]: u["granted"] for u in json.loads(self("access", "who", option, "--json").stdout)
        }


@pytest.fixture
def brigada(tmp_path: Path) -> Terminal:
    run = Terminal(f"sqlite:///{tmp_path / 'central.db'}")
    run("init", "--central", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    run("user", "create", "ana", "--full-name", "Ana Gómez", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    run("user", "create", "beto", "--full-name", "Beto Peña", "--password-stdin", input=f"{BETO}\n")
    run("user", "access", "beto", "--grant", "patient.show")
    return run


# -- who: every user, with a mark ---------------------------------------------------------------
def test_who_lists_every_user_with_a_mark_not_only_those_with_access(brigada: Terminal) -> None:
    assert brigada.marks("patient.show") == {"admin": True, "ana": False, "beto": True}

    table = brigada("access", "who", "patient.show").stdout
    assert "Who can open patient.show (Show a patient)" in table
    assert "│ ✔ │ admin │ Administrador │ yes" in table
    assert "│ ✘ │ ana   │ Ana Gómez     │ no" in table
    assert "│ ✔ │ beto  │ Beto Peña     │ no" in table


def test_who_marks_a_sub_option_closed_when_its_parent_is(brigada: Terminal) -> None:
    brigada("user", "access", "beto", "--revoke", "patient")
    assert brigada.marks("patient.show") == {"admin": True, "ana": False, "beto": False}


def test_who_grants_and_revokes_from_the_same_view(brigada: Terminal) -> None:
    granted = brigada("access", "who", "patient.show", "--grant", "ANA", "--revoke", "beto").stdout
    assert "│ ✔ │ ana " in granted and "│ ✘ │ beto " in granted
    assert brigada.marks("patient.show") == {"admin": True, "ana": True, "beto": False}
    # The same grant as `user access ana --grant patient.show`: its parent opens, its siblings do not.
    tree = brigada("user", "access", "ana").stdout
    assert "✔ │ patient " in tree and "✔ │   patient.show" in tree and "✘ │   patient.search" in tree

    brigada("access", "who", "patient", "--revoke", "ana")
    assert brigada.marks("patient.show") == {"admin": True, "ana": False, "beto": False}


def test_a_grant_from_who_is_recorded_in_the_activity_log(brigada: Terminal) -> None:
    before = json.loads(brigada("audit", "search", "--action", "user.menu", "--json").stdout)["rows"]
    brigada("access", "who", "encounter.list", "--grant", "ana")
    after = json.loads(brigada("audit", "search", "--action", "user.menu", "--json").stdout)["rows"]
    assert len(after) == len(before) + 1
    assert after[0]["user"] == "admin" and after[0]["comment"].startswith("USUARIO=ana ")


def test_an_unknown_user_changes_nobody(brigada: Terminal) -> None:
    before = brigada.marks("encounter.list")
    refused = brigada("access", "who", "encounter.list", "--grant", "ana", "--grant", "nadie", code=3)
    assert refused.stderr.strip().splitlines() == ["no user named nadie"]
    assert brigada.marks("encounter.list") == before == {"admin": True, "ana": False, "beto": False}


def test_an_unknown_option_is_one_line_and_exit_2(brigada: Terminal) -> None:
    refused = brigada("access", "who", "billing", "--grant", "ana", code=2)
    assert len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith("OPTION: billing is not a menu option")


def test_only_an_administrator_grants_from_who(brigada: Terminal) -> None:
    brigada("user", "access", "ana", "--grant", "access", "--grant", "user")
    brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    brigada("access", "who", "patient.show", code=1)
    brigada("access", "who", "patient.show", "--grant", "ana", code=1)
    brigada("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    assert brigada.marks("patient.show") == {"admin": True, "ana": False, "beto": True}


# -- tree: the whole menu, each option under its parent ------------------------------------------
def test_tree_prints_every_option_once_each_under_its_parent(brigada: Terminal) -> None:
    lines = json.loads(brigada("access", "tree", "--json").stdout)
    assert [line["option"] for line in lines] == [o.id for o in menu.MENU]
    path: list[str] = []  # the options above the current line, one per depth
    for line in lines:
        path = path[: line["depth"]]
        assert (path[-1] if path else None) == line["parent"], line["option"]
        path.append(line["option"])

    # As printed: the nearest less indented line above policy.locks is policy, not invoice.
    cells = [
        text.split("│")[1] for text in brigada("access", "tree").stdout.splitlines() if text.startswith("│")
    ]
    locks = next(i for i, cell in enumerate(cells) if cell.strip() == "policy.locks")
    indent = len(cells[locks]) - len(cells[locks].lstrip())
    parent = next(c for c in reversed(cells[:locks]) if len(c) - len(c.lstrip()) < indent)
    assert parent.strip() == "policy"


def test_the_menu_lists_each_option_right_after_its_parent_or_its_earlier_siblings() -> None:
    assert menu.in_tree_order(menu.MENU)
    misplaced = [menu.OPTIONS[o] for o in ("policy", "invoice", "invoice.rips", "policy.locks")]
    assert not menu.in_tree_order(misplaced)
    assert menu.descendants("policy") == [
        "policy.password",
        "policy.password.show",
        "policy.password.set",
        "policy.locks",
        "policy.locks.show",
        "policy.locks.set",
    ]


def test_tree_needs_its_menu_option(brigada: Terminal) -> None:
    brigada("user", "access", "ana", "--grant", "access.who")
    brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    refused = brigada("access", "tree", code=1)
    assert refused.stderr.strip() == "you have no access to menu option access.tree (The whole menu tree)"
    brigada("login", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    brigada("user", "access", "ana", "--grant", "access.tree")
    brigada("login", "ana", "--password-stdin", input=f"{ANA_PASSWORD}\n")
    assert "Menu tree" in brigada("access", "tree").stdout

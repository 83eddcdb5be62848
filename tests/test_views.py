"""Saved views: checked when saved, applied by --view on list and export."""

from __future__ import annotations

import pytest
from support import one_line_error


@pytest.fixture
def accounts_cli(cli):
    """`crm` against a database with three technology accounts: Acme and Gamma in CA, Beta in NY."""
    for name, state in (("Acme", "CA"), ("Beta", "NY"), ("Gamma", "CA")):
        assert cli("account", "add", name, "--state", state, "--industry", "Technology").exit_code == 0
    return cli


def test_save_and_use_a_view(accounts_cli):
    saved = accounts_cli("view", "save", "ca_tech", "--entity", "account", "--where", "state=CA and industry=Technology",
                   "--sort", "-name", "--columns", "id,name,state")
    assert saved.exit_code == 0, saved.stderr
    listed = accounts_cli("account", "list", "--view", "ca_tech", "--format", "csv")
    assert listed.stdout.splitlines() == ["id,name,state", "3,Gamma,CA", "1,Acme,CA"]
    narrowed = accounts_cli("account", "list", "--view", "ca_tech", "--where", "name~acm", "--format", "ids")
    assert narrowed.stdout.split() == ["1"]
    exported = accounts_cli("export", "account", "--view", "ca_tech")
    assert exported.stdout.splitlines()[0] == "id,name,state" and len(exported.stdout.splitlines()) == 3
    views = accounts_cli("view", "list", "--format", "csv")
    assert "ca_tech,account" in views.stdout


def test_bad_views_are_refused(accounts_cli):
    assert "unknown field" in one_line_error(accounts_cli("view", "save", "v", "--entity", "account", "--where", "nope=1"))
    assert "sort" in one_line_error(accounts_cli("view", "save", "v", "--entity", "account", "--sort", "nope"))
    assert "entity" in one_line_error(accounts_cli("view", "save", "v", "--entity", "planet"))
    assert "not a saved view" in one_line_error(accounts_cli("account", "list", "--view", "missing"))
    assert accounts_cli("view", "save", "v", "--entity", "opp", "--where", "amount>5").exit_code == 0
    assert "already exists" in one_line_error(accounts_cli("view", "save", "v", "--entity", "opp"))
    assert "is a view of opportunity" in one_line_error(accounts_cli("account", "list", "--view", "v"))

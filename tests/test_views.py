"""Saved views: checked when saved, applied by --view on list and export."""

from __future__ import annotations

import pytest
from i7_support import BACKENDS, CLI, fresh_url, isolate, one_line_error


@pytest.fixture(params=BACKENDS)
def i7_cli(request, tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)
    cli = CLI(fresh_url(request.param, tmp_path))
    for name, state in (("Acme", "CA"), ("Beta", "NY"), ("Gamma", "CA")):
        assert cli("account", "add", name, "--state", state, "--industry", "Technology").exit_code == 0
    return cli


def test_save_and_use_a_view(i7_cli):
    saved = i7_cli("view", "save", "ca_tech", "--entity", "account", "--where", "state=CA and industry=Technology",
                   "--sort", "-name", "--columns", "id,name,state")
    assert saved.exit_code == 0, saved.stderr
    listed = i7_cli("account", "list", "--view", "ca_tech", "--format", "csv")
    assert listed.stdout.splitlines() == ["id,name,state", "3,Gamma,CA", "1,Acme,CA"]
    narrowed = i7_cli("account", "list", "--view", "ca_tech", "--where", "name~acm", "--format", "ids")
    assert narrowed.stdout.split() == ["1"]
    exported = i7_cli("export", "account", "--view", "ca_tech")
    assert exported.stdout.splitlines()[0] == "id,name,state" and len(exported.stdout.splitlines()) == 3
    views = i7_cli("view", "list", "--format", "csv")
    assert "ca_tech,account" in views.stdout


def test_bad_views_are_refused(i7_cli):
    assert "unknown field" in one_line_error(i7_cli("view", "save", "v", "--entity", "account", "--where", "nope=1"))
    assert "sort" in one_line_error(i7_cli("view", "save", "v", "--entity", "account", "--sort", "nope"))
    assert "entity" in one_line_error(i7_cli("view", "save", "v", "--entity", "planet"))
    assert "not a saved view" in one_line_error(i7_cli("account", "list", "--view", "missing"))
    assert i7_cli("view", "save", "v", "--entity", "opp", "--where", "amount>5").exit_code == 0
    assert "already exists" in one_line_error(i7_cli("view", "save", "v", "--entity", "opp"))
    assert "is a view of opportunity" in one_line_error(i7_cli("account", "list", "--view", "v"))

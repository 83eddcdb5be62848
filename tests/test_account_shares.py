"""An account shared with a user is readable by them in full: the account, its contacts, deals,
activities and history, whatever their role's levels (the app's rule, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from support import one_line_error

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES


def _ids(result) -> set[int]:
    assert result.exit_code == 0, result.output
    return set(map(int, result.stdout.split()))


def test_a_shared_account_is_readable_in_full_until_unshared(cli, monkeypatch):
    monkeypatch.setenv("CRM_USER", "boss")
    assert cli("user", "add", "boss", "--role", "admin").exit_code == 0
    for name in ("bob", "jessica"):
        assert cli("user", "add", name, "--role", "sales").exit_code == 0
    account = _ids(cli("account", "add", "Kestrel Ltd", "--owner", "bob")).pop()
    other = _ids(cli("account", "add", "Osprey Ltd", "--owner", "bob")).pop()
    deal = _ids(cli("opp", "add", "Kestrel renewal", "--account", str(account), "--owner", "bob")).pop()
    hidden = _ids(cli("opp", "add", "Osprey renewal", "--account", str(other), "--owner", "bob")).pop()
    note = _ids(cli("activity", "add", "--type", "note", "Kestrel intro call", "--opp", str(deal),
                    "--owner", "bob")).pop()
    assert cli("opp", "update", str(deal), "--amount", "4200").exit_code == 0

    monkeypatch.setenv("CRM_USER", "jessica")
    assert _ids(cli("opp", "list", "--format", "ids")) == set()
    assert cli("account", "share", str(account), "--with", "jessica").exit_code == 1  # a rep may not share

    monkeypatch.setenv("CRM_USER", "boss")
    assert _ids(cli("account", "share", str(account), "--with", "jessica")) == {account}
    shares = json.loads(cli("account", "shares", str(account), "--format", "json").stdout)
    assert [(s["username"], s["shared_by"]) for s in shares] == [("jessica", "boss")]

    monkeypatch.setenv("CRM_USER", "jessica")
    assert _ids(cli("opp", "list", "--format", "ids")) == {deal}
    assert hidden not in _ids(cli("opp", "list", "--format", "ids"))
    assert note in _ids(cli("activity", "list", "--format", "ids"))
    history = cli("opp", "history", str(deal), "--format", "json")
    assert history.exit_code == 0 and "4200" in history.stdout
    timeline = cli("opp", "timeline", str(deal), "--format", "json")
    assert "Kestrel intro call" in timeline.stdout
    line = one_line_error(cli("opp", "update", str(deal), "--amount", "1"))  # readable, not hers to change
    assert "sales user may edit only their own" in line

    monkeypatch.setenv("CRM_USER", "boss")
    assert _ids(cli("account", "unshare", str(account), "--with", "jessica")) == {account}
    monkeypatch.setenv("CRM_USER", "jessica")
    assert _ids(cli("opp", "list", "--format", "ids")) == set()
    assert "not found" in one_line_error(cli("opp", "show", str(deal))).lower()


def test_sharing_names_a_user_and_an_account_that_exist(cli, engine, monkeypatch):
    monkeypatch.setenv("CRM_USER", "boss")
    assert cli("user", "add", "boss", "--role", "admin").exit_code == 0
    account = _ids(cli("account", "add", "Kestrel Ltd")).pop()
    assert "nobody" in one_line_error(cli("account", "share", str(account), "--with", "nobody"))
    assert "not found" in one_line_error(cli("account", "share", "999", "--with", "boss")).lower()
    from crm_tui.store.db import session_scope

    with session_scope(engine) as s:
        assert records.count_records(ENTITIES["account"], session=s) == 1

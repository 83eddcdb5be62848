"""Users, teams and roles: `crm user add|update|deactivate`, `crm team ...`, `crm role show|set`.

Every test runs on SQLite and (when configured) PostgreSQL, as CRM_USER=tester (conftest).
Administration needs an admin once one exists; before that, whoever runs crm administers it.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from support import one_line_error

from crm_tui.services.access import DEFAULT_RULES, RULE_ENTITIES
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import session_scope
from crm_tui.store.models import RoleRule, Team, User

ME = "tester"


def _count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _user(engine, username: str) -> User:
    with session_scope(engine) as s:
        user = s.execute(select(User).where(User.username == username)).scalars().one()
        s.expunge(user)
        return user


@pytest.fixture
def admin_cli(cli, engine):
    """The acting user (tester) is the admin; alice and bob are sales reps."""
    assert cli("user", "add", ME, "--role", "admin").exit_code == 0
    for name in ("alice", "bob"):
        assert cli("user", "add", name, "--role", "sales").exit_code == 0
    return cli


def test_teams_and_their_members(admin_cli, engine):
    cli = admin_cli
    team_id = cli("team", "add", "West Coast").stdout.strip()
    assert team_id.isdigit()
    assert cli("user", "add", "jessica", "--name", "Jessica Lee", "--role", "sales", "--team", "west coast"
               ).exit_code == 0
    assert cli("team", "add-member", "West Coast", "bob").exit_code == 0
    members = json.loads(cli("team", "members", "West Coast", "--format", "json").stdout)
    assert [m["username"] for m in members] == ["bob", "jessica"]
    teams = json.loads(cli("team", "list", "--format", "json").stdout)
    assert teams == [{"id": int(team_id), "name": "West Coast", "members": 2}]
    users = {u["username"]: u for u in json.loads(cli("user", "list", "--format", "json").stdout)}
    assert users["jessica"]["team"] == "West Coast" and users["alice"]["team"] is None

    # The actor carries the team's name.
    with session_scope(engine) as s:
        assert resolve_actor(session=s, username="jessica").team == "West Coast"
        assert resolve_actor(session=s, username="alice").team is None

    # Out again.
    assert cli("team", "remove-member", "West Coast", "bob").exit_code == 0
    assert _user(engine, "bob").team_id is None
    line = one_line_error(cli("team", "remove-member", "West Coast", "bob"))
    assert line == "error: user: 'bob' is not in team West Coast"


def test_a_duplicate_or_unknown_team_is_one_line_and_writes_nothing(admin_cli, engine):
    cli = admin_cli
    assert cli("team", "add", "EMEA").exit_code == 0
    assert one_line_error(cli("team", "add", "emea")) == "error: team 'emea' already exists"
    assert _count(engine, Team) == 1
    users = _count(engine, User)
    line = one_line_error(cli("user", "add", "zoe", "--team", "Nowhere"))
    assert line.startswith("error: team: 'Nowhere' is not a team")
    assert _count(engine, User) == users
    assert one_line_error(cli("user", "add", "zoe", "--role", "boss")).startswith("error: role: 'boss'")


def test_only_an_admin_administers_once_one_exists(cli, engine):
    # No admin yet: whoever runs crm may add the first users.
    assert cli("user", "add", "alice", "--role", "sales").exit_code == 0
    assert cli("user", "add", ME, "--role", "sales").exit_code == 0
    assert cli("user", "add", "root", "--role", "admin").exit_code == 0
    # Now there is one: a sales rep may not.
    before = (_count(engine, User), _count(engine, Team), _count(engine, RoleRule))
    for args, what in ((("user", "add", "mallory"), "add users"),
                       (("user", "update", "alice", "--role", "admin"), "change users"),
                       (("user", "deactivate", "alice"), "deactivate users"),
                       (("team", "add", "Rogue"), "add teams"),
                       (("role", "set", "sales", "opportunity", "read", "all"), "change role rules")):
        line = one_line_error(cli(*args))
        assert line == f"error: user: '{ME}' is a sales user: only an admin may {what}", args
    assert (_count(engine, User), _count(engine, Team), _count(engine, RoleRule)) == before
    assert _user(engine, "alice").role == "sales"


def test_update_and_deactivate_a_user(admin_cli, engine):
    cli = admin_cli
    assert cli("team", "add", "Finance").exit_code == 0
    out = json.loads(cli("user", "update", "alice", "--role", "finance", "--email", "alice@example.com",
                         "--team", "Finance", "--format", "json").stdout)
    assert (out["role"], out["email"], out["team"]) == ("finance", "alice@example.com", "Finance")
    assert one_line_error(cli("user", "update", "alice")).startswith("error: user: 'alice' nothing to change")

    # A deactivated user keeps their records; crm refuses to act as them.
    assert cli("account", "add", "Acme", "--owner", "bob").exit_code == 0
    assert cli("user", "deactivate", "bob").exit_code == 0
    assert _user(engine, "bob").active is False
    shown = json.loads(cli("account", "show", "1", "--format", "json").stdout)
    assert shown["owner"] == "bob"
    line = one_line_error(cli("account", "list", env={"CRM_USER": "bob"}))
    assert line.startswith("error: user: 'bob' is deactivated")
    assert one_line_error(cli("user", "deactivate", "bob")) == "error: user: 'bob' is already inactive"
    assert cli("user", "update", "bob", "--active").exit_code == 0
    assert cli("account", "list", env={"CRM_USER": "bob"}).exit_code == 0

    # The last active admin stays one.
    for args in (("user", "deactivate", ME), ("user", "update", ME, "--role", "sales"),
                 ("user", "update", ME, "--inactive")):
        assert one_line_error(cli(*args)).startswith(f"error: user: '{ME}' is the last active admin"), args
    assert _user(engine, ME).role == "admin" and _user(engine, ME).active


def test_role_show_lists_the_defaults_and_marks_an_admins_change(admin_cli, engine):
    cli = admin_cli
    rows = json.loads(cli("role", "show", "--format", "json").stdout)
    assert len(rows) == 4 * len(RULE_ENTITIES) * 4
    assert all(r["level"] == r["default"] == DEFAULT_RULES[r["role"]][r["entity"]][r["action"]] for r in rows)
    table = cli("role", "show", "sales").stdout
    assert "opportunity" in table and "linked" in table and "*" not in table

    assert cli("role", "set", "sales", "opportunity", "read", "team").exit_code == 0
    rows = json.loads(cli("role", "show", "sales", "--format", "json").stdout)
    changed = [r for r in rows if r["level"] != r["default"]]
    assert changed == [{"role": "sales", "entity": "opportunity", "action": "read", "level": "team",
                        "default": "own"}]
    assert "team*" in cli("role", "show", "sales").stdout
    assert _count(engine, RoleRule) == 1

    # Back to the default: the change is gone.
    assert cli("role", "set", "sales", "opportunity", "read", "own").exit_code == 0
    assert _count(engine, RoleRule) == 0


@pytest.mark.parametrize(("args", "message"), [
    (("sales", "opportunity", "read", "most"), "error: level: 'most' is not one of: all, team, own, linked, none"),
    (("sales", "invoice", "read", "all"), "error: entity: 'invoice' is not one of"),
    (("sales", "lead", "steal", "all"), "error: action: 'steal' is not one of: read, edit, delete, assign"),
    (("admin", "lead", "read", "none"), "error: role: 'admin' always has every right"),
    (("intern", "lead", "read", "none"), "error: role: 'intern' is not one of: admin, manager, sales, finance"),
    (("sales", "lead", "read", "linked"), "error: level: 'linked' applies to activities only"),
])
def test_a_bad_role_rule_is_one_line_and_writes_nothing(admin_cli, engine, args, message):
    assert one_line_error(admin_cli("role", "set", *args)).startswith(message)
    assert _count(engine, RoleRule) == 0


def test_only_a_manager_or_an_admin_sets_quotas_from_the_cli(admin_cli, engine):
    from crm_tui.store.models import Quota

    cli = admin_cli
    line = one_line_error(cli("quota", "set", "alice", "2026-12", "50000", env={"CRM_USER": "bob"}))
    assert line == "error: user: 'bob' is a sales user: only a manager or an admin may set quotas"
    assert _count(engine, Quota) == 0
    assert cli("quota", "set", "alice", "2026-12", "50000").exit_code == 0  # tester is the admin
    assert _count(engine, Quota) == 1

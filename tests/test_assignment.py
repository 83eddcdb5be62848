"""Assignment: `crm assign`, the assign right, assignment rules (round-robin, by field) applied to new
leads and deals from `crm lead add`, `crm opp add`, the services the forms call and imports.

Every test runs on SQLite and (when configured) PostgreSQL, as CRM_USER=tester (conftest).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from crm_tui.services import assignment, records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import session_scope
from crm_tui.store.models import AssignmentRule, Change, Lead, Notification, User

ME = "tester"


@pytest.fixture
def team_cli(cli):
    """tester is the admin; West has jess, bob (sales) and maria (its manager); carol is in no team."""
    assert cli("user", "add", ME, "--name", "Tess Ter", "--role", "admin").exit_code == 0
    assert cli("team", "add", "West").exit_code == 0
    for args in (("jess", "--name", "Jessica Lee", "--team", "West"), ("bob", "--name", "Bob Stone", "--team", "West"),
                 ("maria", "--name", "Maria Ruiz", "--role", "manager", "--team", "West"), ("carol",)):
        res = cli("user", "add", *args)
        assert res.exit_code == 0, res.stderr
    return cli


def owners(engine) -> dict[int, str]:
    with session_scope(engine) as s:
        return {lid: name for lid, name in s.execute(
            select(Lead.id, User.username).join(User, User.id == Lead.owner_id).order_by(Lead.id))}


def notes_of(engine, username: str) -> list[tuple[str, str, str | None, int | None]]:
    with session_scope(engine) as s:
        return [tuple(r) for r in s.execute(
            select(Notification.kind, Notification.title, Notification.entity, Notification.record_id)
            .join(User, User.id == Notification.user_id).where(User.username == username).order_by(Notification.id))]


def test_assign_gives_the_lead_logs_the_change_and_notifies_the_assignee(team_cli, engine):
    cli = team_cli
    lead = cli("lead", "add", "--first-name", "Ada", "--last-name", "King", "--company", "Acme").stdout.strip()
    assert owners(engine)[int(lead)] == ME
    res = cli("assign", "lead", lead, "--to", "jess")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == lead and f"assigned lead {lead} to jess" in res.stderr
    assert owners(engine)[int(lead)] == "jess"
    with session_scope(engine) as s:
        change = s.execute(select(Change).where(Change.entity == "lead", Change.record_id == int(lead),
                                                Change.field == "owner_id")).scalars().one()
        assert change.actor == ME
    assert notes_of(engine, "jess") == [("assigned", "Lead Ada King (Acme) assigned to you by Tess Ter", "lead",
                                         int(lead))]
    assert notes_of(engine, ME) == []  # never told about what they did themselves
    # Aliases of the noun work; a deal too.
    opp = cli("opp", "add", "Acme deal", "--amount", "100").stdout.strip()
    assert cli("assign", "deal", opp, "--to", "bob").exit_code == 0
    assert notes_of(engine, "bob") == [("assigned", "Deal Acme deal assigned to you by Tess Ter", "opportunity",
                                        int(opp))]


def test_assign_bad_input_is_one_line(team_cli):
    cli = team_cli
    lead = cli("lead", "add", "--last-name", "King").stdout.strip()
    assert "is not a user" in cli.error(cli("assign", "lead", lead, "--to", "ghost"))
    assert "lead 999 not found" in cli.error(cli("assign", "lead", "999", "--to", "jess"))
    assert cli("user", "deactivate", "carol").exit_code == 0
    assert "deactivated" in cli.error(cli("assign", "lead", lead, "--to", "carol"))
    assert cli("assign", "lead", lead, "--to", "jess").exit_code == 0
    assert "already owns" in cli.error(cli("assign", "lead", lead, "--to", "jess"))
    assert cli("assign", "account", "1", "--to", "jess").exit_code == 2  # no such command: a usage error


def test_assign_needs_the_assign_right(team_cli, engine):
    cli = team_cli
    lead = cli("lead", "add", "--last-name", "King", "--owner", "jess").stdout.strip()
    # A sales rep may not give away even their own lead (assign: none); nothing changes.
    line = cli.error(cli("assign", "lead", lead, "--to", "bob", env={"CRM_USER": "jess"}))
    assert "may assign no leads" in line
    assert owners(engine)[int(lead)] == "jess"
    # Their team's manager may.
    assert cli("assign", "lead", lead, "--to", "bob", env={"CRM_USER": "maria"}).exit_code == 0
    assert owners(engine)[int(lead)] == "bob"
    assert notes_of(engine, "bob")[-1][1] == "Lead King assigned to you by Maria Ruiz"
    # Someone who cannot read it learns nothing.
    mine = cli("lead", "add", "--last-name", "Hidden", "--owner", "carol").stdout.strip()
    assert f"lead {mine} not found" in cli.error(cli("assign", "lead", mine, "--to", "bob", env={"CRM_USER": "jess"}))


def test_round_robin_takes_turns_among_the_active_members(team_cli, engine):
    cli = team_cli
    assert cli("user", "update", "maria", "--role", "sales").exit_code == 0
    assert cli("assign", "rule", "add", "lead", "round_robin", "--team", "west").exit_code == 0
    ids = [int(cli("lead", "add", "--last-name", f"L{i}").stdout) for i in range(4)]
    order = ["jess", "bob", "maria"]  # by user id: the order they were added
    assert [owners(engine)[i] for i in ids] == [order[0], order[1], order[2], order[0]]
    assert cli("user", "deactivate", "bob").exit_code == 0
    more = [int(cli("lead", "add", "--last-name", f"M{i}").stdout) for i in range(2)]
    assert [owners(engine)[i] for i in more] == ["maria", "jess"]
    rules = json.loads(cli("assign", "rule", "list", "--format", "json").stdout)
    assert rules[0]["kind"] == "round_robin" and rules[0]["team"] == "West" and rules[0]["last_user"] == "jess"
    # Each assignee was told; an explicit owner is never overridden.
    assert ("assigned", "Lead L0 assigned to you by a rule (added by Tess Ter)", "lead", ids[0]) in notes_of(engine, "jess")
    given = int(cli("lead", "add", "--last-name", "Given", "--owner", "carol").stdout)
    assert owners(engine)[given] == "carol"


def test_field_rules_come_first_by_position_and_match_any_case(team_cli, engine):
    cli = team_cli
    assert cli("assign", "rule", "add", "lead", "round_robin", "--team", "West").exit_code == 0
    rule = cli("assign", "rule", "add", "lead", "field", "--field", "state", "--value", "CA", "--user", "carol",
               "--position", "0").stdout.strip()
    assert cli("assign", "rule", "add", "lead", "field", "--field", "industry", "--value", "Retail",
               "--user", "bob", "--position", "0").exit_code == 0
    ca = int(cli("lead", "add", "--last-name", "Cal", "--state", " ca ").stdout)
    retail = int(cli("lead", "add", "--last-name", "Shop", "--industry", "retail", "--state", "CA").stdout)
    retail_tx = int(cli("lead", "add", "--last-name", "Shop2", "--industry", "Retail", "--state", "TX").stdout)
    other = int(cli("lead", "add", "--last-name", "Tex", "--state", "TX").stdout)
    assert owners(engine)[ca] == "carol"
    assert owners(engine)[retail] == "carol"  # the same position: the older rule first
    assert owners(engine)[retail_tx] == "bob"
    assert owners(engine)[other] == "jess"  # no field rule matches: the round-robin (position 1)
    assert cli("assign", "rule", "remove", rule).exit_code == 0
    cal2 = int(cli("lead", "add", "--last-name", "Cal2", "--state", "CA").stdout)
    assert owners(engine)[cal2] == "bob"  # the state rule is gone: the round-robin's next turn


def test_deal_rules_read_the_account(team_cli, engine):
    cli = team_cli
    assert cli("assign", "rule", "add", "opp", "field", "--field", "state", "--value", "NY", "--user", "bob"
               ).exit_code == 0
    assert cli("assign", "rule", "add", "opportunity", "field", "--field", "source", "--value", "web",
               "--user", "jess").exit_code == 0
    ny = cli("account", "add", "Big Apple", "--state", "NY").stdout.strip()
    deal = cli("opp", "add", "Apple deal", "--account", ny).stdout.strip()
    web = cli("opp", "add", "Web deal", "--source", "Web").stdout.strip()
    plain = cli("opp", "add", "Plain deal").stdout.strip()
    rows = {r["id"]: r["owner"] for r in json.loads(cli("opp", "list", "--format", "json").stdout)}
    assert rows == {int(deal): "bob", int(web): "jess", int(plain): ME}


def test_rule_bad_input_and_admins_only(team_cli):
    cli = team_cli
    assert "is required for a round-robin rule" in cli.error(cli("assign", "rule", "add", "lead", "round_robin"))
    assert "is not a team" in cli.error(cli("assign", "rule", "add", "lead", "round_robin", "--team", "East"))
    assert "is not one of: state, industry" in cli.error(
        cli("assign", "rule", "add", "lead", "field", "--field", "color", "--value", "x", "--user", "bob"))
    assert "needs both --field and --value" in cli.error(
        cli("assign", "rule", "add", "lead", "field", "--field", "state", "--user", "bob"))
    assert "is not one of: round_robin, field" in cli.error(cli("assign", "rule", "add", "lead", "random"))
    assert "not assignable" in cli.error(cli("assign", "rule", "add", "account", "field"))
    assert "only an admin may change assignment rules" in cli.error(
        cli("assign", "rule", "add", "lead", "round_robin", "--team", "West", env={"CRM_USER": "maria"}))
    assert "assignment rule 42 not found" in cli.error(cli("assign", "rule", "remove", "42"))


def test_import_applies_the_rules_in_one_pass_and_tells_each_owner_once(team_cli, engine, tmp_path):
    cli = team_cli
    assert cli("user", "update", "maria", "--role", "sales").exit_code == 0
    assert cli("assign", "rule", "add", "lead", "field", "--field", "state", "--value", "CA", "--user", "carol"
               ).exit_code == 0
    assert cli("assign", "rule", "add", "lead", "round_robin", "--team", "West").exit_code == 0
    rows = ["first_name,last_name,state,owner"] + [f"P,{i},{'CA' if i % 5 == 0 else 'OR'}," for i in range(30)]
    rows.append("Q,Owned,CA,bob")  # an owner column value wins over the rules
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(rows) + "\n")
    res = cli("import", "lead", str(path))
    assert res.exit_code == 0, res.stderr
    with session_scope(engine) as s:
        counts = dict(s.execute(select(User.username, func.count()).join(Lead, Lead.owner_id == User.id)
                                .group_by(User.username)).all())
        last = s.execute(select(User.username).join(AssignmentRule, AssignmentRule.last_user_id == User.id)).scalar()
    # 6 CA rows to carol; 24 to the West team in turns (jess, bob, maria: 8 each) and the owned row to bob.
    assert counts == {"carol": 6, "jess": 8, "bob": 9, "maria": 8}
    assert last == "maria"
    assert [n[1] for n in notes_of(engine, "carol")] == ["6 leads assigned to you by a rule (imported by Tess Ter)"]
    assert [n[1] for n in notes_of(engine, "bob")] == ["9 leads assigned to you by Tess Ter"]  # one of them was the file's
    # The next lead continues the turns where the import left them.
    following = int(cli("lead", "add", "--last-name", "Next").stdout)
    assert owners(engine)[following] == "jess"


def test_services_the_forms_call_apply_the_rules(team_cli, engine):
    """The app's new-lead form calls create_record without an owner when it is left on "me"."""
    assert team_cli("assign", "rule", "add", "lead", "field", "--field", "source", "--value", "web", "--user",
                    "jess").exit_code == 0
    with session_scope(engine) as s:
        row = records.create_record(ENTITIES["lead"], session=s, data={"last_name": "Form", "source": "Web"},
                                    actor=ME)
    assert row["owner"] == "jess"
    with session_scope(engine) as s:
        actor = resolve_actor(session=s, username=ME)
        moved = assignment.assign(session=s, entity="leads", record_id=row["id"], to_user="bob", actor=actor)
    assert moved["owner"] == "bob"
    assert [n[0] for n in notes_of(engine, "bob")] == ["assigned"]


def test_a_bulk_owner_change_tells_the_new_owner_once(team_cli, engine):
    cli = team_cli
    ids = [cli("lead", "add", "--last-name", f"B{i}").stdout.strip() for i in range(3)]
    res = cli("update", "lead", "--ids", "-", "--set", "owner=jess", input="\n".join(ids[:2]) + "\n")
    assert res.exit_code == 0, res.stderr
    assert notes_of(engine, "jess") == [("assigned", "2 leads assigned to you by Tess Ter", "lead", None)]
    res = cli("update", "lead", "--ids", "-", "--set", "owner=bob", input=ids[2] + "\n")
    assert res.exit_code == 0, res.stderr
    assert notes_of(engine, "bob") == [("assigned", "Lead B2 assigned to you by Tess Ter", "lead", int(ids[2]))]
    # Nothing changes hands (already theirs), a dry run, or giving them to myself: nobody is told.
    assert cli("update", "lead", "--ids", "-", "--set", "owner=bob", input=ids[2] + "\n").exit_code == 0
    assert cli("update", "lead", "--ids", "-", "--set", "owner=carol", "--dry-run", input=ids[0] + "\n").exit_code == 0
    assert cli("update", "lead", "--ids", "-", "--set", f"owner={ME}", input=ids[0] + "\n").exit_code == 0
    assert len(notes_of(engine, "bob")) == 1 and notes_of(engine, "carol") == [] and notes_of(engine, ME) == []


def test_writers_at_once_take_turns_without_giving_two_the_same_turn(team_cli, engine):
    """Four writers adding leads at the same time: the round-robin turns still go evenly."""
    import threading

    from crm_tui.store.db import run_unit

    cli = team_cli
    assert cli("user", "update", "maria", "--role", "sales").exit_code == 0
    assert cli("assign", "rule", "add", "lead", "round_robin", "--team", "West").exit_code == 0
    barrier, errors = threading.Barrier(4), []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(6):
                run_unit(engine, lambda s, i=i: records.create_record(
                    ENTITIES["lead"], session=s, data={"last_name": f"W{n}-{i}"}, actor=ME))
        except Exception as exc:  # pragma: no cover - shown by the assert
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts: dict[str, int] = {}
    for name in owners(engine).values():
        counts[name] = counts.get(name, 0) + 1
    assert counts == {"jess": 8, "bob": 8, "maria": 8}

"""Row visibility by role: what admin, manager, sales and finance read (crm_tui/services/access.py's
defaults, applied by the scoping hook through crm_tui/store/visibility.py), on SQLite and PostgreSQL.

The team: root (admin); alice and bob (sales, team West); carol (sales, team East); grace (manager,
West); fiona (finance). Each rep owns an account, a deal on it with a proposal, a lead and a task on
the deal; one lead is unassigned; one note is logged on carol's account only.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import update
from support import one_line_error

from crm_tui.errors import NotFound
from crm_tui.services import records
from crm_tui.services import search as search_service
from crm_tui.services.access import set_rule
from crm_tui.services.engagement import activities
from crm_tui.services.quotes import proposals
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import forecast
from crm_tui.services.users import create_team, create_user, resolve_actor
from crm_tui.store.db import session_scope

REPS = ("alice", "bob", "carol")


@pytest.fixture
def team(engine):
    ids: dict[str, dict[str, int]] = {}
    with session_scope(engine) as s:
        for name in ("West", "East"):
            create_team(session=s, actor=resolve_actor(session=s, username="setup"), name=name)
        for username, role, team_name in (("root", "admin", None), ("alice", "sales", "West"),
                                          ("bob", "sales", "West"), ("carol", "sales", "East"),
                                          ("grace", "manager", "West"), ("fiona", "finance", None)):
            create_user(session=s, data={"username": username, "role": role, "team": team_name})
    for rep in REPS:
        with session_scope(engine) as s:
            acc = records.create_record(ENTITIES["account"], session=s, actor=rep,
                                        data={"name": f"Kestrel {rep} Ltd", "owner": rep})["id"]
            opp = records.create_record(ENTITIES["opportunity"], session=s, actor=rep, data={
                "name": f"Kestrel {rep} deal", "account": acc, "stage": "Qualified", "amount": "1000",
                "expected_close": "2026-12-20", "owner": rep})["id"]
            lead = records.create_record(ENTITIES["lead"], session=s, actor=rep, data={
                "first_name": "Lee", "last_name": f"Kestrel {rep}", "company": "Kestrel", "owner": rep})["id"]
            task = activities.log_activity(session=s, actor=rep, type="task", subject=f"Kestrel {rep} task", due="2026-12-10 10:00",
                                           links={"opp": opp})["id"]
            view = proposals.new_proposal(session=s, opportunity_id=opp, actor=rep)
            ids[rep] = {"account": acc, "opportunity": opp, "lead": lead, "activity": task, "proposal": view.id}
    with session_scope(engine) as s:
        unassigned = records.create_record(ENTITIES["lead"], session=s, actor="root", data={
            "first_name": "Una", "last_name": "Kestrel unassigned", "company": "Kestrel"})["id"]
        leads = ENTITIES["lead"].table  # a web lead waiting for an owner (the form assigns nobody)
        s.execute(update(leads).where(leads.c.id == unassigned).values(owner_id=None))
        ids["nobody"] = {"lead": unassigned}
        ids["carol"]["note"] = activities.log_activity(session=s, actor="carol", type="note",
                                                       subject="Kestrel carol account note",
                                                       links={"account": ids["carol"]["account"]})["id"]
    return ids


def _ids(engine, username: str, entity: str) -> set[int]:
    with session_scope(engine) as s:
        actor = resolve_actor(session=s, username=username)
        return {r["id"] for r in records.list_records(ENTITIES[entity], session=s, actor=actor)}


def _of(team, *owners: str, entity: str) -> set[int]:
    return {team[o][entity] for o in owners if entity in team[o]}


def test_a_sales_rep_reads_every_account_and_only_their_own_deals_and_leads(engine, team):
    assert _ids(engine, "alice", "account") == _of(team, *REPS, entity="account")
    assert _ids(engine, "alice", "contact") == set()  # nobody added contacts: the rule is "all"
    assert _ids(engine, "alice", "opportunity") == _of(team, "alice", entity="opportunity")
    # their own leads and the unassigned one, waiting for an owner
    assert _ids(engine, "alice", "lead") == _of(team, "alice", "nobody", entity="lead")
    # activities of what they can read: the task on their deal, the note on carol's account (accounts are
    # readable); never the task on carol's deal
    assert _ids(engine, "alice", "activity") == {team["alice"]["activity"], team["carol"]["note"]}
    with session_scope(engine) as s:
        alice = resolve_actor(session=s, username="alice")
        assert {r["id"] for r in proposals.list_proposals(session=s, actor=alice)} == {team["alice"]["proposal"]}
        with pytest.raises(NotFound):
            records.get_record(ENTITIES["opportunity"], session=s, record_id=team["carol"]["opportunity"],
                               actor=alice)
        hits = search_service.search(session=s, query="kestrel", actor=alice)
        assert {(h.entity, h.id) for h in hits if h.entity == "opportunity"} == {
            ("opportunity", team["alice"]["opportunity"])}
        rows = forecast.forecast(session=s, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31), by=("owner",),
                                 actor=alice)
        assert [r.key["owner"] for r in rows.rows] == ["alice"], rows


def test_a_manager_reads_their_teams_records(engine, team):
    assert _ids(engine, "grace", "opportunity") == _of(team, "alice", "bob", entity="opportunity")
    assert _ids(engine, "grace", "lead") == _of(team, "alice", "bob", entity="lead")
    assert _ids(engine, "grace", "account") == _of(team, *REPS, entity="account")


def test_finance_reads_deals_but_no_leads_and_an_admin_reads_everything(engine, team):
    assert _ids(engine, "fiona", "opportunity") == _of(team, *REPS, entity="opportunity")
    assert _ids(engine, "fiona", "lead") == set()
    for entity in ("account", "opportunity", "lead", "activity"):
        everything = _of(team, *REPS, "nobody", entity=entity) | (
            {team["carol"]["note"]} if entity == "activity" else set())
        assert _ids(engine, "root", entity) == everything, entity
        # a user the users table does not know (a first run) reads everything, as before
        assert _ids(engine, "stranger", entity) == everything, entity


def test_an_admins_change_to_a_rule_applies_from_the_next_command(engine, team):
    with session_scope(engine) as s:
        set_rule(session=s, actor=resolve_actor(session=s, username="root"), role="sales", entity="opportunity",
                 action="read", level="team")
    assert _ids(engine, "alice", "opportunity") == _of(team, "alice", "bob", entity="opportunity")
    assert _ids(engine, "carol", "opportunity") == _of(team, "carol", entity="opportunity")
    with session_scope(engine) as s:
        set_rule(session=s, actor=resolve_actor(session=s, username="root"), role="sales", entity="lead",
                 action="read", level="none")
    assert _ids(engine, "alice", "lead") == set()


def test_the_cli_shows_a_rep_only_what_they_may_read(cli, engine, team):
    env = {"CRM_USER": "alice"}
    listed = json.loads(cli("opp", "list", "--format", "json", env=env).stdout)
    assert [r["id"] for r in listed] == [team["alice"]["opportunity"]]
    result = cli("opp", "show", str(team["carol"]["opportunity"]), env=env)
    assert result.exit_code == 1 and "not found" in result.stderr
    exported = cli("export", "leads", "--format", "json", env=env).stdout
    assert "Kestrel carol" not in exported and "Kestrel alice" in exported and "Kestrel unassigned" in exported
    found = cli("search", "kestrel", "--format", "csv", env=env).stdout
    assert "Kestrel carol deal" not in found and "Kestrel alice deal" in found
    # the admin, same commands
    assert len(json.loads(cli("opp", "list", "--format", "json", env={"CRM_USER": "root"}).stdout)) == 3


def test_whoever_uses_a_new_install_first_administers_it(cli, engine):
    """The person running crm is added on their first write: the admin while there is none (they read every
    record they import), a sales rep after that."""
    assert cli("account", "add", "First Co", env={"CRM_USER": "owner"}).exit_code == 0
    assert cli("account", "add", "Second Co", env={"CRM_USER": "newcomer"}).exit_code == 0
    with session_scope(engine) as s:
        assert resolve_actor(session=s, username="owner").role == "admin"
        assert resolve_actor(session=s, username="newcomer").role == "sales"


def test_a_rep_changes_only_what_their_role_allows(cli, engine, team):
    alice = {"CRM_USER": "alice"}
    carol_deal, alice_deal = str(team["carol"]["opportunity"]), str(team["alice"]["opportunity"])
    # what they cannot read is not found, for a change as for a look
    for args in (("opp", "update", carol_deal, "--next-step", "poach"), ("opp", "delete", carol_deal, "--yes"),
                 ("lead", "update", str(team["carol"]["lead"]), "--status", "junk")):
        result = cli(*args, env=alice)
        assert result.exit_code == 1 and "not found" in result.stderr, args
    # what they read but may not change: one line naming the rule
    line = one_line_error(cli("account", "update", str(team["carol"]["account"]), "--industry", "Retail", env=alice))
    assert line == f"error: account {team['carol']['account']}: a sales user may edit only their own accounts"
    line = one_line_error(cli("opp", "update", alice_deal, "--owner", "bob", env=alice))
    assert line == f"error: opportunity {alice_deal}: a sales user may assign no opportunities"
    # their own: fine
    assert cli("opp", "update", alice_deal, "--next-step", "call", env=alice).exit_code == 0
    deleted = cli("lead", "delete", str(team["alice"]["lead"]), "--yes", env=alice)
    assert deleted.exit_code == 0, deleted.stderr
    with session_scope(engine) as s:
        carol = resolve_actor(session=s, username="carol")
        row = records.get_record(ENTITIES["opportunity"], session=s, record_id=int(carol_deal), actor=carol)
        assert (row["next_step"], row["version"]) == (None, 1)
    # a manager changes their team's deals, not another team's
    grace = {"CRM_USER": "grace"}
    assert cli("opp", "update", str(team["bob"]["opportunity"]), "--next-step", "review", env=grace).exit_code == 0
    assert "not found" in cli("opp", "update", carol_deal, "--next-step", "x", env=grace).stderr


def test_a_bulk_write_skips_what_the_role_may_not_change_and_says_so(cli, engine, team):
    alice = {"CRM_USER": "alice"}
    result = cli("update", "account", "--where", "name~kestrel", "--set", "industry=Retail", env=alice)
    assert result.exit_code == 0, result.stderr
    assert "skipped 2 accounts your role may not edit" in result.stderr
    industries = {r["name"]: r["industry"] for r in json.loads(
        cli("account", "list", "--format", "json", env={"CRM_USER": "root"}).stdout)}
    assert industries == {"Kestrel alice Ltd": "Retail", "Kestrel bob Ltd": None, "Kestrel carol Ltd": None}
    tagged = cli("tag", "add", "vip", "--entity", "account", "--where", "name~kestrel", env=alice)
    assert tagged.exit_code == 0 and "skipped 2 accounts your role may not edit" in tagged.stderr
    assert len(json.loads(cli("account", "list", "--where", "tag=vip", "--format", "json",
                              env={"CRM_USER": "root"}).stdout)) == 1


def test_saving_the_same_owner_is_no_assignment(cli, team):
    alice = {"CRM_USER": "alice"}
    deal = str(team["alice"]["opportunity"])
    assert cli("opp", "update", deal, "--owner", "alice", "--next-step", "demo", env=alice).exit_code == 0
    assert "may assign no" in one_line_error(cli("opp", "update", deal, "--owner", "carol", env=alice))

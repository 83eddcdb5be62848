"""What a login may write for others on PostgreSQL: a record the assignment rules give a teammate, a
notification about a record it just gave someone, a record given within its assign level; and what it
may not (an arbitrary owner, a notification or an e-mail made up with psql, a record given beyond its level).

The team (tests/test_row_security.py): alice (admin), bob and jessica (sales, West), mara (manager,
West), carl (sales, East), fin (finance)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select
from test_row_security import add_team, login_url, needs_postgres, pg, raw  # noqa: F401  (pg: a fixture)

from crm_tui.errors import NotAllowed
from crm_tui.services import records
from crm_tui.services.assignment import add_rule, assign
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import open_engine, session_scope
from crm_tui.store.models import Lead, Notification, Opportunity

REFUSED = (psycopg.errors.InsufficientPrivilege, "row-level security")
LEAD_SQL = ("INSERT INTO leads (first_name, last_name, company, status, score, owner_id, version, created_at, updated_at) "
            "VALUES ('', 'Forged', 'Forge Co', 'new', 0, %s, 1, now(), now())")
NOTE_SQL = "INSERT INTO notifications (user_id, kind, title, entity, record_id, created_at) VALUES (%s, %s, %s, %s, %s, now())"


def _round_robin(engine, **kw) -> None:
    with session_scope(engine) as s:
        add_rule(session=s, actor=resolve_actor(session=s, username="alice"), entity="lead", kind="round_robin",
                 team="West", **kw)


@needs_postgres
def test_a_rep_adds_leads_the_rules_give_teammates_but_cannot_read_them_after(pg):  # noqa: F811
    users = add_team(pg, logins=True)
    _round_robin(pg)
    bob = open_engine(login_url("bob"))
    added = {}
    try:
        for k in range(3):
            with session_scope(bob) as s:
                row = records.create_record(ENTITIES["lead"], session=s, actor="bob",
                                            data={"last_name": f"Quill {k}", "company": "Quill Co"})
                added[row["id"]] = row["owner"]
    finally:
        bob.dispose()
    assert sorted(added.values()) == ["bob", "jessica", "mara"]  # one turn each, in id order
    with session_scope(pg) as s:  # the database holds them with those owners
        held = {lead.id: lead.owner_id for lead in s.execute(select(Lead)).scalars()}
        assert held == {rid: users[name] for rid, name in added.items()}
        titles: dict[int, list[str]] = {}
        for n in s.execute(select(Notification).order_by(Notification.id)).scalars():
            titles.setdefault(n.user_id, []).append(n.title)
    [given] = titles[users["jessica"]]
    assert given.startswith("Lead Quill") and given.endswith("assigned to you by a rule (added by bob)")
    # Their manager hears of both new leads of her team she did not get (bob's and jessica's), although bob,
    # who wrote them, may not read jessica's.
    maras = titles[users["mara"]]
    assert len(maras) == 3 and sum(t.startswith("New lead Quill") and t.endswith("for West") for t in maras) == 2
    with raw("bob") as conn:  # his own turn he reads; his teammates' leads are theirs
        seen = {r[0] for r in conn.execute("SELECT id FROM leads").fetchall()}
        assert seen == {rid for rid, name in added.items() if name == "bob"}


@needs_postgres
def test_a_rep_with_psql_adds_a_lead_for_no_one_the_rules_would_not_pick(pg):  # noqa: F811
    users = add_team(pg, logins=True)
    _round_robin(pg)
    with raw("bob") as conn:
        for owner in ("carl", "alice", "fin"):  # not in the round-robin's team: never the rules' pick
            with pytest.raises(REFUSED[0], match=REFUSED[1]):
                conn.execute(LEAD_SQL, (users[owner],))
        # The turn may move only within the rule's team.
        with pytest.raises(REFUSED[0], match=REFUSED[1]):
            conn.execute("UPDATE assignment_rules SET last_user_id = %s", (users["carl"],))
        assert conn.execute("UPDATE assignment_rules SET last_user_id = %s", (users["jessica"],)).rowcount == 1
    with session_scope(pg) as s:  # a field rule first in line decides for leads from CA: jessica, only her
        add_rule(session=s, actor=resolve_actor(session=s, username="alice"), entity="lead", kind="field",
                 field="state", value="CA", user="jessica", position=0)
    with raw("bob") as conn:
        ca = LEAD_SQL.replace("(first_name,", "(state, first_name,").replace("VALUES (", "VALUES ('ca ', ")
        with pytest.raises(REFUSED[0], match=REFUSED[1]):
            conn.execute(ca, (users["mara"],))
        conn.execute(ca, (users["jessica"],))  # what the rule gives: allowed, and then not his to read
        assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    with session_scope(pg) as s:
        assert [lead.owner_id for lead in s.execute(select(Lead)).scalars()] == [users["jessica"]]


@needs_postgres
def test_a_login_notifies_another_user_only_about_a_record_it_just_gave_them(pg):  # noqa: F811
    users = add_team(pg, logins=True)
    with session_scope(pg) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                     data={"name": "Harbor deal", "owner": "bob"})["id"]
        carls = records.create_record(ENTITIES["opportunity"], session=s, actor="carl",
                                      data={"name": "East deal", "owner": "carl"})["id"]
    jessica = users["jessica"]
    with raw("bob") as conn:  # a rep making up notices and e-mail with psql: refused
        for args in ((jessica, "assigned", "Your password expired", None, None),
                     (jessica, "assigned", "Deal assigned to you", "opportunity", deal),
                     (users["carl"], "deal_won", "Deal won", "opportunity", carls),
                     (jessica, "assigned", "Leads assigned to you", "lead", None)):
            with pytest.raises(REFUSED[0], match=REFUSED[1]):
                conn.execute(NOTE_SQL, args)
        with pytest.raises(REFUSED[0], match=REFUSED[1]):
            conn.execute("INSERT INTO outbox (dedupe_key, to_addr, subject, body, created_at, attempts) "
                         "VALUES ('x1', 'victim@example.com', 'Hi', 'Click', now(), 0)")
        conn.execute(NOTE_SQL, (users["bob"], "assigned", "A note to myself", None, None))  # his own: fine
    with raw("mara") as conn:  # a manager giving bob's deal to jessica tells her, in the same transaction
        with conn.transaction():
            assert conn.execute("UPDATE opportunities SET owner_id = %s WHERE id = %s", (jessica, deal)).rowcount == 1
            conn.execute(NOTE_SQL, (jessica, "assigned", "Deal Harbor deal assigned to you", "opportunity", deal))
        with pytest.raises(REFUSED[0], match=REFUSED[1]):  # once done, not again
            conn.execute(NOTE_SQL, (jessica, "assigned", "Deal Harbor deal assigned to you", "opportunity", deal))
    with session_scope(pg) as s:
        assert [n.title for n in s.execute(select(Notification).where(Notification.user_id == jessica))
                .scalars()] == ["Deal Harbor deal assigned to you"]


@needs_postgres
def test_a_manager_gives_records_only_to_her_team_in_the_app_and_in_the_database(pg):  # noqa: F811
    users = add_team(pg, logins=True)
    with session_scope(pg) as s:
        deals = [records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                       data={"name": f"West deal {k}", "owner": "bob"})["id"] for k in range(2)]
    mara = open_engine(login_url("mara"))
    try:
        with session_scope(mara) as s, pytest.raises(NotAllowed, match="only to members of their team"):
            assign(session=s, entity="opportunity", record_id=deals[0], to_user="carl",
                   actor=resolve_actor(session=s, username="mara"))
        with session_scope(mara) as s:
            assert assign(session=s, entity="opportunity", record_id=deals[0], to_user="jessica",
                          actor=resolve_actor(session=s, username="mara"))["owner"] == "jessica"
    finally:
        mara.dispose()
    with raw("mara") as conn:
        for outsider in ("carl", "fin", "alice"):
            with pytest.raises(REFUSED[0], match=REFUSED[1]):
                conn.execute("UPDATE opportunities SET owner_id = %s WHERE id = %s", (users[outsider], deals[1]))
        assert conn.execute("UPDATE opportunities SET owner_id = %s WHERE id = %s",
                            (users["mara"], deals[1])).rowcount == 1
    with session_scope(pg) as s:
        assert [s.get(Opportunity, d).owner_id for d in deals] == [users["jessica"], users["mara"]]


def test_a_manager_gives_records_only_to_her_team_on_sqlite(tmp_path):
    from support import sqlite_url

    engine = open_engine(sqlite_url(tmp_path / "crm.db"))
    add_team(engine, logins=False)
    with session_scope(engine) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                     data={"name": "West deal", "owner": "bob"})["id"]
    with session_scope(engine) as s, pytest.raises(NotAllowed, match="only to members of their team"):
        assign(session=s, entity="opportunity", record_id=deal, to_user="carl",
               actor=resolve_actor(session=s, username="mara"))
    with session_scope(engine) as s:
        assert records.get_record(ENTITIES["opportunity"], session=s, record_id=deal)["owner"] == "bob"


def test_a_bulk_owner_change_beyond_the_team_is_refused_whole(tmp_path):
    from support import sqlite_url

    from crm_tui.services.data import bulk

    engine = open_engine(sqlite_url(tmp_path / "crm.db"))
    add_team(engine, logins=False)
    with session_scope(engine) as s:
        for k in range(2):
            records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                  data={"name": f"West deal {k}", "owner": "bob"})
    with session_scope(engine) as s, pytest.raises(NotAllowed, match="only to members of their team"):
        bulk.update_where(ENTITIES["opportunity"], session=s, data={"owner": "carl"}, where="owner=bob",
                          actor=resolve_actor(session=s, username="mara"))
    with session_scope(engine) as s:
        done = bulk.update_where(ENTITIES["opportunity"], session=s, data={"owner": "jessica"}, where="owner=bob",
                                 actor=resolve_actor(session=s, username="mara"))
        assert done.affected == 2


@needs_postgres
def test_an_owner_change_needs_the_assign_right_on_the_record_as_it_was(pg):  # noqa: F811
    from crm_tui.services.access import set_rule

    users = add_team(pg, logins=True)
    with session_scope(pg) as s:
        lead = Lead(first_name="", last_name="Waiting", company="Pool Co", status="new", score=0, owner_id=None)
        mine = Lead(first_name="", last_name="Mine", company="Jess Co", status="new", score=0,
                    owner_id=users["jessica"])
        s.add_all([lead, mine])
        carls = records.create_record(ENTITIES["opportunity"], session=s, actor="carl",
                                      data={"name": "East deal", "owner": "carl"})["id"]
        alice = resolve_actor(session=s, username="alice")
        for action in ("read", "edit"):  # a manager who reads and edits every deal but assigns her team's only
            set_rule(session=s, actor=alice, role="manager", entity="opportunity", action=action, level="all")
        s.flush()
        ids = {"waiting": lead.id, "mine": mine.id}
    with raw("jessica") as conn:  # a rep's assign level is none: she edits these leads but gives none
        for owner, lead_id in ((users["jessica"], ids["waiting"]), (None, ids["mine"])):
            with pytest.raises(REFUSED[0], match=REFUSED[1]):
                conn.execute("UPDATE leads SET owner_id = %s WHERE id = %s", (owner, lead_id))
        assert conn.execute("UPDATE leads SET company = 'Pool Co 2' WHERE id = %s", (ids["waiting"],)).rowcount == 1
    with raw("mara") as conn:  # carl's deal is not her team's to give, even to her team
        with pytest.raises(REFUSED[0], match=REFUSED[1]):
            conn.execute("UPDATE opportunities SET owner_id = %s WHERE id = %s", (users["jessica"], carls))
        assert conn.execute("UPDATE opportunities SET name = 'East deal 2' WHERE id = %s", (carls,)).rowcount == 1
    with session_scope(pg) as s:
        assert s.get(Lead, ids["waiting"]).owner_id is None and s.get(Lead, ids["mine"]).owner_id == users["jessica"]
        assert s.get(Opportunity, carls).owner_id == users["carl"]


@needs_postgres
def test_a_rep_adds_a_deal_a_field_rule_gives_a_teammate_as_his_login(pg):  # noqa: F811
    users = add_team(pg, logins=True)
    with session_scope(pg) as s:
        add_rule(session=s, actor=resolve_actor(session=s, username="alice"), entity="opportunity", kind="field",
                 field="source", value="Web", user="jessica")
    bob = open_engine(login_url("bob"))
    try:
        with session_scope(bob) as s:
            row = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                        data={"name": "Web deal", "source": "web"})
        with session_scope(bob) as s:
            mine = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                         data={"name": "Phone deal", "source": "phone", "amount": "10"})
    finally:
        bob.dispose()
    assert (row["owner"], row["name"], row["amount"]) == ("jessica", "Web deal", "0.00")
    assert mine["owner"] == "bob"
    with session_scope(pg) as s:
        assert s.get(Opportunity, row["id"]).owner_id == users["jessica"]


@needs_postgres
def test_a_rep_imports_leads_a_round_robin_shares_with_his_team_as_his_login(pg):  # noqa: F811
    import io

    from crm_tui.services.data.importing import import_csv

    users = add_team(pg, logins=True)
    _round_robin(pg)
    bob = open_engine(login_url("bob"))
    try:
        with session_scope(bob) as s:
            result = import_csv(ENTITIES["lead"], io.BytesIO(b"last_name,company\nA,Aco\nB,Bco\nC,Cco\nD,Dco\n"),
                                session=s, actor="bob")
    finally:
        bob.dispose()
    assert result.created == 4
    with session_scope(pg) as s:
        owners = sorted(lead.owner_id for lead in s.execute(select(Lead)).scalars())
        told = {n.user_id for n in s.execute(select(Notification)).scalars()}
    west = sorted([users["bob"], users["jessica"], users["mara"]])
    assert sorted(set(owners)) == west and len(owners) == 4
    assert {users["jessica"], users["mara"]} <= told


@needs_postgres
def test_crm_lead_add_as_a_reps_login_says_whom_the_rule_gave_it(pg, monkeypatch):  # noqa: F811
    import json

    from support import CLI

    add_team(pg, logins=True)
    with session_scope(pg) as s:
        add_rule(session=s, actor=resolve_actor(session=s, username="alice"), entity="lead", kind="field",
                 field="state", value="CA", user="jessica")
    monkeypatch.setenv("CRM_USER", "bob")
    cli = CLI(login_url("bob"))
    added = cli("lead", "add", "--first-name", "Ada", "--last-name", "Byron", "--state", "CA", "--format", "json")
    assert added.exit_code == 0, added.stderr
    row = json.loads(added.stdout)
    assert added.stderr.strip() == f"added lead {row['id']}, assigned to jessica by a rule"
    assert (row["name"], row["owner"], row["state"]) == ("Ada Byron", "jessica", "CA")
    assert cli.error(cli("lead", "show", str(row["id"])))  # and then not his to read
    mine = cli("lead", "add", "--last-name", "Lee", "--state", "NY")
    assert mine.exit_code == 0 and mine.stderr.strip() == f"added lead {mine.stdout.strip()}"


@needs_postgres
def test_a_rep_winning_his_deal_as_his_login_tells_his_manager(pg):  # noqa: F811
    from crm_tui.services.sales import pipeline

    users = add_team(pg, logins=True)
    with session_scope(pg) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                     data={"name": "Harbor deal", "owner": "bob"})["id"]
    bob = open_engine(login_url("bob"))
    try:
        with session_scope(bob) as s:
            pipeline.move_opportunity(session=s, opportunity_id=deal, stage="Won",
                                      actor=resolve_actor(session=s, username="bob"))
    finally:
        bob.dispose()
    with session_scope(pg) as s:
        told = [(n.user_id, n.kind) for n in s.execute(select(Notification)).scalars()]
    assert told == [(users["mara"], "deal_won")]


@needs_postgres
def test_a_manager_accepting_a_reps_proposal_as_her_login_tells_him(pg):  # noqa: F811
    from crm_tui.services.quotes import proposals

    users = add_team(pg, logins=True)
    with session_scope(pg) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                     data={"name": "Seats", "owner": "bob"})["id"]
        prop = proposals.new_proposal(session=s, opportunity_id=deal, actor="bob", title="Seats offer")
        proposals.add_line(session=s, proposal_id=prop.id, actor="bob",
                           data={"description": "Seats", "quantity": "2", "unit_price": "10.00"})
        proposals.send_proposal(session=s, proposal_id=prop.id, actor="bob")
    mara = open_engine(login_url("mara"))
    try:
        with session_scope(mara) as s:
            proposals.accept_proposal(session=s, proposal_id=prop.id, actor="mara")
    finally:
        mara.dispose()
    with session_scope(pg) as s:
        told = [(n.user_id, n.kind) for n in s.execute(select(Notification)).scalars()]
    assert told == [(users["bob"], "proposal_accepted")]

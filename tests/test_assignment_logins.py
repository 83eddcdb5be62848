"""Giving records to teammates as one's own PostgreSQL login: the new owner is notified, although the
giver may not read the notification it writes (row security shows a user only their own); a lead an
assignment rule gives a teammate is added."""

from __future__ import annotations

from test_row_security import add_team, login_url, needs_postgres, pg  # noqa: F401  (pg: a fixture)

from crm_tui.services import notifications, records
from crm_tui.services.assignment import assign
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import open_engine, session_scope


@needs_postgres
def test_a_manager_giving_a_deal_to_a_teammate_as_her_login_notifies_the_new_owner(pg):  # noqa: F811
    add_team(pg, logins=True)
    with session_scope(pg) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                     data={"name": "Harbor deal", "owner": "bob"})["id"]
    mara = open_engine(login_url("mara"))
    try:
        with session_scope(mara) as s:
            row = assign(session=s, entity="opportunity", record_id=deal, to_user="jessica",
                         actor=resolve_actor(session=s, username="mara"))
        assert row["owner"] == "jessica"
    finally:
        mara.dispose()
    jessica = open_engine(login_url("jessica"))
    try:
        with session_scope(jessica) as s:
            me = resolve_actor(session=s, username="jessica")
            titles = [n["title"] for n in notifications.list_for(session=s, actor=me, unread=True)]
    finally:
        jessica.dispose()
    assert titles == ["Deal Harbor deal assigned to you by mara"]


@needs_postgres
def test_a_rep_adding_a_lead_a_round_robin_gives_a_teammate_as_his_login(pg):  # noqa: F811
    from crm_tui.services.assignment import add_rule

    add_team(pg, logins=True)
    with session_scope(pg) as s:
        add_rule(session=s, actor=resolve_actor(session=s, username="alice"), entity="lead", kind="round_robin",
                 team="West")
    bob = open_engine(login_url("bob"))
    owners = []
    try:
        for k in range(3):
            with session_scope(bob) as s:
                row = records.create_record(ENTITIES["lead"], session=s, actor="bob",
                                            data={"last_name": f"Quill {k}", "company": "Quill Co"})
                owners.append(row.get("owner"))
    finally:
        bob.dispose()
    assert len(owners) == 3
    assert set(owners) <= {"bob", "jessica", "mara"} and set(owners) - {"bob"}

"""Giving a deal to a teammate as one's own PostgreSQL login: the new owner is notified, although the
giver may not read the notification it writes (row security shows a user only their own)."""

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

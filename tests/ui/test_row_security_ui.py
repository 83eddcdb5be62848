"""The app opened with a rep's own PostgreSQL login shows what the database lets that login read:
row-level security and the app's rule agree (PostgreSQL only; skipped without CRM_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url
from ui_helpers import settle, table_names

from crm_tui.services import records
from crm_tui.services.access import set_rule
from crm_tui.services.registry import ENTITIES
from crm_tui.services.shares import share_account
from crm_tui.services.users import create_user, resolve_actor
from crm_tui.store.db import open_engine, session_scope

URL = os.environ.get("CRM_TEST_POSTGRES_URL")
PASSWORD = "tui-pass"
pytestmark = pytest.mark.skipif(not URL, reason="set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")


def login(user: str) -> str:
    return f"{make_url(URL).database}_{user}"[:63]


async def test_the_app_as_a_reps_login_lists_only_what_she_may_read(request, monkeypatch):
    from support import truncate_postgres

    from crm_tui.app import make_app

    truncate_postgres(URL, request.getfixturevalue("postgres_tables"))
    owner = open_engine(URL)
    with session_scope(owner) as s:
        for name, role in (("boss", "admin"), ("bob", "sales"), ("jessica", "sales")):
            create_user(session=s, data={"username": name, "role": role}, with_login=True, login=login(name),
                        password=PASSWORD)
        boss = resolve_actor(session=s, username="boss")
        set_rule(session=s, actor=boss, role="sales", entity="account", action="read", level="own")
        for name, owner_name in (("Bob Co", "bob"), ("Bob Shared Co", "bob"), ("Jess Co", "jessica")):
            records.create_record(ENTITIES["account"], session=s, actor="boss", data={"name": name,
                                                                                      "owner": owner_name})
    with session_scope(owner) as s:
        shared = records.list_records(ENTITIES["account"], session=s, where="name='Bob Shared Co'")[0]["id"]
        share_account(session=s, actor=resolve_actor(session=s, username="boss"), account_id=shared,
                      username="jessica")
    owner.dispose()
    monkeypatch.delenv("CRM_USER")  # "me" is the login
    engine = open_engine(make_url(URL).set(username=login("jessica"), password=PASSWORD)
                         .render_as_string(hide_password=False))
    try:
        app = make_app(engine=engine, mode="accounts")
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            assert sorted(table_names(app)) == ["Bob Shared Co", "Jess Co"]
            assert app.actor.username == "jessica"
    finally:
        engine.dispose()

"""A new rep opens the app for the first time: it greets her by her crm name, and her scheduled intro
call reads as a call to make, not one made.

On PostgreSQL "me" is the database login: the OS login (what the app knows before the database is
open) may be anyone, e.g. root on a shared box. Here the login's user is stood in for by resolving
the acting user as jessica whatever name the app started with, as the database would.
"""

from __future__ import annotations

import datetime as dt

from textual.widgets import Label
from ui_helpers import settle, wait_until

from crm_tui.services import records
from crm_tui.services import users as users_service
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.widgets.timeline import render_item

SIZE = (160, 48)


async def test_the_app_greets_the_user_the_database_login_names(engine, monkeypatch):
    with session_scope(engine) as s:
        users_service.create_user(session=s, data={"username": "jessica", "name": "Jessica Park",
                                                   "role": "sales", "email": "jessica@example.com"})
    real = users_service.resolve_actor

    def as_her_login(**kw):
        return real(**{**kw, "username": "jessica", "explicit": False})

    monkeypatch.setattr(users_service, "resolve_actor", as_her_login)
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="root")  # the OS login; the database says jessica
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: app.actor.username == "jessica", what="the actor resolved")
        await settle(pilot)
        greeting = str(app.screen.query_one("#dash-title", Label).render())
        assert greeting == "Good day, Jessica" and "root" not in greeting, greeting  # her first name
        assert app.screen.sub_title.startswith("jessica · "), app.screen.sub_title
        await pilot.press("f2")
        await settle(pilot)
        assert "root" not in app.screen.sub_title and "jessica" in app.screen.sub_title
    assert app.ui_state.user == "jessica"  # Mine or Everyone is remembered for her, not for root


def test_a_scheduled_call_shows_when_it_is_due(engine):
    """A follow-up scheduled as a call (f on a lead, type Call) is due later: the timeline says so."""
    from crm_tui.services.engagement import timeline

    due = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=3)
    with session_scope(engine) as s:
        lead = records.create_record(ENTITIES["lead"], session=s, actor="tester",
                                     data={"first_name": "Nora", "last_name": "Quinn", "company": "Quinn Robotics"})
        records.create_record(ENTITIES["activity"], session=s, actor="tester",
                              data={"subject": "Intro call with Nora", "type": "call", "lead": lead["id"],
                                    "due": due.isoformat()})
    with session_scope(engine) as s:
        items = timeline.timeline(session=s, entity="lead", record_id=lead["id"])
    call = next(i for i in items if i.title.startswith("Intro call"))
    text = render_item(call).plain
    assert "due " in text, text


async def test_on_postgresql_the_app_greets_the_login_s_user(request, monkeypatch):
    """The real thing: the app opens the database as her login, started under another OS name."""
    import pytest
    from sqlalchemy.engine import make_url
    from support import POSTGRES_URL, truncate_postgres

    if not POSTGRES_URL:
        pytest.skip("set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")
    from crm_tui.app import make_app
    from crm_tui.settings import Settings
    from crm_tui.store.db import open_engine

    truncate_postgres(POSTGRES_URL, request.getfixturevalue("postgres_tables"))
    login, password = f"{make_url(POSTGRES_URL).database}_walk_jessica"[:63], "walk-pw"
    owner = open_engine(POSTGRES_URL)
    try:
        with session_scope(owner) as s:
            users_service.create_user(session=s, data={"username": "boss", "role": "admin"})
            users_service.create_user(session=s, data={"username": "jessica", "role": "sales"}, with_login=True,
                                      login=login, password=password)
    finally:
        owner.dispose()
    monkeypatch.delenv("CRM_USER", raising=False)
    url = make_url(POSTGRES_URL).set(username=login, password=password).render_as_string(hide_password=False)
    app = make_app(url, user="root", settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.db.ready and app.user == "jessica", timeout=15, what="her login's user")
        await settle(pilot)
        await wait_until(pilot, lambda: "jessica" in str(app.screen.query_one("#dash-title", Label).render()),
                         what="the greeting")
        assert str(app.screen.sub_title).startswith("jessica · ")
    if app.db.ready:
        app.db.wait().dispose()

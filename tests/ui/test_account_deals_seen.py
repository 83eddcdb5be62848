"""An account whose open deals the user may not read says there are none of theirs, not "none yet"
(which would be untrue), without saying whether others have any: as a rep's own PostgreSQL login, where
the database hides the deals, and on SQLite, where the app does."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url
from support import POSTGRES_URL, sqlite_url, truncate_postgres
from ui_helpers import settle

from crm_tui.screens.account_detail import AccountDetailScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.shares import share_account
from crm_tui.services.users import create_user, resolve_actor
from crm_tui.store.db import open_engine, session_scope

PASSWORD = "deals-pass"


def _login(user: str) -> str:
    return f"{make_url(POSTGRES_URL).database}_{user}"[:63]


def _arrange(engine, *, logins: bool) -> dict[str, int]:
    with session_scope(engine) as s:
        for name, role in (("boss", "admin"), ("bob", "sales"), ("jessica", "sales")):
            create_user(session=s, data={"username": name, "role": role}, with_login=logins,
                        login=_login(name) if logins else None, password=PASSWORD if logins else None)
        ids = {}
        for name in ("Bob Co", "Shared Co", "Quiet Co"):
            ids[name] = records.create_record(ENTITIES["account"], session=s, actor="boss",
                                              data={"name": name, "owner": "bob"})["id"]
        for name in ("Bob Co", "Shared Co"):
            records.create_record(ENTITIES["opportunity"], session=s, actor="boss", data={
                "name": f"{name} deal", "account": ids[name], "owner": "bob"})
        share_account(session=s, actor=resolve_actor(session=s, username="boss"), account_id=ids["Shared Co"],
                      username="jessica")
    return ids


async def _opps_title(engine, account_id: int, user: str | None) -> str:
    from crm_tui.app import make_app

    app = make_app(engine=engine, user=user, mode="accounts")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(AccountDetailScreen(account_id))
        await settle(pilot)
        return str(app.screen.query_one("#opps-title").render())


async def test_a_rep_sees_none_of_hers_on_an_account_with_others_deals_on_sqlite(tmp_path):
    engine = open_engine(sqlite_url(tmp_path / "crm.db"))
    try:
        ids = _arrange(engine, logins=False)
        assert "none of yours" in await _opps_title(engine, ids["Bob Co"], "jessica")
        assert "none of yours" in await _opps_title(engine, ids["Quiet Co"], "jessica")  # nothing told apart
        shared = await _opps_title(engine, ids["Shared Co"], "jessica")  # shared with her: she reads them all
        assert "(1)" in shared and "none" not in shared
        assert "none yet" in await _opps_title(engine, ids["Quiet Co"], "boss")
        assert "(1)" in await _opps_title(engine, ids["Bob Co"], "bob")
    finally:
        engine.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")
async def test_a_rep_sees_none_of_hers_as_her_own_login(request, monkeypatch):
    truncate_postgres(POSTGRES_URL, request.getfixturevalue("postgres_tables"))
    owner = open_engine(POSTGRES_URL)
    ids = _arrange(owner, logins=True)
    owner.dispose()
    monkeypatch.delenv("CRM_USER", raising=False)  # "me" is the login
    engine = open_engine(make_url(POSTGRES_URL).set(username=_login("jessica"), password=PASSWORD)
                         .render_as_string(hide_password=False))
    try:
        assert "none of yours" in await _opps_title(engine, ids["Bob Co"], None)
        assert "(1)" in await _opps_title(engine, ids["Shared Co"], None)
    finally:
        engine.dispose()

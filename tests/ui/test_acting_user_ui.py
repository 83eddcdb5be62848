"""The app resolves the acting user once per start; every area reads records as that user."""

from __future__ import annotations

from ui_helpers import settle

from crm_tui.actor import Actor
from crm_tui.services import records
from crm_tui.services import users as users_service
from crm_tui.services.registry import ENTITIES
from crm_tui.store import scope
from crm_tui.store.db import session_scope

SIZE = (160, 48)


async def test_the_app_resolves_the_actor_once_and_every_area_reads_as_it(engine, monkeypatch):
    with session_scope(engine) as s:
        users_service.create_user(session=s, data={"username": "tester", "role": "manager"})
        records.create_record(ENTITIES["opportunity"], session=s, actor="tester",
                              data={"name": "Rocket skates", "amount": "100"})
    resolved = []
    real = users_service.resolve_actor

    def counting(**kw):
        resolved.append(kw["username"])
        return real(**kw)

    monkeypatch.setattr(users_service, "resolve_actor", counting)
    seen: set = set()

    def recording(stmt, *, entity, table, actor):
        seen.add((entity, actor))
        return stmt

    from crm_tui.app import make_app

    with scope.restricting(recording):
        app = make_app(engine=engine, user="tester")  # opens on the dashboard
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for key in ("f2", "f3", "f4", "f5", "f7", "f8"):  # accounts, leads, pipeline, contacts, proposals, forecast
                await pilot.press(key)
                await settle(pilot)
            actor = app.actor
    assert resolved == ["tester"]
    assert actor.username == "tester" and actor.role == "manager" and actor.user_id is not None
    assert {a for _entity, a in seen} == {actor}, seen
    assert {"opportunity", "account", "lead", "contact", "proposal"} <= {e for e, _a in seen}


async def test_an_app_user_not_in_the_users_table_still_opens(engine):
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="newcomer")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert app.actor == Actor.unknown("newcomer")
        assert app.screen.query("DataTable")  # the accounts list is up, empty, no error

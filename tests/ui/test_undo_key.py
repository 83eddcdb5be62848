"""ctrl+z undoes the last write of this app session (a Kanban move, a bulk tag, an edit, a stage change)
through the same batch undo as `crm undo`, with a toast saying what was undone; refused in one line
when a record was changed since by someone else."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from textual.widgets import Input
from ui_helpers import make, settle, wait_until

from crm_tui.app import CRMApp
from crm_tui.screens.account_form import AccountFormScreen
from crm_tui.screens.bulk_actions import PromptScreen
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.services import records
from crm_tui.services.sales import pipeline
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.store.db import session_scope
from crm_tui.store.models import Account, Opportunity, Stage
from crm_tui.widgets.kanban import KanbanCard, KanbanColumn

SIZE = (160, 48)


@pytest.fixture
def deals(engine) -> dict[str, int]:
    today = dt.date.today()
    ids = {}
    with session_scope(engine) as s:
        for i, (name, stage) in enumerate([("Acme – Platform", "Qualified"), ("Beta", "Lead")]):
            ids[name] = records.create_record(OPP, session=s, actor="tester", data={
                "name": name, "stage": stage, "amount": "1000",
                "expected_close": (today + dt.timedelta(days=i + 1)).isoformat()})["id"]
    return ids


def stage_of(engine, oid: int) -> str:
    with session_scope(engine) as s:
        return s.get(Stage, s.get(Opportunity, oid).stage_id).name


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_ctrl_z_is_an_app_wide_key():
    assert [b for b in CRMApp.BINDINGS if b.key == "ctrl+z"][0].action == "undo"
    from test_reserved_keys import reserved_keys

    assert "ctrl+z" in reserved_keys()  # no screen may bind it for itself


async def test_nothing_to_undo_says_so(engine, deals):
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert "Nothing to undo in this session." in toasts(app)


async def test_ctrl_z_undoes_a_kanban_move(engine, deals):
    acme = deals["Acme – Platform"]
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, KanbanCard)
        app.screen.query_one(f"#card-{acme}").focus()
        await pilot.press("shift+right")
        await settle(pilot)
        assert stage_of(engine, acme) == "Proposal"
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: stage_of(engine, acme) == "Qualified", what="the move undone")
        await settle(pilot)
        assert "Undid: moved Acme – Platform to Proposal" in toasts(app)
        qualified = next(c for c in app.screen.query(KanbanColumn) if c.summary.name == "Qualified")
        assert acme in [c.card.id for c in qualified.cards]  # the board shows it back
        assert isinstance(app.focused, KanbanCard)  # the board keeps the keys, not the filter box
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert toasts(app)[-1] == "Nothing to undo in this session."


async def test_ctrl_z_undoes_the_last_write_first(engine, deals):
    acme = deals["Acme – Platform"]
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one(f"#card-{acme}").focus()
        await pilot.press("shift+right")
        await settle(pilot)
        app.screen.query_one(f"#card-{acme}").focus()
        await pilot.press("shift+right")
        await settle(pilot)
        assert stage_of(engine, acme) == "Negotiation"
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: stage_of(engine, acme) == "Proposal", what="the second move undone")
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: stage_of(engine, acme) == "Qualified", what="the first move undone")


async def test_ctrl_z_undoes_a_bulk_tag(engine, seeded):
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.table
        table.focus()
        await pilot.press("asterisk")
        await wait_until(pilot, lambda: len(table.selected_keys) == 3, what="all marked")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the tag prompt")
        await pilot.press(*"q1_priority", "enter")
        await settle(pilot)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM taggings")).scalar() == 3
        await pilot.press("ctrl+z")
        await settle(pilot)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM taggings")).scalar() == 0
        assert "Undid: 3 accounts tagged “q1_priority”" in toasts(app)


async def test_ctrl_z_undoes_an_edit(engine, seeded):
    acme = seeded["Acme Corporation"]
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AccountFormScreen(acme))
        await settle(pilot)
        app.screen.query_one("#input-name", Input).value = "Acme Holdings"
        app.screen.query_one("#input-city", Input).value = "Oakland"
        await pilot.press("ctrl+s")
        await settle(pilot)
        with session_scope(engine) as s:
            assert (s.get(Account, acme).name, s.get(Account, acme).city) == ("Acme Holdings", "Oakland")
        await pilot.press("ctrl+z")
        await settle(pilot)
        with session_scope(engine) as s:
            assert (s.get(Account, acme).name, s.get(Account, acme).city) == ("Acme Corporation", "San Francisco")
        assert "Undid: edited account Acme Holdings" in toasts(app)
        assert f"#{acme}" not in toasts(app)  # the record by its name, never its id


async def test_ctrl_z_undoes_a_stage_change_on_the_detail(engine, deals):
    acme = deals["Acme – Platform"]
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(acme))
        await settle(pilot)
        app.screen.query_one("#field-stage").value = "Negotiation"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert stage_of(engine, acme) == "Negotiation"
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert stage_of(engine, acme) == "Qualified"
        assert "Undid: moved Acme – Platform to Negotiation" in toasts(app)


async def test_a_record_changed_since_by_someone_else_is_not_undone(engine, deals):
    acme = deals["Acme – Platform"]
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one(f"#card-{acme}").focus()
        await pilot.press("shift+right")
        await settle(pilot)
        assert stage_of(engine, acme) == "Proposal"
        with session_scope(engine) as s:  # another user moves it on meanwhile
            pipeline.move_opportunity(session=s, opportunity_id=acme, stage="Negotiation", actor="bob")
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert stage_of(engine, acme) == "Negotiation"  # theirs stays
        refused = [t for t in toasts(app) if t.startswith("Not undone")]
        assert len(refused) == 1 and "\n" not in refused[0]
        assert refused[0].startswith("Not undone (moved Acme – Platform to Proposal): cannot undo batch")
        assert "changed since" in refused[0]


async def test_ctrl_z_does_nothing_while_a_form_is_open(engine, seeded):
    acme = seeded["Acme Corporation"]
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AccountFormScreen(acme))
        await settle(pilot)
        app.screen.query_one("#input-city", Input).value = "Oakland"
        await pilot.press("ctrl+s")
        await settle(pilot)
        app.push_screen(AccountFormScreen(acme))
        await settle(pilot)
        app.screen.query_one("#input-name", Input).value = "Typing…"
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert isinstance(app.screen, AccountFormScreen)
        assert app.screen.query_one("#input-name", Input).value == "Typing…"  # the edits stay
        with session_scope(engine) as s:
            assert s.get(Account, acme).city == "Oakland"  # and the saved edit too
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+z")  # back on the list: it undoes
        await settle(pilot)
        with session_scope(engine) as s:
            assert s.get(Account, acme).city == "San Francisco"

"""The pipeline screen driven with Pilot: moves by key and by mouse, asserted on the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.screens.pipeline import LostReasonScreen, PipelineScreen
from crm_tui.services import records
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Opportunity, Stage
from crm_tui.widgets.kanban import KanbanCard, KanbanColumn


def PipeApp(engine):
    """The app the user gets; ``settle`` opens the pipeline (F4) first."""
    from crm_tui.app import make_app

    return make_app(engine=engine, user="alice")


@pytest.fixture
def deals(engine):
    today = dt.date.today()
    ids = {}
    with session_scope(engine) as s:
        for i, (name, stage) in enumerate([("Alpha", "Lead"), ("Beta", "Lead"), ("Gamma", "Qualified"),
                                           ("Delta", "Proposal")]):
            ids[name] = records.create_record(OPP, session=s, actor="alice", data={
                "name": name, "stage": stage, "amount": f"{(i + 1) * 1000}",
                "expected_close": (today + dt.timedelta(days=i + 1)).isoformat()})["id"]
    return ids


def stage_of(engine, oid):
    with session_scope(engine) as s:
        o = s.get(Opportunity, oid)
        return s.get(Stage, o.stage_id).name, o


async def settle(pilot):
    if not any(isinstance(s, PipelineScreen) for s in pilot.app.screen_stack):
        await pilot.press("f4")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def column(app, name) -> KanbanColumn:
    return next(c for c in app.screen.query(KanbanColumn) if c.summary.name == name)


async def test_board_shows_columns_with_counts_and_focuses_a_card(engine, deals):
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        names = [c.summary.name for c in app.screen.query(KanbanColumn)]
        assert names == ["Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
        lead = column(app, "Lead")
        assert lead.summary.count == 2
        assert "Lead  2" in str(lead.header_text())
        assert "3,000 USD" in str(lead.header_text())  # 1,000 + 2,000
        assert "300 USD" in str(lead.header_text())  # weighted at 10%
        assert isinstance(app.focused, KanbanCard) and app.focused.card.name == "Alpha"


async def test_move_with_keys_across_three_stages_updates_db_and_columns(engine, deals):
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.focused.card.name == "Alpha"
        for expected in ("Qualified", "Proposal", "Negotiation"):
            await pilot.press("shift+right")
            await settle(pilot)
            assert stage_of(engine, deals["Alpha"])[0] == expected
            assert isinstance(app.focused, KanbanCard) and app.focused.card.name == "Alpha"
            assert app.focused.column.summary.name == expected
        assert column(app, "Lead").summary.count == 1
        assert column(app, "Negotiation").summary.count == 1
        assert "750 USD" in str(column(app, "Negotiation").header_text())  # 1,000 at 75%
        await pilot.press("shift+left")
        await settle(pilot)
        assert stage_of(engine, deals["Alpha"])[0] == "Proposal"
        with session_scope(engine) as s:
            acts = s.exec(select(Activity).where(Activity.opportunity_id == deals["Alpha"])).all()
        assert [a.subject for a in acts] == ["Stage: Lead → Qualified", "Stage: Qualified → Proposal",
                                             "Stage: Proposal → Negotiation", "Stage: Negotiation → Proposal"]


async def test_move_by_mouse_drag(engine, deals):
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        card = app.screen.query_one(f"#card-{deals['Gamma']}", KanbanCard)
        target = column(app, "Negotiation")
        await pilot.mouse_down(card, offset=(3, 2))
        await pilot.hover(target, offset=(5, 10))
        await pilot.mouse_up(target, offset=(5, 10))
        await settle(pilot)
        name, o = stage_of(engine, deals["Gamma"])
        assert name == "Negotiation" and o.probability == 75
        assert column(app, "Qualified").summary.count == 0
        assert [c.card.name for c in column(app, "Negotiation").cards] == ["Gamma"]


async def test_lost_asks_for_a_reason_and_escape_cancels(engine, deals):
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        card = app.screen.query_one(f"#card-{deals['Delta']}", KanbanCard)
        await pilot.mouse_down(card, offset=(3, 2))
        await pilot.mouse_up(column(app, "Lost"), offset=(5, 10))
        await settle(pilot)
        assert isinstance(app.screen, LostReasonScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert stage_of(engine, deals["Delta"])[0] == "Proposal"
        card = app.screen.query_one(f"#card-{deals['Delta']}", KanbanCard)
        await pilot.mouse_down(card, offset=(3, 2))
        await pilot.mouse_up(column(app, "Lost"), offset=(5, 10))
        await settle(pilot)
        assert isinstance(app.screen, LostReasonScreen)
        await pilot.press("down", "enter")  # the second reason: competition
        await settle(pilot)
        name, o = stage_of(engine, deals["Delta"])
        assert name == "Lost" and o.lost_reason == "competition" and o.actual_close == dt.date.today()


async def test_won_sets_actual_close(engine, deals):
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        card = app.screen.query_one(f"#card-{deals['Beta']}", KanbanCard)
        await pilot.mouse_down(card, offset=(3, 2))
        await pilot.mouse_up(column(app, "Won"), offset=(5, 10))
        await settle(pilot)
        await pilot.press("y")  # winning asks first
        await settle(pilot)
        name, o = stage_of(engine, deals["Beta"])
        assert name == "Won" and o.actual_close == dt.date.today() and o.probability == 100


async def test_stale_card_is_refused_with_a_message_and_reloaded(engine, deals):
    from crm_tui.services.sales import pipeline

    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.focused.card.name == "Alpha"
        with session_scope(engine) as s:  # a CLI job moves it behind the board's back
            pipeline.move_opportunity(session=s, opportunity_id=deals["Alpha"], stage="Won", actor="cli")
        await pilot.press("shift+right")
        await settle(pilot)
        assert stage_of(engine, deals["Alpha"])[0] == "Won"  # the CLI's move is not overwritten
        assert any("changed since" in n.message for n in app._notifications)
        assert [c.card.name for c in column(app, "Won").cards] == ["Alpha"]  # board reloaded


async def test_filter_is_applied_and_kept(engine, deals):
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"amount:2000..3000")
        await pilot.press("enter")
        await settle(pilot)
        assert column(app, "Lead").summary.count == 1
        assert [c.card.name for c in column(app, "Lead").cards] == ["Beta"]
        assert column(app, "Qualified").summary.count == 1
        assert column(app, "Proposal").summary.count == 0
        await pilot.press("f2")  # to accounts and back
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, PipelineScreen)
        await pilot.press("f4")
        await settle(pilot)
        assert [c.card.name for c in column(app, "Lead").cards] == ["Beta"]
        assert app.screen.query_one("#pipeline-filter").value == "amount:2000..3000"


async def test_bad_filter_is_refused_with_a_message(engine, deals):
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"close:someday", "enter")
        await settle(pilot)
        assert any("close_from: 'someday' is not a date" in n.message for n in app._notifications)
        assert column(app, "Lead").summary.count == 2


async def test_list_view_sorts_by_amount(engine, deals):
    from textual.widgets import DataTable

    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        table = app.screen.query_one("#pipeline-list", DataTable)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["Alpha", "Beta", "Gamma", "Delta"]
        await pilot.press("s")  # close date, latest first
        await settle(pilot)
        await pilot.press("s")  # amount, largest first
        await settle(pilot)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["Delta", "Gamma", "Beta", "Alpha"]


async def test_detail_edit_and_history(engine, deals):
    from textual.widgets import DataTable, Input

    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("shift+right")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityDetailScreen)
        amount = app.screen.query_one("#field-amount", Input)
        amount.value = "1500"
        close = app.screen.query_one("#field-expected_close", Input)
        close.value = "2030-01-31"
        await pilot.press("ctrl+s")
        await settle(pilot)
        _, o = stage_of(engine, deals["Alpha"])
        assert o.amount_minor == 150_000 and o.expected_close == dt.date(2030, 1, 31)
        hist = app.screen.query_one("#opp-history", DataTable)
        changes = [str(hist.get_row_at(i)[2]) for i in range(hist.row_count)]
        assert "Stage moved from Lead to Qualified" in changes
        assert "Amount changed from 1,000 USD to 1,500 USD" in changes
        assert any(c.startswith("Expected close changed from ") and c.endswith(" to 31 Jan 2030") for c in changes)
        close.value = "someday"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("expected_close: 'someday' is not a date" in n.message for n in app._notifications)
        assert stage_of(engine, deals["Alpha"])[1].expected_close == dt.date(2030, 1, 31)


async def test_columns_fetch_more_on_scroll_and_a_moved_card_stays_visible(engine):
    from crm_tui.screens import pipeline as screen_module

    today = dt.date.today()
    with session_scope(engine) as s:
        for i in range(screen_module.FIRST_PAGE + 10):
            records.create_record(OPP, session=s, actor="alice", data={
                "name": f"Won {i:02d}", "stage": "Won", "amount": "100",
                "expected_close": (today - dt.timedelta(days=100 - i)).isoformat()})
        late = records.create_record(OPP, session=s, actor="alice", data={
            "name": "Late closer", "stage": "Negotiation", "amount": "100",
            "expected_close": (today + dt.timedelta(days=300)).isoformat()})["id"]
    app = PipeApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        won = column(app, "Won")
        n = screen_module.FIRST_PAGE + 10
        assert len(won.cards) == screen_module.FIRST_PAGE and won.summary.count == n
        card = app.screen.query_one(f"#card-{late}", KanbanCard)
        card.focus()
        await pilot.press("shift+right")
        await settle(pilot)
        await pilot.press("y")  # winning asks first
        await settle(pilot)
        assert stage_of(engine, late)[0] == "Won"
        assert isinstance(app.focused, KanbanCard) and app.focused.card.id == late  # shown, though it sorts last
        won.body.scroll_end(animate=False)
        await settle(pilot)
        await settle(pilot)
        names = [c.card.name for c in won.cards]
        assert len(names) == n + 1 and len(set(names)) == n + 1  # every card once, none skipped
        assert won.summary.count == n + 1

"""What a rep meets walking a day through the Pipeline: the list says how it is sorted in words, its flags
column is not cut on a wide terminal, and after an opportunity opened from the board changed something, the
board keeps a focused card (enter opens again, shift+→ moves what is on screen)."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import DataTable, Static

from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.screens.pipeline import PipelineScreen
from crm_tui.services import records
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope
from crm_tui.widgets.kanban import KanbanCard


@pytest.fixture
def late_deals(engine):
    """Alice's deals, all past their close date and untouched for months: OVERDUE and STALLED."""
    today = dt.date.today()
    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice", "role": "sales"})
    ids = []
    with session_scope(engine) as s:
        for i in range(3):
            ids.append(records.create_record(OPP, session=s, actor="alice", data={
                "name": f"Keystone deal {i}", "stage": "Lead", "amount": f"{(i + 1) * 1000}", "owner": "alice",
                "expected_close": (today - dt.timedelta(days=i + 3)).isoformat()})["id"])
    return ids


async def settle(pilot):
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_pipeline(pilot):
    await pilot.press("f4")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PipelineScreen)


async def test_list_says_its_sort_in_words(engine, late_deals):
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_pipeline(pilot)
        await pilot.press("v")
        await settle(pilot)
        status = str(app.screen.query_one("#pipeline-status", Static).render())
        assert "sorted by close date" in status, status
        assert "expected_close" not in status
        await pilot.press("s")
        await settle(pilot)
        status = str(app.screen.query_one("#pipeline-status", Static).render())
        assert "sorted by close date ↓" in status, status
        await pilot.press("s")
        await settle(pilot)
        status = str(app.screen.query_one("#pipeline-status", Static).render())
        assert "sorted by amount ↓" in status, status


async def test_wide_list_shows_the_flags_whole(engine, late_deals, monkeypatch):
    from crm_tui.app import make_app
    from crm_tui.services.sales import pipeline

    monkeypatch.setattr(pipeline, "stalled_days", lambda settings: 0)
    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_pipeline(pilot)
        await pilot.press("v")
        await settle(pilot)
        table = app.screen.query_one("#pipeline-list", DataTable)
        assert table.row_count == 3
        # every column fits in the table's width: nothing is pushed off the right edge
        used = sum(c.get_render_width(table) for c in table.columns.values()) + table._row_label_column_width
        assert used <= table.scrollable_content_region.width, (used, table.size)


async def test_board_keeps_a_focused_card_after_a_change_in_the_detail(engine, late_deals):
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_pipeline(pilot)
        assert isinstance(app.focused, KanbanCard)
        opened = app.focused.card.id
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityDetailScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press("tab", *"Discovery call", "enter")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityDetailScreen), app.screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen)
        assert isinstance(app.focused, KanbanCard), f"focus on {app.focused!r}"
        assert app.focused.card.id == opened
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityDetailScreen)

"""Keys never act on a board the user cannot see: in the Pipeline's list view the focus stays on
the list (after a filter, after a dialog), and the board's keys (shift+←/→ moves) are disabled."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import DataTable

from crm_tui.screens.pipeline import PipelineScreen
from crm_tui.services import records
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity, Stage
from crm_tui.widgets.kanban import KanbanBoard, KanbanCard


@pytest.fixture
def deals(engine):
    today = dt.date.today()
    ids = {}
    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice", "role": "sales"})
    with session_scope(engine) as s:
        for i, (name, stage) in enumerate([("Alpha", "Lead"), ("Beta", "Lead"), ("Gamma", "Qualified")]):
            ids[name] = records.create_record(OPP, session=s, actor="alice", data={
                "name": name, "stage": stage, "amount": f"{(i + 1) * 1000}", "owner": "alice",
                "expected_close": (today + dt.timedelta(days=i + 1)).isoformat()})["id"]
    return ids


def stages(engine, ids) -> dict[str, str]:
    with session_scope(engine) as s:
        return {name: s.get(Stage, s.get(Opportunity, oid).stage_id).name for name, oid in ids.items()}


async def settle(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def list_table(app) -> DataTable:
    return app.screen.query_one("#pipeline-list", DataTable)


async def open_list(pilot):
    await pilot.press("f4")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PipelineScreen)
    await pilot.press("v")
    await settle(pilot)
    assert pilot.app.focused is list_table(pilot.app)


def assert_nothing_on_the_hidden_board(app):
    assert not isinstance(app.focused, KanbanCard), f"focus on a hidden card: {app.focused!r}"
    assert app.focused is list_table(app)
    footer_keys = {b.binding.key for b in app.screen.active_bindings.values()}
    assert "shift+right" not in footer_keys and "shift+left" not in footer_keys


async def test_after_a_filter_in_the_list_the_keys_act_on_the_list(engine, deals):
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_list(pilot)
        before = stages(engine, deals)
        await pilot.press("slash", *"me", "enter")
        await settle(pilot)
        assert_nothing_on_the_hidden_board(app)
        table = list_table(app)
        assert table.row_count == 3
        screen = app.screen
        # the board's totals may land after the list (two workers): the status line stays the list's
        screen.post_message(PipelineScreen.TotalsLoaded(screen.columns, screen.filter_text, screen._moves_done))
        await settle(pilot)
        status = str(screen.query_one("#pipeline-status").render())
        assert status.startswith("List: 3 of 3 deals") and "shift+" not in status  # not the board's line
        await pilot.press("down")
        assert table.cursor_row == 1
        await pilot.press("shift+right", "shift+left", "shift+right")
        await settle(pilot)
        assert stages(engine, deals) == before


async def test_after_the_tag_dialog_the_keys_act_on_the_list(engine, deals):
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_list(pilot)
        before = stages(engine, deals)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"hot", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen)
        assert_nothing_on_the_hidden_board(app)
        await pilot.press("shift+right")
        await settle(pilot)
        assert stages(engine, deals) == before


async def test_the_board_refuses_moves_while_hidden(engine, deals):
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        board = app.screen.query_one(KanbanBoard)
        assert board.check_action("move_card", (1,)) is True
        card = app.focused
        assert isinstance(card, KanbanCard)
        await pilot.press("v")
        await settle(pilot)
        assert board.check_action("move_card", (1,)) is False
        card.focus()  # even with the focus forced back onto a hidden card
        await pilot.pause()
        await pilot.press("shift+right")
        await settle(pilot)
        assert stages(engine, deals) == {"Alpha": "Lead", "Beta": "Lead", "Gamma": "Qualified"}

"""Kanban cards as a rep reads them: the deal's own name, then the account, amount, close date and flags;
the focused card always whole on screen (keys, moves and mouse drags), at 80×24 and 160×48."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_tui import formatting
from crm_tui.screens.pipeline import PipelineScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.widgets.kanban import CARD_HEIGHT, KanbanBoard, KanbanCard, KanbanColumn


def make(engine):
    from crm_tui.app import make_app

    return make_app(engine=engine, user="alice")


@pytest.fixture
def board(engine):
    """Twelve Lead deals of "Keystone Robotics" (named "Keystone Robotics – Deal N"), one late."""
    today = dt.date.today()
    with session_scope(engine) as s:
        acct = records.create_record(ENTITIES["account"], session=s, actor="alice",
                                     data={"name": "Keystone Robotics"})["id"]
        for i in range(12):
            records.create_record(ENTITIES["opportunity"], session=s, actor="alice", data={
                "name": f"Keystone Robotics – Deal {i:02d}", "account": acct, "stage": "Lead",
                "amount": f"{(i + 1) * 10000}",
                "expected_close": (today + dt.timedelta(days=i - 1)).isoformat()})
    return acct


async def settle(pilot):
    if not isinstance(pilot.app.screen, PipelineScreen):
        await pilot.press("f4")
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def column(app, name) -> KanbanColumn:
    return next(c for c in app.screen.query(KanbanColumn) if c.summary.name == name)


def assert_whole(app) -> None:
    """Every column stops on a card's edge, and the focused card is whole inside its column and the board."""
    for col in app.screen.query(KanbanColumn):
        assert col.body.scroll_y % CARD_HEIGHT == 0, (col.summary.name, col.body.scroll_y)
    card = app.focused
    assert isinstance(card, KanbanCard)
    body = card.column.body.content_region
    board = app.screen.query_one(KanbanBoard).content_region
    r = card.region
    assert r.height == CARD_HEIGHT
    assert body.y <= r.y and r.bottom <= body.bottom, (r, body)
    assert board.x <= r.x and r.right <= board.right, (r, board)


def test_own_name_drops_a_repeated_account_prefix():
    assert formatting.deal_name("Keystone Robotics – Data platform", "Keystone Robotics") == "Data platform"
    assert formatting.deal_name("keystone robotics - Data platform", "Keystone Robotics") == "Data platform"
    assert formatting.deal_name("Acme: Renewal", "Acme") == "Renewal"
    assert formatting.deal_name("Acme Corporation rollout", "Acme") == "Acme Corporation rollout"  # no separator
    assert formatting.deal_name("Acme", "Acme") == "Acme"
    assert formatting.deal_name("Acme – ", "Acme") == "Acme – "  # nothing after the separator: keep the name
    assert formatting.deal_name("Data platform", None) == "Data platform"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_a_card_reads_name_account_amount_close_and_flags(engine, board, size):
    app = make(engine)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        first = app.focused
        assert isinstance(first, KanbanCard)
        lines = [line.rstrip() for line in first.render_card().plain.splitlines()]
        yesterday = dt.date.today() - dt.timedelta(days=1)
        assert lines[0] == "Deal 00"
        assert lines[1] == "Keystone Robotics"
        assert lines[2] == "10,000 USD  alice"
        assert lines[3].startswith(f"{formatting.day(yesterday)} LATE")
        # What is drawn: the card is wide enough for every line, even a close date in another year.
        drawn = [first.render_line(y).text for y in range(4)]
        assert "Deal 00" in drawn[0] and "Keystone Robotics" in drawn[1]
        assert "10,000 USD  alice" in drawn[2]
        assert f"{formatting.day(yesterday)} LATE" in drawn[3]
        assert first.content_region.width >= len("31 Dec 2025 LATE STALE")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_focused_card_stays_whole_through_keys_and_moves(engine, board, size):
    app = make(engine)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for _ in range(7):
            await pilot.press("down")
            await pilot.pause()
            assert_whole(app)
        moved = app.focused.card.id
        for _ in range(3):  # to Negotiation: the board scrolls sideways at 80 columns
            await pilot.press("shift+right")
            await settle(pilot)
            assert app.focused.card.id == moved
            assert_whole(app)
        assert app.focused.column.summary.name == "Negotiation"
        await pilot.press("left", "left", "left")
        await pilot.pause()
        assert app.focused.column.summary.name == "Lead"
        for _ in range(8):
            await pilot.press("down")
        await pilot.pause()
        assert_whole(app)


async def test_after_a_mouse_drag_the_moved_card_is_whole_and_columns_stop_on_card_edges(engine, board):
    app = make(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(5):
            await pilot.press("down")
        await pilot.pause()
        card = app.focused
        target = column(app, "Qualified")
        await pilot.mouse_down(card, offset=(3, 2))
        await pilot.hover(target, offset=(5, 10))
        await pilot.mouse_up(target, offset=(5, 10))
        await settle(pilot)
        assert app.focused.card.id == card.card.id and app.focused.column is target
        assert_whole(app)
        # A scroll asked to stop inside a card stops on that card's top edge.
        lead = column(app, "Lead")
        lead.body.scroll_to(y=CARD_HEIGHT + 3, animate=False)
        await pilot.pause()
        assert lead.body.scroll_y == CARD_HEIGHT

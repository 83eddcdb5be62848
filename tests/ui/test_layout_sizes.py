"""Every screen at 80×24 and 160×48: the Dashboard lists show rows, lists keep name, amount and close date
in view, the name column takes the free width on a wide terminal, and the footer never overflows."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import OptionList
from ui_helpers import make, settle

from crm_tui import formatting
from crm_tui.services import records
from crm_tui.services.quotes import proposals as P
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.widgets.footer import FitFooter

USER = "tester"
LONG = "Keystone Robotics International – Data platform"  # 47 characters: cut at 38 before


@pytest.fixture
def day(engine):
    """A rep's day: deals closing this week and stalled, a task due, a lead to follow up, a proposal."""
    today = dt.date.today()
    now = dt.datetime.now(dt.timezone.utc)
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor=USER,
                                    data={"name": "Keystone Robotics International"})["id"]
        deals = []
        for i in range(4):
            deals.append(records.create_record(ENTITIES["opportunity"], session=s, actor=USER, data={
                "name": LONG if i == 0 else f"Keystone deal {i}", "account": acc, "stage": "Proposal",
                "amount": f"{(i + 1) * 12500}", "expected_close": (today + dt.timedelta(days=i % 3)).isoformat()}))
        for i in range(3):
            records.create_record(ENTITIES["activity"], session=s, actor=USER, data={
                "subject": f"Call about budget {i}", "type": "task", "opp": deals[i]["id"],
                "due": (now - dt.timedelta(hours=i + 1)).astimezone().strftime("%Y-%m-%d %H:%M")})
            records.create_record(ENTITIES["lead"], session=s, actor=USER, data={
                "first_name": "Maria", "last_name": f"Thomas {i}", "company": "Nimbus Foods",
                "next_follow_up": (now - dt.timedelta(hours=2)).isoformat()})
        view = P.new_proposal(session=s, opportunity_id=deals[0]["id"], actor=USER)
        P.save_proposal(session=s, proposal_id=view.id, actor=USER, expected_version=view.version,
                        lines=[{"description": "Licence", "quantity": "1", "unit_price": "40000"}])
    return deals


def footer_fits(app) -> None:
    footer = app.screen.query_one(FitFooter)
    assert footer.virtual_size.width <= app.size.width, (footer.virtual_size, app.size)
    actions = [k.action for k in footer.query("FooterKey")]
    assert "toggle_keys" in actions  # F1 (every key) always shows


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_dashboard_lists_show_rows(engine, day, size):
    app = make(engine, mode=None)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await settle(pilot)
        shown = {}
        for key in ("closing", "tasks", "followups"):
            ol = app.screen.query_one(f"#dash-{key}", OptionList)
            assert ol.option_count >= 1, key
            region = ol.content_region
            assert region.height >= 1 and region.bottom <= size[1] - 1, (key, region)  # above the footer
            shown[key] = " ".join(ol.render_line(y).text.strip() for y in range(min(3, region.height)))
        assert "Keystone" in shown["closing"] and "12,500 USD" in shown["closing"]
        assert "Call about budget" in shown["tasks"]
        assert "Maria Thomas" in shown["followups"]
        assert app.screen.query_one("#dash-month-brief" if size[1] < 34 else "#dash-month").region.height > 0
        footer_fits(app)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_pipeline_list_keeps_name_amount_and_close_in_view(engine, day, size):
    app = make(engine, mode="pipeline")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer_fits(app)
        await pilot.press("v")
        await settle(pilot)
        table = app.screen.query_one("#pipeline-list")
        assert table.row_count == 4
        header = table.render_line(0).text
        assert "Name" in header and "Amount" in header and "Close" in header
        row = next(table.render_line(y).text for y in range(1, 5) if "Keystone deal 1" in table.render_line(y).text)
        assert "25,000 USD" in row
        assert formatting.day(dt.date.today() + dt.timedelta(days=1)) in row
        if size[0] >= 160:
            assert table.columns["name"].width > 38
            long = next(table.render_line(y).text for y in range(1, 5) if "Data platform" in table.render_line(y).text)
            # the deal's own name (formatting.deal_name) and its account beside it, never cut on a wide terminal
            assert "Keystone Robotics International" in long and LONG not in long
        footer_fits(app)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_proposals_list_keeps_number_title_total_and_validity_in_view(engine, day, size):
    app = make(engine, mode="proposals")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#proposals-table")
        header = table.render_line(0).text
        for label in ("Number", "Title", "Total", "Valid until"):
            assert label in header, (label, header)
        assert "40,000.00 USD" in table.render_line(1).text
        if size[0] >= 160:
            assert table.columns["title"].width >= 40  # the free width, not the 24 it starts with
            assert "Keystone Robotics International – Data" in table.render_line(1).text
        footer_fits(app)


@pytest.mark.parametrize("key", ["f2", "f3", "f5", "f6", "f8", "f12"])
async def test_every_area_footer_fits_80_columns(engine, day, key):
    app = make(engine, mode=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        footer_fits(app)

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


def rendered(app, selector: str) -> str:
    from rich.console import Console

    widget = app.screen.query_one(selector)
    console = Console(width=150, record=True)
    console.print(widget.render() if not hasattr(widget, "content") else widget.content)
    return console.export_text()


@pytest.fixture
def people(engine):
    """An account with a manager and her report, and an open lead."""
    from crm_tui.services.registry import ENTITIES

    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice", "role": "sales"})
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor="alice",
                                    data={"name": "Keystone Robotics", "owner": "alice"})["id"]
        boss = records.create_record(ENTITIES["contact"], session=s, actor="alice", data={
            "first_name": "Maria", "last_name": "Thomas", "account": acc, "title": "CFO", "owner": "alice"})["id"]
        report = records.create_record(ENTITIES["contact"], session=s, actor="alice", data={
            "first_name": "Kim", "last_name": "Lee", "account": acc, "reports_to": boss, "owner": "alice"})["id"]
        lead = records.create_record(ENTITIES["lead"], session=s, actor="alice", data={
            "first_name": "Zoë", "last_name": "García", "company": "Cobalt Logistics", "owner": "alice"})["id"]
    return {"account": acc, "boss": boss, "report": report, "lead": lead}


async def test_contact_detail_shows_names_not_ids(engine, people):
    from crm_tui.app import make_app
    from crm_tui.screens.contact_detail import ContactDetailScreen

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(ContactDetailScreen(people["report"]))
        await settle(pilot)
        heading = rendered(app, "#detail-heading")
        fields = rendered(app, "#detail-fields")
        assert "Kim Lee" in heading and "Keystone Robotics" in heading
        assert "#" not in heading, heading
        assert "Maria Thomas" in fields  # the reporting line, by name
        rows = [line.split() for line in fields.splitlines()]
        assert not [r for r in rows if r and r[0] == "id"], fields
        assert str(people["report"]) not in [w for r in rows for w in r if r[:1] != ["phone"]]


async def test_lead_detail_heading_has_no_id(engine, people):
    from crm_tui.app import make_app
    from crm_tui.screens.lead_detail import LeadDetailScreen

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(people["lead"]))
        await settle(pilot)
        heading = rendered(app, "#lead-heading")
        assert heading.startswith("Zoë García (Cobalt Logistics)"), heading
        assert "#" not in heading, heading
        rows = [line.split() for line in rendered(app, "#lead-fields").splitlines()]
        assert not [r for r in rows if r and r[0] == "id"]


async def test_accounts_list_shows_a_last_year_date_whole(engine, people):
    from crm_tui import formatting
    from crm_tui.app import make_app
    from crm_tui.store.models import Account

    last_year = dt.datetime(dt.date.today().year - 1, 10, 21, 12, 0, tzinfo=dt.timezone.utc)
    with session_scope(engine) as s:
        s.get(Account, people["account"]).updated_at = last_year
    app = make_app(engine=engine, user="alice", mode="accounts")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#accounts-table", DataTable)
        assert table.row_count == 1
        text = formatting.day(last_year)
        assert str(table.get_row_at(0)[-1]) == text
        column = table.columns["updated_at"]  # type: ignore[index]
        assert column.get_render_width(table) - 2 * table.cell_padding >= len(text), (column.width, text)


async def test_edit_form_title_has_no_id(engine, people):
    from crm_tui.app import make_app
    from crm_tui.screens.contact_form import ContactFormScreen

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(ContactFormScreen(people["report"]))
        await settle(pilot)
        title = rendered(app, "#form-title")
        assert title.strip() == "Edit Kim Lee", title


async def test_forecast_chart_axis_reads_as_money(engine):
    import re

    from crm_tui.app import make_app
    from crm_tui.screens.forecast import ForecastScreen, quarter_of
    from crm_tui.services.registry import ENTITIES
    from crm_tui.services.sales import forecast

    q0, _ = quarter_of(dt.date.today())
    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice", "role": "sales"})
    with session_scope(engine) as s:
        forecast.set_quota(session=s, username="alice", month=q0, amount="65000")
        for name, amount, stage in (("A", "549773.00", "Negotiation"), ("B", "183257.70", "Proposal")):
            records.create_record(ENTITIES["opportunity"], session=s, actor="alice", data={
                "name": name, "amount": amount, "stage": stage, "owner": "alice", "expected_close": q0.isoformat()})
    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ForecastScreen)
        await pilot.pause(0.2)
        svg = app.export_screenshot()
        text = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")
        raw = re.findall(r"\b\d{4,}\.\d\b", text)
        assert not raw, raw  # chart axes as "412k", never "412329.8"


async def test_opportunity_detail_at_80_columns_keeps_its_history_readable(engine, late_deals):
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(late_deals[0]))
        await settle(pilot)
        side = app.screen.query_one("#opp-side")
        form = app.screen.query_one("#opp-form")
        assert side.size.width >= 34, (form.size, side.size)  # "4 Dec 14:09  alice  Stage moved …"
        assert form.size.width >= 30, form.size  # the fields stay editable
    async with make_app(engine=engine, user="alice").run_test(size=(160, 48)) as pilot:
        app = pilot.app
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(late_deals[0]))
        await settle(pilot)
        assert app.screen.query_one("#opp-form").outer_size.width == 62  # the wide layout is unchanged


async def test_proposals_list_at_80_columns_shows_each_status_whole(engine):
    from crm_tui.app import make_app
    from crm_tui.services.quotes import proposals as P
    from crm_tui.services.registry import ENTITIES

    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice", "role": "sales"})
    with session_scope(engine) as s:
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor="alice", data={
            "name": "Enterprise CRM rollout", "stage": "Proposal", "amount": "101196", "owner": "alice"})["id"]
        view = P.new_proposal(session=s, opportunity_id=opp, actor="alice")
        P.save_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=view.version,
                        lines=[{"description": "Licence", "quantity": "1", "unit_price": "101196"}])
    app = make_app(engine=engine, user="alice", mode="proposals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#proposals-table", DataTable)
        assert table.row_count == 1
        header, row = table.render_line(0).text, table.render_line(1).text
        for label in ("Number", "Title", "Total", "Status"):
            assert label in header, (label, header)
        assert "101,196.00 USD" in row and " draft" in row, row
        keys = [str(k.value) for k in table.columns]
        right_edge = sum(table.columns[k].get_render_width(table) for k in keys[:keys.index("status") + 1])  # type: ignore[index]
        assert right_edge <= table.scrollable_content_region.width, (right_edge, table.size)  # "accepted" whole


def test_proposal_chase_task_says_the_sent_date_in_words(engine):
    import re

    from crm_tui.services.quotes import proposals as P
    from crm_tui.services.registry import ENTITIES

    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice", "role": "sales"})
    sent_at = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
    with session_scope(engine) as s:
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor="alice", data={
            "name": "Licence renewal", "stage": "Proposal", "amount": "1000", "owner": "alice"})["id"]
        view = P.new_proposal(session=s, opportunity_id=opp, actor="alice")
        P.save_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=view.version,
                        lines=[{"description": "Licence", "quantity": "1", "unit_price": "1000"}])
        P.send_proposal(session=s, proposal_id=view.id, actor="alice", now=sent_at, today=sent_at.date())
    with session_scope(engine) as s:
        made = P.create_due_followups(session=s, now=sent_at + dt.timedelta(days=4))
    subject = made[0]["subject"]
    assert "sent 2 March 2026" in subject, subject
    assert not re.search(r"\d{4}-\d{2}-\d{2}", subject), subject

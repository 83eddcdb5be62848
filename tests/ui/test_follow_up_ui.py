"""A follow-up scheduled on a lead's detail is the lead's next follow-up: the lead leaves the overdue
list, the detail shows the new date, and marking the task done clears it."""

from __future__ import annotations

import datetime as dt

from ui_helpers import make, settle, wait_until

from crm_tui.screens.lead_detail import LeadDetailScreen
from crm_tui.services import records
from crm_tui.services.sales import leads
from crm_tui.store.db import session_scope
from crm_tui.store.models import Lead
from crm_tui.widgets.log_activity import LogActivityScreen
from crm_tui.widgets.timeline import Timeline

ME = "tester"


def overdue_ids(engine) -> list[int]:
    with session_scope(engine) as s:
        return [r["id"] for r in records.list_records(leads.ENTITY, session=s, filters={"follow_up": "overdue"})]


def shown_follow_up(app):
    """The next follow-up the lead's detail shows (its fields table is drawn from this row)."""
    return app.screen.row.get("next_follow_up")


async def test_scheduling_a_follow_up_on_a_lead_moves_its_next_follow_up(engine):
    with session_scope(engine) as s:
        lead_id = leads.create_lead(session=s, actor=ME, data={
            "first_name": "Ada", "last_name": "Byron", "company": "Engines Ltd",
            "next_follow_up": (dt.date.today() - dt.timedelta(days=3)).isoformat() + " 09:00"})[0]["id"]
    assert lead_id in overdue_ids(engine)
    due = dt.datetime.combine(dt.date.today() + dt.timedelta(days=2), dt.time(10, 30))
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(lead_id))
        await wait_until(pilot, lambda: isinstance(app.screen, LeadDetailScreen) and app.screen.row, what="lead")
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, LogActivityScreen)
        await pilot.press(*"Call about the pilot")
        app.screen.query_one("#log-due").value = due.strftime("%Y-%m-%d %H:%M")
        await pilot.click("#log-save")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        with session_scope(engine) as s:
            assert s.get(Lead, lead_id).next_follow_up == due.astimezone(dt.UTC)
        assert lead_id not in overdue_ids(engine)
        await wait_until(pilot, lambda: shown_follow_up(app) == due.astimezone(dt.UTC), what="the new date")
        # done: nothing left to follow up
        timeline = app.screen.query_one(Timeline)
        timeline.focus()
        timeline.highlighted = next(i for i, item in enumerate(timeline.items) if item.open_task)
        await pilot.press("x")
        await settle(pilot)
        with session_scope(engine) as s:
            assert s.get(Lead, lead_id).next_follow_up is None
        await wait_until(pilot, lambda: shown_follow_up(app) is None, what="the date cleared")

"""My day on the Dashboard: today's calls, meetings and tasks of the acting user with their times, in time
order ("09:30 Call — Ana Ruiz (Acme)"); scheduling a follow-up picks a type, a time and a duration."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from textual.widgets import Input, OptionList, Select
from ui_helpers import USER, make, settle, wait_until

from crm_tui.screens.account_detail import AccountDetailScreen
from crm_tui.screens.contact_detail import ContactDetailScreen
from crm_tui.screens.dashboard import DashboardScreen
from crm_tui.screens.opportunity_detail import ActivityDialog, OpportunityDetailScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity
from crm_tui.widgets.log_activity import LogActivityScreen

SIZE = (160, 48)
TODAY = dt.date.today()


def at(day: dt.date, hhmm: str) -> str:
    return f"{day.isoformat()} {hhmm}"


@pytest.fixture
def day(engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    tomorrow = TODAY + dt.timedelta(days=1)
    activity = ENTITIES["activity"]
    with session_scope(engine) as s:
        acme = records.create_record(ENTITIES["account"], session=s, actor=USER, data={"name": "Acme"})["id"]
        ana = records.create_record(ENTITIES["contact"], session=s, actor=USER,
                                    data={"first_name": "Ana", "last_name": "Ruiz", "account": acme})["id"]
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                                     data={"name": "Acme – Platform", "account": acme})["id"]
        ids.update(acme=acme, ana=ana, deal=deal)
        for subject, data, actor in (
                ("Pricing", {"type": "meeting", "due": at(TODAY, "14:00"), "duration": "45", "opp": deal,
                             "account": acme}, USER),
                ("Budget call", {"type": "call", "due": at(TODAY, "09:30"), "contact": ana, "account": acme}, USER),
                ("Send the contract", {"type": "task", "due": at(TODAY, "11:00")}, USER),
                ("Tomorrow's call", {"type": "call", "due": at(tomorrow, "09:00"), "contact": ana}, USER),
                ("Bob's call", {"type": "call", "due": at(TODAY, "10:00")}, "bob"),
                ("An e-mail", {"type": "email", "due": at(TODAY, "12:00")}, USER)):
            ids[subject] = records.create_record(activity, session=s, actor=actor,
                                                 data={"subject": subject, **data})["id"]
        done = records.create_record(activity, session=s, actor=USER,
                                     data={"subject": "Done call", "type": "call", "due": at(TODAY, "08:00")})
        from crm_tui.services.engagement.activities import complete_activity

        complete_activity(session=s, activity_id=done["id"], actor=USER)
    return ids


def my_day_lines(app) -> list[str]:
    options = app.screen.query_one("#my-day-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_dashboard_shows_my_day_in_time_order(engine, day):
    app = make(engine, mode="dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        lines = my_day_lines(app)
        assert [line.split(" · ")[0] for line in lines] == [
            "09:30 Call — Ana Ruiz (Acme)",
            "11:00 Task — Send the contract",
            "14:00 Meeting — Pricing (Acme)",
        ]
        assert "45 min" in lines[2]
        assert "Budget call" in lines[0]  # the subject follows the person
        title = str(app.screen.query_one("#my-day-title").render())
        assert "(3)" in title
        # enter opens the record it is with: Ana's call opens Ana
        options = app.screen.query_one("#my-day-list", OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactDetailScreen) and app.screen.contact_id == day["ana"]


async def test_scheduling_a_follow_up_picks_type_time_and_duration(engine, day):
    app = make(engine, mode="dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AccountDetailScreen(day["acme"]))
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LogActivityScreen)
        dialog.query_one("#log-subject", Input).value = "Kick-off"
        dialog.query_one("#log-type", Select).value = "meeting"
        dialog.query_one("#log-due", Input).value = at(TODAY, "16:15")
        dialog.query_one("#log-duration", Input).value = "60"
        dialog.query_one("#log-subject", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountDetailScreen)
        with session_scope(engine) as s:
            kickoff = s.execute(select(Activity).where(Activity.subject == "Kick-off")).scalar_one()
            assert (kickoff.type, kickoff.duration_minutes, kickoff.account_id) == ("meeting", 60, day["acme"])
            assert kickoff.due_at.astimezone().strftime("%Y-%m-%d %H:%M") == at(TODAY, "16:15")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen)
                         and any(line.startswith("16:15 Meeting — Kick-off (Acme)") for line in my_day_lines(app)),
                         what="the meeting on my day")


async def test_a_follow_up_on_the_deal_can_be_a_call_with_a_duration(engine, day):
    app = make(engine, mode="dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(day["deal"]))
        await settle(pilot)
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert isinstance(app.screen, ActivityDialog)
        app.screen.query_one("#activity-subject", Input).value = "Check in"
        app.screen.query_one("#activity-type", Select).value = "call"
        app.screen.query_one("#activity-due", Input).value = at(TODAY, "17:00")
        app.screen.query_one("#activity-duration", Input).value = "15"
        await pilot.click("#activity-save")
        await settle(pilot)
        with session_scope(engine) as s:
            call = s.execute(select(Activity).where(Activity.subject == "Check in")).scalar_one()
            assert (call.type, call.duration_minutes, call.opportunity_id) == ("call", 15, day["deal"])

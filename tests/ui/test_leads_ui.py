"""Pilot: find a lead, log a call, qualify it, convert it, see the records and their timelines; assert on the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from ui_helpers import make

from crm_tui.services.sales import leads
from crm_tui.store.db import session_scope
from crm_tui.store.models import Account, Activity, Contact, Lead, Opportunity, Stage

ME = "tester"


def _lead(engine, **data) -> int:
    with session_scope(engine) as s:
        return leads.create_lead(session=s, data=data, actor=ME)[0]["id"]


async def _settle(pilot, app, condition, tries: int = 100):
    """Wait for workers to finish and the screen to show ``condition``."""
    for _ in range(tries):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("the screen never got there")


@pytest.fixture
def sqlite_engine(tmp_path):
    from crm_tui.store.db import open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'ui.db'}")
    yield engine
    engine.dispose()


async def test_convert_a_lead_end_to_end(sqlite_engine):
    engine = sqlite_engine
    today_noon = dt.datetime.combine(dt.date.today(), dt.time(12, 0)).isoformat(sep=" ")
    _lead(engine, first_name="Ada", last_name="Byron", company="Engines Ltd", email="ada@engines.io",
          next_follow_up=today_noon, source="Referral")
    _lead(engine, last_name="Later", company="Elsewhere", next_follow_up="today+5d")
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        from crm_tui.screens.lead_detail import ConvertScreen, LeadDetailScreen
        from crm_tui.screens.leads import LeadsScreen

        await pilot.press("f3")
        await _settle(pilot, app, lambda: isinstance(app.screen, LeadsScreen))
        screen = app.screen
        assert isinstance(screen, LeadsScreen)
        await _settle(pilot, app, lambda: screen.total == 2)
        await pilot.press("4")  # follow-up due today
        await _settle(pilot, app, lambda: screen.total == 1 and screen.loaded == 1)
        await pilot.press("enter")
        await _settle(pilot, app, lambda: isinstance(app.screen, LeadDetailScreen) and app.screen.row)
        detail = app.screen
        # log a call in three keystrokes plus the subject
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"Intro call", "enter")
        await _settle(pilot, app, lambda: isinstance(app.screen, LeadDetailScreen)
                      and any(i.title == "Intro call" for i in detail.query_one("#lead-timeline").items))
        await pilot.press("q")
        await _settle(pilot, app, lambda: detail.row.get("status") == "qualified")
        await pilot.press("v")
        await _settle(pilot, app, lambda: isinstance(app.screen, ConvertScreen)
                      and app.screen.query_one("#convert-stage").value == "Qualified")
        convert = app.screen
        assert "new account will be created" in str(convert.query_one("#convert-account-note").render()).lower()
        await pilot.press(*"12500", "enter")
        await _settle(pilot, app, lambda: isinstance(app.screen, LeadDetailScreen)
                      and detail.row.get("status") == "converted")

    with session_scope(engine) as s:
        lead = s.execute(select(Lead).where(Lead.last_name == "Byron")).scalar_one()
        assert lead.status == "converted"
        opp = s.get(Opportunity, lead.converted_opportunity_id)
        assert (opp.amount_minor, s.get(Stage, opp.stage_id).name, opp.probability) == (1_250_000, "Qualified", 25)
        account = s.get(Account, lead.converted_account_id)
        contact = s.get(Contact, lead.converted_contact_id)
        assert (account.name, contact.last_name, contact.account_id, opp.account_id) == (
            "Engines Ltd", "Byron", account.id, account.id)
        types = sorted(s.execute(select(Activity.type).where(Activity.lead_id == lead.id)).scalars())
        assert types == ["call", "system"]
        assert s.execute(select(func.count()).select_from(Opportunity)).scalar() == 1


async def test_converted_records_show_lead_history_and_account_tree(sqlite_engine):
    engine = sqlite_engine
    lead_id = _lead(engine, first_name="Ada", last_name="Byron", company="Engines Ltd")
    with session_scope(engine) as s:
        from crm_tui.services.engagement.activities import log_activity

        log_activity(session=s, actor=ME, type="meeting", subject="Discovery meeting", links={"lead": lead_id})
        conv = leads.convert_lead(session=s, lead_id=lead_id, actor=ME)
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        from crm_tui.screens.account_detail import AccountDetailScreen
        from crm_tui.screens.lead_detail import LeadDetailScreen

        await app.push_screen(LeadDetailScreen(lead_id))
        await _settle(pilot, app, lambda: app.screen.row.get("status") == "converted")
        await pilot.press("a")
        await _settle(pilot, app, lambda: isinstance(app.screen, AccountDetailScreen) and app.screen.details
                      and app.screen.query_one("#detail-timeline").items)
        account = app.screen
        assert account.account_id == conv.account_id
        items = account.query_one("#detail-timeline").items
        assert any(i.title == "Discovery meeting" and i.via == "lead Ada Byron" for i in items)
        contacts = account.query_one("#detail-contacts")
        assert contacts.row_count == 1 and "Byron" in str(contacts.get_row_at(0)[0])
        opps = account.query_one("#detail-opportunities")
        assert opps.row_count == 1 and "new business" in str(opps.get_row_at(0)[0])
        # a note from the account lands on the account's timeline and in the database
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Budget confirmed", "enter")
        await _settle(pilot, app, lambda: any(i.title == "Budget confirmed"
                                              for i in account.query_one("#detail-timeline").items))
    with session_scope(engine) as s:
        note = s.execute(select(Activity).where(Activity.subject == "Budget confirmed")).scalar_one()
        assert (note.type, note.account_id) == ("note", conv.account_id)


async def test_today_lists_my_due_tasks_and_marks_done(sqlite_engine):
    engine = sqlite_engine
    from crm_tui.services.engagement.activities import log_activity

    with session_scope(engine) as s:
        log_activity(session=s, actor=ME, type="task", subject="Late task", due="yesterday 10:00")
        log_activity(session=s, actor=ME, type="task", subject="Next week", due="today+7d")
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        from crm_tui.screens.today import TodayScreen

        await pilot.press("f6")
        await _settle(pilot, app, lambda: isinstance(app.screen, TodayScreen)
                      and app.screen.query_one("#today-tasks").option_count == 1)
        assert "Late task" in str(app.screen.query_one("#today-tasks").get_option_at_index(0).prompt)
        await pilot.press("x")
        await _settle(pilot, app, lambda: app.screen.query_one("#today-tasks").option_count == 0)
    with session_scope(engine) as s:
        done = s.execute(select(Activity).where(Activity.subject == "Late task")).scalar_one()
        assert done.completed_at is not None

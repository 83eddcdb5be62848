"""On an empty database every area says what to do next with a key (never a command line), and the
key does it: n adds a lead on the Leads, n a deal on the Pipeline, q sets a quota on the Forecast."""

from __future__ import annotations

import re

from sqlalchemy import select
from ui_helpers import make, settle, wait_until

from crm_tui.screens.forecast import QuotaDialog
from crm_tui.screens.lead_detail import LeadFormScreen
from crm_tui.screens.opportunity_form import OpportunityFormScreen
from crm_tui.services import users as U
from crm_tui.services.sales import forecast
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity, Quota

SIZE = (160, 48)
CLI_HINT = re.compile(r"\bcrm [a-z]")


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_no_leads_says_press_n_and_n_adds_one(engine):
    app = make(engine, mode="leads")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "yet" in text_of(app, "#list-status"), what="the empty leads")
        status = text_of(app, "#list-status")
        assert "No leads yet — press n to add one" in status and not CLI_HINT.search(status)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, LeadFormScreen)


async def test_no_contacts_or_accounts_say_press_n(engine):
    app = make(engine, mode="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "yet" in text_of(app, "#list-status"), what="the empty contacts")
        assert "No contacts yet — press n to add one" in text_of(app, "#list-status")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "yet" in text_of(app, "#accounts-empty"), what="the empty accounts")
        text = text_of(app, "#accounts-empty")
        assert "press n to add one" in text and not CLI_HINT.search(text)


async def test_no_deals_says_press_n_on_the_pipeline_and_n_adds_one(engine):
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "yet" in text_of(app, "#pipeline-status"), what="the empty pipeline")
        assert "No deals yet — press n to add one" in text_of(app, "#pipeline-status")
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityFormScreen)
        app.screen.query_one("#input-name").value = "First deal"
        app.screen.query_one("#input-amount").value = "1200"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, OpportunityFormScreen), what="the form closed")
        with session_scope(engine) as s:
            deal = s.execute(select(Opportunity)).scalars().one()
            assert (deal.name, deal.amount_minor) == ("First deal", 120000)
        await wait_until(pilot, lambda: "Open: 1 deals" in text_of(app, "#pipeline-status"), what="the new deal")


async def test_no_quota_says_a_manager_sets_it_with_q_and_q_sets_it(engine):
    with session_scope(engine) as s:
        U.create_user(session=s, data={"username": "boss", "role": "admin"})
        U.create_user(session=s, data={"username": "tester", "role": "manager"})
    app = make(engine, mode="forecast")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "quota" in text_of(app, "#forecast-summary"), what="the forecast")
        summary = text_of(app, "#forecast-summary")
        assert "no quota set: a manager or an admin presses q" in summary and not CLI_HINT.search(summary)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, QuotaDialog)
        app.screen.query_one("#quota-amount").value = "50,000"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [n.message for n in app._notifications if n.severity == "error"] == []
        await wait_until(pilot, lambda: not isinstance(app.screen, QuotaDialog), what="the dialog closed")
        with session_scope(engine) as s:
            quota = s.execute(select(Quota)).scalars().one()
            assert (quota.amount_minor, quota.currency) == (5_000_000, "USD")


async def test_a_sales_rep_cannot_set_a_quota(engine):
    with session_scope(engine) as s:
        U.create_user(session=s, data={"username": "boss", "role": "admin"})
        U.create_user(session=s, data={"username": "tester", "role": "sales"})
    app = make(engine, mode="forecast")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "quota" in text_of(app, "#forecast-summary"), what="the forecast")
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, QuotaDialog)
        assert any("Only a manager or an admin" in n.message for n in app._notifications)
    with session_scope(engine) as s:
        rep = U.resolve_actor(session=s, username="tester")
        try:
            forecast.set_quota(session=s, username="tester", month="2026-01", amount="1", actor=rep)
        except Exception as exc:  # the service refuses too
            assert "only a manager or an admin may set quotas" in str(exc)
        else:
            raise AssertionError("a sales rep set a quota")


async def test_no_proposals_and_nothing_due_today_say_which_key(engine):
    app = make(engine, mode="proposals")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "yet" in text_of(app, "#proposals-status-line"), what="the proposals")
        assert "press n to create one" in text_of(app, "#proposals-status-line")
        await pilot.press("f6")
        await settle(pilot)
        assert "f on a record schedules a follow-up" in text_of(app, "#today-tasks-title")
        assert "f on a lead (F3) schedules one" in text_of(app, "#today-leads-title")

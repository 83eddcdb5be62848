"""The Dashboard: first screen, figures against quota, lists that open their records."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from textual.widgets import OptionList, Static
from ui_helpers import USER, make, settle

from crm_tui.screens.dashboard import LISTS, DashboardScreen
from crm_tui.screens.lead_detail import LeadDetailScreen
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.services import records, users
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import forecast
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity

SIZE = (160, 50)


def seed(engine) -> dict:
    today = dt.date.today()
    week0 = today - dt.timedelta(days=today.weekday())
    ids = {}
    with session_scope(engine) as s:
        users.create_user(session=s, data={"username": USER})
        users.create_user(session=s, data={"username": "bob"})
        forecast.set_quota(session=s, username=USER, month=today, amount="10000")
        opp = ENTITIES["opportunity"]
        ids["closing"] = records.create_record(opp, session=s, actor=USER, data={
            "name": "Closing soon", "amount": "4000.00", "stage": "Negotiation",
            "expected_close": (week0 + dt.timedelta(days=6)).isoformat()})["id"]
        ids["stalled"] = records.create_record(opp, session=s, actor=USER, data={
            "name": "Gone quiet", "amount": "1000.00", "stage": "Lead",
            "expected_close": (today + dt.timedelta(days=200)).isoformat()})["id"]
        records.create_record(opp, session=s, actor=USER, data={
            "name": "Bob's deal", "amount": "99.00", "stage": "Lead", "owner": "bob",
            "expected_close": (week0 + dt.timedelta(days=6)).isoformat()})
        ids["lead"] = records.create_record(ENTITIES["lead"], session=s, actor=USER, data={
            "first_name": "Nina", "last_name": "Neu", "company": "Fresh Co"})["id"]
        records.create_record(ENTITIES["activity"], session=s, actor=USER, data={
            "subject": "Call Nina back", "type": "task", "lead": ids["lead"],
            "due": dt.datetime.now().strftime("%Y-%m-%d 00:01")})
    with engine.begin() as conn:
        conn.execute(update(Opportunity.__table__).where(Opportunity.__table__.c.id == ids["stalled"])
                     .values(stage_changed_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    return ids


def options(screen, key) -> list[str]:
    widget = screen.query_one(f"#dash-{key}", OptionList)
    return [str(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)]


async def test_dashboard_is_the_first_screen_and_shows_my_figures(engine):
    ids = seed(engine)
    with session_scope(engine) as s:
        month = forecast.forecast(session=s, start=forecast.month_start(dt.date.today()),
                                  end=forecast.month_end(dt.date.today()), by=(), owners=[USER]).totals["USD"]
    async with make(engine, mode=None).run_test(size=SIZE) as pilot:
        assert isinstance(pilot.app.screen, DashboardScreen)
        await settle(pilot)
        screen = pilot.app.screen
        card = str(screen.query_one("#dash-month", Static).render())
        assert "Quota" in card and "10,000 USD" in card  # compact, as the lists: no ".00"
        from crm_tui import formatting
        assert formatting.money(month.open_minor, "USD", compact=True) in card
        assert formatting.money(month.weighted_minor, "USD", compact=True) in card
        closing = options(screen, "closing")
        assert len(closing) == 1 and "Closing soon" in closing[0] and "4,000 USD" in closing[0]
        assert not any("Bob's deal" in o for o in closing)
        assert [o for o in options(screen, "stalled") if "Gone quiet" in o]
        assert "Nina Neu (Fresh Co)" in options(screen, "leads")[0]
        assert "Call Nina back" in options(screen, "tasks")[0]
        # each item opens its record
        widget = screen.query_one("#dash-closing", OptionList)
        widget.focus()
        widget.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, OpportunityDetailScreen)
        assert pilot.app.screen.opportunity_id == ids["closing"]
        await pilot.press("escape")
        await settle(pilot)
        widget = pilot.app.screen.query_one("#dash-leads", OptionList)
        widget.focus()
        widget.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LeadDetailScreen)


async def test_dashboard_for_a_user_with_nothing_yet(engine):
    async with make(engine, mode=None).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert "no quota set" in str(screen.query_one("#dash-quarter", Static).render())
        assert options(screen, "closing") == ["nothing here"]
        await pilot.press("f8")
        await pilot.press("f10")
        assert isinstance(pilot.app.screen, DashboardScreen)


async def test_dashboard_lists_my_proposals_awaiting_a_response_and_opens_the_editor(engine):
    from crm_tui.screens.proposal_editor import ProposalEditorScreen
    from crm_tui.services.quotes import proposals
    from crm_tui.store.models import Proposal

    ids = seed(engine)
    with session_scope(engine) as s:
        bobs = records.create_record(ENTITIES["opportunity"], session=s, actor=USER, data={
            "name": "Bob's other deal", "amount": "50.00", "stage": "Proposal", "owner": "bob"})["id"]
        made = {}
        for key, opp_id in (("late", ids["closing"]), ("fresh", ids["stalled"]), ("draft", ids["closing"]),
                            ("bobs", bobs)):
            view = proposals.new_proposal(session=s, opportunity_id=opp_id, actor=USER, title=f"Offer {key}")
            proposals.add_line(session=s, proposal_id=view.id, actor=USER,
                               data={"description": "Seats", "quantity": "3", "unit_price": "100.00"})
            if key != "draft":
                proposals.send_proposal(session=s, proposal_id=view.id, actor=USER)
            made[key] = view
    P = Proposal.__table__
    with engine.begin() as conn:
        conn.execute(update(P).where(P.c.id == made["late"].id)
                     .values(sent_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=5, hours=1)))
    async with make(engine, mode=None).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        shown = options(screen, "proposals")
        assert len(shown) == 2, shown
        assert "5d waiting" in shown[0] and made["late"].number in shown[0] and "Offer late" in shown[0]
        assert "300 USD" in shown[0]
        assert made["fresh"].number in shown[1] and "sent today" in shown[1]
        assert "Proposals awaiting a response (2)" in str(screen.query_one("#dash-proposals-title").render())
        widget = screen.query_one("#dash-proposals", OptionList)
        widget.focus()
        widget.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ProposalEditorScreen)
        assert pilot.app.screen.proposal_id == made["late"].id


def seed_every_list(engine) -> dict:
    """One item or more in every Dashboard list; tasks on each kind of record."""
    from crm_tui.services.quotes import proposals

    ids = seed(engine)
    yesterday = (dt.datetime.now() - dt.timedelta(days=1)).strftime("%Y-%m-%d 09:00")
    due = dt.datetime.now().strftime("%Y-%m-%d 00:01")
    with session_scope(engine) as s:
        account = records.create_record(ENTITIES["account"], session=s, actor=USER, data={"name": "Tasked Ltd"})
        contact = records.create_record(ENTITIES["contact"], session=s, actor=USER, data={
            "first_name": "Carla", "last_name": "Contact"})
        ids["followup"] = records.create_record(ENTITIES["lead"], session=s, actor=USER, data={
            "first_name": "Fred", "last_name": "Follow", "next_follow_up": yesterday})["id"]
        for subject, link in (("Deal task", {"opp": ids["closing"]}), ("Contact task", {"contact": contact["id"]}),
                              ("Account task", {"account": account["id"]})):
            records.create_record(ENTITIES["activity"], session=s, actor=USER,
                                  data={"subject": subject, "type": "task", "due": due, **link})
        view = proposals.new_proposal(session=s, opportunity_id=ids["closing"], actor=USER, title="Offer")
        proposals.add_line(session=s, proposal_id=view.id, actor=USER,
                           data={"description": "Seats", "quantity": "1", "unit_price": "10.00"})
        proposals.send_proposal(session=s, proposal_id=view.id, actor=USER)
    return ids


def expected_records(engine) -> dict[str, list[tuple[str, type, int]]]:
    """Per Dashboard list: (text in the item, the screen it must open, the record id), read from the database."""
    from sqlalchemy import select

    from crm_tui.screens.account_detail import AccountDetailScreen
    from crm_tui.screens.contact_detail import ContactDetailScreen
    from crm_tui.screens.proposal_editor import ProposalEditorScreen
    from crm_tui.store.models import Activity, Lead, Proposal

    with session_scope(engine) as s:
        opp = {o.name: o.id for o in s.execute(select(Opportunity)).scalars()}
        lead = {f"{x.first_name} {x.last_name}": x.id for x in s.execute(select(Lead)).scalars()}
        task = {a.subject: a for a in s.execute(select(Activity).where(Activity.type == "task")).scalars()}
        proposal = s.execute(select(Proposal)).scalars().one()
        return {
            "closing": [("Closing soon", OpportunityDetailScreen, opp["Closing soon"])],
            "stalled": [("Gone quiet", OpportunityDetailScreen, opp["Gone quiet"])],
            "leads": [("Nina Neu", LeadDetailScreen, lead["Nina Neu"]), ("Fred Follow", LeadDetailScreen,
                                                                         lead["Fred Follow"])],
            "followups": [("Fred Follow", LeadDetailScreen, lead["Fred Follow"])],
            "tasks": [("Call Nina back", LeadDetailScreen, task["Call Nina back"].lead_id),
                      ("Deal task", OpportunityDetailScreen, task["Deal task"].opportunity_id),
                      ("Contact task", ContactDetailScreen, task["Contact task"].contact_id),
                      ("Account task", AccountDetailScreen, task["Account task"].account_id)],
            "proposals": [(proposal.number, ProposalEditorScreen, proposal.id)],
        }


def record_id_of(screen) -> int:
    for name in ("opportunity_id", "lead_id", "contact_id", "account_id", "proposal_id"):
        if hasattr(screen, name):
            return getattr(screen, name)
    raise AssertionError(f"{type(screen).__name__} shows no record")


async def test_enter_on_every_dashboard_list_opens_that_record(engine):
    seed_every_list(engine)
    expected = expected_records(engine)
    assert set(expected) == {key for key, _title in LISTS}
    async with make(engine, mode=None).run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, items in expected.items():
            for text, screen_class, record_id in items:
                assert record_id, (key, text)
                dashboard = pilot.app.screen
                assert isinstance(dashboard, DashboardScreen)
                shown = options(dashboard, key)
                index = next((i for i, o in enumerate(shown) if text in o), None)
                assert index is not None, f"{text!r} not in the {key} list: {shown}"
                widget = dashboard.query_one(f"#dash-{key}", OptionList)
                widget.focus()
                widget.highlighted = index
                await pilot.press("enter")
                await settle(pilot)
                opened = pilot.app.screen
                assert isinstance(opened, screen_class), (key, text, opened)
                assert record_id_of(opened) == record_id, (key, text)
                assert not pilot.app._notifications or not any(
                    n.severity == "error" for n in pilot.app._notifications), list(pilot.app._notifications)
                pilot.app.pop_screen()
                await settle(pilot)

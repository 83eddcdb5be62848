"""The demo data is consistent: an activity on a deal is on the deal's account (and its contact works
there), and a proposal's follow-up task is on the proposal's deal's account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from crm_tui.services.data.demo import generate
from crm_tui.services.quotes.proposals import create_due_followups
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Contact, Opportunity, Proposal


def test_demo_activities_sit_on_their_deals_account(engine):
    generate(engine, opportunities=300, seed=11, me="tester")
    with session_scope(engine) as s:
        opp_account = dict(s.execute(select(Opportunity.id, Opportunity.account_id)).all())
        contact_account = dict(s.execute(select(Contact.id, Contact.account_id)).all())
        acts = s.execute(select(Activity.id, Activity.opportunity_id, Activity.account_id,
                                Activity.contact_id)).all()
    assert len(acts) >= 100
    wrong = [a for a in acts if a.opportunity_id and a.account_id != opp_account[a.opportunity_id]]
    assert wrong == []
    strangers = [a for a in acts if a.contact_id and contact_account[a.contact_id] != a.account_id]
    assert strangers == []


def test_a_proposal_follow_up_task_is_on_the_deals_account(engine):
    generate(engine, opportunities=300, seed=11, me="tester")
    with session_scope(engine) as s:
        # one deal moved to another account after its proposal was sent
        moved = s.execute(select(Proposal).where(Proposal.status == "sent")).scalars().first()
        opp = s.get(Opportunity, moved.opportunity_id)
        opp.account_id = 1 if opp.account_id != 1 else 2
    with session_scope(engine) as s:
        created = create_due_followups(session=s, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=60))
        assert created
        for task in created:
            activity = s.get(Activity, task["activity_id"])
            deal = s.get(Opportunity, activity.opportunity_id)
            assert activity.account_id == deal.account_id, task["subject"]


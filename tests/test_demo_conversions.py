"""The demo's converted leads name what they became, as a real conversion leaves them: a deal, the deal's
account (the lead's company) and, when the deal has one, its contact (the lead's person)."""

from __future__ import annotations

from sqlalchemy import select

from crm_tui.services.data.demo import generate
from crm_tui.store.db import session_scope
from crm_tui.store.models import Account, Contact, Lead, Opportunity


def test_demo_converted_leads_link_their_deal_account_and_contact(engine):
    generate(engine, opportunities=300, seed=11, me="tester")
    with session_scope(engine) as s:
        converted = s.execute(select(Lead).where(Lead.status == "converted")).scalars().all()
        assert len(converted) >= 3
        for lead in converted:
            deal = s.get(Opportunity, lead.converted_opportunity_id)
            assert deal is not None, lead.id
            assert lead.converted_account_id == deal.account_id
            assert lead.company == s.get(Account, deal.account_id).name
            assert lead.converted_contact_id == deal.primary_contact_id
            if deal.primary_contact_id:
                person = s.get(Contact, deal.primary_contact_id)
                assert (lead.first_name, lead.last_name, lead.email) == (person.first_name, person.last_name,
                                                                         person.email)
                assert person.account_id == deal.account_id
            assert lead.converted_at is not None
        others = s.execute(select(Lead).where(Lead.status != "converted",
                                              Lead.converted_opportunity_id.is_not(None))).scalars().all()
        assert others == []

"""Converting a lead puts its person in the new deal's buying group, in the same transaction: the
opportunity detail (the TUI's buying group) and `crm opp show` list them."""

from __future__ import annotations

import json

from sqlalchemy import select
from test_row_security import add_team, login_url, needs_postgres, pg  # noqa: F401  (pg: a fixture)

from crm_tui.services import records
from crm_tui.services.sales import contacts, leads, pipeline
from crm_tui.store.db import open_engine, session_scope
from crm_tui.store.models import OpportunityContact

ME = "tester"


def _lead(engine, **data) -> int:
    with session_scope(engine) as s:
        return leads.create_lead(session=s, data=data, actor=ME)[0]["id"]


def test_the_converted_person_is_the_deals_champion(engine, cli):
    lead_id = _lead(engine, first_name="Ada", last_name="Byron", company="Engines Ltd", title="CTO")
    with session_scope(engine) as s:
        conv = leads.convert_lead(session=s, lead_id=lead_id, actor=ME)
    with session_scope(engine) as s:
        group = pipeline.contact_roles(session=s, opportunity_id=conv.opportunity_id)
        detail = pipeline.opportunity_detail(session=s, opportunity_id=conv.opportunity_id)
    assert group == [{"contact_id": conv.contact_id, "name": "Ada Byron", "title": "CTO", "role": "champion"}]
    assert detail.contact_roles == group
    assert any("buying group" in m for m in conv.messages)
    shown = cli("opp", "show", str(conv.opportunity_id))
    assert shown.exit_code == 0, shown.stderr
    assert "Ada Byron (champion)" in shown.stdout
    as_json = json.loads(cli("opp", "show", str(conv.opportunity_id), "--format", "json").stdout)
    assert as_json["buying_group"] == "Ada Byron (champion)"


def test_an_existing_contact_keeps_the_buying_role_they_have(engine):
    from crm_tui.services.sales import accounts

    with session_scope(engine) as s:
        acct = records.create_record(accounts.ENTITY, session=s, actor=ME, data={"name": "Umbrella Corp"})["id"]
        cid = records.create_record(contacts.ENTITY, session=s, actor=ME, data={
            "last_name": "Wesker", "email": "aw@umbrella.com", "account": acct, "buying_role": "decision maker"})["id"]
    lead_id = _lead(engine, last_name="Wesker", company="Umbrella Corp", email="aw@umbrella.com")
    with session_scope(engine) as s:
        conv = leads.convert_lead(session=s, lead_id=lead_id, actor=ME, account_id=acct)
    with session_scope(engine) as s:
        rows = s.execute(select(OpportunityContact.contact_id, OpportunityContact.role)
                         .where(OpportunityContact.opportunity_id == conv.opportunity_id)).all()
    assert [tuple(r) for r in rows] == [(cid, "decision maker")]



@needs_postgres
def test_a_rep_converting_his_lead_as_his_own_login_fills_the_buying_group(pg):  # noqa: F811
    add_team(pg, logins=True)
    bob = open_engine(login_url("bob"))
    try:
        with session_scope(bob) as s:
            lead_id = leads.create_lead(session=s, data={"first_name": "Ada", "last_name": "Byron",
                                                         "company": "Engines Ltd", "owner": "bob"}, actor="bob")[0]["id"]
        with session_scope(bob) as s:
            conv = leads.convert_lead(session=s, lead_id=lead_id, actor="bob")
        with session_scope(bob) as s:
            group = pipeline.contact_roles(session=s, opportunity_id=conv.opportunity_id)
    finally:
        bob.dispose()
    assert [(g["name"], g["role"]) for g in group] == [("Ada Byron", "champion")]

"""Leads: filters, duplicates, conversion in one transaction, refusals that write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from crm_tui.actor import Actor
from crm_tui.errors import Conflict, ValidationError
from crm_tui.services import records
from crm_tui.services.engagement.activities import due_tasks, log_activity
from crm_tui.services.sales import contacts, leads
from crm_tui.store.db import session_scope
from crm_tui.store.models import Account, Activity, Change, Contact, Lead, Opportunity, Stage

ME = "tester"
TABLES = (Account, Contact, Opportunity, Lead, Activity, Change)


def counts(engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar() for m in TABLES}


def add_lead(engine, **data) -> int:
    with session_scope(engine) as s:
        row, _ = leads.create_lead(session=s, data=data, actor=ME)
        return row["id"]


def add_account(engine, **data) -> int:
    from crm_tui.services.sales import accounts

    with session_scope(engine) as s:
        return records.create_record(accounts.ENTITY, session=s, data=data, actor=ME)["id"]


def lead_row(engine, lead_id):
    with session_scope(engine) as s:
        return records.get_record(leads.ENTITY, session=s, record_id=lead_id)


# ---------------------------------------------------------------- basics


def test_normalize_company_ignores_case_punctuation_and_legal_suffix():
    same = ["Acme Inc", "ACME, Inc.", "acme llc", "Acme Ltd.", "Acme GmbH", "Acme", "The Acme Corp"]
    assert {leads.normalize_company(n) for n in same} == {"acme"}
    assert leads.normalize_company("Acme Systems Inc") == "acme systems"
    assert leads.normalize_company("Acme Systems") != leads.normalize_company("Acme")
    assert leads.normalize_company("Müller GmbH") == leads.normalize_company("muller")
    assert leads.website_domain("https://www.Acme.com/about?x=1") == "acme.com"


def test_create_lead_defaults_and_refuses_bad_follow_up(engine):
    lead_id = add_lead(engine, first_name="Ada", last_name="Byron", company="Engines Ltd", source="Referral")
    row = lead_row(engine, lead_id)
    assert (row["status"], row["score"], row["owner"]) == ("new", 0, ME)
    before = counts(engine)
    with pytest.raises(ValidationError) as err:
        add_lead(engine, last_name="Other", next_follow_up="2026-02-30 10:00")
    assert err.value.field == "next_follow_up" and "2026-02-30" in str(err.value)
    assert counts(engine) == before


def test_quick_filters_count_in_sql(engine):
    today = dt.date.today()
    at_noon = dt.datetime.combine(today, dt.time(12, 0)).isoformat(sep=" ")
    add_lead(engine, last_name="Today", next_follow_up=at_noon, source="Web form")
    add_lead(engine, last_name="Late", next_follow_up=(today - dt.timedelta(days=2)).isoformat())
    add_lead(engine, last_name="Later", next_follow_up=(today + dt.timedelta(days=5)).isoformat())
    add_lead(engine, last_name="Junked", next_follow_up=(today - dt.timedelta(days=2)).isoformat(), status="junk")
    with session_scope(engine) as s:
        def n(**flt):
            return records.count_records(leads.ENTITY, session=s, filters=flt)

        assert n(follow_up="today") == 1
        assert n(follow_up="overdue") == 1  # the junk lead does not count
        assert n(follow_up="due") == 2
        assert n(owner=ME) == 4
        assert n(since="yesterday") == 4
        assert n(since="tomorrow") == 0
        assert n(status="junk") == 1
        assert n(source="web form") == 1
        names = [r["last_name"] for r in leads.due_follow_ups(session=s, actor=Actor.unknown(ME))]
        assert names == ["Late", "Today"]


def test_duplicates_flagged_by_email_and_normalised_company(engine):
    first = add_lead(engine, first_name="Ann", last_name="Lee", email="ann@acme.com", company="Acme, Inc.")
    acct = add_account(engine, name="Globex LLC")
    with session_scope(engine) as s:
        row, dups = leads.create_lead(session=s, data={"last_name": "Lee", "email": "ANN@acme.com"}, actor=ME)
        assert [(d.entity, d.id) for d in dups] == [("lead", first)]
        assert "same email" in str(dups[0]) and "Ann Lee" in str(dups[0])
        row, dups = leads.create_lead(session=s, data={"last_name": "Ho", "company": "ACME inc"}, actor=ME)
        assert ("lead", first) in [(d.entity, d.id) for d in dups]
        row, dups = leads.create_lead(session=s, data={"last_name": "Ho", "company": "globex"}, actor=ME)
        assert [(d.entity, d.id, d.label) for d in dups] == [("account", acct, "Globex LLC")]
        row, dups = leads.create_lead(session=s, data={"last_name": "Ho", "company": "Initech"}, actor=ME)
        assert dups == []


def test_status_change_from_converted_is_refused(engine):
    lead_id = add_lead(engine, first_name="Ada", last_name="Byron", company="Engines Ltd")
    with session_scope(engine) as s:
        leads.set_status(session=s, lead_id=lead_id, status="qualified", actor=ME)
    with session_scope(engine) as s:
        leads.convert_lead(session=s, lead_id=lead_id, actor=ME)
    with pytest.raises(Conflict):
        with session_scope(engine) as s:
            leads.set_status(session=s, lead_id=lead_id, status="new", actor=ME)
    assert lead_row(engine, lead_id)["status"] == "converted"


# ---------------------------------------------------------------- conversion


def test_convert_creates_everything_in_one_go(engine):
    lead_id = add_lead(engine, first_name="Ada", last_name="Byron", company="Engines Ltd", email="ada@engines.io",
                       website="engines.io", title="CTO", source="Referral", notes="Wants a pilot")
    with session_scope(engine) as s:
        leads.set_status(session=s, lead_id=lead_id, status="qualified", actor=ME)
    before = counts(engine)
    with session_scope(engine) as s:
        conv = leads.convert_lead(session=s, lead_id=lead_id, actor=ME, amount="12,500.50", close_date="2027-03-31")
    after = counts(engine)
    assert conv.account_created and conv.contact_created
    assert {k: after[k] - before[k] for k in after} == {
        "accounts": 1, "contacts": 1, "opportunities": 1, "leads": 0, "activities": 1,
        "changes": 3 + 5,  # one "created" row per new record, five lead fields
    }
    with session_scope(engine) as s:
        lead = s.get(Lead, lead_id)
        assert lead.status == "converted" and lead.converted_at is not None
        assert (lead.converted_account_id, lead.converted_contact_id, lead.converted_opportunity_id) == (
            conv.account_id, conv.contact_id, conv.opportunity_id)
        acct = s.get(Account, conv.account_id)
        assert (acct.name, acct.website, acct.source) == ("Engines Ltd", "engines.io", "Referral")
        contact = s.get(Contact, conv.contact_id)
        assert (contact.first_name, contact.last_name, contact.email, contact.account_id, contact.title) == (
            "Ada", "Byron", "ada@engines.io", conv.account_id, "CTO")
        opp = s.get(Opportunity, conv.opportunity_id)
        stage = s.get(Stage, opp.stage_id)
        assert (stage.name, opp.probability) == ("Qualified", 25)
        assert (opp.amount_minor, opp.currency, opp.expected_close) == (1_250_050, "USD", dt.date(2027, 3, 31))
        assert (opp.account_id, opp.primary_contact_id) == (conv.account_id, conv.contact_id)
        act = s.get(Activity, conv.activity_id)
        assert (act.type, act.lead_id, act.account_id, act.contact_id, act.opportunity_id) == (
            "system", lead_id, conv.account_id, conv.contact_id, conv.opportunity_id)
        batch = s.execute(select(Change.entity, Change.field).where(Change.batch_id == conv.batch_id)).all()
        assert ("lead", "status") in batch and ("opportunity", "*") in batch and ("account", "*") in batch


def test_convert_reuses_account_by_name_or_domain_and_says_so(engine):
    by_name = add_account(engine, name="Initech, LLC")
    by_domain = add_account(engine, name="Hooli Holdings", website="https://www.hooli.xyz")
    l1 = add_lead(engine, last_name="Lumbergh", company="INITECH Inc", email="bill@initech.com")
    l2 = add_lead(engine, last_name="Belson", company="Hooli XYZ", website="hooli.xyz/careers")
    before = counts(engine)
    with session_scope(engine) as s:
        c1 = leads.convert_lead(session=s, lead_id=l1, actor=ME)
        c2 = leads.convert_lead(session=s, lead_id=l2, actor=ME)
    assert (c1.account_id, c1.account_created) == (by_name, False)
    assert "same company name" in c1.account_reason and any("existing account" in m for m in c1.messages)
    assert (c2.account_id, c2.account_created) == (by_domain, False)
    assert "hooli.xyz" in c2.account_reason
    assert counts(engine)["accounts"] == before["accounts"]


def test_convert_with_chosen_account_and_existing_contact(engine):
    acct = add_account(engine, name="Umbrella Corp")
    with session_scope(engine) as s:
        cid = records.create_record(contacts.ENTITY, session=s, actor=ME,
                                    data={"last_name": "Wesker", "email": "aw@umbrella.com", "account": acct})["id"]
    lead_id = add_lead(engine, last_name="Wesker", company="Something Else", email="AW@umbrella.com")
    with session_scope(engine) as s:
        conv = leads.convert_lead(session=s, lead_id=lead_id, actor=ME, account_id=acct, stage="proposal")
    assert (conv.account_id, conv.contact_id, conv.contact_created) == (acct, cid, False)
    with session_scope(engine) as s:
        opp = s.get(Opportunity, conv.opportunity_id)
        assert (s.get(Stage, opp.stage_id).name, opp.probability) == ("Proposal", 50)


@pytest.mark.parametrize("status", ["junk", "converted"])
def test_junk_or_converted_lead_is_refused_and_nothing_written(engine, status):
    lead_id = add_lead(engine, last_name="Nope", company="Nowhere")
    if status == "junk":
        with session_scope(engine) as s:
            leads.set_status(session=s, lead_id=lead_id, status="junk", actor=ME)
    else:
        with session_scope(engine) as s:
            leads.convert_lead(session=s, lead_id=lead_id, actor=ME)
    before = counts(engine)
    with pytest.raises((Conflict, ValidationError)) as err:
        with session_scope(engine) as s:
            leads.convert_lead(session=s, lead_id=lead_id, actor=ME)
    assert f"lead {lead_id}" in str(err.value)
    assert ("junk" if status == "junk" else "already converted") in str(err.value)
    assert counts(engine) == before


@pytest.mark.parametrize("kwargs,field", [
    ({"amount": "12.345"}, "amount"), ({"close_date": "2026-13-45"}, "close_date"),
    ({"stage": "Nirvana"}, "stage"), ({"stage": "Won"}, "stage"), ({"account_id": 999}, "account"),
])
def test_bad_conversion_input_names_the_field_and_writes_nothing(engine, kwargs, field):
    lead_id = add_lead(engine, last_name="Byron", company="Engines Ltd")
    before = counts(engine)
    with pytest.raises(ValidationError) as err:
        with session_scope(engine) as s:
            leads.convert_lead(session=s, lead_id=lead_id, actor=ME, **kwargs)
    assert err.value.field == field
    assert counts(engine) == before
    assert lead_row(engine, lead_id)["status"] == "new"


def _fail_opportunity_inserts(engine):
    """A real database failure on the opportunity insert, half way through a conversion."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("CREATE TRIGGER fail_opp BEFORE INSERT ON opportunities "
                              "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"))
        else:
            conn.execute(text("CREATE OR REPLACE FUNCTION fail_opp() RETURNS trigger AS $$ "
                              "BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER fail_opp BEFORE INSERT ON opportunities "
                              "FOR EACH ROW EXECUTE FUNCTION fail_opp()"))


def _drop_failure(engine):
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER fail_opp"))
        else:
            conn.execute(text("DROP TRIGGER fail_opp ON opportunities"))
            conn.execute(text("DROP FUNCTION fail_opp()"))


def test_failure_mid_conversion_leaves_database_unchanged(engine):
    lead_id = add_lead(engine, first_name="Ada", last_name="Byron", company="Engines Ltd", email="ada@engines.io")
    before = counts(engine)
    _fail_opportunity_inserts(engine)
    try:
        with pytest.raises(Conflict, match="injected failure"):
            with session_scope(engine) as s:
                leads.convert_lead(session=s, lead_id=lead_id, actor=ME, amount="100")
        # the account and contact were inserted before the failure: none survive
        assert counts(engine) == before
        row = lead_row(engine, lead_id)
        assert (row["status"], row["converted_account_id"], row["version"]) == ("new", None, 1)
    finally:
        _drop_failure(engine)
    with session_scope(engine) as s:
        conv = leads.convert_lead(session=s, lead_id=lead_id, actor=ME)
    assert lead_row(engine, lead_id)["converted_opportunity_id"] == conv.opportunity_id


# ---------------------------------------------------------------- contacts and tasks


def test_reports_to_self_or_loop_is_refused(engine):
    acct = add_account(engine, name="Loop Inc")
    ids = []
    with session_scope(engine) as s:
        for name in ("Boss", "Middle", "Junior"):
            data = {"last_name": name, "account": acct}
            if ids:
                data["reports_to"] = ids[-1]
            ids.append(records.create_record(contacts.ENTITY, session=s, data=data, actor=ME)["id"])
    boss, middle, junior = ids
    before = counts(engine)
    for target, field_value in ((boss, boss), (boss, junior), (middle, junior)):
        with pytest.raises(ValidationError) as err:
            with session_scope(engine) as s:
                records.update_record(contacts.ENTITY, session=s, record_id=target,
                                      data={"reports_to": field_value}, actor=ME)
        assert err.value.field == "reports_to"
        assert ("itself" if target == field_value else "loop") in str(err.value)
    assert counts(engine) == before
    with session_scope(engine) as s:
        tree = contacts.reports_tree(session=s, account_id=acct)
    assert [(depth, r["last_name"]) for depth, r in tree] == [(0, "Boss"), (1, "Middle"), (2, "Junior")]


def test_due_tasks_today_and_overdue_for_me(engine):
    today = dt.date.today()
    lead_id = add_lead(engine, last_name="Byron")
    with session_scope(engine) as s:
        log_activity(session=s, actor=ME, type="task", subject="Late", due=(today - dt.timedelta(days=1)).isoformat(),
                     links={"lead": lead_id})
        log_activity(session=s, actor=ME, type="task", subject="Now", due=f"{today.isoformat()} 23:00")
        log_activity(session=s, actor=ME, type="task", subject="Next week",
                     due=(today + dt.timedelta(days=7)).isoformat())
        log_activity(session=s, actor=ME, type="call", subject="Called")
        s.execute(text("INSERT INTO users (username, name, role, active, created_at) "
                       "VALUES ('other', 'Other', 'sales', true, CURRENT_TIMESTAMP)"))
        log_activity(session=s, actor="other", type="task", subject="Not mine", due=today.isoformat())
    noon = dt.datetime.combine(today, dt.time(12, 0)).astimezone()  # "now" fixed at noon: the test runs at any hour
    with session_scope(engine) as s:
        rows = due_tasks(session=s, actor=Actor.unknown(ME), now=noon)
    assert [(r["subject"], r["overdue"]) for r in rows] == [("Late", True), ("Now", False)]
    with pytest.raises(ValidationError) as err:
        with session_scope(engine) as s:
            log_activity(session=s, actor=ME, type="task", subject="Bad", due="31/02/2026")
    assert err.value.field == "due"

"""The timeline: activities and field changes, newest first, with who; the lead's history follows a conversion."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_tui.errors import ValidationError
from crm_tui.services import records
from crm_tui.services.engagement.activities import complete_activity, log_activity
from crm_tui.services.engagement.timeline import timeline
from crm_tui.services.sales import leads
from crm_tui.store.db import session_scope

ME = "tester"


def test_lead_timeline_merges_activities_and_changes_newest_first(engine):
    with session_scope(engine) as s:
        lead_id = leads.create_lead(session=s, data={"last_name": "Byron", "company": "Engines"}, actor=ME)[0]["id"]
        log_activity(session=s, actor=ME, type="call", subject="Intro call", links={"lead": lead_id},
                     body="Liked the demo")
    with session_scope(engine) as s:
        records.update_record(leads.ENTITY, session=s, record_id=lead_id, actor=ME,
                              data={"status": "qualified", "score": "80"})
    with session_scope(engine) as s:
        task = log_activity(session=s, actor=ME, type="task", subject="Send pricing", links={"lead": lead_id},
                            due=(dt.date.today() + dt.timedelta(days=1)).isoformat())
    with session_scope(engine) as s:
        items = timeline(session=s, entity="lead", record_id=lead_id)
    kinds = [(i.kind, i.title) for i in items]
    assert ("activity", "Intro call") in kinds and ("activity", "Send pricing") in kinds
    change = next(i for i in items if i.kind == "change")
    assert change.title == "Status changed from new to qualified; score changed from 0 to 80"
    assert "version" not in change.title
    assert all(i.who == ME for i in items)
    whens = [i.when for i in items]
    assert whens == sorted(whens, reverse=True)
    assert next(i for i in items if i.title == "Send pricing").open_task
    with session_scope(engine) as s:
        complete_activity(session=s, activity_id=task["id"], actor=ME)
        items = timeline(session=s, entity="lead", record_id=lead_id)
    assert not next(i for i in items if i.title == "Send pricing").open_task


def test_converted_records_show_the_lead_history(engine):
    with session_scope(engine) as s:
        lead_id = leads.create_lead(session=s, data={"first_name": "Ada", "last_name": "Byron",
                                                     "company": "Engines"}, actor=ME)[0]["id"]
        log_activity(session=s, actor=ME, type="meeting", subject="Discovery meeting", links={"lead": lead_id})
    with session_scope(engine) as s:
        leads.set_status(session=s, lead_id=lead_id, status="qualified", actor=ME)
    with session_scope(engine) as s:
        conv = leads.convert_lead(session=s, lead_id=lead_id, actor=ME)
    with session_scope(engine) as s:
        for entity, rid in (("account", conv.account_id), ("contact", conv.contact_id),
                            ("opportunity", conv.opportunity_id)):
            items = timeline(session=s, entity=entity, record_id=rid)
            titles = [(i.title, i.via) for i in items]
            assert ("Discovery meeting", "lead Ada Byron") in titles, entity
            assert any(i.type == "system" and "converted" in i.title and i.via == "" for i in items), entity
            assert any(i.kind == "change" and i.title.startswith(entity.capitalize()) and i.title.endswith(" created")
                       for i in items), entity
            assert any(i.title == "Converted to opportunity Engines – new business, account Engines, "
                                  "contact Ada Byron" and i.via == "lead Ada Byron" for i in items), entity
            # the system activity links to both the record and the lead: shown once
            assert sum(1 for i in items if i.type == "system") == 1


def test_unknown_entity_is_refused(engine):
    with session_scope(engine) as s, pytest.raises(ValidationError):
        timeline(session=s, entity="invoice", record_id=1)

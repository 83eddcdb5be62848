"""One follow-up concept: a lead's next follow-up is the due date of its next open follow-up task.

Scheduling a task on a lead sets it (so an overdue lead is no longer overdue); completing the task
advances it to the next open task, or clears it when none is left; moving or deleting a task
does the same. The same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from crm_tui.services import records
from crm_tui.services.engagement.activities import ENTITY as ACTIVITY
from crm_tui.services.engagement.activities import complete_activity, log_activity
from crm_tui.services.sales import leads
from crm_tui.store.db import session_scope
from crm_tui.store.models import Lead

ME = "tester"


def next_follow_up(engine, lead_id) -> dt.datetime | None:
    with session_scope(engine) as s:
        return s.get(Lead, lead_id).next_follow_up


def overdue_lead(engine) -> int:
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    with session_scope(engine) as s:
        row, _ = leads.create_lead(session=s, actor=ME, data={
            "first_name": "Ada", "last_name": "Byron", "company": "Engines Ltd", "next_follow_up": yesterday})
    return row["id"]


def is_overdue(engine, lead_id) -> bool:
    with session_scope(engine) as s:
        ids = [r["id"] for r in records.list_records(leads.ENTITY, session=s, filters={"follow_up": "overdue"})]
    return lead_id in ids


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def test_scheduling_and_completing_follow_ups_moves_the_leads_next_follow_up(engine):
    lead_id = overdue_lead(engine)
    assert is_overdue(engine, lead_id)
    in_3_days = dt.datetime.now().replace(microsecond=0, second=0) + dt.timedelta(days=3)
    in_9_days = in_3_days + dt.timedelta(days=6)
    with session_scope(engine) as s:
        later = log_activity(session=s, actor=ME, type="task", subject="Send the case study",
                             due=in_9_days.strftime("%Y-%m-%d %H:%M"), links={"lead": lead_id})
    assert next_follow_up(engine, lead_id) == in_9_days.astimezone(dt.UTC)
    assert not is_overdue(engine, lead_id)
    with session_scope(engine) as s:
        sooner = log_activity(session=s, actor=ME, type="task", subject="Call back",
                              due=in_3_days.strftime("%Y-%m-%d %H:%M"), links={"lead": lead_id})
        log_activity(session=s, actor=ME, type="call", subject="Left a voicemail", links={"lead": lead_id})
    assert next_follow_up(engine, lead_id) == in_3_days.astimezone(dt.UTC)  # the soonest open task
    with session_scope(engine) as s:
        complete_activity(session=s, activity_id=sooner["id"], actor=ME)
    assert next_follow_up(engine, lead_id) == in_9_days.astimezone(dt.UTC)  # advanced to the next one
    with session_scope(engine) as s:
        complete_activity(session=s, activity_id=later["id"], actor=ME)
    assert next_follow_up(engine, lead_id) is None  # nothing left to follow up
    assert not is_overdue(engine, lead_id)


def test_moving_or_deleting_a_follow_up_task_updates_the_lead(engine):
    lead_id = overdue_lead(engine)
    tomorrow = dt.datetime.now().replace(microsecond=0, second=0) + dt.timedelta(days=1)
    with session_scope(engine) as s:
        task = log_activity(session=s, actor=ME, type="task", subject="Call back",
                            due=tomorrow.strftime("%Y-%m-%d %H:%M"), links={"lead": lead_id})
    next_week = tomorrow + dt.timedelta(days=7)
    with session_scope(engine) as s:
        records.update_record(ACTIVITY, session=s, record_id=task["id"], actor=ME,
                              data={"due": next_week.strftime("%Y-%m-%d %H:%M")})
    assert next_follow_up(engine, lead_id) == next_week.astimezone(dt.UTC)
    with session_scope(engine) as s:
        records.delete_record(ACTIVITY, session=s, record_id=task["id"], actor=ME)
    assert next_follow_up(engine, lead_id) is None


def test_an_edit_opened_before_the_task_cannot_write_the_old_date_back(engine):
    import pytest

    from crm_tui.errors import Conflict

    lead_id = overdue_lead(engine)
    with session_scope(engine) as s:
        version = s.get(Lead, lead_id).version
    tomorrow = dt.datetime.now().replace(microsecond=0, second=0) + dt.timedelta(days=1)
    with session_scope(engine) as s:
        log_activity(session=s, actor=ME, type="task", subject="Call back",
                     due=tomorrow.strftime("%Y-%m-%d %H:%M"), links={"lead": lead_id})
    with pytest.raises(Conflict), session_scope(engine) as s:
        records.update_record(leads.ENTITY, session=s, record_id=lead_id, actor=ME, expected_version=version,
                              data={"next_follow_up": "2020-01-01 09:00"})
    assert next_follow_up(engine, lead_id) == tomorrow.astimezone(dt.UTC)


def test_a_follow_up_due_today_is_listed_once_as_my_task(engine):
    from crm_tui.services.engagement.activities import due_tasks
    from crm_tui.services.users import resolve_actor

    lead_id = overdue_lead(engine)
    with session_scope(engine) as s:
        actor = resolve_actor(session=s, username=ME)
        assert [r["id"] for r in leads.due_follow_ups(session=s, actor=actor)] == [lead_id]
    soon = dt.datetime.now().replace(microsecond=0, second=0) - dt.timedelta(minutes=5)
    with session_scope(engine) as s:
        log_activity(session=s, actor=ME, type="task", subject="Call back",
                     due=soon.strftime("%Y-%m-%d %H:%M"), links={"lead": lead_id})
    with session_scope(engine) as s:
        assert [t["subject"] for t in due_tasks(session=s, actor=actor)] == ["Call back"]
        assert leads.due_follow_ups(session=s, actor=actor) == []

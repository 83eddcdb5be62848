"""The scheduled jobs on the app's timer: they run in a thread worker, their results and
failures become notifications, and a failure never ends the app."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from ui_helpers import make, wait_until

from crm_tui.errors import Conflict
from crm_tui.services import jobs, records
from crm_tui.services.jobs import Job, Schedule
from crm_tui.services.quotes import proposals as P
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, JobRun

USER = "tester"
TICK = 0.05  # seconds between the timer's runs in these tests (the app's is 60)


@pytest.fixture(autouse=True)
def only_the_followups_job(monkeypatch):
    """The follow-ups job stands for every job here; the others are tested in their own modules."""
    monkeypatch.setattr(jobs, "JOBS", {"proposal-followups": jobs.JOBS["proposal-followups"]})


def unanswered_proposal(engine) -> str:
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, data={"name": "Ωmega SA"}, actor=USER)
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                                    data={"name": "Fleet", "account": acc["id"], "stage": "Proposal"})
        view = P.new_proposal(session=s, opportunity_id=opp["id"], actor=USER)
        P.save_proposal(session=s, proposal_id=view.id, actor=USER, expected_version=None,
                        lines=[{"description": "Seats", "quantity": "2", "unit_price": "10"}])
        P.send_proposal(session=s, proposal_id=view.id, actor=USER,
                        now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=4))
        return view.number


def tasks(engine) -> list[str]:
    with session_scope(engine) as s:
        return list(s.execute(select(Activity.subject).where(Activity.type == "task")).scalars())


def messages(app, severity: str | None = None) -> list[str]:
    return [str(n.message) for n in app._notifications if severity is None or n.severity == severity]


async def test_the_timer_makes_the_due_followup_once_in_a_thread_and_says_so(engine, monkeypatch):
    number = unanswered_proposal(engine)
    threads = []
    real = jobs.run_due_jobs

    def spy(**kwargs):
        threads.append(threading.get_ident())
        return real(**kwargs)

    monkeypatch.setattr(jobs, "run_due_jobs", spy)
    app = make(engine)
    app.jobs_interval = TICK
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: len(threads) >= 3, what="three timer ticks")
        assert any(f"1 follow-up task for proposals unanswered after 3 days: {number}" in m
                   for m in messages(app, "information"))
        assert app._loop_thread not in threads  # never on the event loop
    assert [number in t for t in tasks(engine)] == [True]
    with session_scope(engine) as s:
        assert s.execute(select(JobRun.job, JobRun.status)).all() == [("proposal-followups", "ok")]


async def test_a_failing_job_is_a_notification_and_the_app_goes_on(engine, monkeypatch):
    def broken(ctx):
        raise Conflict("the outbox is full")

    monkeypatch.setattr(jobs, "JOBS", {"outbox": Job("outbox", "fails", Schedule.every(1), broken)})
    app = make(engine)
    app.jobs_interval = TICK
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: messages(app, "error"), what="the failure notification")
        assert any("outbox" in m and "error, the outbox is full" in m for m in messages(app, "error"))
        assert app.is_running and app.return_code is None
        await pilot.press("f2")  # still answering keys
    with session_scope(engine) as s:
        assert s.execute(select(JobRun.status, JobRun.message)).all() == [("error", "the outbox is full")]


async def test_jobs_that_cannot_run_at_all_are_a_notification_not_a_crash(engine, monkeypatch):
    def unreachable(**kwargs):
        raise RuntimeError("connection reset by peer")

    monkeypatch.setattr(jobs, "run_due_jobs", unreachable)
    app = make(engine)
    app.jobs_interval = TICK
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: messages(app, "error"), what="the failure notification")
        assert any("Scheduled jobs could not run: RuntimeError: connection reset by peer" in m
                   for m in messages(app, "error"))
        assert app.is_running and app.return_code is None

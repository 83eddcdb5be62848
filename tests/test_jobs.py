"""Scheduled jobs (services/jobs.py, `crm jobs`): schedules, claiming a slot once, outcomes,
runners at the same time on SQLite and PostgreSQL, the CLI, and the job_runs migration."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import func, inspect, select

from crm_tui.errors import Conflict, ValidationError
from crm_tui.services import jobs, records
from crm_tui.services.jobs import Job, Schedule
from crm_tui.services.quotes import proposals as P
from crm_tui.services.registry import ENTITIES
from crm_tui.store import db as store_db
from crm_tui.store.db import open_engine, session_scope
from crm_tui.store.models import Activity, JobRun, Proposal

UTC = dt.timezone.utc
TOKYO = dt.timezone(dt.timedelta(hours=9), "JST")  # a fixed offset: no tz database needed
FOLLOWUPS = "proposal-followups"


@pytest.fixture(autouse=True)
def only_the_followups_job(monkeypatch):
    """These tests are about the runner and the follow-ups job: the other jobs (notification e-mail, ...)
    are left out of the registry here and tested in their own modules."""
    monkeypatch.setattr(jobs, "JOBS", {FOLLOWUPS: jobs.JOBS[FOLLOWUPS]})


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def sent_proposals(engine, n: int, *, days_ago: float = 4) -> list[int]:
    """``n`` proposals sent ``days_ago`` days ago and not answered: their follow-up is due."""
    sent_at = dt.datetime.now(UTC) - dt.timedelta(days=days_ago)
    ids = []
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, data={"name": "Nordlicht GmbH"}, actor="alice")
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor="alice",
                                    data={"name": "Rollout", "account": acc["id"], "stage": "Proposal"})
        for _ in range(n):
            view = P.new_proposal(session=s, opportunity_id=opp["id"], actor="alice")
            P.save_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=None,
                            lines=[{"description": "Seats", "quantity": "3", "unit_price": "49.90"}])
            P.send_proposal(session=s, proposal_id=view.id, actor="alice", now=sent_at)
            ids.append(view.id)
    return ids


def followup_tasks(engine) -> list[tuple[int, int | None]]:
    """(task id, proposal id) of every follow-up task, and checks each proposal points at its own."""
    with session_scope(engine) as s:
        tasks = s.execute(select(Activity.id, Activity.subject).where(Activity.type == "task")).all()
        links = dict(s.execute(select(Proposal.followup_activity_id, Proposal.id)
                               .where(Proposal.followup_activity_id.is_not(None))).all())
    assert {t.id for t in tasks} == set(links), "a task without its proposal, or a proposal without its task"
    return sorted((t.id, links[t.id]) for t in tasks)


def runs(engine) -> list[tuple[str, str, str, str | None]]:
    with session_scope(engine) as s:
        return [tuple(r) for r in s.execute(select(JobRun.job, JobRun.slot, JobRun.status, JobRun.message)
                                            .order_by(JobRun.id)).all()]


class Counting:
    """A job that counts its runs and, if told to, fails after writing (the write must roll back)."""

    def __init__(self, fail: str | None = None):
        self.calls: list[tuple[str, dt.datetime]] = []
        self.fail = fail

    def __call__(self, ctx):
        self.calls.append((ctx.slot, ctx.now))
        if self.fail:
            records.create_record(ENTITIES["account"], session=ctx.session, data={"name": "Half written"},
                                  actor="jobs")
            raise Conflict(self.fail)
        return f"run {len(self.calls)}"


# ---------------------------------------------------------------- schedules


def test_every_n_minutes_slots_follow_the_clock_in_utc():
    every15 = Schedule.every(15)
    assert every15.slot(at("2026-03-05T09:14:59")) == "2026-03-05T09:00Z"
    assert every15.slot(at("2026-03-05T09:15:00")) == "2026-03-05T09:15Z"
    assert every15.slot(at("2026-03-05T09:15:00").astimezone(TOKYO)) == "2026-03-05T09:15Z"
    assert Schedule.every(1).slot(at("2026-03-05T23:59:59")) == "2026-03-05T23:59Z"
    assert (every15.describe(), Schedule.every(1).describe()) == ("every 15 minutes", "every minute")


def test_daily_job_is_due_from_its_local_time_until_the_end_of_the_local_day():
    at8 = Schedule.daily("08:00")
    assert at8.describe() == "daily at 08:00"
    # 07:59 in Tokyo is 22:59 UTC the day before: not due yet
    assert at8.slot(at("2026-03-04T22:59:00"), TOKYO) is None
    # 08:00 in Tokyo: the slot is Tokyo's date, not UTC's
    assert at8.slot(at("2026-03-04T23:00:00"), TOKYO) == "2026-03-05"
    assert at8.slot(at("2026-03-05T14:59:00"), TOKYO) == "2026-03-05"  # 23:59 local: the same slot
    assert at8.slot(at("2026-03-05T15:00:00"), TOKYO) is None  # 00:00 local next day: not yet
    with pytest.raises(ValueError):
        Schedule()
    with pytest.raises(ValueError):
        Schedule(every_minutes=5, daily_at=dt.time(8))


# ---------------------------------------------------------------- due, not due, once per slot


def test_a_job_runs_once_per_slot_and_again_in_the_next(engine):
    counting = Counting()
    registry = {"tick": Job("tick", "counts", Schedule.every(15), counting)}
    first = jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:14:00"), registry=registry)
    assert [(r.job, r.slot, r.status, r.message) for r in first] == [("tick", "2026-03-05T09:00Z", "ok", "run 1")]
    assert jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:14:59"), registry=registry) == []
    with session_scope(engine) as s:
        assert jobs.due_jobs(session=s, now=at("2026-03-05T09:14:59"), registry=registry) == []
        due = jobs.due_jobs(session=s, now=at("2026-03-05T09:15:00"), registry=registry)
    assert [(d.job, d.slot, d.status) for d in due] == [("tick", "2026-03-05T09:15Z", "due")]
    again = jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:15:00"), registry=registry)
    assert [r.slot for r in again] == ["2026-03-05T09:15Z"]
    assert [slot for slot, _ in counting.calls] == ["2026-03-05T09:00Z", "2026-03-05T09:15Z"]
    assert [(j, s, st) for j, s, st, _ in runs(engine)] == [("tick", "2026-03-05T09:00Z", "ok"),
                                                           ("tick", "2026-03-05T09:15Z", "ok")]


def test_daily_job_runs_once_a_local_day_from_its_time(engine):
    counting = Counting()
    registry = {"summary": Job("summary", "daily", Schedule.daily("08:00"), counting)}

    def run(utc_text):
        return [r.slot for r in jobs.run_due_jobs(engine=engine, now=at(utc_text), tz=TOKYO, registry=registry)]

    assert run("2026-03-04T22:59:00") == []  # 07:59 in Tokyo
    assert run("2026-03-04T23:00:00") == ["2026-03-05"]  # 08:00
    assert run("2026-03-05T03:00:00") == []  # 12:00 the same day
    assert run("2026-03-05T23:30:00") == ["2026-03-06"]  # 08:30 the next day
    assert len(counting.calls) == 2


def test_dry_run_lists_what_is_due_and_writes_nothing(engine):
    sent_proposals(engine, 1)
    with session_scope(engine) as s:
        due = jobs.due_jobs(session=s)
    assert [d.job for d in due] == [FOLLOWUPS]
    assert runs(engine) == [] and followup_tasks(engine) == []


# ---------------------------------------------------------------- proposal follow-ups


def test_followups_job_makes_one_task_per_unanswered_proposal_however_often_it_runs(engine):
    ids = sent_proposals(engine, 3)
    sent_proposals(engine, 1, days_ago=1)  # not due yet
    now = dt.datetime.now(UTC)
    [result] = jobs.run_due_jobs(engine=engine, now=now)
    assert result.job == FOLLOWUPS and result.status == "ok"
    assert result.message.startswith("3 follow-up tasks for proposals unanswered after 3 days: PRO-")
    tasks = followup_tasks(engine)
    assert sorted(pid for _, pid in tasks) == ids
    # the same slot again: nothing; a forced run and a later slot: still one task per proposal
    assert jobs.run_due_jobs(engine=engine, now=now) == []
    forced = jobs.run_job(engine=engine, name=FOLLOWUPS)
    assert (forced.status, forced.message) == ("ok", None)
    assert forced.slot.startswith("manual ")
    jobs.run_due_jobs(engine=engine, now=now + dt.timedelta(minutes=15))
    assert followup_tasks(engine) == tasks
    with session_scope(engine) as s:
        task = s.get(Activity, tasks[0][0])
        assert task.completed_at is None and "PRO-" in task.subject


def test_a_failing_job_is_recorded_rolled_back_and_the_others_still_run(engine):
    failing, fine = Counting(fail="the mail server said no"), Counting()
    registry = {"broken": Job("broken", "fails", Schedule.every(1), failing),
                "fine": Job("fine", "works", Schedule.every(1), fine)}
    results = jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:00:00"), registry=registry)
    assert [(r.job, r.status, r.message) for r in results] == [("broken", "error", "the mail server said no"),
                                                               ("fine", "ok", "run 1")]
    assert results[0].line() == "broken 2026-03-05T09:00Z: error, the mail server said no"
    with session_scope(engine) as s:
        assert records.list_records(ENTITIES["account"], session=s) == []  # the failed job's write is gone
        listed = {r["job"]: r for r in jobs.list_jobs(session=s, registry=registry)}
    assert (listed["broken"]["outcome"], listed["broken"]["message"]) == ("error", "the mail server said no")
    assert listed["fine"]["outcome"] == "ok" and listed["fine"]["last_run"] == at("2026-03-05T09:00:00")
    # a failed slot is not retried; the next slot runs
    assert jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:00:30"), registry=registry) == []
    assert len(jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:01:00"), registry=registry)) == 2


def test_unknown_job_names_the_jobs():
    with pytest.raises(ValidationError) as exc:
        jobs.get_job("proposal-folowups")
    assert "proposal-folowups" in str(exc.value) and FOLLOWUPS in str(exc.value)


def test_old_runs_are_forgotten(engine):
    registry = {"tick": Job("tick", "counts", Schedule.every(1), Counting())}
    jobs.run_due_jobs(engine=engine, now=at("2026-01-01T09:00:00"), registry=registry)
    jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:00:00"), registry=registry)
    assert [slot for _, slot, _, _ in runs(engine)] == ["2026-03-05T09:00Z"]


# ---------------------------------------------------------------- runners at the same time


def _race(db_url: str, n: int, work) -> list:
    """Run ``work(engine)`` in ``n`` threads at once, each with its own engine (as two machines)."""
    engines = [open_engine(db_url) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def go(i):
        try:
            barrier.wait(10)
            results[i] = work(engines[i])
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for e in engines:
            e.dispose()
    assert not errors, errors
    return results


def test_two_runners_at_once_claim_a_slot_once_and_make_one_task_per_proposal(engine, db_url):
    ids = sent_proposals(engine, 8)
    now = dt.datetime.now(UTC)
    results = _race(db_url, 2, lambda eng: jobs.run_due_jobs(engine=eng, now=now))
    flat = [r for per_runner in results for r in per_runner]
    assert sorted(r.status for r in flat if r.job == FOLLOWUPS) in (["ok"], ["ok", "skipped"])
    assert sorted(pid for _, pid in followup_tasks(engine)) == ids
    assert [status for job, _, status, _ in runs(engine) if job == FOLLOWUPS] == ["ok"]


def test_forced_runs_at_once_still_make_one_task_per_proposal(engine, db_url):
    """Forced runs each have a slot of their own, so the job itself races: its writes are idempotent."""
    ids = sent_proposals(engine, 8)

    def three_runs(eng):
        return [jobs.run_job(engine=eng, name=FOLLOWUPS).status for _ in range(3)]

    assert _race(db_url, 2, three_runs) == [["ok"] * 3, ["ok"] * 3]
    assert sorted(pid for _, pid in followup_tasks(engine)) == ids
    with session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(Activity).where(Activity.type == "task")).scalar() == 8


# ---------------------------------------------------------------- the CLI


def test_cli_jobs_run_prints_a_line_per_run_then_nothing_until_due(cli, engine):
    sent_proposals(engine, 1)
    dry = cli("jobs", "run", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout == "" and f"{FOLLOWUPS} " in dry.stderr and "due, would run" in dry.stderr
    assert runs(engine) == []
    first = cli("jobs", "run")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == ""
    [line] = first.stderr.splitlines()
    assert line.startswith(f"{FOLLOWUPS} ") and ": ok, 1 follow-up task for proposals unanswered" in line
    assert len(followup_tasks(engine)) == 1
    again = cli("jobs", "run")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "")
    assert "no job is due" in cli("jobs", "run", "--dry-run").stderr
    forced = cli("jobs", "run", "--job", FOLLOWUPS)
    assert forced.exit_code == 0 and ": ok, nothing to do" in forced.stderr
    assert len(followup_tasks(engine)) == 1


def test_cli_jobs_list_shows_schedule_last_run_and_outcome(cli, engine):
    before = json.loads(cli("jobs", "list", "--format", "json").stdout)
    assert [(r["job"], r["schedule"], r["last_run"], r["outcome"]) for r in before] == [
        (FOLLOWUPS, "every 15 minutes", None, None)]
    sent_proposals(engine, 2)
    assert cli("jobs", "run").exit_code == 0
    [row] = json.loads(cli("jobs", "list", "--format", "json").stdout)
    assert row["outcome"] == "ok" and row["message"].startswith("2 follow-up tasks")
    assert dt.datetime.fromisoformat(row["last_run"]) <= dt.datetime.now(UTC)
    table = cli("jobs", "list")
    assert table.exit_code == 0 and FOLLOWUPS in table.stdout and "every 15 minutes" in table.stdout
    assert cli("jobs").stdout == table.stdout


def test_cli_jobs_errors_are_one_line(cli, engine, monkeypatch):
    assert "proposal-followups" in cli.error(cli("jobs", "run", "--job", "nope"))
    assert "nope" in cli.error(cli("jobs", "run", "--job", "nope", "--dry-run"))
    monkeypatch.setattr(jobs, "JOBS", {"broken": Job("broken", "fails", Schedule.every(1),
                                                     Counting(fail="SMTP refused"))})
    scheduled = cli("jobs", "run")
    assert scheduled.exit_code == 0  # from cron: recorded, shown by `crm jobs list`, not an exit code
    assert scheduled.stderr.startswith("broken ") and scheduled.stderr.strip().endswith(": error, SMTP refused")
    forced = cli("jobs", "run", "--job", "broken")
    assert forced.exit_code == 1 and "error, SMTP refused" in forced.stderr and "Traceback" not in forced.output
    [row] = json.loads(cli("jobs", "list", "--format", "json").stdout)
    assert (row["outcome"], row["message"]) == ("error", "SMTP refused")


# ---------------------------------------------------------------- the migration


def test_job_runs_migration_upgrades_and_downgrades(blank_url):
    from alembic import command

    engine = store_db.make_engine(blank_url)
    try:
        store_db.upgrade(engine, "0006_history_keys")
        with engine.connect() as conn:
            assert not inspect(conn).has_table("job_runs")
        store_db.upgrade(engine, "0007_job_runs")
        with engine.connect() as conn:
            uniques = inspect(conn).get_unique_constraints("job_runs")
        assert [u["column_names"] for u in uniques] == [["job", "slot"]]
        jobs.run_due_jobs(engine=engine, now=at("2026-03-05T09:00:00"))
        assert [(j, s, st) for j, s, st, _ in runs(engine)] == [(FOLLOWUPS, "2026-03-05T09:00Z", "ok")]
        command.downgrade(store_db.alembic_config(engine), "0006_history_keys")
        with engine.connect() as conn:
            assert not inspect(conn).has_table("job_runs")
        assert store_db.current_revision(engine) == "0006_history_keys"
        store_db.upgrade(engine)
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        assert runs(engine) == []
    finally:
        engine.dispose()

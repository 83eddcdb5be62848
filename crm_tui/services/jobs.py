"""Scheduled work: a registry of named jobs, each with a schedule, and one way to run what is due.

``crm jobs run`` (from cron, every minute) and the TUI's timer both call
``run_due_jobs``. It is safe to run as often and from as many places at once as
you like, on SQLite and on a PostgreSQL server shared by several machines:

- Every job has a schedule: every N minutes, or daily at HH:MM local time. The
  schedule names the current *slot* (``2026-03-05T09:15Z``; a daily job's slot is
  the local date, due from HH:MM on). A slot runs once.
- A runner claims a slot by inserting its ``job_runs`` row; (job, slot) is unique,
  so one INSERT wins (``ON CONFLICT DO NOTHING``) and only that runner runs the
  job. The claim commits before the job starts; the job runs in a transaction
  of its own; its outcome (ok and what it did, or the error) is written to the
  claimed row afterwards. A failed slot is not retried: the next slot runs, or
  ``crm jobs run --job NAME`` forces a run now.
- The jobs' own writes are idempotent too (a forced run may overlap a scheduled
  one): e.g. a proposal's follow-up task is claimed on the proposal row with a
  conditional UPDATE, so it is never made twice.

Adding a job is one entry in ``JOBS``: a name, a one-line help, a schedule and a
function ``run(ctx) -> str | None`` that does its work with ``ctx.session`` (one
transaction) and returns what it did in one line (None: nothing to do).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from crm_tui.errors import CRMError, ValidationError
from crm_tui.store.db import session_scope
from crm_tui.store.models import JobRun, utcnow

log = logging.getLogger(__name__)

RUNS = JobRun.__table__
KEEP_RUNS_DAYS = 30  # job_runs rows older than this are deleted after each run
MAX_MESSAGE = 1000


# ---------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    """Every ``every_minutes`` minutes (slots aligned to the clock in UTC), or daily at
    ``daily_at`` local time (due from that time until the end of the local day)."""

    every_minutes: int | None = None
    daily_at: dt.time | None = None

    def __post_init__(self) -> None:
        if (self.every_minutes is None) == (self.daily_at is None):
            raise ValueError("a schedule is either every N minutes or daily at HH:MM")
        if self.every_minutes is not None and not 1 <= self.every_minutes <= 24 * 60:
            raise ValueError("every_minutes must be between 1 and 1440")

    @classmethod
    def every(cls, minutes: int) -> Schedule:
        return cls(every_minutes=minutes)

    @classmethod
    def daily(cls, hhmm: str) -> Schedule:
        hours, _, minutes = hhmm.partition(":")
        return cls(daily_at=dt.time(int(hours), int(minutes)))

    def slot(self, now: dt.datetime, tz: dt.tzinfo | None = None) -> str | None:
        """The slot due at ``now`` (an aware datetime), or None when nothing is due yet today."""
        now = _aware(now)
        if self.every_minutes is not None:
            minutes = int(now.timestamp() // 60)
            start = minutes - minutes % self.every_minutes
            return dt.datetime.fromtimestamp(start * 60, dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
        assert self.daily_at is not None
        local = now.astimezone(tz)  # tz None: this machine's local time zone
        if local.time().replace(tzinfo=None) < self.daily_at:
            return None
        return local.date().isoformat()

    def describe(self) -> str:
        if self.every_minutes is not None:
            return "every minute" if self.every_minutes == 1 else f"every {self.every_minutes} minutes"
        assert self.daily_at is not None
        return f"daily at {self.daily_at:%H:%M}"


def _aware(value: dt.datetime) -> dt.datetime:
    """``now`` as given by a caller: a moment, never a wall-clock time without a zone."""
    if value.tzinfo is None:
        raise ValueError(f"now={value.isoformat()} has no time zone: pass an aware datetime")
    return value


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class JobContext:
    """What a job gets: a session in its own transaction (committed if the job returns),
    the time of the run (aware UTC) and the slot it runs for."""

    session: Session
    now: dt.datetime
    slot: str
    settings: Any = None  # crm_tui.settings.Settings of the caller (None: the defaults)


@dataclass(frozen=True)
class Job:
    name: str
    help: str
    schedule: Schedule
    run: Callable[[JobContext], str | None]


def _proposal_followups(ctx: JobContext) -> str | None:
    from crm_tui.services.quotes.proposals import FOLLOWUP_DAYS, create_due_followups

    made = create_due_followups(session=ctx.session, now=ctx.now)
    if not made:
        return None
    numbers = ", ".join(task["number"] for task in made[:10]) + (", …" if len(made) > 10 else "")
    noun = "task" if len(made) == 1 else "tasks"
    return f"{len(made)} follow-up {noun} for proposals unanswered after {FOLLOWUP_DAYS} days: {numbers}"


def _notifications_email(ctx: JobContext) -> str | None:
    from crm_tui.services.outbox import send_pending

    smtp = ctx.settings.smtp if ctx.settings is not None else None
    return send_pending(engine=ctx.session.get_bind(), smtp=smtp, now=ctx.now, runner=runner_name())


JOBS: dict[str, Job] = {job.name: job for job in (
    Job("proposal-followups", "A task for the owner of every proposal sent without a response for 3 days",
        Schedule.every(15), _proposal_followups),
    Job("notifications_email", "Send the notification e-mails waiting in the outbox (config \"smtp\")",
        Schedule.every(1), _notifications_email),
    # Next: payment-reminders, daily-summary (Schedule.daily("08:00")), webhook-retries, notification-mail.
)}


def get_job(name: str, registry: dict[str, Job] | None = None) -> Job:
    jobs = JOBS if registry is None else registry
    job = jobs.get((name or "").strip())
    if job is None:
        raise ValidationError("job", name, f"is not a job; jobs are: {', '.join(jobs)}")
    return job


# ---------------------------------------------------------------- running


@dataclass(frozen=True)
class RunResult:
    """One job run (or, with ``status`` "due", one that a dry run would start)."""

    job: str
    slot: str
    status: str  # ok, error, skipped (another runner claimed the slot first), due (dry run)
    message: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    def line(self) -> str:
        """One line for a log or stderr: ``proposal-followups 2026-03-05T09:15Z: ok, 2 follow-up tasks …``."""
        what = {"ok": "ok", "error": "error", "skipped": "skipped", "due": "due"}.get(self.status, self.status)
        detail = self.message or {"ok": "nothing to do", "skipped": "another runner has this slot",
                                  "due": "would run"}.get(self.status, "")
        return f"{self.job} {self.slot}: {what}" + (f", {detail}" if detail else "")


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _upsert(session: Session) -> Any:
    """The dialect's INSERT, the one with ON CONFLICT (PostgreSQL and SQLite 3.24+ both have it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def _claim(engine: Engine, job: Job, slot: str, now: dt.datetime) -> int | None:
    """Insert the (job, slot) row and commit; its id, or None if another runner has the slot."""
    with session_scope(engine) as s:
        stmt = (_upsert(s)(RUNS).values(job=job.name, slot=slot, status="running", started_at=now,
                                    runner=runner_name())
                .on_conflict_do_nothing(index_elements=[RUNS.c.job, RUNS.c.slot]).returning(RUNS.c.id))
        return s.execute(stmt).scalar()


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, CRMError):
        text = str(exc)
    elif isinstance(exc, DBAPIError) and exc.orig is not None:
        text = f"database error: {str(exc.orig).strip()}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split()) or type(exc).__name__
    return text[:MAX_MESSAGE]


def _execute(engine: Engine, job: Job, slot: str, run_id: int, now: dt.datetime, settings: Any = None) -> RunResult:
    """Run a claimed job in its own transaction, then record the outcome on its row."""
    try:
        with session_scope(engine) as s:
            message = job.run(JobContext(session=s, now=now, slot=slot, settings=settings))
        status = "ok"
    except Exception as exc:  # any failure of a job is its outcome, never the runner's crash
        log.exception("job %s (slot %s) failed", job.name, slot)
        status, message = "error", _one_line(exc)
    finished = utcnow()
    message = message[:MAX_MESSAGE] if message else None
    with session_scope(engine) as s:
        s.execute(update(RUNS).where(RUNS.c.id == run_id)
                  .values(status=status, message=message, finished_at=finished))
    return RunResult(job=job.name, slot=slot, status=status, message=message, started_at=now, finished_at=finished)


def _jobs(registry: dict[str, Job] | None) -> Iterable[Job]:
    return (JOBS if registry is None else registry).values()


def due_jobs(*, session: Session, now: dt.datetime | None = None, tz: dt.tzinfo | None = None,
             registry: dict[str, Job] | None = None) -> list[RunResult]:
    """The jobs whose current slot nobody has claimed yet (status "due"). Reads only."""
    now = _aware(now or utcnow())
    wanted: list[tuple[Job, str]] = []
    for job in _jobs(registry):
        slot = job.schedule.slot(now, tz)
        if slot is not None:
            wanted.append((job, slot))
    if not wanted:
        return []
    taken = {(r.job, r.slot) for r in session.execute(select(RUNS.c.job, RUNS.c.slot).where(
        RUNS.c.job.in_([job.name for job, _ in wanted]), RUNS.c.slot.in_({slot for _, slot in wanted})))}
    return [RunResult(job=job.name, slot=slot, status="due") for job, slot in wanted if (job.name, slot) not in taken]


def run_due_jobs(*, engine: Engine, now: dt.datetime | None = None, tz: dt.tzinfo | None = None,
                 registry: dict[str, Job] | None = None, settings: Any = None) -> list[RunResult]:
    """Run every job whose current slot is unclaimed; one result per job this runner tried.

    Idempotent: a second call for the same slot does nothing. A job's failure is recorded
    as its outcome and the other jobs still run; only the database itself failing raises.
    """
    now = _aware(now or utcnow())
    jobs = JOBS if registry is None else registry
    with session_scope(engine) as s:
        due = due_jobs(session=s, now=now, tz=tz, registry=jobs)
    results = []
    for item in due:
        job = jobs[item.job]
        run_id = _claim(engine, job, item.slot, now)
        if run_id is None:
            results.append(RunResult(job=job.name, slot=item.slot, status="skipped"))
            continue
        results.append(_execute(engine, job, item.slot, run_id, now, settings))
    if results:
        _forget_old_runs(engine, now)
    return results


def run_job(*, engine: Engine, name: str, now: dt.datetime | None = None,
            registry: dict[str, Job] | None = None, settings: Any = None) -> RunResult:
    """Run one job now, due or not (``crm jobs run --job NAME``), in a slot of its own."""
    job = get_job(name, registry)
    now = _aware(now or utcnow())
    slot = f"manual {now:%Y-%m-%dT%H:%M:%S}Z {secrets.token_hex(4)}"
    run_id = _claim(engine, job, slot, now)
    assert run_id is not None  # a fresh random slot
    return _execute(engine, job, slot, run_id, now, settings)


def _forget_old_runs(engine: Engine, now: dt.datetime) -> None:
    with session_scope(engine) as s:
        s.execute(delete(RUNS).where(RUNS.c.started_at < now - dt.timedelta(days=KEEP_RUNS_DAYS),
                                     RUNS.c.status != "running"))


# ---------------------------------------------------------------- reading


LIST_COLUMNS = ("job", "schedule", "last_run", "outcome", "message")


def list_jobs(*, session: Session, registry: dict[str, Job] | None = None) -> list[dict[str, Any]]:
    """Every job with its schedule and its latest run: when, for which slot, outcome and message."""
    jobs = list(_jobs(registry))
    latest = (select(RUNS.c.job, func.max(RUNS.c.id).label("id")).where(RUNS.c.job.in_([j.name for j in jobs]))
              .group_by(RUNS.c.job).subquery())
    last = {r.job: r for r in session.execute(select(RUNS).join(latest, latest.c.id == RUNS.c.id))}
    rows = []
    for job in jobs:
        run = last.get(job.name)
        rows.append({
            "job": job.name, "schedule": job.schedule.describe(), "help": job.help,
            "last_run": run.started_at if run else None, "last_slot": run.slot if run else None,
            "outcome": run.status if run else None, "message": run.message if run else None,
            "finished_at": run.finished_at if run else None,
        })
    return rows

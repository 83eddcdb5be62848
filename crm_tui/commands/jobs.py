"""`crm jobs run|list`: the scheduled jobs (proposal follow-ups, ...), for cron and for people.

Run `crm jobs run` from cron every minute, on as many machines as you like: each
job's slot runs once (services/jobs.py). The TUI runs the same jobs on a timer.
"""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import Format, State, info, session, settings
from crm_tui.commands._output import output_options

jobs_app = typer.Typer(help="Scheduled jobs: run what is due (from cron every minute), list them. "
                            "`crm jobs` alone lists them.", no_args_is_help=False)


@jobs_app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        list_jobs(Format.table)


@jobs_app.command("run")
def run(
    job: Optional[str] = typer.Option(None, "--job", help="Run this job now, due or not"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list the jobs that are due; run nothing"),
) -> None:
    """Run every job that is due, once (safe from cron every minute and from several machines).

    One line per job run on stderr; exit 0 (a job's failure is recorded and shown by `crm jobs list`).
    With --job the run is forced and a failure exits 1.
    """
    from crm_tui.services import jobs

    if dry_run:
        with session() as s:
            if job is not None:
                jobs.get_job(job)
                info(f"{job}: would run now (--job runs it whether due or not)")
                return
            due = jobs.due_jobs(session=s)
        for item in due:
            info(item.line())
        if not due:
            info("no job is due")
        return
    if job is not None:
        result = jobs.run_job(engine=State.engine(), name=job, settings=settings())
        info(result.line())
        if result.status == "error":
            raise typer.Exit(1)
        return
    results = jobs.run_due_jobs(engine=State.engine(), settings=settings())
    for result in results:
        info(result.line())


@jobs_app.command("list")
@output_options(formats=(Format.table, Format.csv, Format.json, Format.ndjson))
def list_jobs(fmt: Format = Format.table) -> None:
    """Every job: its schedule, its last run and that run's outcome."""
    from crm_tui.commands._output import emit
    from crm_tui.services import jobs

    with session() as s:
        rows = jobs.list_jobs(session=s)
    emit(rows, fmt, table_columns=jobs.LIST_COLUMNS)

"""`crm`: the command line. With no arguments it opens the TUI.

Only Typer is imported up front; SQLAlchemy, the services and Textual load
inside the commands that need them, so `crm --help` stays quick.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Optional

import typer

from crm_tui import __version__
from crm_tui.commands._common import State, fail, settings
from crm_tui.commands._lazy import ALIASES, LAZY, LazyGroup

DEBUG_ENV = "CRM_DEBUG"


@contextlib.contextmanager
def error_boundary():
    """The one place a CLI failure becomes what the user sees: one line on stderr and exit 1.

    Known errors print their message, database errors a clear reason, anything else
    ``unexpected TypeName: message`` with a hint; ``CRM_DEBUG=1`` also prints the traceback.
    Click's own exits and usage errors (exit 2) pass through; a closed pipe (`crm ... | head`)
    ends quietly with exit 0.
    """
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
        raise
    except BrokenPipeError:
        _quiet_stdout()
        raise typer.Exit(0) from None
    except Exception as exc:  # noqa: BLE001 - this is the boundary
        from crm_tui.errors import one_line, user_error
        from crm_tui.text import visible

        if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
            import traceback

            traceback.print_exc(file=sys.stderr)
        typer.echo(f"error: {visible(one_line(str(user_error(exc))), one_line=True)}", err=True)
        raise typer.Exit(1) from None


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the final flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class Root(LazyGroup):
    """The `crm` group: every command runs inside the error boundary."""

    def invoke(self, ctx):
        with error_boundary():
            return super().invoke(ctx)


app = typer.Typer(
    name="crm",
    cls=Root,
    help="A CRM that lives in the terminal. Run `crm` alone to open the app; use the commands to script it.",
    no_args_is_help=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crm-tui {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(
        None, "--db", envvar="CRM_DATABASE_URL", show_envvar=True,
        help="Database: a SQLite file path or a SQLAlchemy URL such as postgresql+psycopg://user@host/db",
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """A CRM that lives in the terminal."""
    State.reset()
    State.db = db
    if ctx.invoked_subcommand != "config":  # `crm config path` still finds a broken file
        settings()  # read once; a broken config file stops every command here, before a database opens
    if ctx.invoked_subcommand is None:
        run_tui(db)


def run_tui(db: str | None) -> None:
    """Open the TUI. It paints first and opens the database in the background; a database that
    cannot be opened ends the app with one line on stderr and exit code 1, never a traceback."""
    from crm_tui.database import quick_check
    from crm_tui.locations import database_url

    url = database_url(db, settings())
    problem = quick_check(url)  # e.g. the folder does not exist: no need to start the app
    if problem:
        raise fail(problem)
    from crm_tui.app import make_app

    tui = make_app(url, settings=settings())
    tui.run()
    if tui.startup_error:
        raise fail(tui.startup_error, code=tui.return_code or 1)



_T = "crm_tui.commands.tree"
LAZY.update({
    "lead": (f"{_T}:lead_app", "Leads: capture, qualify, follow up and convert."),
    "account": (f"{_T}:account_app", "Accounts: the companies you sell to."),
    "contact": (f"{_T}:contact_app", "Contacts: the people at your accounts."),
    "opp": (f"{_T}:opp_app", "Opportunities: deals in the pipeline."),
    "activity": (f"{_T}:activity_app", "Activities: calls, meetings, emails, notes and tasks."),
    "proposal": (f"{_T}:proposal_app", "Proposals: line items, templates, revisions, statuses and the PDF."),
    "product": (f"{_T}:product_app", "Products: the catalog proposal lines start from."),
    "db": (f"{_T}:db_app", "The database: upgrade its schema, show where it is."),
    "user": (f"{_T}:user_app", "Users: who owns records and makes changes; their role and team."),
    "team": (f"{_T}:team_app", "Teams: a manager sees their team's records."),
    "role": (f"{_T}:role_app", "Roles: what admin, manager, sales and finance may read, edit, delete, assign."),
    "stage": (f"{_T}:stage_app", "Pipeline stages and their probabilities."),
    "demo": (f"{_T}:demo", "Write demo data: users, accounts, contacts, leads, deals in every stage and activities."),
    "tag": (f"{_T}:tag_app", "Add or remove a tag on many records at once."),
    "update": (f"{_T}:update", "Set fields on every selected record in one transaction, undoable."),
    "delete": (f"{_T}:delete", "Delete every selected record in one transaction (undoable with `crm undo`)."),
    "undo": (f"{_T}:undo", "Put back exactly what one batch changed."),
    "export": (f"{_T}:export", "Export records, streamed, as CSV, JSON or NDJSON."),
    "import": (f"{_T}:import_", "Import records from CSV, validated like the forms; all or nothing."),
    "search": (f"{_T}:search", "Full-text search across accounts, leads, contacts, deals and activities."),
    "forecast": (f"{_T}:forecast_app", "The forecast by month, quarter, stage, owner or category; snapshots."),
    "quota": (f"{_T}:quota_app", "Quotas: each user's sales target per month."),
    "lint": (f"{_T}:lint", "Data-quality checks; exits 1 when it finds anything."),
    "summary": (f"{_T}:summary", "The daily summary of deals, tasks and stalled deals; --send mails it."),
    "view": (f"{_T}:view_app", "Saved views: a named filter, sort and columns (--view NAME)."),
    "config": (f"{_T}:config_app", "The config file: where it is and the settings in effect (secrets masked)."),
    "jobs": (f"{_T}:jobs_app", "Scheduled jobs: run what is due (cron, every minute), list them."),
    "assign": (f"{_T}:assign_app", "Give a lead or deal to a user; the rules that assign new ones."),
    "notification": (f"{_T}:notification_app", "Your notifications: list, mark read, e-mail preferences."),
    "warm": (f"{_T}:warm_app", "The warm process that makes scripting commands start fast: status, stop."),
    "batch": (f"{_T}:batch", "Run many crm commands, one per line, in one process (one start-up for all)."),
})

# Plurals of the nouns that are no entity of the registry.
PLURALS = {"proposals": "proposal", "users": "user", "stages": "stage", "quotas": "quota", "views": "view",
           "teams": "team", "roles": "role", "notifications": "notification"}


def entity_noun(name: str) -> str | None:
    """`crm accounts`, `crm opportunities`, `crm deals`: any noun of an entity reaches its command."""
    if name in PLURALS:
        return PLURALS[name]
    from crm_tui.services.registry import BY_NAME, NOUNS

    key = NOUNS.get(name.lower())
    return BY_NAME[key].noun if key else None


ALIASES.append(entity_noun)


def main() -> None:
    try:
        app()
    finally:
        # The database closes when the command ends, not whenever the interpreter gets to it: SQLite
        # folds its write-ahead log into the file (a copy of the file alone has every write), and a warm
        # command's process (crm_tui.warm) ends with os._exit, which would skip it.
        with contextlib.suppress(Exception):
            State.reset()
        # output still buffered when the reader went away (`crm ... | head -1`)
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()  # what is left in the buffer now goes to /dev/null at exit
            raise SystemExit(0) from None


if __name__ == "__main__":
    main()

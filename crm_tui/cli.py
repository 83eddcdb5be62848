"""`crm`: the command line. With no arguments it opens the TUI.

Only Typer is imported up front; SQLAlchemy, the services and Textual load
inside the commands that need them, so `crm --help` stays quick.
"""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui import __version__
from crm_tui.commands import admin, bulk, demo, forecast, io, leads, pipeline, proposals, records, search, views
from crm_tui.commands._common import State, fail
from crm_tui.services import fields

app = typer.Typer(
    name="crm",
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
    if ctx.invoked_subcommand is None:
        run_tui(db)


def run_tui(db: str | None) -> None:
    """Open the TUI. It paints first and opens the database in the background; a database that
    cannot be opened ends the app with one line on stderr and exit code 1, never a traceback."""
    from crm_tui.database import quick_check
    from crm_tui.locations import database_url

    url = database_url(db)
    problem = quick_check(url)  # e.g. the folder does not exist: no need to start the app
    if problem:
        raise fail(problem)
    from crm_tui.app import make_app

    tui = make_app(url)
    tui.run()
    if tui.startup_error:
        raise fail(tui.startup_error, code=tui.return_code or 1)


app.add_typer(leads.build_lead_app(), name="lead", help="Leads: capture, qualify, follow up and convert.")
account_app = records.build("account", "account", fields.ACCOUNT_FIELDS, fields.ACCOUNT_FILTERS,
                            ("id", "name", "industry", "city", "state", "status", "owner"), "accounts")
leads.add_timeline(account_app, "account")
app.add_typer(account_app, name="account", help="Accounts: the companies you sell to.")
contact_app = records.build("contact", "contact", fields.CONTACT_FIELDS, fields.CONTACT_FILTERS,
                            ("id", "name", "account", "title", "email", "phone", "buying_role"), "contacts")
leads.add_timeline(contact_app, "contact")
app.add_typer(contact_app, name="contact", help="Contacts: the people at your accounts.")
opp_app = records.build("opp", "opportunity", fields.OPPORTUNITY_FIELDS, fields.OPPORTUNITY_FILTERS,
                        ("id", "name", "account", "stage", "amount", "currency", "probability",
                         "expected_close", "owner"), "opportunities")
leads.add_timeline(opp_app, "opportunity")
pipeline.add_opp_move(opp_app)
app.add_typer(opp_app, name="opp", help="Opportunities: deals in the pipeline.")
activity_app = records.build("activity", "activity", fields.ACTIVITY_FIELDS, fields.ACTIVITY_FILTERS,
                             ("id", "type", "subject", "occurred_at", "due_at", "completed_at", "owner", "account"),
                             "activities")
admin.add_activity_done(activity_app)
leads.add_activity_today(activity_app)
app.add_typer(activity_app, name="activity", help="Activities: calls, meetings, emails, notes and tasks.")
app.add_typer(proposals.proposal_app, name="proposal",
              help="Proposals: line items, templates, revisions, statuses and the PDF.")
app.add_typer(proposals.build_product_app(), name="product", help="Products: the catalog proposal lines start from.")
app.add_typer(admin.db_app, name="db", help="The database: upgrade its schema, show where it is.")
app.add_typer(admin.user_app, name="user", help="Users: who owns records and makes changes.")
pipeline.add_stage_commands(admin.stage_app)
app.add_typer(admin.stage_app, name="stage", help="Pipeline stages and their probabilities.")
app.command("demo")(demo.demo)
app.add_typer(bulk.tag_app, name="tag", help="Add or remove a tag on many records at once.")
app.command("update")(bulk.update)
app.command("delete")(bulk.delete)
app.command("undo")(bulk.undo)
app.command("export")(io.export)
app.command("import")(io.import_)
app.command("search")(search.search)
app.add_typer(forecast.forecast_app, name="forecast",
              help="The forecast by month, quarter, stage, owner or category; snapshots and weekly changes.")
app.add_typer(forecast.quota_app, name="quota", help="Quotas: each user's sales target per month.")
app.command("lint")(forecast.lint)
app.command("summary")(forecast.summary)
app.add_typer(views.view_app, name="view", help="Saved views: a named filter, sort and columns (--view NAME).")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

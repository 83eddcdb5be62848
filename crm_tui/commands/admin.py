"""Administrative commands: db, user, stage, and `activity done`."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import Format, RecordId, State, actor, fail, info, session, settings
from crm_tui.commands._output import emit, emit_one, output_options

db_app = typer.Typer(no_args_is_help=True)
user_app = typer.Typer(no_args_is_help=False)
stage_app = typer.Typer(no_args_is_help=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (also done automatically on open)."""
    from crm_tui.errors import CRMError
    from crm_tui.locations import database_url
    from crm_tui.store.db import current_revision, make_engine, upgrade

    try:
        engine = make_engine(database_url(State.db, settings()))
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    except CRMError as exc:
        raise fail(str(exc)) from None
    info(f"database at {after}" + (f" (was {before or 'empty'})" if before != after else " (already up to date)"))


@db_app.command("url")
def db_url() -> None:
    """Print the database URL in use (password hidden)."""
    from crm_tui.locations import database_url
    from crm_tui.store.db import display_url

    typer.echo(display_url(database_url(State.db, settings())))


def _user_rows(users):
    return [{"id": u.id, "username": u.username, "name": u.name, "email": u.email, "role": u.role,
             "active": u.active} for u in users]


@user_app.callback(invoke_without_command=True)
def user_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        user_list(Format.table)


@user_app.command("list")
@output_options()
def user_list(fmt: Format = Format.table) -> None:
    """List users."""
    from crm_tui.services.users import list_users

    with session() as s:
        rows = _user_rows(list_users(session=s))
    emit(rows, fmt)


@user_app.command("add")
@output_options(default=Format.ids)
def user_add(
    username: str = typer.Argument(..., help="Login name, e.g. alice"),
    name: Optional[str] = typer.Option(None, "--name", help="Full name"),
    email: Optional[str] = typer.Option(None, "--email", help="Email address"),
    role: Optional[str] = typer.Option(None, "--role", help="admin, manager or sales (default sales)"),
    fmt: Format = Format.ids,
) -> None:
    """Add a user; prints its id."""
    from crm_tui.services.users import create_user

    with session() as s:
        user = create_user(session=s, data={"username": username, "name": name, "email": email, "role": role})
        row = _user_rows([user])[0]
    info(f"added user {username}")
    emit_one(row, fmt)


@stage_app.callback(invoke_without_command=True)
def stage_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        stage_list(Format.table)


@stage_app.command("list")
@output_options()
def stage_list(fmt: Format = Format.table) -> None:
    """List the pipeline stages in order, with their probabilities."""
    from crm_tui.services.sales.stages import list_stages

    with session() as s:
        rows = [{"id": st.id, "name": st.name, "probability": st.probability, "position": st.position,
                 "is_won": st.is_won, "is_lost": st.is_lost, "forecast_category": st.forecast_category}
                for st in list_stages(session=s)]
    emit(rows, fmt)


def add_activity_done(app: typer.Typer) -> None:
    @app.command("done")
    def activity_done(activity_id: int = typer.Argument(..., metavar="ID", help="The task's id",
                                                          parser=RecordId("activity"))) -> None:
        """Mark a task done."""
        from crm_tui.services.engagement.activities import complete_activity

        with session() as s:
            complete_activity(session=s, activity_id=activity_id, actor=actor())
        info(f"activity {activity_id} done")

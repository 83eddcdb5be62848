"""Administrative commands: db, user, stage, and `activity done`."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from crm_tui.commands._common import Format, RecordId, State, actor, fail, info, session, settings
from crm_tui.commands._output import emit, emit_one, output_options

db_app = typer.Typer(no_args_is_help=False)
user_app = typer.Typer(no_args_is_help=False)
stage_app = typer.Typer(no_args_is_help=False)


@db_app.callback(invoke_without_command=True)
def db_default(ctx: typer.Context) -> None:
    """`crm db` alone: its help (what you asked for, so exit 0)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


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


ROLE_HELP = "admin, manager, sales or finance"


def _user_row(s, username: str) -> dict:
    from crm_tui.services.users import user_rows

    return next(r for r in user_rows(session=s) if r["username"] == username)


@user_app.callback(invoke_without_command=True)
def user_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        user_list(Format.table)


@user_app.command("list")
@output_options()
def user_list(fmt: Format = Format.table) -> None:
    """List users with their role, team and whether they are active."""
    from crm_tui.services.users import user_rows

    with session() as s:
        rows = user_rows(session=s)
    emit(rows, fmt)


@user_app.command("add")
@output_options(default=Format.ids)
def user_add(
    username: str = typer.Argument(..., help="Login name, e.g. alice"),
    name: Optional[str] = typer.Option(None, "--name", help="Full name"),
    email: Optional[str] = typer.Option(None, "--email", help="Email address"),
    role: Optional[str] = typer.Option(None, "--role", help=f"{ROLE_HELP} (default sales)"),
    team: Optional[str] = typer.Option(None, "--team", help="The team they belong to (crm team add NAME first)"),
    login: Optional[str] = typer.Option(None, "--login", help="PostgreSQL: their database login, created or "
                                                              "linked if it exists (default: the username)"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="PostgreSQL: read the new login's password from stdin "
                                             "(else it is asked for)"),
    fmt: Format = Format.ids,
) -> None:
    """Add a user (admins; anyone while no admin exists); prints its id. On PostgreSQL this also creates
    their database login (or links an existing one) that they connect with: the database then shows
    them only what their role may see."""
    from crm_tui.services.users import create_user, database_logins, login_exists

    with session() as s:
        pg = database_logins(session=s)
        if not pg and (login or password_stdin):
            raise fail("--login and --password-stdin are for PostgreSQL: on SQLite whoever has the file has all "
                       "of it")
        password = None
        if pg and password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        with_login = pg
        if pg and not password_stdin and not login_exists(session=s, login=login or username):
            if sys.stdin.isatty():
                password = typer.prompt(f"password for the new login {login or username}", hide_input=True,
                                        confirmation_prompt=True)
            elif login:
                raise fail(f"the new login {login} needs a password: give --password-stdin")
            else:  # a script without a password: the user, no login yet
                with_login = False
        user = create_user(session=s, data={"username": username, "name": name, "email": email, "role": role,
                                            "team": team}, actor=State.actor(), with_login=with_login, login=login,
                           password=password)
        row = _user_row(s, user.username)
    info(f"added user {username}" + (f" with the database login {user.login}" if user.login else ""))
    if pg and not user.login:
        info(f"no database login made for {username} (no password given): crm user add gives one with "
             "--password-stdin, or links an existing one with --login NAME")
    emit_one(row, fmt)


@user_app.command("update")
@output_options(default=Format.ids)
def user_update(
    username: str = typer.Argument(..., help="The user's login name"),
    name: Optional[str] = typer.Option(None, "--name", help="Full name"),
    email: Optional[str] = typer.Option(None, "--email", help="Email address"),
    role: Optional[str] = typer.Option(None, "--role", help=ROLE_HELP),
    team: Optional[str] = typer.Option(None, "--team", help="Their team; '' for none"),
    active: Optional[bool] = typer.Option(None, "--active/--inactive", help="Reactivate or deactivate"),
    fmt: Format = Format.ids,
) -> None:
    """Change a user's name, e-mail, role, team or whether they are active (admins)."""
    from crm_tui.services.users import update_user

    with session() as s:
        user = update_user(session=s, actor=State.actor(), username=username,
                           data={"name": name, "email": email, "role": role, "team": team, "active": active})
        row = _user_row(s, user.username)
    info(f"updated user {user.username}")
    emit_one(row, fmt)


@user_app.command("deactivate")
def user_deactivate(username: str = typer.Argument(..., help="The user's login name")) -> None:
    """Deactivate a user (admins): crm no longer acts as them; their records stay theirs until reassigned
    (crm update opp --where 'owner=NAME' --set owner=OTHER)."""
    from crm_tui.services.users import deactivate_user

    with session() as s:
        user = deactivate_user(session=s, actor=State.actor(), username=username)
    info(f"deactivated user {user.username}; their records stay theirs: reassign them with "
         f"crm update opp --where 'owner={user.username}' --set owner=NAME")


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

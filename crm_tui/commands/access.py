"""`crm team ...` and `crm role ...`: teams of users, and what each role may do."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import Format, State, info, session
from crm_tui.commands._output import emit, emit_one, output_options

team_app = typer.Typer(no_args_is_help=False)
role_app = typer.Typer(no_args_is_help=False)


@team_app.callback(invoke_without_command=True)
def team_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        team_list(Format.table)


@team_app.command("list")
@output_options()
def team_list(fmt: Format = Format.table) -> None:
    """List teams with their number of active members."""
    from crm_tui.services.users import list_teams

    with session() as s:
        rows = list_teams(session=s)
    emit(rows, fmt)


@team_app.command("add")
@output_options(default=Format.ids)
def team_add(name: str = typer.Argument(..., help="The team's name, e.g. 'West Coast'"),
             fmt: Format = Format.ids) -> None:
    """Add a team (admins); prints its id."""
    from crm_tui.services.users import create_team

    with session() as s:
        team = create_team(session=s, actor=State.actor(), name=name)
        row = {"id": team.id, "name": team.name, "members": 0}
    info(f"added team {row['name']}")
    emit_one(row, fmt)


@team_app.command("members")
@output_options()
def team_members(team: str = typer.Argument(..., help="The team's name"), fmt: Format = Format.table) -> None:
    """The users in a team."""
    from crm_tui.services.users import team_members as members

    with session() as s:
        rows = members(session=s, team=team)
    emit(rows, fmt)


@team_app.command("add-member")
def team_add_member(team: str = typer.Argument(..., help="The team's name"),
                    username: str = typer.Argument(..., help="The user to put in it")) -> None:
    """Put a user in a team (admins); a user is in one team at a time, so this moves them."""
    from crm_tui.services.users import set_team

    with session() as s:
        user = set_team(session=s, actor=State.actor(), username=username, team=team)
    info(f"{user.username} is in team {team}")


@team_app.command("remove-member")
def team_remove_member(team: str = typer.Argument(..., help="The team's name"),
                       username: str = typer.Argument(..., help="The user to take out")) -> None:
    """Take a user out of a team (admins)."""
    from crm_tui.services.users import remove_from_team

    with session() as s:
        user = remove_from_team(session=s, actor=State.actor(), username=username, team=team)
    info(f"{user.username} is in no team now")


@role_app.callback(invoke_without_command=True)
def role_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        role_show(None, Format.table)


@role_app.command("show")
@output_options(formats=(Format.table, Format.csv, Format.json, Format.ndjson))
def role_show(role: Optional[str] = typer.Argument(None, help="admin, manager, sales or finance (default: all)"),
              fmt: Format = Format.table) -> None:
    """What each role may do: per entity, the level (all, team, own, linked, none) for read, edit, delete and
    assign; `*` marks an admin's change from the default."""
    from crm_tui.services.access import ACTIONS, rules

    with session() as s:
        found = rules(session=s, role=role)
    if fmt == Format.table:
        table: dict[tuple[str, str], dict] = {}
        for r in found:
            row = table.setdefault((r.role, r.entity), {"role": r.role, "entity": r.entity})
            row[r.action] = r.level + ("*" if r.changed else "")
        emit(list(table.values()), fmt, table_columns=("role", "entity", *ACTIONS))
        return
    emit([{"role": r.role, "entity": r.entity, "action": r.action, "level": r.level, "default": r.default}
          for r in found], fmt)


@role_app.command("set")
def role_set(role: str = typer.Argument(..., help="manager, sales or finance"),
             entity: str = typer.Argument(..., help="account, contact, lead, opportunity, activity, proposal, "
                                                    "product"),
             action: str = typer.Argument(..., help="read, edit, delete or assign"),
             level: str = typer.Argument(..., help="all, team, own, linked (activities) or none")) -> None:
    """Change what a role may do (admins); setting the default again removes the change."""
    from crm_tui.services.access import set_rule

    with session() as s:
        rule = set_rule(session=s, actor=State.actor(), role=role, entity=entity, action=action, level=level)
    info(f"{rule.role} may {rule.action} {rule.entity} records: {rule.level}"
         + ("" if rule.changed else " (the default)"))


def add_account_share(app: typer.Typer) -> None:
    """Give `crm account` its `share`, `unshare` and `shares` verbs."""
    from crm_tui.commands._common import RecordId

    @app.command("share")
    @output_options(default=Format.ids)
    def account_share(
        account_id: int = typer.Argument(..., metavar="ID", help="The account's id", parser=RecordId("account")),
        username: str = typer.Option(..., "--with", help="The user to share it with"),
        remove: bool = typer.Option(False, "--remove", help="Stop sharing it with that user instead"),
        fmt: Format = Format.ids,
    ) -> None:
        """Share an account with a user for learning: they read it in full (its contacts, deals,
        activities and history). Needs the right to assign the account; prints the account's id."""
        if remove:
            _unshare(account_id, username, fmt)
            return
        from crm_tui.services.shares import share_account

        with session() as s:
            added = share_account(session=s, actor=State.actor(), account_id=account_id, username=username)
        info(f"account {account_id} is {'now' if added else 'already'} shared with {username}")
        emit_one({"id": account_id, "shared_with": username, "shared": True}, fmt)

    @app.command("unshare")
    @output_options(default=Format.ids)
    def account_unshare(
        account_id: int = typer.Argument(..., metavar="ID", help="The account's id", parser=RecordId("account")),
        username: str = typer.Option(..., "--with", help="The user to stop sharing it with"),
        fmt: Format = Format.ids,
    ) -> None:
        """Stop sharing an account with a user; prints the account's id."""
        _unshare(account_id, username, fmt)

    @app.command("shares")
    @output_options()
    def account_shares(
        account_id: int = typer.Argument(..., metavar="ID", help="The account's id", parser=RecordId("account")),
        fmt: Format = Format.table,
    ) -> None:
        """Who an account is shared with."""
        from crm_tui.services.shares import account_shares as shares

        with session() as s:
            rows = shares(session=s, actor=State.actor(), account_id=account_id)
        emit(rows, fmt)
        if not rows and fmt == Format.table:
            info(f"account {account_id} is shared with nobody")


def _unshare(account_id: int, username: str, fmt: Format) -> None:
    from crm_tui.services.shares import unshare_account

    with session() as s:
        removed = unshare_account(session=s, actor=State.actor(), account_id=account_id, username=username)
    info(f"account {account_id} is {'no longer' if removed else 'not'} shared with {username}")
    emit_one({"id": account_id, "shared_with": username, "shared": False}, fmt)

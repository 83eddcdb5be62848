"""`crm view save|list|show|delete`: saved views (filter, sort, columns) used with --view NAME."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import WHERE_HELP, Format, State, info, session
from crm_tui.commands._output import output_options
from crm_tui.services.registry import ENTITY_HELP

view_app = typer.Typer(help="Saved views: a named filter, sort and columns, used as --view NAME.",
                       no_args_is_help=False)


@view_app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        list_views(fmt=Format.table, entity=None)


@view_app.command("save")
def save(
    name: str = typer.Argument(..., help="The view's name"),
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    where: Optional[str] = typer.Option(None, "--where", help=WHERE_HELP),
    sort: Optional[str] = typer.Option(None, "--sort", help="Column to sort by; prefix with - for descending"),
    columns: Optional[str] = typer.Option(None, "--columns", help="Comma-separated columns to show"),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a view of the same name"),
) -> None:
    """Save a view after checking its filter, sort and columns."""
    from crm_tui.services import views

    with session() as s:
        views.save_view(session=s, name=name, entity=entity, where=where, sort=sort, columns=columns,
                        actor=State.actor(), replace=replace)
    info(f"saved view {name}; use it with: crm {entity} list --view {name}")


@view_app.command("list")
@output_options()
def list_views(
    fmt: Format = Format.table,
    entity: Optional[str] = typer.Option(None, "--entity", help="Only this entity's views"),
) -> None:
    """List saved views."""
    from crm_tui.commands._output import emit
    from crm_tui.services import views

    with session() as s:
        rows = views.list_views(session=s, entity=entity)
    if not emit(rows, fmt, table_columns=("name", "entity", "where", "sort", "columns", "owner"),
                header=views.ROW_KEYS) and fmt == Format.table:
        info("no saved views")


@view_app.command("delete")
def delete(name: str = typer.Argument(..., help="The view's name")) -> None:
    """Delete a saved view."""
    from crm_tui.services import views

    with session() as s:
        views.delete_view(session=s, name=name)
    info(f"deleted view {name}")

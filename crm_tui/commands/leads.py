"""`crm lead ...`: the generic verbs plus convert and timeline, and `crm activity today|timeline`."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands import records
from crm_tui.commands._common import Format, RecordId, State, actor, info, session
from crm_tui.commands._output import emit, emit_record, output_options

TIMELINE_COLUMNS = ("when", "type", "who", "title", "via")


def _duplicates(s, row) -> list[str]:
    from crm_tui.services.sales.leads import find_duplicates

    dups = find_duplicates(session=s, email=row["email"], company=row["company"], exclude_lead_id=row["id"],
                           actor=State.actor())
    return [f"lead {row['id']} may duplicate {d}" for d in dups]


def build_lead_app() -> typer.Typer:
    app = records.build_for("lead", after_add=_duplicates)

    @app.command("convert")
    @output_options(default=Format.ids,
                    help="What to print: ids (the new opportunity's id, default) or the conversion as "
                         "table, csv, json or ndjson")
    def convert(
        lead_id: int = typer.Argument(..., metavar="ID", help="The lead's id", parser=RecordId("lead")),
        amount: Optional[str] = typer.Option(None, "--amount", help="Opportunity amount, e.g. 12500.00"),
        close_date: Optional[str] = typer.Option(None, "--close-date",
                                                 help="Expected close date: YYYY-MM-DD or today+30d (default +30d)"),
        stage: Optional[str] = typer.Option(None, "--stage", help="Opportunity stage (default Qualified)"),
        account: Optional[int] = typer.Option(None, "--account", metavar="ID", parser=RecordId("account", "account"),
                                              help="Use this account instead of matching or creating one"),
        name: Optional[str] = typer.Option(None, "--name", help="Opportunity name (default: '<account> – new business')"),
        currency: Optional[str] = typer.Option(None, "--currency", help="ISO 4217 currency (default USD)"),
        fmt: Format = Format.ids,
    ) -> None:
        """Convert a lead into an account (a matching one is reused), a contact and an opportunity, in one go."""
        from crm_tui.services.sales.leads import convert_lead

        with session() as s:
            conv = convert_lead(session=s, lead_id=lead_id, actor=actor(), amount=amount, close_date=close_date,
                                stage=stage, account_id=account, opportunity_name=name, currency=currency)
        for line in conv.messages:
            info(line)
        info(f"converted lead {lead_id}")
        if fmt == Format.ids:
            typer.echo(conv.opportunity_id)
        else:
            emit_record(conv.as_row(), fmt)

    @app.command("timeline")
    @output_options()
    def lead_timeline(
        lead_id: int = typer.Argument(..., metavar="ID", help="The lead's id", parser=RecordId("lead")),
        fmt: Format = Format.table,
    ) -> None:
        """Show the lead's activities and changes, newest first."""
        _timeline("lead", lead_id, fmt)

    return app


def _timeline(entity: str, record_id: int, fmt: Format) -> None:
    from crm_tui.services import records as rec
    from crm_tui.services.engagement.timeline import ROW_KEYS, timeline_rows
    from crm_tui.services.registry import ENTITIES

    with session() as s:
        rec.get_record(ENTITIES[entity], session=s, record_id=record_id, actor=State.actor())
        rows = timeline_rows(session=s, entity=entity, record_id=record_id, actor=State.actor())
    emit(rows, fmt, table_columns=TIMELINE_COLUMNS, header=ROW_KEYS)


def add_timeline(app: typer.Typer, entity: str) -> None:
    """Give a noun (account, contact, opp) a `timeline ID` verb."""

    @app.command("timeline")
    @output_options()
    def record_timeline(
        record_id: int = typer.Argument(..., metavar="ID", help=f"The {entity}'s id", parser=RecordId(entity)),
        fmt: Format = Format.table,
    ) -> None:
        """Show the record's activities and changes (and those of the lead it came from), newest first."""
        _timeline(entity, record_id, fmt)


def add_activity_today(app: typer.Typer) -> None:
    @app.command("today")
    @output_options()
    def today(fmt: Format = Format.table) -> None:
        """My open tasks due today and overdue."""
        from crm_tui.services import records
        from crm_tui.services.engagement.activities import ENTITY, due_tasks

        with session() as s:
            rows = due_tasks(session=s, actor=State.actor())
        keys = [*records.row_keys(ENTITY), "overdue"]  # the app's own keys (target) are not output
        emit([{k: r.get(k) for k in keys} for r in rows], fmt,
             table_columns=("id", "subject", "due_at", "overdue", "account", "lead_id", "opportunity_id"), header=keys)
        if not rows and fmt == Format.table:
            info("nothing due today")

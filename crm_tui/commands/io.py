"""`crm export`: stream records to CSV, JSON or NDJSON."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from crm_tui.commands._common import WHERE_HELP, fail, info, session

ENTITY_HELP = "account, contact, opp or activity"


def export(
    entity: str = typer.Argument(..., help=ENTITY_HELP),
    where: Optional[str] = typer.Option(None, "--where", help=WHERE_HELP),
    view: Optional[str] = typer.Option(None, "--view", help="Use a saved view's filter, sort and columns"),
    columns: Optional[str] = typer.Option(None, "--columns", help="Comma-separated columns (default: all, stable order)"),
    fmt: str = typer.Option("csv", "--format", help="csv, json or ndjson"),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout"),
    raw: bool = typer.Option(False, "--raw", help="Do not neutralise cells a spreadsheet would run as formulas"),
    excel: bool = typer.Option(False, "--excel", help="Start the file with a UTF-8 BOM for spreadsheets"),
) -> None:
    """Export records, streamed: ISO dates, money as decimals with a currency column, formula cells made inert."""
    from crm_tui.services import io
    from crm_tui.services.bulk import entity_for

    if fmt not in ("csv", "json", "ndjson"):
        raise fail(f"format: {fmt!r} is not one of: csv, json, ndjson")
    out = None
    try:
        with session() as s:
            ent = entity_for(entity)
            sort = None
            if view:
                from crm_tui.services import views

                where, sort, columns = views.apply_view(session=s, name=view, entity=ent.name, where=where,
                                                        sort=None, columns=columns)
            cols = [c.strip() for c in columns.split(",")] if columns else None
            io.export_columns(ent, cols)
            if output:
                try:
                    out = open(output, "w", encoding="utf-8-sig" if excel else "utf-8", newline="")
                except OSError as exc:
                    raise fail(f"output: cannot write {output}: {exc.strerror}") from None
            else:
                out = sys.stdout
                if excel:
                    out.write("\ufeff")
            n = io.export(ent, session=s, out=out, fmt=fmt, where=where, columns=cols, sort=sort, raw=raw)
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
    info(f"exported {n:,} {ent.plural}" + (f" to {output}" if output else ""))

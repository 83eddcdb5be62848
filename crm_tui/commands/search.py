"""`crm search QUERY`: full-text search across accounts, contacts, leads, opportunities and activities."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import Format, State, info, session
from crm_tui.commands._output import output_options
from crm_tui.services.registry import ENTITY_HELP

QUERY_HELP = ("Words, \"quoted phrases\", AND, OR, NOT, parentheses and prefixes (chat*), "
              "e.g. 'e-commerce OR chatbot'")


@output_options()
def search(
    query: str = typer.Argument(..., help=QUERY_HELP),
    entity: Optional[str] = typer.Option(None, "--entity", help=f"Only this kind: {ENTITY_HELP}"),
    limit: int = typer.Option(50, "--limit", help="At most this many hits (0: all)"),
    fmt: Format = Format.table,
) -> None:
    """Full-text search: each hit with its kind, id, label and a snippet (accounts first, newest first);
    csv/json/ndjson also give account_id, the account a hit belongs to (an account's own id)."""
    from crm_tui.commands._output import emit
    from crm_tui.services import search as svc

    with session() as s:
        hits = svc.search(session=s, query=query, entity=entity, limit=limit, actor=State.actor())
    rows = [{"entity": h.entity, "id": h.id, "label": h.label, "snippet": h.snippet, "account_id": h.account_id}
            for h in hits]
    if fmt == Format.table and not rows:
        info(f"no matches for {query}")
        return
    emit(rows, fmt, columns=None if fmt == Format.table else ["entity", "id", "label", "snippet", "account_id"],
         table_columns=["entity", "id", "label", "snippet"])
    if fmt == Format.table:
        info(f"{len(rows)} hit{'s' if len(rows) != 1 else ''}" + (f" (limit {limit})" if limit and len(rows) == limit else ""))

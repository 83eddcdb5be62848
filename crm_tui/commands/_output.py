"""One way to print records: table for people, csv/json/ndjson/ids for pipes.

Rows are dicts; dates come out in ISO 8601, money as decimal strings next to
a currency column. Data goes to stdout only.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from crm_tui.commands._common import Format

HIDDEN = {"stage_position"}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(_plain(value))


def _human(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return str(_plain(value))


def pick_columns(row: dict, columns: Sequence[str] | None) -> list[str]:
    if columns:
        unknown = [c for c in columns if c not in row]
        if unknown:
            from crm_tui.errors import ValidationError

            raise ValidationError("columns", ",".join(unknown),
                                  f"not known; columns are: {', '.join(k for k in row if k not in HIDDEN)}")
        return list(columns)
    return [k for k in row if k not in HIDDEN]


def emit(rows: Iterable[dict], fmt: Format, *, columns: Sequence[str] | None = None,
         table_columns: Sequence[str] | None = None, title: str | None = None, out=None) -> int:
    """Write rows in ``fmt``; returns how many were written. Streams except for tables."""
    import csv
    import json

    out = out or sys.stdout
    n = 0
    if fmt == Format.ids:
        for row in rows:
            out.write(f"{row['id']}\n")
            n += 1
        return n
    if fmt == Format.ndjson:
        cols = None
        for row in rows:
            cols = cols or pick_columns(row, columns)
            out.write(json.dumps({c: _plain(row[c]) for c in cols}, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt == Format.json:
        cols = None
        out.write("[")
        for row in rows:
            cols = cols or pick_columns(row, columns)
            out.write(("\n" if n == 0 else ",\n") + json.dumps({c: _plain(row[c]) for c in cols}, ensure_ascii=False))
            n += 1
        out.write("\n]\n" if n else "]\n")
        return n
    if fmt == Format.csv:
        writer = None
        for row in rows:
            if writer is None:
                cols = pick_columns(row, columns)
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(cols)
            writer.writerow([_cell(row[c]) for c in cols])
            n += 1
        return n
    # table
    from rich.table import Table

    materialised = list(rows)
    if not materialised:
        return 0
    cols = pick_columns(materialised[0], columns or table_columns)
    table = Table(title=title, header_style="bold", show_lines=False)
    for c in cols:
        justify = "right" if c in ("id", "amount", "weighted_amount", "probability", "employees") else "left"
        table.add_column(c, justify=justify, overflow="fold")
    for row in materialised:
        table.add_row(*[_human(row[c]) for c in cols])
    _console(out).print(table)
    return len(materialised)


def _console(out=None):
    """A console for tables: the terminal's width, or wide enough not to fold when piped."""
    from rich.console import Console

    out = out or sys.stdout
    width = None if out.isatty() else 240
    return Console(file=out, width=width, soft_wrap=False)


def emit_record(row: dict, fmt: Format) -> None:
    """One record: a two-column field/value table for people, else like a one-row list."""
    if fmt != Format.table:
        import json

        if fmt == Format.json:
            sys.stdout.write(json.dumps({k: _plain(v) for k, v in row.items() if k not in HIDDEN},
                                        ensure_ascii=False, indent=2) + "\n")
        else:
            emit([row], fmt)
        return
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in row.items():
        if key not in HIDDEN:
            table.add_row(key, _human(value))
    _console().print(table)

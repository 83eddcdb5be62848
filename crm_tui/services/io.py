"""Export (and, later, import) of records as CSV, JSON and NDJSON.

Export streams: rows come from ``records.iter_records`` (``yield_per``) and go
straight to the output, so memory stays flat whatever the size. Columns are
stable and documented per entity (``EXPORT_COLUMNS``): ISO 8601 dates, money as
decimal strings next to a ``currency`` column, UTF-8 (optionally with the BOM
spreadsheets want).

CSV cells a spreadsheet would run as a formula (first character ``=``, ``+``,
``-``, ``@``, tab, carriage return or line feed, also after leading spaces, and
their full-width forms) are neutralised the OWASP way: prefixed with a single
quote. ``raw=True`` turns that off. Numbers we format ourselves (``-5``,
``12.50``) are left alone.
"""

from __future__ import annotations

import csv
import itertools
import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TextIO

from sqlmodel import Session

from crm_tui.errors import ValidationError
from crm_tui.services import records
from crm_tui.services.records import Entity

FORMATS = ("csv", "json", "ndjson")

EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("id", "name", "industry", "website", "phone", "email", "street", "city", "state", "postal_code",
                "country", "status", "owner", "source", "employees", "lifetime_value", "currency", "description",
                "created_at", "updated_at", "version"),
    "contact": ("id", "first_name", "last_name", "account_id", "account", "email", "phone", "title", "buying_role",
                "is_primary", "reports_to_id", "owner", "notes", "created_at", "updated_at", "version"),
    "opportunity": ("id", "name", "account_id", "account", "contact_id", "owner", "stage", "probability", "amount",
                    "currency", "weighted_amount", "expected_close", "actual_close", "forecast_category", "source",
                    "next_step", "competitors", "lost_reason", "description", "stage_changed_at", "created_at",
                    "updated_at", "version"),
    "activity": ("id", "type", "subject", "body", "due_at", "completed_at", "occurred_at", "owner", "account_id",
                 "account", "contact_id", "lead_id", "opportunity_id", "created_at", "updated_at", "version"),
}

_TRIGGERS = set("=+-@\t\r\n") | set("\uff1d\uff0b\uff0d\uff20")  # and full-width = + - @
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def neutralise(text: str) -> str:
    """Make a cell inert for spreadsheets (OWASP CSV injection): prefix a quote if it could start a formula."""
    if not text:
        return text
    stripped = text.lstrip(" ")
    first = stripped[:1] if stripped else text[:1]
    if first in _TRIGGERS or text[:1] in _TRIGGERS:
        if _NUMBER.match(text):
            return text
        return "'" + text
    return text


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet would treat this cell as a formula (used by tests and import checks)."""
    stripped = text.lstrip(" ")
    return bool(stripped) and (stripped[0] in _TRIGGERS or text[0] in _TRIGGERS) and not _NUMBER.match(text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def export_columns(entity: Entity, columns: list[str] | None) -> list[str]:
    default = list(EXPORT_COLUMNS[entity.name])
    if not columns:
        return default
    known = set(default) | set(entity.columns())
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValidationError("columns", ",".join(unknown), f"not known; columns are: {', '.join(default)}")
    return columns


def export(entity: Entity, *, session: Session, out: TextIO, fmt: str = "csv", where: str | None = None,
           columns: list[str] | None = None, sort: str | None = None, raw: bool = False,
           me: str | None = None, batch: int = 5000) -> int:
    """Stream the selected records to ``out``; returns how many were written."""
    if fmt not in FORMATS:
        raise ValidationError("format", fmt, f"is not one of: {', '.join(FORMATS)}")
    cols = export_columns(entity, columns)
    rows: Iterator[dict] = records.iter_records(entity, session=session, where=where, sort=sort or "id",
                                                batch=batch, me=me)
    # Start the query before writing anything, so a bad filter leaves the output empty.
    first = next(rows, None)
    rows = itertools.chain([first], rows) if first is not None else iter(())
    n = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(cols)
        clean = _text if raw else (lambda v: neutralise(_text(v)) if isinstance(v, str) else _text(v))
        for row in rows:
            writer.writerow([clean(row[c]) for c in cols])
            n += 1
        return n
    if fmt == "ndjson":
        for row in rows:
            out.write(json.dumps({c: _json_value(row[c]) for c in cols}, ensure_ascii=False) + "\n")
            n += 1
        return n
    out.write("[")
    for row in rows:
        out.write(("\n" if n == 0 else ",\n") + json.dumps({c: _json_value(row[c]) for c in cols}, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n

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

from crm_tui import money
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
    "lead": ("id", "first_name", "last_name", "company", "email", "phone", "title", "website", "industry", "city",
             "state", "country", "source", "status", "score", "owner", "next_follow_up", "notes", "converted_at",
             "converted_account_id", "converted_contact_id", "converted_opportunity_id", "created_at", "updated_at",
             "version"),
    "product": ("id", "sku", "name", "unit_price", "currency", "active", "description", "created_at", "updated_at",
                "version"),
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


# ---------------------------------------------------------------- fast CSV path
#
# CSV export at a million rows is dominated by per-row, per-cell Python work. So
# the CSV path reads raw DBAPI rows (the cursor of a Core select, no SQLAlchemy
# row processing), converts only the cells that need it with one generated
# function per export (datetimes, booleans, money by integer arithmetic, formula
# neutralisation), and hands chunks to csv.writer.writerows. Ints, dates stored
# as ISO text and None go to the csv module as they are. The output is the
# same, cell for cell, as formatting rows from records.iter_records (a test
# checks it on both backends).

# Output columns computed from others: name -> (minor units column, probability column or None).
_EXPONENT = money.CURRENCIES
_DERIVED = {"amount": ("amount_minor", None), "weighted_amount": ("amount_minor", "probability"),
            "lifetime_value": ("lifetime_value_minor", None), "unit_price": ("unit_price_minor", None)}


def _money_text(minor: Any, currency: Any, probability: Any = None) -> str:
    """Decimal text of minor units (weighted by probability %, half-even), by integer arithmetic."""
    if minor is None:
        return ""
    exp = _EXPONENT.get(currency)
    if exp is None or minor.__class__ is not int or (probability is not None and probability.__class__ is not int):
        if probability is not None:
            minor = money.weighted(minor, probability)
        return money.format_plain(minor, currency)
    if probability is not None:
        minor, r = divmod(minor * probability, 100)
        if r > 50 or (r == 50 and minor & 1):
            minor += 1
    if exp == 2 and minor >= 0:
        q, r = divmod(minor, 100)
        return f"{q}.{r:02d}"
    if exp == 0:
        return str(minor)
    q, r = divmod(-minor if minor < 0 else minor, 10 ** exp)
    return f"{'-' if minor < 0 else ''}{q}.{r:0{exp}d}"


_UTC = dt.timezone.utc


def _datetime_text(value: Any) -> Any:
    """ISO 8601 text, in UTC, of a stored date-time (SQLModel's UTCDateTime): a datetime from
    PostgreSQL, or SQLite's 'YYYY-MM-DD HH:MM:SS.ffffff' (stored in UTC without an offset)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return value[:10] + "T" + value[11:19] + ("" if value[20:] == "000000" else value[19:]) + "+00:00"
        from sqlalchemy.dialects.sqlite import DATETIME

        value = DATETIME().result_processor(None, None)(value)
    value = value.replace(tzinfo=_UTC) if value.utcoffset() is None else value.astimezone(_UTC)
    return value.isoformat()


def _date_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _bool_text(value: Any) -> Any:
    if value is None:
        return None
    return "true" if value else "false"


_CELL_START = frozenset(_TRIGGERS | {" "})


def _csv_plan(entity: Entity, cols: list[str], raw: bool):
    """(names of the columns to select, a function raw row -> CSV row)."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, TypeDecorator

    available = entity.columns()
    selected: list[str] = []

    def index(name: str) -> int:
        if name not in selected:
            selected.append(name)
        return selected.index(name)

    env = {"M": _money_text, "D": _datetime_text, "DA": _date_text, "B": _bool_text, "N": neutralise,
           "S": _CELL_START, "X": _text}
    cells = []
    for name in cols:
        if name in _DERIVED and name not in available:
            minor, probability = _DERIVED[name]
            i, c = index(minor), index("currency")
            cells.append(f"M(r[{i}], r[{c}], r[{index(probability)}])" if probability else f"M(r[{i}], r[{c}])")
            continue
        i = index(name)
        type_ = available[name].type
        if isinstance(type_, TypeDecorator) and isinstance(type_.impl_instance, DateTime):
            if not type_.impl_instance.timezone:
                raise ValueError(f"no CSV formatter for naive date-time column {name}")
            cells.append(f"D(r[{i}])")  # SQLModel's UTCDateTime
            continue
        if isinstance(type_, TypeDecorator):
            type_ = type_.impl_instance
        if isinstance(type_, DateTime):
            raise ValueError(f"no CSV formatter for naive date-time column {name}")
            cells.append(f"D(r[{i}])")
        elif isinstance(type_, Date):
            cells.append(f"DA(r[{i}])")
        elif isinstance(type_, Boolean):
            cells.append(f"B(r[{i}])")
        elif isinstance(type_, (Integer, Numeric)):
            cells.append(f"r[{i}]")
        elif raw:
            cells.append(f"X(r[{i}])")
        else:  # text: neutralise what a spreadsheet would run
            cells.append(f"(N(r[{i}]) if r[{i}] and r[{i}][0] in S else r[{i}])")
    # The generated source holds only indices and the helper names above, never user text.
    source = "lambda rows: [(" + ", ".join(cells) + ",) for r in rows]"
    return selected, eval(source, env)  # noqa: S307


def _export_csv(entity: Entity, *, session: Session, out: TextIO, cols: list[str], where: str | None,
                sort: str | None, raw: bool, me: str | None, batch: int) -> int:
    from sqlalchemy import select

    selected, convert = _csv_plan(entity, cols, raw)
    available = entity.columns()
    stmt = (select(*[available[n].label(n) for n in selected]).select_from(entity.joins(entity.table))
            .where(*records._where(entity, session, None, None, where, me))
            .order_by(*records._order(entity, sort)))
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        # No row processing at all: the DBAPI cursor's tuples (SQLite steps through the rows lazily).
        result = conn.execute(stmt)
        cursor = result.cursor

        def chunks():
            while part := cursor.fetchmany(batch):
                yield part
    else:  # a server-side cursor; psycopg already returns Python values, so rows need little processing
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)

        def chunks():
            yield from result.partitions(batch)
    try:
        parts = chunks()
        first = next(parts, None)  # run the query before writing, so a bad filter writes nothing
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(cols)
        n = 0
        for chunk in itertools.chain([first], parts) if first else ():
            writer.writerows(convert(chunk))
            n += len(chunk)
        return n
    finally:
        result.close()


def export(entity: Entity, *, session: Session, out: TextIO, fmt: str = "csv", where: str | None = None,
           columns: list[str] | None = None, sort: str | None = None, raw: bool = False,
           me: str | None = None, batch: int = 5000) -> int:
    """Stream the selected records to ``out``; returns how many were written."""
    if fmt not in FORMATS and fmt != "csv-rows":
        raise ValidationError("format", fmt, f"is not one of: {', '.join(FORMATS)}")
    cols = export_columns(entity, columns)
    if fmt == "csv":
        return _export_csv(entity, session=session, out=out, cols=cols, where=where, sort=sort or "id", raw=raw,
                           me=me, batch=batch)
    rows: Iterator[dict] = records.iter_records(entity, session=session, where=where, sort=sort or "id",
                                                batch=batch, me=me)
    # Start the query before writing anything, so a bad filter leaves the output empty.
    first = next(rows, None)
    rows = itertools.chain([first], rows) if first is not None else iter(())
    n = 0
    if fmt == "csv-rows":  # the slow reference the fast CSV path is tested against (not a user format)
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

"""Export (and, later, import) of records as CSV, JSON and NDJSON.

Export streams: rows come from ``records.iter_records`` (``yield_per``) and go
straight to the output, so memory stays flat whatever the size. Columns are
stable and documented per entity (each registry entry's ``export_columns``): ISO 8601 dates, money as
decimal strings next to a ``currency`` column, UTF-8 (optionally with the BOM
spreadsheets want).

CSV cells a spreadsheet would run as a formula (first character ``=``, ``+``,
``-``, ``@``, tab, carriage return or line feed, also after leading spaces, and
their full-width forms) are neutralised the OWASP way: prefixed with a single
quote, reversibly (``crm_tui.spreadsheet``: a value that starts with quotes before
such a character gets one more, and import takes exactly one off). ``raw=True``
turns that off. Numbers we format ourselves (``-5``, ``12.50``) are left alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TextIO

from sqlmodel import Session

from crm_tui import money
from crm_tui.actor import Actor
from crm_tui.errors import ValidationError
from crm_tui.services import records, registry
from crm_tui.services.records import Entity
from crm_tui.spreadsheet import CELL_START, is_dangerous, neutralise  # noqa: F401 - the rule lives there
from crm_tui.store.types import as_utc

FORMATS = ("csv", "json", "ndjson")
Progress = Callable[[int], None]

# entity name -> its default export columns (the registry entries' ``export_columns``)
EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {e.name: e.export_columns for e in registry.ENTRIES}

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
    value = as_utc(value)
    return value.isoformat()


def _date_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _bool_text(value: Any) -> Any:
    if value is None:
        return None
    return "true" if value else "false"


_CELL_START = CELL_START


def _kind(name: str, column) -> str:
    """How a selected column is written to CSV: datetime, date, bool, number or text."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, TypeDecorator

    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, DateTime):
        if not type_.timezone:  # every stored date-time is SQLModel's UTCDateTime
            raise ValueError(f"no CSV formatter for naive date-time column {name}")
        return "datetime"
    if isinstance(type_, Date):
        return "date"
    if isinstance(type_, Boolean):
        return "bool"
    if isinstance(type_, (Integer, Numeric)):
        return "number"
    return "text"


def _cells(entity: Entity, cols: list[str]):
    """The selected column names, and per output column (kind, indices into them)."""
    available = entity.columns()
    selected: list[str] = []

    def index(name: str) -> int:
        if name not in selected:
            selected.append(name)
        return selected.index(name)

    cells = []
    for name in cols:
        if name in _DERIVED and name not in available:
            minor, probability = _DERIVED[name]
            cells.append(("money", (index(minor), index("currency")) + ((index(probability),) if probability else ())))
        else:
            cells.append((_kind(name, available[name]), (index(name),)))
    return selected, cells


def _csv_plan(entity: Entity, cols: list[str], raw: bool):
    """(names of the columns to select, a function raw rows -> CSV rows), formatting in Python."""
    selected, cells = _cells(entity, cols)
    env = {"M": _money_text, "D": _datetime_text, "DA": _date_text, "B": _bool_text, "N": neutralise,
           "S": _CELL_START, "X": _text}
    code = []
    for kind, idx in cells:
        i = idx[0]
        if kind == "money":
            code.append(f"M({', '.join(f'r[{j}]' for j in idx)})")
        elif kind == "datetime":
            code.append(f"D(r[{i}])")
        elif kind == "date":
            code.append(f"DA(r[{i}])")
        elif kind == "bool":
            code.append(f"B(r[{i}])")
        elif kind == "number":
            code.append(f"r[{i}]")
        elif raw:
            code.append(f"X(r[{i}])")
        else:  # text: neutralise what a spreadsheet would run
            code.append(f"(N(r[{i}]) if r[{i}] and r[{i}][0] in S else r[{i}])")
    # The generated source holds only indices and the helper names above, never user text.
    source = "lambda rows: [(" + ", ".join(code) + ",) for r in rows]"
    return selected, eval(source, env)  # noqa: S307


# ---------------------------------------------------------------- SQLite: lines built by SQLite
#
# On SQLite even the fast path above spends most of its time making Python
# objects: 20-odd values per row, then csv.writer walking them again. So on
# SQLite each row comes back as one byte string that SQLite built with printf:
# the cells formatted in SQL (ISO date-times, money by integer arithmetic,
# booleans), joined by the unit separator \x1f. Python checks a whole chunk of
# rows at once with C-speed byte scans; when no cell holds a quote, comma, CR or
# LF (the usual case), it turns separators into commas and writes the chunk as
# it is. Otherwise it quotes that chunk's lines with csv.writer, and a row whose
# data itself holds a \x1f is fetched again and formatted by the Python plan.
#
# The rare cells SQL does not format itself go through Python functions
# registered on the connection: text starting with a character that might open
# a formula (anything below "A" or from U+FF0B, which covers every trigger),
# money in currencies without two decimals or below zero, and date-times not in
# the form SQLAlchemy stores. Tests check the output is the same, byte for byte,
# as formatting rows in Python.

_US, _RS = b"\x1f", b"\x1e"
_TWO_DECIMALS = sorted(code for code, exp in money.CURRENCIES.items() if exp == 2)


def _udf_text(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def _udf_money(minor: Any, currency: Any, probability: Any) -> str:
    return _money_text(minor, currency, probability)


def _line_expr(entity: Entity, cols: list[str], raw: bool):
    """One SQL expression per row: its CSV cells, formatted, joined by \x1f, as a BLOB.

    Each cell has a general form (a CASE over the odd values) and, for money and
    required date-times, a fast form printed straight into the row's printf. A row
    whose amounts are not negative, in a two-decimal currency, and whose date-times
    are in SQLAlchemy's stored form (nearly every row) takes the fast form.
    """
    from sqlalchemy import Integer, LargeBinary, and_, case, cast, func, literal, null, or_

    selected, cells = _cells(entity, cols)
    available = entity.columns()
    columns = [available[name] for name in selected]
    general, fast_fmt, fast_args, conds = [], [], [], {}
    for kind, idx in cells:
        c = columns[idx[0]]
        if kind == "money":
            minor, currency = c, columns[idx[1]]
            fallback = func.crm_csv_money(minor, currency, columns[idx[2]] if len(idx) > 2 else null())
            cond = [minor >= 0]
            conds[("currency", idx[1])] = currency.in_(_TWO_DECIMALS)
            if len(idx) > 2:  # weighted by probability %, rounded half-even: (w + 50) // 100, less 1 on a tie to even
                p = columns[idx[2]]
                w = minor * p
                minor = (w + 50) // 100 - case((w % 200 == 50, 1), else_=0)
                cond.append(p >= 0)
            for i, part in enumerate(cond):
                conds[(kind, idx, i)] = part
            general.append(case((and_(*cond, conds[("currency", idx[1])]),
                                 func.printf("%d.%02d", minor // 100, minor % 100)),
                                (c.is_(None), null()), else_=fallback))
            fast_fmt.append("%d.%02d")
            fast_args += [minor // 100, minor % 100]
            continue
        if kind == "datetime":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
            stored = and_(func.length(c) == 26, func.substr(c, 20, 1) == ".")
            time_part = func.replace(func.substr(c, 12), ".000000", "")
            expr = case((stored, func.printf("%.10sT%s+00:00", c, time_part)), (c.is_(None), null()),
                        else_=func.crm_csv_datetime(c))
            if getattr(c, "nullable", True) is False:
                conds[(kind, idx)] = stored
                general.append(expr)
                fast_fmt.append("%.10sT%s+00:00")
                fast_args += [c, time_part]
                continue
        elif kind == "bool":
            expr = case((cast(c, Integer) == 1, literal("true")), (cast(c, Integer) == 0, literal("false")),
                        else_=null())
        elif kind == "text" and not raw:
            expr = case((or_(c < "A", c >= "\uff0b"), func.crm_csv_text(c)), else_=c)
        else:  # numbers, dates (stored as ISO text), raw text
            expr = c
        general.append(expr)
        fast_fmt.append("%s")
        fast_args.append(expr)
    line = func.printf("\x1f".join(["%s"] * len(general)), *general)
    if conds:
        line = case((and_(*conds.values()), func.printf("\x1f".join(fast_fmt), *fast_args)), else_=line)
    return cast(line, LargeBinary), selected


def _sink(out: TextIO):
    """A function writing UTF-8 bytes to ``out``: straight to its binary buffer when it has one."""
    import codecs

    buffer = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if buffer is not None and encoding and codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        out.flush()
        return buffer.write, buffer.flush
    return (lambda data: out.write(data.decode("utf-8"))), (lambda: None)


def _iter_selected(entity: Entity, session: Session, where: str | None, sort: str, batch: int,
                   actor: Actor | None) -> Iterator[dict]:
    """records.iter_records over the records in the temporary id table (and ``where``)."""
    stmt = (records._base_select(entity).where(*_conditions(entity, session, where, True, actor))
            .order_by(*records._order(entity, sort)))
    for row in session.execute(records.scoped(entity, stmt, actor).execution_options(yield_per=batch)):
        yield records._finish(entity, row)


def _export_csv_sqlite(entity: Entity, *, session: Session, out: TextIO, cols: list[str], where: str | None,
                       sort: str | None, raw: bool, actor: Actor | None, batch: int, progress: Progress,
                       ids: bool = False) -> int:
    from sqlalchemy import select

    conn = session.connection()
    dbapi = conn.connection.driver_connection
    dbapi.create_function("crm_csv_text", 1, _udf_text, deterministic=True)
    dbapi.create_function("crm_csv_money", 3, _udf_money, deterministic=True)
    dbapi.create_function("crm_csv_datetime", 1, _datetime_text, deterministic=True)
    line, selected = _line_expr(entity, cols, raw)
    T = entity.table
    stmt = records.scoped(entity, select(line, T.c.id).select_from(entity.joins(T))
                          .where(*_conditions(entity, session, where, ids, actor))
                          .order_by(*records._order(entity, sort)), actor)
    result = conn.execute(stmt)
    cursor = result.cursor
    try:
        first = cursor.fetchmany(batch)  # run the query before writing, so a bad filter writes nothing
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(cols)
        write, flush = _sink(out)
        separators = len(cols) - 1
        n = 0
        rows = first
        while rows:
            blob = _RS.join([r[0] for r in rows])
            if (blob.count(_US) == separators * len(rows) and blob.count(_RS) == len(rows) - 1
                    and b'"' not in blob and b"," not in blob and b"\r" not in blob and b"\n" not in blob):
                write(blob.replace(_US, b",").replace(_RS, b"\r\n") + b"\r\n")
            else:
                write(_careful_lines(entity, session, rows, selected, cols, raw, separators))
            n += len(rows)
            progress(n)
            rows = cursor.fetchmany(batch)
        flush()
        return n
    finally:
        result.close()


def _careful_lines(entity: Entity, session: Session, rows, selected: list[str], cols: list[str], raw: bool,
                   separators: int) -> bytes:
    """A chunk with cells that need CSV quoting (or that hold a \x1f themselves), line by line."""
    from sqlalchemy import select

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    refetch = [r[1] for r in rows if r[0].count(_US) != separators]
    again = {}
    if refetch:  # the data holds the separator: format these rows in Python from their values
        _selected, convert = _csv_plan(entity, cols, raw)
        available = entity.columns()
        T = entity.table
        stmt = (select(T.c.id, *[available[name] for name in selected]).select_from(entity.joins(T))
                .where(T.c.id.in_(refetch)))
        for row in session.connection().execute(stmt).cursor.fetchall():
            again[row[0]] = convert([row[1:]])[0]
    for line, record_id in rows:
        if record_id in again:
            writer.writerow(again[record_id])
        elif b'"' in line or b"," in line or b"\r" in line or b"\n" in line:
            writer.writerow(line.decode("utf-8").split("\x1f"))
        else:
            text.write(line.replace(_US, b",").decode("utf-8") + "\r\n")
    return text.getvalue().encode("utf-8")


def _export_csv(entity: Entity, *, session: Session, out: TextIO, cols: list[str], where: str | None,
                sort: str | None, raw: bool, actor: Actor | None, batch: int, progress: Progress,
                ids: bool = False) -> int:
    from sqlalchemy import select

    conn = session.connection()
    if conn.dialect.name == "sqlite" and len(cols) > 1:
        # (one column: csv.writer quotes a lone empty cell, so that stays on the path below)
        return _export_csv_sqlite(entity, session=session, out=out, cols=cols, where=where, sort=sort, raw=raw,
                                  actor=actor, batch=batch, progress=progress, ids=ids)
    selected, convert = _csv_plan(entity, cols, raw)
    available = entity.columns()
    stmt = records.scoped(entity, select(*[available[n].label(n) for n in selected])
                          .select_from(entity.joins(entity.table))
                          .where(*_conditions(entity, session, where, ids, actor))
                          .order_by(*records._order(entity, sort)), actor)
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
            progress(n)
        return n
    finally:
        result.close()


def _conditions(entity: Entity, session: Session, where: str | None, ids: bool, actor: Actor | None) -> list:
    """The export's WHERE: the filter, and with ``ids`` the records in bulk's temporary id table."""
    conds = records._where(entity, session, None, None, where, actor)
    if ids:
        from sqlalchemy import select

        from crm_tui.services.data.bulk import IDS

        conds.append(entity.table.c.id.in_(select(IDS.c.id)))
    return conds


def export(entity: Entity, *, session: Session, out: TextIO, fmt: str = "csv", where: str | None = None,
           columns: list[str] | None = None, sort: str | None = None, raw: bool = False,
           actor: Actor | None = None, batch: int = 5000, progress: Progress | None = None,
           ids: list[int] | None = None) -> int:
    """Stream the selected records to ``out``; returns how many were written.
    ``ids`` (with or without ``where``) limits the export to those records, each of which must exist and be
    visible to ``actor`` (any number of them: they go into a temporary table, as for bulk writes).
    ``sort`` is a column, ``-`` before it for descending (default: id).
    ``progress`` is called with the number written so far, after every ``batch`` records."""
    progress = progress or (lambda _n: None)
    if fmt not in FORMATS and fmt != "csv-rows":
        raise ValidationError("format", fmt, f"is not one of: {', '.join(FORMATS)}")
    cols = export_columns(entity, columns)
    records._order(entity, sort or "id")  # a bad sort column is refused before anything is written
    by_ids = ids is not None
    if by_ids:
        from crm_tui.services.data.bulk import select_records

        select_records(entity, session=session, ids=ids, actor=actor)
    if fmt == "csv":
        return _export_csv(entity, session=session, out=out, cols=cols, where=where, sort=sort or "id", raw=raw,
                           actor=actor, batch=batch, progress=progress, ids=by_ids)
    if by_ids:
        rows: Iterator[dict] = _iter_selected(entity, session, where, sort or "id", batch, actor)
    else:
        rows = records.iter_records(entity, session=session, where=where, sort=sort or "id", batch=batch, actor=actor)
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
            if n % batch == 0:
                progress(n)
        return n
    if fmt == "ndjson":
        for row in rows:
            out.write(json.dumps({c: _json_value(row[c]) for c in cols}, ensure_ascii=False) + "\n")
            n += 1
            if n % batch == 0:
                progress(n)
        return n
    out.write("[")
    for row in rows:
        out.write(("\n" if n == 0 else ",\n") + json.dumps({c: _json_value(row[c]) for c in cols}, ensure_ascii=False))
        n += 1
        if n % batch == 0:
            progress(n)
    out.write("\n]\n" if n else "]\n")
    return n

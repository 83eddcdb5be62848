"""One way to print records: table for people, csv/json/ndjson/ids for pipes.

Rows are dicts; dates come out in ISO 8601, money as decimal strings next to
a currency column. Data goes to stdout only.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import sys
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Annotated, Any, Optional

import typer

from crm_tui import formatting
from crm_tui.commands._common import FORMAT_HELP, Format
from crm_tui.text import visible

HIDDEN = {"stage_position"}

COLUMNS_HELP = "Comma-separated columns to show (default: all)"
RAW_HELP = ("CSV: write cells exactly as stored (by default a cell a spreadsheet would run as a formula, "
            "=, +, -, @, gets a leading ')")
OUTPUT_MARK = "__crm_output__"

# Whether the running command was given --raw: set by the output_options wrapper, read by emit.
_RAW: ContextVar[bool] = ContextVar("crm_raw_csv", default=False)


def output_options(*, default: Format = Format.table, formats: Sequence[Format] = tuple(Format),
                   help: str | None = None, columns: bool = False) -> Callable:
    """The one way a command gets `--format` (and `--columns`): sqlite-utils' ``output_options``.

    The command declares ``fmt`` (and ``columns`` when asked) as a plain keyword parameter, or takes
    ``**kw``; this decorator puts the shared option into the command's signature, so `--help` shows it
    and Python callers keep the plain defaults. The command always receives a ``Format``.
    ``formats`` limits the choice: a format outside it is refused with one line naming the ones that
    apply (exit 1); with every format, Click refuses an unknown name as a usage error (exit 2).
    The function is marked (``__crm_output__``) so a test can prove every command that prints records
    got its option here.

    A command that can write CSV also gets ``--raw``: every CSV cell ``emit`` writes goes through the
    one formula guard (``crm_tui.spreadsheet.neutralise``) unless it is given. The command may declare
    ``raw`` itself (``crm export`` hands it to the service); otherwise it never sees it."""
    allowed = tuple(Format(f) for f in formats)
    if default not in allowed:
        raise ValueError(f"default {default} is not among {allowed}")
    text = help or _format_help(default, allowed)

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func)
        params = dict(signature.parameters)
        code = getattr(inspect.unwrap(func), "__code__", None)
        takes_kw = bool(code and code.co_flags & inspect.CO_VARKEYWORDS)
        wanted = {"fmt": _format_parameter(default, allowed, text)}
        if columns:
            wanted["columns"] = inspect.Parameter(
                "columns", inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[Optional[str], typer.Option("--columns", help=COLUMNS_HELP, show_default=False)])
        for name, param in wanted.items():
            if name in params:
                params[name] = param.replace(kind=params[name].kind)
            elif takes_kw:
                params[name] = param
            else:
                raise TypeError(f"{func.__qualname__} needs a `{name}` parameter for output_options")
        csv_out = Format.csv in allowed
        wants_raw = "raw" in params
        if csv_out:
            kind = params["raw"].kind if wants_raw else inspect.Parameter.KEYWORD_ONLY
            params["raw"] = inspect.Parameter(
                "raw", kind, default=False, annotation=Annotated[bool, typer.Option("--raw", help=RAW_HELP)])
        ordered = [p for p in params.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        if not csv_out:
            func.__signature__ = signature.replace(parameters=ordered)  # type: ignore[attr-defined]
            setattr(func, OUTPUT_MARK, {"default": default, "formats": allowed, "columns": columns})
            return func

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            raw = bool(kwargs.get("raw", False) if wants_raw else kwargs.pop("raw", False))
            token = _RAW.set(raw)
            try:
                return func(*args, **kwargs)
            finally:
                _RAW.reset(token)

        command.__signature__ = signature.replace(parameters=ordered)  # type: ignore[attr-defined]
        setattr(command, OUTPUT_MARK, {"default": default, "formats": allowed, "columns": columns, "raw": True})
        return command

    return decorate


def _format_help(default: Format, allowed: tuple[Format, ...]) -> str:
    if default == Format.ids:
        others = [f.value for f in allowed if f != Format.ids]
        return f"What to print: ids (the id, default) or the whole record as {', '.join(others)}"
    if allowed == tuple(Format):
        return FORMAT_HELP
    return f"Output format: {', '.join(f.value for f in allowed)}"


def _format_parameter(default: Format, allowed: tuple[Format, ...], text: str) -> inspect.Parameter:
    if allowed == tuple(Format):
        option = typer.Option("--format", help=text)
        return inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, default=default,
                                 annotation=Annotated[Format, option])
    names = [f.value for f in allowed]

    def check(value: str) -> Format:
        if value not in names:
            from crm_tui.errors import ValidationError

            raise ValidationError("format", value, f"is not one of: {', '.join(names)}")
        return Format(value)

    option = typer.Option("--format", help=text, metavar=f"[{'|'.join(names)}]", callback=check)
    return inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, default=default.value,
                             annotation=Annotated[str, option])


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
        return formatting.moment(value)
    if isinstance(value, dt.date):
        return formatting.day(value)
    return visible(_plain(value))


def _table_cell(row: dict, column: str):
    """A table cell: money columns that carry their exact minor units and currency read
    "40,000.00" (crm_tui.formatting; the currency has its own column), the rest as ``shown``."""
    minor = _money_minor(row, column)
    if minor is not None:
        return shown(formatting.money(minor, row["currency"], code=False))
    return shown(row[column])


# Fields whose decimal text is an amount of the row's currency (proposal totals, derived amounts).
MONEY_TEXT = ("subtotal", "net", "tax", "total", "unit_price")


def _money_minor(row: dict, key: str) -> int | None:
    """The exact minor units of a money field of ``row`` in its ``currency``, or None when the field is
    not money: the ``KEY_minor`` integer the row carries next to it, or an amount carried as its exact
    decimal text ("weighted_amount": "50185.00")."""
    currency, value = row.get("currency"), row.get(key)
    if not isinstance(currency, str):
        return None
    minor = row.get(f"{key}_minor")
    if not (isinstance(minor, int) and not isinstance(minor, bool)):
        minor = None
        if (key.endswith("amount") or key in MONEY_TEXT) and isinstance(value, (str, Decimal)) and value != "":
            from crm_tui import money

            try:
                minor = money.parse_amount(value, currency)
            except ValueError:
                return None
    if minor is None:
        return None
    try:
        formatting.money(minor, currency)
    except ValueError:  # not a currency the formatter knows
        return None
    return minor


def shown(value: Any):
    """A value for a Rich table cell a person reads: control characters spelled out
    (crm_tui.text.visible) and never read as Rich markup (``[red]x[/]`` stays as typed)."""
    from rich.text import Text

    return Text(_human(value))


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
         table_columns: Sequence[str] | None = None, title: str | None = None, out=None,
         header: Sequence[str] | None = None, raw: bool | None = None) -> int:
    """Write rows in ``fmt``; returns how many were written. Streams except for tables.

    CSV: text cells get the spreadsheet formula guard unless ``raw`` (default: the command's --raw);
    with no rows the header row is still written, from ``columns``, else ``header`` (the keys a row
    would have)."""
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
        from crm_tui.spreadsheet import neutralise

        guard = (lambda text: text) if (_RAW.get() if raw is None else raw) else neutralise
        writer = None
        for row in rows:
            if writer is None:
                cols = pick_columns(row, columns)
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow([guard(c) for c in cols])
            writer.writerow([guard(_cell(v)) if isinstance(v := row[c], str) else _cell(v) for c in cols])
            n += 1
        if writer is None and (columns or header):
            cols = list(columns) if columns else [k for k in header or () if k not in HIDDEN]
            csv.writer(out, lineterminator="\n").writerow([guard(c) for c in cols])
        return n
    # table
    from rich.table import Table

    materialised = list(rows)
    if not materialised:
        return 0
    cols = pick_columns(materialised[0], columns or table_columns)
    table = Table(title=shown(title) if title else None, header_style="bold", show_lines=False)
    for c in cols:
        justify = "right" if c in ("id", "amount", "weighted_amount", "probability", "employees", "records", *MONEY_TEXT) else "left"
        table.add_column(shown(c), justify=justify, overflow="fold")
    for row in materialised:
        table.add_row(*[_table_cell(row, c) for c in cols])
    _console(out).print(table)
    return len(materialised)


def _console(out=None):
    """A console for tables: the terminal's width, or wide enough not to fold when piped."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich's own handling exits 1; the root's error boundary ends a closed pipe quietly with 0.
            self.quiet = True
            raise BrokenPipeError

    out = out or sys.stdout
    width = None if out.isatty() else 240
    return PipeConsole(file=out, width=width, soft_wrap=False)


def emit_one(row: dict, fmt: Format) -> None:
    """A record a command just wrote: its id for ``ids`` (the default for writes), else the whole record."""
    if fmt == Format.ids:
        typer.echo(row["id"])
    else:
        emit_record(row, fmt)


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
    for key in _record_keys(row):
        table.add_row(shown(key), _record_cell(row, key))
    _console().print(table)


def _record_keys(row: dict) -> list[str]:
    """The fields a person reads on one record: a money field's exact minor units are left to
    csv/json when the record also carries the amount itself (``amount`` next to ``amount_minor``)."""
    return [k for k in row if k not in HIDDEN
            and not (k.endswith("_minor") and k.removesuffix("_minor") in row and isinstance(row.get("currency"), str))]


def _record_cell(row: dict, key: str):
    """One record's value as a person reads it: money with its currency ("100,370.00 USD", the one
    formatter the lists and the app use), the rest as ``shown``."""
    minor = _money_minor(row, key)
    if minor is not None:
        return shown(formatting.money(minor, row["currency"]))
    return shown(row[key])

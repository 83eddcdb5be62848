"""How people read money and dates, in one place: the app, CLI tables, the summary and PDFs.

Plain functions, no UI imports (services and the PDF use them too). Machine output (CSV, JSON,
exports) keeps the exact raw values (``money.format_plain``, ISO 8601) and never comes here.

The rules:

- Money: digits grouped by thousands, exactly the currency's decimals from the stored minor units
  (none for JPY, three for BHD), then the ISO code: ``40,000.00 USD``, ``1,500 JPY``, ``1.250 BHD``.
  ``compact=True`` (cards, headers, short lists) drops a fraction that is all zeros:
  ``40,000 USD``, but keeps ``40,000.50 USD`` exact.
- A date: ``4 Dec`` in this year, ``4 Dec 2025`` in another; ``weekday=True`` gives ``Fri 4 Dec``.
- A month (forecast rows, chart labels): ``Oct`` in this year, ``Jan 2027`` in another.
- A date and time (local time): ``4 Dec 14:02``, ``4 Dec 2025 14:02`` in another year.
- Relative, where a screen says how far away a day is: ``today``, ``tomorrow``, ``yesterday``,
  ``in 3 days``, ``3 days ago``.
"""

from __future__ import annotations

import datetime as dt

from crm_tui import money as _money

__all__ = ["money", "day", "month", "moment", "relative", "full_day", "deal_name"]


def money(minor: int | None, currency: str | None, *, compact: bool = False, code: bool = True) -> str:
    """``40,000.00 USD``; ``40,000 USD`` with ``compact``; empty for no amount."""
    if minor is None or not currency:
        return ""
    places = _money.decimals(currency)
    value = _money.to_decimal(minor, currency)
    if compact and places and int(minor) % (10 ** places) == 0:
        places = 0
    text = f"{value:,.{places}f}"
    return f"{text} {_money.normalize_currency(currency)}" if code else text


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone().date() if value.tzinfo else value.date()
    return value


def _today(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def day(value: dt.date | dt.datetime | str | None, *, today: dt.date | None = None, weekday: bool = False) -> str:
    """``4 Dec`` this year, ``4 Dec 2025`` otherwise (a datetime in local time); empty for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    d = _as_date(value)
    text = f"{d.day} {d:%b}"
    if weekday:
        text = f"{d:%a} {text}"
    return text if d.year == _today(today).year else f"{text} {d.year}"


def month(value: dt.date | dt.datetime | str | None, *, today: dt.date | None = None) -> str:
    """``Oct`` this year, ``Jan 2027`` otherwise (a date, or ``2026-10`` text); empty for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date(int(value[:4]), int(value[5:7]), 1)
        except ValueError:
            return value
    d = _as_date(value)
    return f"{d:%b}" if d.year == _today(today).year else f"{d:%b} {d.year}"


def full_day(value: dt.date | dt.datetime | None) -> str:
    """``4 December 2026``, always with the year: dates on a document a customer keeps (PDFs)."""
    if value is None:
        return ""
    d = _as_date(value)
    return f"{d.day} {d:%B} {d.year}"


def moment(value: dt.datetime | str | None, *, today: dt.date | None = None) -> str:
    """``4 Dec 14:02`` (local time), ``4 Dec 2025 14:02`` in another year; empty for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return day(value, today=today)
    local = value.astimezone() if value.tzinfo else value
    return f"{day(local.date(), today=today)} {local:%H:%M}"


def relative(value: dt.date | dt.datetime | None, *, today: dt.date | None = None) -> str:
    """``today``, ``tomorrow``, ``yesterday``, ``in 3 days``, ``3 days ago``; empty for none."""
    if value is None:
        return ""
    days = (_as_date(value) - _today(today)).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


# Between an account's name and the deal's own name in a deal name ("Acme – Data platform").
_SEPARATORS = (" – ", " — ", " - ", ": ", " · ", " | ", " / ")


def deal_name(name: str, account: str | None) -> str:
    """A deal's own name, without a leading copy of its account's name: "Acme – Data platform" of
    Acme reads "Data platform"; a name that is only the account's (or says nothing more) stays."""
    if account and name.casefold().startswith(account.casefold()):
        rest = name[len(account):]
        for sep in _SEPARATORS:
            if rest.startswith(sep) and rest[len(sep):].strip():
                return rest[len(sep):].strip()
    return name

"""How values look in tables and detail views: money right-aligned, statuses in colour.

Plain functions returning Rich ``Text``; no database, no widgets.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text

from crm_tui import money

STATUS_STYLES = {
    # accounts
    "prospect": "bold #e0a526",
    "active": "bold #3fb950",
    "churned": "#f85149",
    # leads (later areas use the same map)
    "new": "bold #58a6ff",
    "contacted": "#58a6ff",
    "nurture": "#d2a8ff",
    "qualified": "bold #3fb950",
    "unqualified": "#8b949e",
    "converted": "#3fb950",
    "junk": "#8b949e",
}


def status_text(status: str | None) -> Text:
    if not status:
        return Text("")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def money_text(minor: int | None, currency: str | None, *, code: bool = True) -> Text:
    """Exact money, right-aligned: "12,500.00 USD"."""
    if minor is None or not currency:
        return Text("", justify="right")
    return Text(money.format_money(minor, currency, code=code), justify="right")


def right(value: object) -> Text:
    return Text("" if value is None else str(value), justify="right")


def number(value: int | None) -> Text:
    return right(f"{value:,}" if isinstance(value, int) else value)


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone()


def date_text(value: dt.date | dt.datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return _local(value).strftime("%Y-%m-%d")
    return value.isoformat()


def datetime_text(value: dt.datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    return _local(value).strftime("%Y-%m-%d %H:%M")


def plain(value: object) -> str:
    return "" if value is None else str(value)

"""How values look in tables and detail views: money right-aligned, statuses in colour.

Plain functions returning Rich ``Text``; no database, no widgets.
"""

from __future__ import annotations

import datetime as dt

from rich.highlighter import Highlighter
from rich.text import Text
from textual.markup import escape

from crm_tui import formatting
from crm_tui.text import has_controls, pictured, visible

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


def money_text(minor: int | None, currency: str | None, *, code: bool = True, compact: bool = False) -> Text:
    """Exact money, right-aligned: "12,500.00 USD" (crm_tui.formatting.money)."""
    return Text(formatting.money(minor, currency, code=code, compact=compact), justify="right")


def right(value: object) -> Text:
    return Text("" if value is None else str(value), justify="right")


def number(value: int | None) -> Text:
    return right(f"{value:,}" if isinstance(value, int) else value)


def date_text(value: dt.date | dt.datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return formatting.day(value)


def datetime_text(value: dt.datetime | str | None) -> str:
    """``4 Dec 14:02``: crm_tui.formatting.moment (which reads ISO text and dates too)."""
    return formatting.moment(value)


def plain(value: object) -> str:
    return "" if value is None else str(value)


def safe(value: object) -> Text:
    """A user's value to show in a widget: control characters spelled out (crm_tui.text.visible)
    and never read as markup, so ``[red]x[/]`` shows as typed. ``None`` is empty."""
    return Text(visible(plain(value)))


def esc(value: object) -> str:
    """A user's value to put inside a markup string (``f"[b]{esc(name)}[/b]"``): spelled out and escaped."""
    return escape(visible(plain(value)))


class PlainCell(Text):
    """A table cell from a ``str``: drawn as plain text (never markup), and read back like the ``str``
    it shows: equal to it, and its string methods (``startswith``, ``split``, ...) answer for it."""

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.plain, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.plain == other
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self.plain)


def safe_cell(value: object) -> object:
    """A table cell as the user typed it: a ``str`` becomes a ``PlainCell`` (never markup); a ``Text``
    with control characters gets them spelled out (keeping its style); anything else passes."""
    if isinstance(value, str):
        return PlainCell(visible(value))
    if isinstance(value, Text) and has_controls(value.plain):
        return Text(visible(value.plain), style=value.style, justify=value.justify, no_wrap=value.no_wrap)
    return value


class ControlPictures(Highlighter):
    """An ``Input`` highlighter: control characters in the value are drawn as one symbol each (ESC as
    ␛, crm_tui.text.pictured), never sent to the terminal; the value and the cursor stay as they are."""

    def highlight(self, text: Text) -> None:
        shown = pictured(text.plain)
        if shown != text.plain:
            text.plain = shown

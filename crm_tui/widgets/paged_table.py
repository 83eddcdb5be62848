"""A DataTable that holds one page of a long result at a time and asks for more."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable


class PagedTable(DataTable):
    """Row-cursor DataTable for paged lists.

    It never fetches anything itself: when the cursor or the scroll position
    comes within ``margin`` rows of the last loaded row it posts
    ``PagedTable.NearEnd`` (floods collapse), and the owner decides whether
    there is more to load and calls ``add_page``.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", tooltip="Open the row under the cursor"),
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last loaded row", show=False),
    ]

    DEFAULT_CSS = """
    PagedTable {
        height: 1fr;
    }
    """

    @dataclass
    class NearEnd(Message):
        table: "PagedTable"

        @property
        def control(self) -> "PagedTable":
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PagedTable.NearEnd) and message.table is self.table

    def __init__(self, *, margin: int = 40, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.margin = margin

    def add_page(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> int:
        """Append ``(key, cells)`` rows, skipping keys already shown. Returns how many were added."""
        added = 0
        for key, cells in rows:
            if key in self.rows:
                continue  # the data moved under an offset page; never show a row twice
            self.add_row(*cells, key=key)
            added += 1
        return added

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.row_count or self.cursor_row < 0:
            return None
        try:
            return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except Exception:
            return None

    def select_key(self, key: str) -> bool:
        """Move the cursor to the row with ``key``; False if it is not loaded."""
        if key not in self.rows:
            return False
        self.move_cursor(row=self.get_row_index(key), animate=False, scroll=True)
        return True

    def _check_near_end(self) -> None:
        if not self.row_count:
            return
        near_cursor = self.cursor_row >= self.row_count - self.margin
        near_scroll = self.scroll_y >= self.max_scroll_y - max(self.size.height, 1)
        if near_cursor or near_scroll:
            self.post_message(self.NearEnd(self))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._check_near_end()

    def watch_cursor_coordinate(self, old_coordinate: Coordinate, new_coordinate: Coordinate) -> None:
        super().watch_cursor_coordinate(old_coordinate, new_coordinate)
        if old_coordinate.row != new_coordinate.row:
            self._check_near_end()

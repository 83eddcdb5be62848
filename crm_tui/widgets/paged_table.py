"""A DataTable that holds one page of a long result at a time and asks for more."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message

from crm_tui.widgets.text_table import TextTable


class PagedTable(TextTable):
    """Row-cursor DataTable for paged lists.

    It never fetches anything itself: when the cursor or the scroll position
    comes within ``margin`` rows of the last loaded row it posts
    ``PagedTable.NearEnd`` (floods collapse), and the owner decides whether
    there is more to load and calls ``add_page``.

    With ``selectable=True`` rows can be marked for a bulk action: space marks
    (or unmarks) the row under the cursor and moves on, ``*`` marks every loaded
    row (again: none). Marks show in the row-label column at the left;
    ``selected_keys`` lists them and ``SelectionChanged`` says when they change.
    Clearing the table clears the marks.
    """

    MARK = "●"

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", tooltip="Open the row under the cursor"),
        Binding("space", "toggle_mark", "Mark", show=False, tooltip="Mark the row for a bulk action (again: unmark)"),
        Binding("asterisk", "mark_all", "Mark all", show=False, key_display="*",
                tooltip="Mark every loaded row (again: unmark all)"),
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

    @dataclass
    class SelectionChanged(Message):
        table: "PagedTable"
        count: int

        @property
        def control(self) -> "PagedTable":
            return self.table

    WIDE = 120  # from this width on, the ``wide`` columns take their wide width

    def __init__(self, *, margin: int = 40, stretch: str | None = None, selectable: bool = False,
                 wide: dict[str, int] | None = None, **kwargs: Any) -> None:
        """``stretch``: the key of a column that takes the width the others leave free.
        ``wide``: columns (key: width) that are wider on a wide terminal than they were declared.
        ``selectable``: rows can be marked for bulk actions (a marker column at the left)."""
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.margin = margin
        self.stretch = stretch
        self.wide = dict(wide or {})
        self._declared: dict[str, int] = {}
        self._stretch_min: int | None = None
        self.selectable = selectable
        self.show_row_labels = selectable
        self._marked: set[str] = set()

    def on_resize(self) -> None:
        self.stretch_column()

    def stretch_column(self) -> None:
        """Give the stretch column the spare width (never less than it was declared with)."""
        if self.stretch is None or self.stretch not in self.columns or not self.size.width:
            return
        for key, wide_width in self.wide.items():
            if key in self.columns:
                other = self.columns[key]  # type: ignore[index]
                declared = self._declared.setdefault(key, other.width)
                other.width = wide_width if self.size.width >= self.WIDE else declared
        column = self.columns[self.stretch]  # type: ignore[index]
        if self._stretch_min is None:
            self._stretch_min = column.width
        others = sum(c.get_render_width(self) for key, c in self.columns.items() if key != self.stretch)
        if self.selectable:  # the marker column at the left (one character), even before a row has a label
            others += 1 + 2 * self.cell_padding
        spare = self.size.width - 2 - others - 2 * self.cell_padding  # keep room for the scrollbar
        width = max(self._stretch_min, spare)
        if width != column.width:
            column.width = width
            self._require_update_dimensions = True
            self._clear_caches()
            self.refresh()

    def add_page(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> int:
        """Append ``(key, cells)`` rows, skipping keys already shown. Returns how many were added."""
        added = 0
        for key, cells in rows:
            if key in self.rows:
                continue  # the data moved under an offset page; never show a row twice
            if self.selectable:
                self.add_row(*cells, key=key, label=Text(" "))
            else:
                self.add_row(*cells, key=key)
            added += 1
        return added

    # ------------------------------------------------------------ marks

    def clear(self, columns: bool = False) -> "PagedTable":
        had = bool(self._marked)
        self._marked.clear()
        super().clear(columns)
        if had:
            self.post_message(self.SelectionChanged(self, 0))
        return self

    @property
    def selected_keys(self) -> list[str]:
        """The marked rows' keys, top to bottom."""
        return [str(row.key.value) for row in self.ordered_rows if row.key.value in self._marked]

    def is_marked(self, key: str) -> bool:
        return key in self._marked

    def set_marked(self, keys: Iterable[str], marked: bool = True) -> None:
        changed = False
        for key in keys:
            if key not in self.rows or (key in self._marked) == marked:
                continue
            if marked:
                self._marked.add(key)
            else:
                self._marked.discard(key)
            self.rows[key].label = Text(self.MARK if marked else " ", style="bold green" if marked else "")  # type: ignore[index]
            changed = True
        if changed:
            self._clear_caches()
            self.refresh()
            self.post_message(self.SelectionChanged(self, len(self._marked)))

    def clear_marks(self) -> None:
        self.set_marked(list(self._marked), False)

    def action_toggle_mark(self) -> None:
        key = self.cursor_key()
        if not self.selectable or key is None:
            return
        self.set_marked([key], not self.is_marked(key))
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1, animate=False)

    def action_mark_all(self) -> None:
        if not self.selectable or not self.row_count:
            return
        keys = [str(row.key.value) for row in self.ordered_rows]
        if all(k in self._marked for k in keys):
            self.clear_marks()
        else:
            self.set_marked(keys)

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

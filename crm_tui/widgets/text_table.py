"""Widgets that show users' values as typed: a DataTable, a TextArea."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable, TextArea

from crm_tui.text import pictured
from crm_tui.widgets.cells import safe_cell


class TextTable(DataTable):
    """Textual's DataTable reads a ``str`` cell as markup and draws control characters raw;
    this one shows every cell as the user typed it: ``[red]x[/]`` literally, ``ESC`` as ``\\x1b``
    (crm_tui.widgets.cells.safe_cell). Styled cells are given as ``rich.text.Text``."""

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        return super().add_row(*(safe_cell(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, safe_cell(value), **kwargs)  # update_cell_at calls update_cell


class PicturedTextArea(TextArea):
    """A TextArea that draws control characters as one symbol each (ESC as ␛, crm_tui.text.pictured);
    the text itself, and what is saved, stay as they are."""

    def get_line(self, line_index: int) -> Text:
        # As TextArea.get_line, but one symbol per control character (Rich would drop BEL and CR).
        return Text(pictured(self.document.get_line(line_index)), end="", no_wrap=True)

"""A DataTable that shows users' values as typed."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from crm_tui.widgets.cells import safe_cell


class TextTable(DataTable):
    """Textual's DataTable reads a ``str`` cell as markup and draws control characters raw;
    this one shows every cell as the user typed it: ``[red]x[/]`` literally, ``ESC`` as ``\\x1b``
    (crm_tui.widgets.cells.safe_cell). Styled cells are given as ``rich.text.Text``."""

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        return super().add_row(*(safe_cell(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, safe_cell(value), **kwargs)  # update_cell_at calls update_cell

"""Reusable Textual widgets: they know nothing about the database."""

from crm_tui.widgets.filter_bar import FilterBar
from crm_tui.widgets.paged_table import PagedTable

__all__ = ["FilterBar", "PagedTable"]

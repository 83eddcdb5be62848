"""Reusable Textual widgets: they know nothing about the database."""

from crm_tui.widgets.filter_bar import FilterBar, FilterMessage, looks_like_expression, split_filter
from crm_tui.widgets.paged_table import PagedTable

__all__ = ["FilterBar", "FilterMessage", "PagedTable", "looks_like_expression", "split_filter"]

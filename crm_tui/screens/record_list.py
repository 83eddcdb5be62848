"""A paged, searchable, sortable list of one entity's records (leads, contacts).

Rows come a page at a time from a thread worker (``list_records`` with limit and
offset); the total is a SQL count. Nothing loads every row, so a million leads
scroll as quickly as ten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label
from textual.worker import Worker, WorkerState

from crm_tui import formatting
from crm_tui.screens.base import StyledOnMount
from crm_tui.screens.bulk_actions import BulkActions
from crm_tui.screens.saved_views import SavedViews
from crm_tui.widgets import PagedTable
from crm_tui.widgets.cells import money_text, safe
from crm_tui.widgets.filter_bar import FilterBar, FilterMessage, filter_error_text
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.worker import failure_text, run_db

if TYPE_CHECKING:
    from crm_tui.app import CRMApp

PAGE = 100


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return formatting.moment(value)
    if isinstance(value, dt.date):
        return formatting.day(value)
    return str(value)


class WorkerErrors(StyledOnMount):
    """Mixed into screens: a worker that dies of something unexpected becomes a notification."""

    if TYPE_CHECKING:
        @property
        def app(self) -> CRMApp: ...

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title="Something went wrong",  # type: ignore[attr-defined]
                        severity="error", timeout=10)


class RecordListScreen(SavedViews, BulkActions, WorkerErrors, Screen):
    ENTITY: ClassVar[str] = ""  # the registry's name of the entity listed
    COLUMNS: ClassVar[tuple[str, ...]] = ("id",)
    DEFAULT_ORDER: ClassVar[str] = "default order"  # how the service sorts when no column is chosen
    EMPTY_HINT: ClassVar[str] = "press n to add one"  # what to do when there is none at all
    PALETTE_GROUP: ClassVar[str] = ""
    PALETTE_NAMES: ClassVar[dict[str, str]] = {}
    # The columns (from the left) that must show whole on a narrow terminal, and the ones that give way
    # for them (down to the width given): "name, company, status and next follow-up at 80 columns".
    KEEP: ClassVar[tuple[str, ...]] = ()
    SHRINK: ClassVar[dict[str, int]] = {}

    BINDINGS = [
        Binding("slash", "focus_search", "Search", tooltip="Type to filter the list"),
        Binding("o", "cycle_sort", "Sort", tooltip="Sort by the next column (or click a column header)"),
        Binding("O", "reverse_sort", "Reverse", show=False, tooltip="Reverse the sort order"),
        Binding("r", "reload", "Reload", show=False, tooltip="Load the list again"),
    ]

    @dataclass
    class Page(Message):
        generation: int
        offset: int
        rows: list
        total: int | None = None

    @dataclass
    class FilterFailed(Message):
        generation: int
        error: str

    @dataclass
    class Query:
        search: str = ""
        where: str = ""  # a filter expression (status=new and score>50)
        filters: dict = field(default_factory=dict)
        sort: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.query_state = self.Query()
        self.generation = 0
        self.loaded = 0
        self.total = 0
        self.loading = False
        self._good_where = ""

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filter-row"):
            yield FilterBar(placeholder=f"Search {self.plural} or filter: field=value", id="list-search")
            yield from self.compose_filters()
        yield FilterMessage(id="list-filter-message")
        yield PagedTable(id="list-table", selectable=True)
        yield Label("", id="list-status", classes="status-line")
        yield FitFooter(compact=True)

    def compose_filters(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        table = self.query_one("#list-table", DataTable)
        for name in self.COLUMNS:
            table.add_column(name.replace("_", " ").capitalize(), key=name)
        table.focus()
        self.sub_title = f"{self.app.user} · {self.app.database_label}"
        self.reload()

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        self.generation += 1
        self.loaded = 0
        self.loading = True
        self.query_one("#list-status", Label).update(self.app.busy_text())
        q = self.query_state
        self._fetch(self.generation, 0, self.Query(q.search, q.where, dict(q.filters), q.sort), True)

    def action_reload(self) -> None:
        self.reload()

    def active_filters(self) -> dict:
        """The filters set (an owner "me" is the acting user: the service resolves it)."""
        return {k: v for k, v in self.query_state.filters.items() if v not in (None, "")}

    @property
    def plural(self) -> str:
        from crm_tui.services.registry import entry_for

        return entry_for(self.ENTITY).plural

    def _fetch(self, generation: int, offset: int, q: Query, with_count: bool) -> None:
        entity_name = self.ENTITY
        filters = self.active_filters()

        def fetch(s: Any) -> Message:
            from crm_tui.errors import CRMError
            from crm_tui.services import records
            from crm_tui.services.registry import ENTITIES

            entity = ENTITIES[entity_name]
            actor = self.app.actor
            if q.where and offset == 0:
                from crm_tui.services.where import compile_for

                try:
                    compile_for(entity, q.where, actor=actor)
                except CRMError as exc:
                    return self.FilterFailed(generation, filter_error_text(exc))
            rows = records.list_records(entity, session=s, search=q.search or None, filters=filters,
                                        where=q.where or None, actor=actor, sort=q.sort, limit=PAGE,
                                        offset=offset)
            total = records.count_records(entity, session=s, search=q.search or None, filters=filters,
                                          where=q.where or None, actor=actor) if with_count else None
            return self.Page(generation, offset, rows, total)

        run_db(self, fetch, group="list", failed=self._failed)

    @on(Page)
    def _page(self, message: Page) -> None:
        if message.generation != self.generation:
            return  # an older query's answer
        table = self.query_one("#list-table", PagedTable)
        if message.offset == 0:
            self._good_where = self.query_state.where
            self.query_one(FilterMessage).clear()
            table.clear()
        if message.total is not None:
            self.total = message.total
        table.add_page((str(row["id"]), [self.row_cell(row, name) for name in self.COLUMNS])
                       for row in message.rows)
        self.loaded = message.offset + len(message.rows)
        self.loading = False
        self.fit_columns()
        self._status()

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_columns)  # once the table has its new size

    def status_words(self) -> list[str]:
        """What else the status line says about the rows (a screen's filters that are not shown)."""
        return []

    def fit_columns(self) -> None:
        """Narrow the SHRINK columns (cutting their longest values) just enough for the KEEP columns to
        show whole; on a terminal wide enough every column takes its values' width again."""
        if not self.KEEP:
            return
        table = self.query_one("#list-table", DataTable)
        if not table.size.width:
            return
        columns = {str(key.value): column for key, column in table.columns.items()}
        changed = False
        for key in self.SHRINK:
            if key in columns and not columns[key].auto_width:
                columns[key].auto_width = changed = True
        last = max(self.COLUMNS.index(k) for k in self.KEEP)
        need = sum(columns[k].get_render_width(table) for k in self.COLUMNS[:last + 1])
        room = table.size.width - 2 - table._row_label_column_width  # keep room for the scrollbar
        if table.show_row_labels and not table._row_label_column_width:
            room -= 1 + 2 * table.cell_padding  # the marker column, before a row has its label
        over = need - room
        for key, least in self.SHRINK.items():
            column = columns.get(key)
            if over <= 0 or column is None:
                break
            cut = min(over, column.content_width - least)
            if cut > 0:
                column.auto_width, column.width = False, column.content_width - cut
                over -= cut
                changed = True
        if changed:
            table._require_update_dimensions = True
            table._clear_caches()
            table.refresh()

    def row_cell(self, row: dict, name: str) -> Any:
        """A money column with its exact minor units and currency reads "1,200.00" (crm_tui.formatting),
        right-aligned; every other column goes through ``format_cell``."""
        minor, currency = row.get(f"{name}_minor"), row.get("currency")
        if isinstance(minor, int) and not isinstance(minor, bool) and isinstance(currency, str):
            return money_text(minor, currency, code=False)
        return self.format_cell(name, row.get(name))

    def format_cell(self, name: str, value: Any) -> Any:
        return cell(value)

    def _status(self) -> None:
        q = self.query_state
        filters = self.active_filters()
        mine_only = bool(getattr(self, "mine", False)) and filters == {"owner": "me"}  # the Mine scope, no filter
        if self.total == 0 and not (q.search or q.where) and (not filters or mine_only):
            text = f"No {self.plural} yet — {self.EMPTY_HINT}." + ("  ·  m shows everyone's" if mine_only else "")
        elif self.total == 0:
            what = f"No {self.plural} match “{q.search}”" if q.search else f"No {self.plural}"
            text = what + (" with these filters" if self.active_filters() else "") + "."
        else:
            sort = q.sort or ""
            order = f"sorted by {sort.lstrip('-').replace('_', ' ')}, {'descending' if sort.startswith('-') else 'ascending'}" \
                if sort else self.DEFAULT_ORDER
            text = f"1–{self.loaded:,} of {self.total:,} {self.plural}" + (f" matching “{q.search}”" if q.search else "")
            text += f" where {q.where}" if q.where else ""
            text += "".join(f"  ·  {words}" for words in self.status_words())
            text += f"  ·  {order}"
        marked = len(self.bulk_table().selected_keys)
        if marked:
            text += f"  ·  {marked:,} marked (t tag · a reassign)"
        self.query_one("#list-status", Label).update(text)

    @on(FilterFailed)
    def _filter_failed(self, message: FilterFailed) -> None:
        if message.generation != self.generation:
            return
        # The rows on screen stay, and so does the filter that produced them.
        self.loading = False
        self.query_state.where = self._good_where
        self.query_one(FilterMessage).show(message.error)
        self._status()

    def _failed(self, error: BaseException) -> None:
        """run_db has notified; the status line says it too."""
        self.loading = False
        self.query_one("#list-status", Label).update(safe(f"error: {failure_text(error)}"))

    @on(DataTable.RowHighlighted, "#list-table")
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if not self.loading and self.loaded < self.total and event.cursor_row >= table.row_count - 20:
            self.loading = True
            q = self.query_state
            self._fetch(self.generation, self.loaded,
                        self.Query(q.search, q.where, dict(q.filters), q.sort), False)

    # ------------------------------------------------------------ searching and sorting

    @on(FilterBar.Applied, "#list-search")
    def _search_applied(self, message: FilterBar.Applied) -> None:
        q = self.query_state
        if (message.search, message.where) != (q.search, q.where):
            q.search, q.where = message.search, message.where
            if not message.where:
                self.query_one(FilterMessage).clear()
            self.reload()
        if message.leave:
            self.query_one("#list-table", DataTable).focus()

    def action_focus_search(self) -> None:
        self.query_one("#list-search", FilterBar).focus()

    def set_sort(self, column: str) -> None:
        current = self.query_state.sort or ""
        self.query_state.sort = f"-{column}" if current == column else column
        self.reload()

    @on(DataTable.HeaderSelected, "#list-table")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        self.set_sort(str(event.column_key.value))

    def action_cycle_sort(self) -> None:
        current = (self.query_state.sort or "").lstrip("-")
        index = (self.COLUMNS.index(current) + 1) % len(self.COLUMNS) if current in self.COLUMNS else 0
        self.query_state.sort = self.COLUMNS[index]
        self.reload()

    def action_reverse_sort(self) -> None:
        current = self.query_state.sort or self.COLUMNS[0]
        self.query_state.sort = current[1:] if current.startswith("-") else f"-{current}"
        self.reload()

    # ------------------------------------------------------------ bulk actions

    def bulk_table(self) -> PagedTable:
        return self.query_one("#list-table", PagedTable)

    def bulk_reload(self) -> None:
        self.reload()

    @on(PagedTable.SelectionChanged, "#list-table")
    def _marks_changed(self) -> None:
        if not self.loading:
            self._status()

    # ------------------------------------------------------------ opening

    def selected_id(self) -> int | None:
        table = self.query_one("#list-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key else None

    @on(DataTable.RowSelected, "#list-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.open_record(int(event.row_key.value))

    def open_record(self, record_id: int) -> None:  # pragma: no cover - subclasses
        pass

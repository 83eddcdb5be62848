"""Accounts: a paged, filterable, sortable list of every account.

Only one page (``PAGE_SIZE`` rows) is fetched at a time and the next one when
the cursor or the scroll position nears the end, so the list opens as fast on
125,000 accounts as on 20. The total is counted in SQL, after the first page
is on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from crm_tui.errors import CRMError
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.screens.bulk_actions import BULK_PALETTE_NAMES, BulkActions, bulk_bindings
from crm_tui.screens.saved_views import VIEW_PALETTE_NAMES, SavedViews, view_bindings
from crm_tui.widgets import FilterBar, FilterMessage, PagedTable
from crm_tui.widgets.cells import date_text, money_text, plain, status_text
from crm_tui.widgets.filter_bar import filter_error_text
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.worker import run_db

PAGE_SIZE = 100  # a screenful and more (48 rows show 40); fewer rows to measure and lay out per filter


@dataclass(frozen=True)
class Column:
    key: str  # the row's field, and the DataTable column key
    label: str
    width: int
    sort: str  # the service's sort column
    descending_first: bool = False  # biggest / newest first when first chosen
    align_right: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 36, "name"),
    Column("industry", "Industry", 18, "industry"),
    Column("city", "City", 16, "city"),
    Column("state", "State", 5, "state"),
    Column("status", "Status", 9, "status"),
    Column("owner", "Owner", 10, "owner"),
    Column("lifetime_value", "Lifetime value", 18, "lifetime_value_minor", descending_first=True, align_right=True),
    Column("updated_at", "Updated", 11, "updated_at", descending_first=True),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}


def row_cells(row: dict[str, Any]) -> tuple[Any, ...]:
    """The table cells of one account row (in COLUMNS order)."""
    return (
        plain(row.get("name")),
        plain(row.get("industry")),
        plain(row.get("city")),
        plain(row.get("state")),
        status_text(row.get("status")),
        plain(row.get("owner")),
        money_text(row.get("lifetime_value_minor"), row.get("currency")),
        date_text(row.get("updated_at")),
    )


@dataclass(frozen=True)
class ListQuery:
    """What the list shows: the filter text and the sort. ``generation`` tells stale results apart."""

    generation: int
    search: str
    sort: str
    descending: bool
    where: str = ""  # a filter expression (industry=Technology and state=CA)

    @property
    def sort_key(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort


class AccountsScreen(SavedViews, BulkActions, CRMScreenMixin, Screen):
    """The Accounts area: filter box, the paged list, a status line and the keys."""

    TITLE = "Accounts"
    BULK_ENTITY = "account"
    PALETTE_GROUP = "Accounts"
    PALETTE_NAMES = {
        "open": "open account",
        "new": "new account",
        "edit": "edit account",
        "focus_filter": "filter",
        "refresh": "refresh",
        "cycle_sort": "sort by next column",
        "reverse_sort": "reverse sort order",
        "clear_filter": "clear filter",
        **BULK_PALETTE_NAMES,
        **VIEW_PALETTE_NAMES,
    }

    BINDINGS = [
        Binding("enter", "open", "Open", id="accounts.open", tooltip="Show the selected account"),
        Binding("n", "new", "New", id="accounts.new", tooltip="Add an account"),
        Binding("e", "edit", "Edit", id="accounts.edit", tooltip="Edit the selected account"),
        Binding("slash", "focus_filter", "Filter", key_display="/", id="accounts.filter",
                tooltip="Type to filter accounts by name, industry, city, state, web site or email"),
        Binding("f", "focus_filter", "Filter", show=False, id="accounts.filter_f"),
        Binding("s", "cycle_sort", "Sort", id="accounts.sort", tooltip="Sort by the next column"),
        Binding("S", "reverse_sort", "Reverse", key_display="S", id="accounts.reverse",
                tooltip="Reverse the sort order"),
        Binding("r", "refresh", "Refresh", id="accounts.refresh", tooltip="Load the list again"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="accounts.clear_filter"),
        *bulk_bindings("accounts"),
        *view_bindings("accounts"),
    ]

    # ------------------------------------------------------------ messages

    @dataclass
    class PageLoaded(Message):
        query: ListQuery
        offset: int
        rows: list[dict]
        select_id: int | None = None
        open_if_missing: bool = False

    @dataclass
    class CountLoaded(Message):
        query: ListQuery
        total: int

    @dataclass
    class LoadFailed(Message):
        """Loading failed (run_db has said why): the status line stops saying "loading"."""

        query: ListQuery

    @dataclass
    class FilterFailed(Message):
        """The filter expression cannot be used: the message (pointing at the bad token) goes under the box."""

        query: ListQuery
        error: str

    @dataclass
    class AccountSaved(Message):
        """Posted to this screen by others (detail, form) after an account was written."""

        row: dict = field(default_factory=dict)
        created: bool = False

    # ------------------------------------------------------------ layout

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._query = ListQuery(0, "", "name", False)
        self._total: int | None = None
        self._loaded = 0
        self._exhausted = False
        self._loading_more = False
        self._restore_key: str | None = None
        self._good_query = self._query  # the last query whose filter compiled (a bad one falls back to it)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="accounts-bar", classes="filter-row"):
            yield Static("Filter", classes="filter-label")
            yield FilterBar(placeholder="name, industry, city, state, web site or email…  (/ to focus)",
                            id="accounts-filter")
        yield FilterMessage(id="accounts-filter-message")
        table = PagedTable(id="accounts-table", stretch="name", selectable=True)
        for col in COLUMNS:
            table.add_column(self._header(col), width=col.width, key=col.key)
        yield table
        yield Static("", id="accounts-empty", classes="empty-state")
        yield Static(self.crm.busy_text("loading accounts…"), id="accounts-status", classes="status-line")
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = f"{self.user} · {self.crm.database_label}"
        self.query_one(PagedTable).focus()
        self.reload()

    @property
    def table(self) -> PagedTable:
        return self.query_one("#accounts-table", PagedTable)

    def bulk_table(self) -> PagedTable:
        return self.table

    def bulk_reload(self) -> None:
        self.reload()

    @on(PagedTable.SelectionChanged, "#accounts-table")
    def _marks_changed(self) -> None:
        self._show_status(loading=self._loading_more)

    def _header(self, col: Column) -> Text:
        label = col.label
        if col.sort == self._query.sort:
            label += " ▼" if self._query.descending else " ▲"
        return Text(label, justify="right" if col.align_right else "left", style="bold")

    def _refresh_headers(self) -> None:
        table = self.table
        for col in COLUMNS:
            table.columns[col.key].label = self._header(col)  # type: ignore[index]
        table.refresh()

    # ------------------------------------------------------------ loading

    def reload(self, *, select_id: int | None = None, open_if_missing: bool = False,
               search: str | None = None, sort: str | None = None, descending: bool | None = None,
               where: str | None = None) -> None:
        """Fetch the first page (and then the count) for the current filter and sort."""
        self._generation += 1
        q = self._query
        self._query = ListQuery(
            self._generation,
            q.search if search is None else search,
            q.sort if sort is None else sort,
            q.descending if descending is None else descending,
            q.where if where is None else where,
        )
        self._restore_key = str(select_id) if select_id is not None else self.table.cursor_key()
        self._loading_more = False
        self.workers.cancel_group(self, "accounts-more")
        self._show_status(loading=True)
        self._fetch_first(self._query, select_id, open_if_missing)

    def _fetch_first(self, query: ListQuery, select_id: int | None, open_if_missing: bool) -> None:
        def fetch(session: Any) -> AccountsScreen.CountLoaded | None:
            # run_db first waits for the database (opened after the first paint), then the services
            # (SQLAlchemy and the models) are imported: importing them meanwhile would slow the paint down.
            from crm_tui.services import records
            from crm_tui.services.registry import ENTITIES

            worker = get_current_worker()
            ACCOUNTS = ENTITIES["account"]
            actor = self.actor
            if query.where:
                from crm_tui.services.where import compile_for

                try:
                    compile_for(ACCOUNTS, query.where, actor=actor)
                except CRMError as exc:
                    self.post_message(self.FilterFailed(query, filter_error_text(exc)))
                    return None
            rows = records.list_records(ACCOUNTS, session=session, search=query.search or None,
                                        where=query.where or None, actor=actor, sort=query.sort_key,
                                        limit=PAGE_SIZE)
            if worker.is_cancelled:
                return None
            self.post_message(self.PageLoaded(query, 0, rows, select_id, open_if_missing))
            total = records.count_records(ACCOUNTS, session=session, search=query.search or None,
                                          where=query.where or None, actor=actor)
            return None if worker.is_cancelled else self.CountLoaded(query, total)

        run_db(self, fetch, group="accounts-list", title="Could not load accounts",
               failed=lambda _exc: self.post_message(self.LoadFailed(query)))

    def _fetch_more(self, query: ListQuery, offset: int) -> None:
        def fetch(session: Any) -> AccountsScreen.PageLoaded | None:
            from crm_tui.services import records
            from crm_tui.services.registry import ENTITIES

            rows = records.list_records(ENTITIES["account"], session=session, search=query.search or None,
                                        where=query.where or None, actor=self.actor, sort=query.sort_key,
                                        limit=PAGE_SIZE, offset=offset)
            return None if get_current_worker().is_cancelled else self.PageLoaded(query, offset, rows)

        run_db(self, fetch, group="accounts-more", title="Could not load accounts",
               failed=lambda _exc: self.post_message(self.LoadFailed(query)))

    def load_more(self) -> None:
        """Fetch the next page if there is one and none is on its way."""
        if self._loading_more or self._exhausted or self._loaded == 0:
            return
        if self._total is not None and self._loaded >= self._total:
            return
        self._loading_more = True
        self._show_status(loading=True)
        self._fetch_more(self._query, self._loaded)

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        if message.query.generation != self._generation:
            return  # an older filter or sort
        table = self.table
        if message.offset == 0:
            self._good_query = message.query
            self.query_one(FilterMessage).clear()
            table.clear()
            self._loaded = 0
            self._total = None
            self._refresh_headers()
        else:
            self._loading_more = False
        table.add_page((str(row["id"]), row_cells(row)) for row in message.rows)
        self._loaded += len(message.rows)
        self._exhausted = len(message.rows) < PAGE_SIZE
        if self._exhausted:
            self._total = self._loaded
        if message.offset == 0:
            key = self._restore_key
            self._restore_key = None
            if key and not table.select_key(key):
                if message.open_if_missing and message.select_id is not None:
                    self.open_account(message.select_id)
            elif not key and table.row_count:
                table.move_cursor(row=0, animate=False)
        self._show_status()

    @on(FilterFailed)
    def _filter_failed(self, message: FilterFailed) -> None:
        if message.query.generation != self._generation:
            return
        # Keep the rows on screen, and the query that produced them (sorting or paging goes on from it).
        self._query = self._good_query
        self._restore_key = None
        self.query_one(FilterMessage).show(message.error)
        self._show_status()

    @on(CountLoaded)
    def _count_loaded(self, message: CountLoaded) -> None:
        if message.query.generation != self._generation:
            return
        self._total = message.total
        self._show_status()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        if message.query.generation != self._generation:
            return
        self._loading_more = False
        self._show_status()

    @on(PagedTable.NearEnd, "#accounts-table")
    def _near_end(self) -> None:
        self.load_more()

    def _show_status(self, *, loading: bool = False) -> None:
        if not self.crm.db.ready:
            self.query_one("#accounts-status", Static).update(self.crm.busy_text())
            return
        q = self._query
        total = self._total
        shown = self.table.row_count
        if total is None:
            count = f"1–{shown:,} of … accounts" if shown else "counting…"
        elif total == 0:
            count = "no accounts"
        else:
            noun = "account" if total == 1 else "accounts"
            count = f"1–{shown:,} of {total:,} {noun}"
        if q.search:
            count += f" matching “{q.search}”"
        if q.where:
            count += f" where {q.where}"
        col = next(c for c in COLUMNS if c.sort == q.sort)
        order = "descending" if q.descending else "ascending"
        parts = [count, f"sorted by {col.label.lower()}, {order}"]
        if shown:
            parts.insert(0, f"row {self.table.cursor_row + 1:,}")
        marked = len(self.table.selected_keys)
        if marked:
            parts.insert(1, f"{marked:,} marked (t tag · a reassign)")
        if loading:
            parts.append(self.crm.busy_text())
        self.query_one("#accounts-status", Static).update("  ·  ".join(parts))
        empty = total == 0 and not loading
        self.set_class(empty, "-empty")
        if empty:
            if q.search or q.where:
                text = (f"No accounts match “{q.search or q.where}”.\n\n"
                        "Press escape to clear the filter, or n to add an account.")
            else:
                text = "No accounts yet — press n to add one."
            self.query_one("#accounts-empty", Static).update(text)

    # ------------------------------------------------------------ events

    @on(FilterBar.Applied, "#accounts-filter")
    def _filter_applied(self, message: FilterBar.Applied) -> None:
        if (message.search, message.where) != (self._query.search, self._query.where):
            self.reload(search=message.search, where=message.where)
        if message.leave:
            self.table.focus()

    @on(DataTable.RowHighlighted, "#accounts-table")
    def _row_highlighted(self) -> None:
        self._show_status(loading=self._loading_more)

    @on(DataTable.RowSelected, "#accounts-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.open_account(int(event.row_key.value))

    @on(DataTable.HeaderSelected, "#accounts-table")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        col = COLUMN_BY_KEY.get(str(event.column_key.value))
        if col is None:
            return
        self._sort_by(col, toggle=True)

    @on(AccountSaved)
    def _account_saved(self, message: AccountSaved) -> None:
        row = message.row
        if message.created:
            # Select it in the list; if it is not on the first page (or the filter hides it), show it.
            self.reload(select_id=row["id"], open_if_missing=True)
            return
        key = str(row.get("id"))
        table = self.table
        if key in table.rows:
            for col, cell in zip(COLUMNS, row_cells(row)):
                table.update_cell(key, col.key, cell, update_width=False)

    def _sort_by(self, col: Column, *, toggle: bool) -> None:
        if col.sort == self._query.sort and toggle:
            descending = not self._query.descending
        elif col.sort == self._query.sort:
            descending = self._query.descending
        else:
            descending = col.descending_first
        self.reload(sort=col.sort, descending=descending)

    # ------------------------------------------------------------ actions

    def selected_id(self) -> int | None:
        key = self.table.cursor_key()
        return int(key) if key else None

    def open_account(self, account_id: int) -> None:
        from crm_tui.screens.account_detail import AccountDetailScreen

        self.app.push_screen(AccountDetailScreen(account_id))

    def action_open(self) -> None:
        account_id = self.selected_id()
        if account_id is None:
            self.notify("There is no account to open.", severity="warning")
            return
        self.open_account(account_id)

    def action_new(self) -> None:
        from crm_tui.screens.account_form import AccountFormScreen

        def saved(row: dict | None) -> None:
            if row:
                self.post_message(self.AccountSaved(row, created=True))

        self.app.push_screen(AccountFormScreen(), saved)

    def action_edit(self) -> None:
        from crm_tui.screens.account_form import AccountFormScreen

        account_id = self.selected_id()
        if account_id is None:
            self.notify("Select an account to edit first.", severity="warning")
            return

        def saved(row: dict | None) -> None:
            if row:
                self.post_message(self.AccountSaved(row))

        self.app.push_screen(AccountFormScreen(account_id), saved)

    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).focus()

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        self.query_one(FilterMessage).clear()
        if bar.value:
            bar.value = ""
            self.reload(search="", where="")
        self.table.focus()

    def action_refresh(self) -> None:
        self.reload()

    def action_cycle_sort(self) -> None:
        index = next(i for i, c in enumerate(COLUMNS) if c.sort == self._query.sort)
        self._sort_by(COLUMNS[(index + 1) % len(COLUMNS)], toggle=False)

    def action_reverse_sort(self) -> None:
        self.reload(descending=not self._query.descending)

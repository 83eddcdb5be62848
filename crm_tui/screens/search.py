"""Search everything: accounts, contacts, leads, opportunities and activities by full text.

The query runs in a thread worker (the search service: FTS5 on SQLite, tsvector on
PostgreSQL) a moment after typing pauses; each hit shows its kind, its record and
a snippet. Enter opens the record; an activity opens the record it is logged on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from crm_tui.errors import CRMError
from crm_tui.screens.base import CRMScreenMixin, open_record
from crm_tui.widgets import FilterBar, FilterMessage, PagedTable
from crm_tui.widgets.cells import safe
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.worker import failure_text, run_db

LIMIT = 100
KIND = {"account": "Account", "contact": "Contact", "lead": "Lead", "opportunity": "Opportunity",
        "activity": "Activity"}


class SearchScreen(CRMScreenMixin, Screen):
    """One input, the hits below it."""

    TITLE = "Search"
    PALETTE_GROUP = "Search"
    PALETTE_NAMES = {"open": "open the hit", "focus_query": "edit the query", "close": "close search"}

    BINDINGS = [
        Binding("escape", "close", "Close", id="search.close", tooltip="Close search, back to where you were"),
        Binding("enter", "open", "Open", id="search.open", tooltip="Open the record of the hit under the cursor"),
        Binding("slash", "focus_query", "Query", key_display="/", id="search.query",
                tooltip="Edit the search query"),
    ]

    @dataclass
    class Results(Message):
        generation: int
        query: str
        hits: list

    @dataclass
    class Failed(Message):
        generation: int
        error: str

    @dataclass
    class Open(Message):
        entity: str
        record_id: int

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial = query
        self.generation = 0
        self.hits: dict[str, tuple[str, int]] = {}  # row key -> (entity, id)

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(value=self.initial, id="search-query",
                        placeholder='words, "a phrase", OR, AND, NOT, prefix*  ·  enter: to the results')
        yield FilterMessage(id="search-message")
        table = PagedTable(id="search-results", stretch="snippet")
        table.add_column("Kind", key="kind", width=11)
        table.add_column("Record", key="label", width=34)
        table.add_column("Snippet", key="snippet", width=40)
        yield table
        yield Static("Type to search accounts, contacts, leads, opportunities and activities.",
                     id="search-status", classes="status-line")
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = f"{self.user} · {self.crm.database_label}"
        self.query_one(FilterBar).focus()
        if self.initial.strip():
            self.run_search(self.initial)

    @property
    def table(self) -> PagedTable:
        return self.query_one("#search-results", PagedTable)

    # ------------------------------------------------------------ searching

    def run_search(self, text: str) -> None:
        self.generation += 1
        if not text.strip():
            self.table.clear()
            self.hits.clear()
            self.query_one(FilterMessage).clear()
            self.query_one("#search-status", Static).update(
                "Type to search accounts, contacts, leads, opportunities and activities.")
            return
        self.query_one("#search-status", Static).update(self.crm.busy_text("searching…"))
        self._search(self.generation, text)

    def _search(self, generation: int, text: str) -> None:
        def search_hits(session: Any) -> SearchScreen.Results:
            from crm_tui.services import search

            return self.Results(generation, text, search.search(session=session, query=text, limit=LIMIT,
                                                                      actor=self.actor))

        run_db(self, search_hits, group="search", failed=lambda exc: self._search_failed(generation, exc),
               notify_known=False)

    def _search_failed(self, generation: int, error: BaseException) -> None:
        """A query that cannot be used is shown under the box; anything else run_db has notified."""
        if isinstance(error, CRMError):
            self._failed(self.Failed(generation, str(error)))
        elif generation == self.generation:
            self.query_one("#search-status", Static).update(safe(failure_text(error)))

    @on(FilterBar.Applied, "#search-query")
    def _applied(self, message: FilterBar.Applied) -> None:
        if message.leave and not message.value:
            self.dismiss()  # escape (or enter) in an empty box: back to where you were
            return
        self.run_search(message.value)
        if message.leave and self.table.row_count:
            self.table.focus()

    @on(Results)
    def _results(self, message: Results) -> None:
        if message.generation != self.generation:
            return
        self.query_one(FilterMessage).clear()
        table = self.table
        table.clear()
        self.hits.clear()
        rows = []
        for hit in message.hits:
            key = f"{hit.entity}:{hit.id}"
            self.hits[key] = (hit.entity, hit.id)
            rows.append((key, (KIND.get(hit.entity, hit.entity), hit.label or "(no name)", hit.snippet)))
        table.add_page(rows)
        n = len(message.hits)
        more = f" (the first {LIMIT})" if n >= LIMIT else ""
        text = f"{n:,} hit{'s' if n != 1 else ''}{more} for “{message.query}”" if n else \
            f"Nothing matches “{message.query}”."
        self.query_one("#search-status", Static).update(safe(text + "  ·  enter opens  ·  escape closes"))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        if message.generation != self.generation:
            return
        self.query_one(FilterMessage).show(message.error)
        self.query_one("#search-status", Static).update("The query cannot be used: see above.")

    # ------------------------------------------------------------ opening

    @on(DataTable.RowSelected, "#search-results")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        key = self.table.cursor_key()
        if key is None or key not in self.hits:
            if isinstance(self.focused, FilterBar):
                return
            self.notify("No hit to open.", severity="warning")
            return
        entity, record_id = self.hits[key]
        if entity == "activity":
            self._activity_target(record_id)
        else:
            self.post_message(self.Open(entity, record_id))

    def _activity_target(self, activity_id: int) -> None:
        """An activity has no screen of its own: open the deal, lead, contact or account it is logged on."""
        generation = self.generation

        def target(session: Any) -> Message:
            from crm_tui.services import records
            from crm_tui.services.registry import ENTITIES

            row = records.get_record(ENTITIES["activity"], session=session, record_id=activity_id,
                                     actor=self.actor)
            for field, entity in (("opportunity_id", "opportunity"), ("lead_id", "lead"),
                                  ("contact_id", "contact"), ("account_id", "account")):
                if row.get(field):
                    return self.Open(entity, int(row[field]))
            return self.Failed(generation, "This activity is not logged on any record")

        run_db(self, target, group="search-open", failed=lambda exc: self._search_failed(generation, exc),
               notify_known=False)

    @on(Open)
    def _open(self, message: Open) -> None:
        open_record(self.app, message.entity, message.record_id)

    def action_focus_query(self) -> None:
        self.query_one(FilterBar).focus()

    def action_close(self) -> None:
        self.dismiss()

"""The Pipeline: a Kanban board of open deals by stage, and the same deals as a list.

Every database call runs in a thread worker with its own session; results come
back as messages. Column totals come from one grouped query; each column loads
its first cards and fetches more as it is scrolled; a move updates just the two
columns it touches.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import ContentSwitcher, DataTable, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui import formatting
from crm_tui.errors import Conflict, CRMError, for_people
from crm_tui.lazy import LazyModule
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.screens.bulk_actions import BULK_PALETTE_NAMES, BulkActions, bulk_bindings
from crm_tui.screens.mine_scope import MINE_PALETTE_NAMES, MineScope, mine_binding
from crm_tui.services.sales.pipeline_filter import DEFAULT_LOST_REASONS, BoardFilter
from crm_tui.widgets import FilterMessage, PagedTable
from crm_tui.widgets.cells import safe
from crm_tui.widgets.confirm import ConfirmScreen
from crm_tui.widgets.filter_bar import filter_error_text
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.kanban import KanbanBoard, KanbanColumn, short_money
from crm_tui.widgets.worker import failure_text, run_db

if TYPE_CHECKING:
    from crm_tui.services.sales.pipeline import Move

pipeline = LazyModule("crm_tui.services.sales.pipeline")  # imported in the first worker, not before the paint

FIRST_PAGE = 8
MORE_PAGE = 30
LIST_PAGE = 100
LIST_SORTS = ("expected_close", "-expected_close", "-amount", "amount")
SORT_WORDS = {"expected_close": "close date", "amount": "amount"}  # what the status line calls each sort


class LostReasonScreen(ModalScreen[str | None]):
    """Pick why a deal was lost; escape cancels the move."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, deal_name: str, reasons: tuple[str, ...]) -> None:
        super().__init__()
        self.deal_name = deal_name
        self.reasons = reasons

    def compose(self) -> ComposeResult:
        with Vertical(id="lost-dialog"):
            yield Label(f"Why was “{self.deal_name}” lost?", id="lost-title")
            yield OptionList(*[Option(r, id=r) for r in self.reasons], id="lost-reasons")
            yield Label("enter: choose   escape: cancel", classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PipelineScreen(MineScope, BulkActions, CRMScreenMixin, Screen):
    """Pipeline mode: the board (default) or the list, with one filter bar; my deals, or (m) everyone's."""

    TITLE = "Pipeline"
    SCOPE_KEY = "pipeline"
    BULK_ENTITY = "opportunity"
    PALETTE_GROUP = "Pipeline"
    PALETTE_NAMES = {"toggle_view": "switch between board and list", "focus_filter": "filter the deals",
                     "open_deal": "open the deal", "cycle_sort": "sort the list", "reload": "reload",
                     "new_deal": "new deal", **MINE_PALETTE_NAMES,
                     **BULK_PALETTE_NAMES}
    AUTO_FOCUS = ""  # no auto focus: the first card gets focus once the board has loaded

    BINDINGS = [
        Binding("v", "toggle_view", "Board/List", id="pipeline.toggle_view"),
        Binding("slash", "focus_filter", "Filter", id="pipeline.filter"),
        Binding("enter", "open_deal", "Open", id="pipeline.open"),
        Binding("n", "new_deal", "New deal", id="pipeline.new_deal", tooltip="Add a deal (opportunity)"),
        mine_binding("pipeline"),
        Binding("s", "cycle_sort", "Sort", id="pipeline.sort"),
        Binding("ctrl+r", "reload", "Reload", id="pipeline.reload"),
        Binding("escape", "leave_filter", "Board", show=False),
        *bulk_bindings("pipeline", stage=True),
    ]

    # ---- messages from the workers

    @dataclass
    class BoardLoaded(Message):
        columns: list
        pages: dict
        reasons: tuple
        filter_text: str

    @dataclass
    class TotalsLoaded(Message):
        columns: list
        filter_text: str
        generation: int  # moves applied on screen when the count started

    @dataclass
    class MoreLoaded(Message):
        stage_id: int
        cards: list
        offset: int

    @dataclass
    class Moved(Message):
        move: Move

    @dataclass
    class MoveFailed(Message):
        message: str
        conflict: bool
        opportunity_id: int

    @dataclass
    class ListLoaded(Message):
        cards: list
        total: int
        offset: int

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, *, engine=None, user: str | None = None, name: str | None = None, id: str | None = None):
        super().__init__(name=name, id=id)
        self._engine = engine
        self._user = user
        self.columns: list = []
        self.flt = BoardFilter()
        self.filter_text = ""
        self.reasons = DEFAULT_LOST_REASONS
        self.sort = LIST_SORTS[0]
        self.list_loaded = 0
        self.list_total = 0
        self.list_loading = False
        self.moving: set[int] = set()
        self._moves: deque = deque()
        self._moves_done = 0  # moves applied on screen; the totals worker recounts if it changes
        self._pages: deque = deque()
        self._refocus_id: int | None = None  # the card to focus once the board is loaded again

    @property
    def engine(self):
        return self._engine if self._engine is not None else self.app.engine

    @property
    def user(self) -> str:
        return self._user or self.app.user

    def compose(self) -> ComposeResult:
        yield Header()
        # Whole at 160 columns (the quick filters, then the filter language); F1 and the README say more.
        yield Input(placeholder="filter: me  owner:bob  account:acme  tag:q1  close:today..today+30d  "
                                "amount:1000..50000  or words  ·  or stage=proposal and amount>50000",
                    id="pipeline-filter")
        yield FilterMessage(id="pipeline-filter-message")
        yield Static(self.app.busy_text("Loading the pipeline…"), id="pipeline-status")
        with ContentSwitcher(initial="pipeline-board", id="pipeline-views"):
            yield KanbanBoard(id="pipeline-board")
            yield PagedTable(id="pipeline-list", selectable=True, stretch="name", wide={"account": 32})
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = self.scope_sub_title()
        self.filter_text = getattr(self.app, "pipeline_filter_text", "") or ""
        self.query_one("#pipeline-filter", Input).value = self.filter_text
        table = self.query_one("#pipeline-list", DataTable)
        # Name (the deal's own, formatting.deal_name), its account, amount and close date first, so 80
        # columns show them; the name takes the width left free.
        table.add_column("Name", key="name", width=20)
        table.add_column("Account", key="account", width=23)
        table.add_column("Amount ↕", key="amount", width=13)
        table.add_column("Close ↕", key="expected_close", width=11)
        table.add_column("Stage", key="stage", width=12)
        table.add_column("Owner", key="owner", width=8)
        table.add_column("Days", key="days", width=5)
        table.add_column("", key="flags", width=16)
        self.load_board(self.filter_text)

    # ---- loading

    def load_board(self, filter_text: str) -> None:
        settings = self.settings

        def load(s: Any) -> PipelineScreen.BoardLoaded:
            # run_db waits for the database first: the services' imports would slow the paint.
            actor = self.actor
            flt = self.query_filter(pipeline.parse_filter_text(filter_text, actor=actor), actor)
            reasons = pipeline.lost_reasons(settings)
            stall = pipeline.stalled_days(settings)
            # Cards first (index lookups, milliseconds), then the totals (one pass over the deals).
            columns = pipeline.board_columns(session=s)
            pages = {c.stage_id: pipeline.column_page(session=s, stage_id=c.stage_id, flt=flt, limit=FIRST_PAGE,
                                                      stall=stall, actor=actor)
                     for c in columns}
            return self.BoardLoaded(columns, pages, reasons, filter_text)

        run_db(self, load, group="pipeline-board", title="Pipeline", failed=self._failed)

    def load_totals(self, filter_text: str, generation: int) -> None:
        def load(s: Any) -> PipelineScreen.TotalsLoaded:
            actor = self.actor
            flt = self.query_filter(pipeline.parse_filter_text(filter_text, actor=actor), actor)
            return self.TotalsLoaded(pipeline.board_summary(session=s, flt=flt, actor=actor), filter_text,
                                     generation)

        run_db(self, load, group="pipeline-totals", title="Pipeline", failed=self._failed)

    async def on_pipeline_screen_board_loaded(self, message: BoardLoaded) -> None:
        self.columns = message.columns
        self.reasons = message.reasons
        self.filter_text = message.filter_text
        self.flt = pipeline.parse_filter_text(message.filter_text, actor=self.crm.actor_for_checks())
        board = self.query_one(KanbanBoard)
        focused = board.focused_card()
        focus_id = focused.card.id if focused else self._refocus_id
        self._refocus_id = None
        await board.remove_children()
        await board.mount_all([KanbanColumn(c) for c in self.columns])
        for col in board.columns:
            await col.set_cards(message.pages.get(col.stage_id, []))
        self._status()
        self.load_totals(message.filter_text, self._moves_done)
        if self.query_one(ContentSwitcher).current == "pipeline-list":
            self.reload_list()
        self.call_after_refresh(self._focus_after_load, focus_id)

    def on_pipeline_screen_totals_loaded(self, message: TotalsLoaded) -> None:
        if message.filter_text != self.filter_text:
            return  # an older filter's totals
        if message.generation != self._moves_done:
            # A move landed while counting: the count may or may not include it. Count again.
            self.load_totals(self.filter_text, self._moves_done)
            return
        fresh = {c.stage_id: c for c in message.columns}
        board = self.query_one(KanbanBoard)
        for col in self.columns:
            new = fresh.get(col.stage_id)
            if new is not None:
                col.count, col.totals, col.counted = new.count, new.totals, True
        for widget in board.columns:
            widget.refresh_header()
        self._status()

    def _showing_list(self) -> bool:
        return self.query_one(ContentSwitcher).current == "pipeline-list"

    def focus_view(self) -> None:
        """Focus what is on screen: the list in the list view, else the board's first card.
        Never a widget of the hidden view (its keys would change a record the user cannot see)."""
        if self._showing_list():
            self.query_one("#pipeline-list", DataTable).focus()
        else:
            self.query_one(KanbanBoard).action_focus_card(1)

    def _focus_after_load(self, focus_id: int | None) -> None:
        if isinstance(self.focused, Input):
            return
        if self._showing_list():
            self.focus_view()
            return
        board = self.query_one(KanbanBoard)
        if focus_id is not None:
            found = board.query(f"#card-{focus_id}")
            if found:
                found.first().focus()
                return
        board.action_focus_card(1)

    def _status(self) -> None:
        if self._showing_list():
            self._list_status()  # the board's totals line belongs to the board
            return
        if any(not c.counted for c in self.columns):
            self.query_one("#pipeline-status", Static).update("Counting the pipeline…")
            return
        open_cols = [c for c in self.columns if not c.closed]
        count = sum(c.count for c in open_cols)
        amount = sum(t.amount_minor for c in open_cols for cur, t in c.totals.items() if cur == "USD")
        weighted = pipeline.round_weighted(
            sum(t.weighted_raw for c in open_cols for cur, t in c.totals.items() if cur == "USD"))
        described = self.flt.describe() if self.columns else ""
        if not described and not self.filter_text and self.columns and not any(c.count for c in self.columns):
            self.query_one("#pipeline-status", Static).update("No deals yet — press n to add one.")
            return
        text = (f"Open: {count:,} deals · {short_money(amount, 'USD')} · weighted {short_money(weighted, 'USD')}"
                + (f"   filter: {described}" if described else ""))
        hints = "   shift+←/→ move · drag with the mouse · enter open · v list · / filter"
        if len(text) + len(hints) <= self.size.width - 2:  # the keys are in the footer too: never cut the figures
            text += hints
        self.query_one("#pipeline-status", Static).update(text)

    @on(KanbanColumn.NeedMore)
    def _need_more(self, message: KanbanColumn.NeedMore) -> None:
        self._pages.append((message.column.stage_id, message.offset, self.query_filter(self.flt)))
        self.load_more()

    def load_more(self) -> None:
        stall = self.settings.stalled_days

        def load(new_session: Callable[[], Any]) -> None:
            # Requests queue up in self._pages; a worker replaced by a newer one still drains it,
            # so no column's request is dropped.
            while True:
                try:
                    stage_id, offset, flt = self._pages.popleft()
                except IndexError:
                    return
                try:
                    with new_session() as s:
                        cards = pipeline.column_page(session=s, stage_id=stage_id, flt=flt, offset=offset,
                                                     limit=MORE_PAGE, stall=stall, actor=self.actor)
                except CRMError as exc:
                    self.post_message(self.Failed(for_people(exc)))
                    continue
                self.post_message(self.MoreLoaded(stage_id, cards, offset))

        run_db(self, load, group="pipeline-more", session=False, title="Pipeline", failed=self._failed)

    def on_pipeline_screen_more_loaded(self, message: MoreLoaded) -> None:
        col = self.query_one(KanbanBoard).column(message.stage_id)
        if col is not None:
            col.append_cards(message.cards)

    def on_pipeline_screen_failed(self, message: Failed) -> None:
        self.notify(message.message, severity="error", title="Pipeline")
        self.query_one("#pipeline-status", Static).update(f"error: {message.message}")

    def _failed(self, error: BaseException) -> None:
        """A worker failed (run_db has notified): the status line says so too."""
        self.query_one("#pipeline-status", Static).update(safe(f"error: {failure_text(error)}"))

    # ---- moving

    @on(KanbanBoard.MoveRequested)
    def _move_requested(self, message: KanbanBoard.MoveRequested) -> None:
        target = next((c for c in self.columns if c.stage_id == message.to_stage_id), None)
        card = message.card
        if target is None or card.id in self.moving or self._showing_list():
            return  # never a move asked for on a board that is not on screen
        if target.is_lost:
            def chosen(reason: str | None) -> None:
                if reason:
                    self._start_move(card, target.stage_id, reason)

            self.app.push_screen(LostReasonScreen(card.name, self.reasons), chosen)
        elif target.is_won:
            def answered(yes: bool | None) -> None:
                if yes:
                    self._start_move(card, target.stage_id, None)

            self.app.push_screen(ConfirmScreen(f"Mark “{card.name}” as won ({target.name})?", yes="Mark won",
                                               no="Cancel", detail="This closes the deal and sets its close date."),
                                 answered)
        else:
            self._start_move(card, target.stage_id, None)

    def _start_move(self, card, to_stage_id: int, reason: str | None) -> None:
        self.moving.add(card.id)
        self._moves.append((card, to_stage_id, reason, self.user))
        self.move_cards()

    def move_cards(self) -> None:
        reasons = self.settings.lost_reasons

        def move(new_session: Callable[[], Any]) -> None:
            # Moves queue up in self._moves, each its own transaction; a worker replaced by a newer
            # one still drains the queue, so no move is dropped.
            while True:
                try:
                    card, to_stage_id, reason, _user = self._moves.popleft()
                except IndexError:
                    return
                try:
                    with new_session() as s:
                        moved = pipeline.move_opportunity(session=s, opportunity_id=card.id, stage=to_stage_id,
                                                          reason=reason, actor=self.actor,
                                                          expected_version=card.version,
                                                          reasons=reasons)
                except CRMError as exc:
                    self.post_message(self.MoveFailed(for_people(exc), isinstance(exc, Conflict), card.id))
                    continue
                self.post_message(self.Moved(moved))

        run_db(self, move, group="pipeline-move", session=False, title="Not moved", failed=self._moves_failed)

    def _moves_failed(self, error: BaseException) -> None:
        """The moves stopped on something unexpected (run_db has notified): drop the queue, show the board as
        the database has it."""
        self._moves.clear()
        self.moving.clear()
        self._failed(error)
        self.load_board(self.filter_text)

    async def on_pipeline_screen_moved(self, message: Moved) -> None:
        move = message.move
        self.moving.discard(move.card.id)
        self._moves_done += 1
        pipeline.apply_move(self.columns, move)
        board = self.query_one(KanbanBoard)
        source, target = board.column(move.from_stage_id), board.column(move.to_stage_id)
        old = board.query(f"#card-{move.card.id}")
        index = 0
        if old and source is not None:
            widget = old.first()
            index = source.cards.index(widget) if widget in source.cards else 0
            await widget.remove()
        new_widget = await target.insert_card(move.card) if target is not None else None
        for col in (source, target):
            if col is not None:
                col.refresh_header()
        self._status()
        if new_widget is not None:
            self.call_after_refresh(new_widget.focus)
            self.call_after_refresh(new_widget.scroll_visible)
        elif source is not None:
            self.call_after_refresh(source.focus_card, index)
        stage = target.summary.name if target else "?"
        self.notify(f"{move.card.name} → {stage}", timeout=2)
        self.crm.remember_write(move.batch_id, f"moved {move.card.name} to {stage}")

    def on_pipeline_screen_move_failed(self, message: MoveFailed) -> None:
        self.moving.discard(message.opportunity_id)
        self.notify(message.message, severity="error", title="Not moved")
        if message.conflict:
            self.load_board(self.filter_text)  # show what the other writer did

    # ---- filter

    def action_focus_filter(self) -> None:
        self.query_one("#pipeline-filter", Input).focus()

    def action_leave_filter(self) -> None:
        if isinstance(self.focused, Input):
            self.focus_view()

    @on(Input.Submitted, "#pipeline-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        try:
            pipeline.parse_filter_text(event.value, actor=self.crm.actor_for_checks())
        except CRMError as exc:
            # Under the box (pointing at the bad token); the board and the list keep what they show.
            self.query_one(FilterMessage).show(filter_error_text(exc))
            self.notify(str(exc), severity="error", title="Filter")
            return
        self.query_one(FilterMessage).clear()
        self.app.pipeline_filter_text = event.value  # kept when you come back to the pipeline
        self.query_one("#pipeline-status", Static).update("Loading…")
        self.load_board(event.value)
        self.focus_view()  # the board's cards are focused again once they are loaded

    # ---- list view

    def action_toggle_view(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "pipeline-board":
            switcher.current = "pipeline-list"
            self.reload_list()
        else:
            switcher.current = "pipeline-board"
            self._status()
        self.focus_view()
        self.refresh_bindings()

    def action_cycle_sort(self) -> None:
        if self.query_one(ContentSwitcher).current != "pipeline-list":
            return
        self.sort = LIST_SORTS[(LIST_SORTS.index(self.sort) + 1) % len(LIST_SORTS)]
        self.reload_list()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key in ("amount", "expected_close"):
            self.sort = ("-" + key) if self.sort == key else key
            self.reload_list()

    def reload_list(self) -> None:
        table = self.query_one("#pipeline-list", DataTable)
        table.clear()
        self.list_loaded = 0
        self.list_loading = True
        self.load_list(self.sort, 0)

    def load_list(self, sort: str, offset: int) -> None:
        flt, known_total, stall = self.query_filter(self.flt), self.list_total, self.settings.stalled_days

        def load(s: Any) -> PipelineScreen.ListLoaded:
            actor = self.actor
            cards = pipeline.list_page(session=s, flt=flt, sort=sort, offset=offset, limit=LIST_PAGE, stall=stall,
                                       actor=actor)
            total = pipeline.count_matching(session=s, flt=flt, actor=actor) if offset == 0 else known_total
            return self.ListLoaded(cards, total, offset)

        run_db(self, load, group="pipeline-list", title="Pipeline", failed=self._list_failed)

    def _list_failed(self, error: BaseException) -> None:
        self.list_loading = False
        self._failed(error)

    def on_pipeline_screen_list_loaded(self, message: ListLoaded) -> None:
        table = self.query_one("#pipeline-list", PagedTable)
        if message.offset != self.list_loaded:
            return
        names = {c.stage_id: c.name for c in self.columns}
        rows = []
        for c in message.cards:
            flags = " ".join(f for f, on in (("OVERDUE", c.overdue), ("STALLED", c.stalled)) if on)
            rows.append((str(c.id), (formatting.deal_name(c.name, c.account), c.account or "",
                                     short_money(c.amount_minor, c.currency),
                                     formatting.day(c.expected_close), names.get(c.stage_id, ""), c.owner or "",
                                     str(c.days_in_stage), flags)))
        table.add_page(rows)
        self.list_loaded += len(message.cards)
        self.list_total = message.total
        self.list_loading = False
        self._list_status()

    def _list_status(self) -> None:
        arrow = "↓" if self.sort.startswith("-") else "↑"
        self.query_one("#pipeline-status", Static).update(
            f"List: {self.list_loaded:,} of {self.list_total:,} deals · sorted by {SORT_WORDS[self.sort.lstrip('-')]} "
            f"{arrow}"
            "  ·  s sort · v board · / filter")  # short enough for 80 columns; a click on Amount/Close sorts too

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if (not self.list_loading and self.list_loaded < self.list_total
                and event.cursor_row >= table.row_count - 10):
            self.list_loading = True
            self.load_list(self.sort, self.list_loaded)

    # ---- bulk actions (marked rows in the list view; the focused card on the board)

    def bulk_table(self) -> PagedTable:
        return self.query_one("#pipeline-list", PagedTable)

    def bulk_ids(self) -> list[int]:
        if self.query_one(ContentSwitcher).current == "pipeline-list":
            return super().bulk_ids()
        card = self.query_one(KanbanBoard).focused_card()
        return [card.card.id] if card is not None else []

    def bulk_reload(self) -> None:
        self.load_board(self.filter_text)  # the list reloads with it when it is showing

    # ---- detail

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_deal()

    def action_open_deal(self) -> None:
        if self.query_one(ContentSwitcher).current == "pipeline-list":
            table = self.query_one("#pipeline-list", DataTable)
            if not table.row_count:
                return
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            opp_id = int(key)
        else:
            card = self.query_one(KanbanBoard).focused_card()
            if card is None:
                return
            opp_id = card.card.id
        from crm_tui.screens.opportunity_detail import OpportunityDetailScreen

        def closed(changed: bool | None) -> None:
            if changed:
                # The cards go away while the board loads again: focus the opened deal's card afterwards,
                # never the filter box the focus would fall to.
                self._refocus_id = opp_id
                if not isinstance(self.focused, Input):
                    self.set_focus(None)
                self.load_board(self.filter_text)

        self.app.push_screen(OpportunityDetailScreen(opp_id, engine=self._engine, user=self._user), closed)

    def action_reload(self) -> None:
        self._reload_view()

    def _reload_view(self) -> None:
        """Load the board (and the list) again; the view keeps the focus once loaded, never the filter box
        (the cards it had focused go away while it loads)."""
        if not isinstance(self.focused, Input):
            self.set_focus(None)
        self.load_board(self.filter_text)

    # ---- mine or everyone

    def query_filter(self, flt: BoardFilter, actor: Any = None) -> BoardFilter:
        """The filter the queries use: the typed one, and my deals only while the scope is Mine
        (an owner the filter names wins)."""
        if not self.mine or flt.owner:
            return flt
        from dataclasses import replace

        return replace(flt, owner=(actor or self.crm.actor_for_checks()).username)

    def scope_changed(self) -> None:
        self.query_one("#pipeline-status", Static).update("Loading…")
        self._reload_view()

    def action_new_deal(self) -> None:
        """The new-deal form; saved, the board (and the list, when it shows) load again with it."""
        from crm_tui.screens.opportunity_form import OpportunityFormScreen

        def saved(row: dict | None) -> None:
            if row:
                self.load_board(self.filter_text)

        self.app.push_screen(OpportunityFormScreen(), saved)

"""Kanban board widgets: a board of columns of cards.

The widgets only show data and say what the user wants (messages); the screen
that owns them does the database work in thread workers. Cards are plain
``Card`` values from the pipeline service; columns are ``Column`` summaries.

Keyboard: up/down within a column, left/right between columns, shift+left /
shift+right asks to move the focused card. Mouse: press on a card, release over
another column to ask for a move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from crm_tui import formatting
from crm_tui.text import visible

if TYPE_CHECKING:
    from crm_tui.services.sales.pipeline import Card


def short_money(minor: int, currency: str) -> str:
    """12,500 USD for cards and headers: exact, an all-zero fraction left off (crm_tui.formatting)."""
    return formatting.money(minor, currency, compact=True)


MIN_COLUMN_WIDTH = 26  # a card's lines ("20 Oct 2025 LATE STALE") stay readable
CARD_HEIGHT = 6  # a card's lines plus its border; a column's body shows whole cards only

class CardScroll(VerticalScroll, can_focus=False, inherit_bindings=False):
    """The column's scrolling body: no key bindings of its own, so arrows move between cards.
    Its height is a whole number of cards and the wheel scrolls one card at a time, so a column
    never stops in the middle of a card."""

    def validate_scroll_y(self, value: float) -> float:
        # Every scroll (a focused card brought into view or centred, a card moved away, the
        # scrollbar) stops on a card's top edge.
        return _card_edge(super().validate_scroll_y(value))

    def validate_scroll_target_y(self, value: float) -> float:
        return _card_edge(super().validate_scroll_target_y(value))

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if not (event.ctrl or event.shift):
            event.stop()
            self.scroll_to(y=self.scroll_y + CARD_HEIGHT, animate=False)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not (event.ctrl or event.shift):
            event.stop()
            self.scroll_to(y=self.scroll_y - CARD_HEIGHT, animate=False)


def _card_edge(y: float) -> int:
    return max(0, int(y) // CARD_HEIGHT * CARD_HEIGHT)


class KanbanCard(Static, can_focus=True):
    """One deal: its own name, the account, amount and expected close, owner, days in stage and
    the LATE / STALE flags."""

    DEFAULT_CSS = """
    KanbanCard {
        height: 6;  /* CARD_HEIGHT */
        border: round $panel-lighten-2;
        padding: 0 0;
        margin: 0 0 0 0;
        background: $surface;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    KanbanCard:focus { border: round $accent; background: $boost; }
    KanbanCard.-stalled { border: round $warning; }
    KanbanCard.-overdue { border: round $error; }
    KanbanCard.-stalled:focus, KanbanCard.-overdue:focus { border: double $accent; }
    KanbanCard.-dragging { opacity: 60%; }
    """

    def __init__(self, card) -> None:
        super().__init__(id=f"card-{card.id}")
        self.card = card
        self._refresh_classes()

    def set_card(self, card) -> None:
        self.card = card
        self._refresh_classes()
        self.update(self.render_card())

    def _refresh_classes(self) -> None:
        self.set_class(self.card.stalled, "-stalled")
        self.set_class(self.card.overdue, "-overdue")

    def on_mount(self) -> None:
        self.update(self.render_card())

    def render_card(self) -> Text:
        c = self.card
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(visible(formatting.deal_name(c.name, c.account), one_line=True) + "\n", style="bold")
        text.append(visible(c.account or "—", one_line=True) + "\n", style="dim")
        text.append(short_money(c.amount_minor, c.currency), style="bold green")
        text.append(f"  {visible(c.owner or '—', one_line=True)}\n", style="dim")
        close = formatting.day(c.expected_close) if c.expected_close else "no close date"
        text.append(close, style="bold red" if c.overdue else "")
        if c.overdue:
            text.append(" LATE", style="bold red")
        if c.stalled:
            text.append(" STALE", style="bold yellow")
        text.append(f" {c.days_in_stage}d", style="dim")
        return text

    def on_mouse_down(self, event: events.MouseDown) -> None:
        board = self._board()
        if board is not None and event.button == 1:
            board.start_drag(self)

    def _board(self) -> "KanbanBoard | None":
        for node in self.ancestors:
            if isinstance(node, KanbanBoard):
                return node
        return None

    @property
    def column(self) -> "KanbanColumn | None":
        for node in self.ancestors:
            if isinstance(node, KanbanColumn):
                return node
        return None


class KanbanColumn(Vertical):
    """A stage: a header with count, total and weighted amount, then its cards (fetched page by page)."""

    DEFAULT_CSS = """
    KanbanColumn { width: 1fr; height: 1fr; border-right: vkey $panel; }
    KanbanColumn .kanban-header { height: 3; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    KanbanColumn.-drop-target .kanban-header { background: $accent; }
    KanbanColumn.-drop-target { background: $boost; }
    KanbanColumn .kanban-cards { height: 1fr; scrollbar-size-vertical: 1; }
    KanbanColumn .kanban-more { height: 1fr; min-height: 1; color: $text-muted; padding: 0 1; }
    """

    @dataclass
    class NeedMore(Message):
        """The column scrolled near its end and has more cards in the database."""

        column: "KanbanColumn"
        offset: int

    def __init__(self, summary) -> None:
        super().__init__(id=f"column-{summary.stage_id}")
        self.summary = summary
        self.loading_more = False
        self.moved_in: set[int] = set()  # cards moved here that sort past the loaded pages

    @property
    def stage_id(self) -> int:
        return self.summary.stage_id

    def compose(self) -> ComposeResult:
        yield Static(self.header_text(), classes="kanban-header")
        yield CardScroll(classes="kanban-cards")
        yield Static("", classes="kanban-more")

    def header_text(self) -> Text:
        s = self.summary
        cur = s.main_currency()
        totals = s.totals.get(cur)
        amount = totals.amount_minor if totals else 0
        weighted = totals.weighted_minor if totals else 0
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(visible(s.name, one_line=True), style="bold")
        if not s.counted:
            text.append(f"  ({s.probability}%)\ncounting…\n")
            return text
        text.append(f"  {s.count:,}  ({s.probability}%)\n")
        text.append(f"Σ {short_money(amount, cur)}\n")
        text.append(f"⚖ {short_money(weighted, cur)}", style="dim")
        if len([t for t in s.totals.values() if t.count]) > 1:
            text.append(" +other cur.", style="dim")
        return text

    @property
    def body(self) -> CardScroll:
        return self.query_one(".kanban-cards", CardScroll)

    @property
    def cards(self) -> list[KanbanCard]:
        return list(self.body.query_children(KanbanCard))

    def refresh_header(self) -> None:
        self.query_one(".kanban-header", Static).update(self.header_text())
        self._refresh_more()

    def _refresh_more(self) -> None:
        loaded = len(self.cards)
        if not self.summary.counted:
            self.query_one(".kanban-more", Static).update(f"{loaded:,} shown…" if loaded else "")
            return
        rest = self.summary.count - loaded
        self.query_one(".kanban-more", Static).update(f"{loaded:,} shown, {rest:,} more ↓" if rest > 0 else "")

    async def set_cards(self, cards: list) -> None:
        body = self.body
        self.moved_in.clear()
        await body.remove_children()
        await body.mount_all([KanbanCard(c) for c in cards])
        self._refresh_more()

    def append_cards(self, cards: list) -> None:
        known = {c.card.id for c in self.cards}
        self.moved_in -= {c.id for c in cards}  # its page has come: it now counts as paged
        self.body.mount_all([KanbanCard(c) for c in cards if c.id not in known])
        self.loading_more = False
        self._refresh_more()

    @property
    def loaded_from_pages(self) -> int:
        return len([c for c in self.cards if c.card.id not in self.moved_in])

    @property
    def has_more(self) -> bool:
        if not self.summary.counted:
            return len(self.cards) > 0  # not counted yet: a full first page may have more behind it
        return len(self.cards) < self.summary.count

    async def insert_card(self, card) -> KanbanCard | None:
        """Put a moved card in place by expected close; not if it sorts after the loaded cards and more remain."""
        existing = self.cards
        key = _sort_key(card)
        widget = KanbanCard(card)
        for other in existing:
            if _sort_key(other.card) > key:
                await self.body.mount(widget, before=other)
                return widget
        if self.has_more and existing:
            # It belongs further down, past the loaded pages: show it at the end for now, and
            # leave it out of the paging offset so the next page neither skips nor repeats a card.
            self.moved_in.add(card.id)
        await self.body.mount(widget)
        return widget

    def on_mount(self) -> None:
        self.watch(self.body, "scroll_y", self._scrolled, init=False)
        board = self.parent
        if isinstance(board, KanbanBoard):
            board.fit_columns()

    def on_resize(self, event: events.Resize) -> None:
        # The body holds a whole number of cards (the "more" line takes what is left), so scrolling a
        # card into view never leaves the column on half a card.
        room = self.content_size.height - 3 - 1  # header and the "more" line
        self.body.styles.height = max(CARD_HEIGHT, room // CARD_HEIGHT * CARD_HEIGHT)

    def _scrolled(self, _old: float, new: float) -> None:
        body = self.body
        if self.loading_more or not self.has_more:
            return
        if body.max_scroll_y - new <= 12:
            self.loading_more = True
            self.post_message(self.NeedMore(self, self.loaded_from_pages))

    def focus_card(self, index: int = 0) -> bool:
        cards = self.cards
        if not cards:
            return False
        cards[max(0, min(index, len(cards) - 1))].focus()
        return True


def _sort_key(card):
    # Same order as the column query: expected close (missing first, as SQLite sorts), then id.
    return (card.expected_close is not None, card.expected_close or 0, card.id)


class KanbanBoard(Horizontal):
    """Columns side by side. Says ``MoveRequested`` when a card is pushed or dropped on another column."""

    DEFAULT_CSS = """
    KanbanBoard { height: 1fr; overflow-x: auto; overflow-y: hidden; scrollbar-size-horizontal: 1; }
    """

    BINDINGS = [
        # One footer entry for both moves, "⇧←→ Move", so the footer has room for the screen's keys.
        Binding("shift+left", "move_card(-1)", "Move ←", show=False),
        Binding("shift+right", "move_card(1)", "Move", key_display="⇧←→"),
        # The arrows go without saying: kept out of the footer (F1 lists them).
        Binding("left", "focus_column(-1)", "Column ←", show=False),
        Binding("right", "focus_column(1)", "Column →", show=False),
        Binding("up", "focus_card(-1)", "Up", show=False),
        Binding("down", "focus_card(1)", "Down", show=False),
    ]

    @dataclass
    class MoveRequested(Message):
        card: Card
        from_stage_id: int
        to_stage_id: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._drag: KanbanCard | None = None

    def on_resize(self, event: events.Resize) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        """Columns share the width; when that leaves a column narrower than MIN_COLUMN_WIDTH (a
        narrow terminal) each gets that width and the board scrolls sideways to the focused card."""
        cols = self.columns
        if not cols or not self.size.width:
            return
        narrow = self.size.width // len(cols) < MIN_COLUMN_WIDTH
        for col in cols:
            col.styles.width = MIN_COLUMN_WIDTH if narrow else "1fr"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden (the pipeline's list view is showing): none of the board's keys act, and the
        # footer does not offer them. A key must never change a card the user cannot see.
        if not self.display:
            return False
        return True

    @property
    def columns(self) -> list[KanbanColumn]:
        return list(self.query_children(KanbanColumn))

    def column(self, stage_id: int) -> KanbanColumn | None:
        for col in self.columns:
            if col.stage_id == stage_id:
                return col
        return None

    def focused_card(self) -> KanbanCard | None:
        focused = self.screen.focused
        return focused if isinstance(focused, KanbanCard) and focused in self.query(KanbanCard) else None

    def action_move_card(self, step: int) -> None:
        card = self.focused_card()
        if card is None or card.column is None or not self.display:
            return
        cols = self.columns
        i = cols.index(card.column) + step
        if 0 <= i < len(cols):
            self.post_message(self.MoveRequested(card.card, card.column.stage_id, cols[i].stage_id))

    def action_focus_column(self, step: int) -> None:
        cols = self.columns
        card = self.focused_card()
        start = cols.index(card.column) if card and card.column else (-1 if step > 0 else len(cols))
        index = card.column.cards.index(card) if card and card.column else 0
        i = start + step
        while 0 <= i < len(cols):
            if cols[i].focus_card(index):
                return
            i += step

    def action_focus_card(self, step: int) -> None:
        card = self.focused_card()
        if card is None or card.column is None:
            for col in self.columns:
                if col.focus_card(0):
                    return
            return
        cards = card.column.cards
        i = cards.index(card) + step
        if 0 <= i < len(cards):
            cards[i].focus()
            cards[i].scroll_visible()

    # -- mouse drag

    def start_drag(self, card: KanbanCard) -> None:
        self._drag = card
        card.add_class("-dragging")
        card.focus()

    def _column_at(self, x: int, y: int) -> KanbanColumn | None:
        try:
            widget, _ = self.screen.get_widget_at(x, y)
        except Exception:
            return None
        node: Widget | None = widget
        while node is not None:
            if isinstance(node, KanbanColumn):
                return node
            node = node.parent if isinstance(node.parent, Widget) else None
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag is None:
            return
        target = self._column_at(event.screen_x, event.screen_y)
        for col in self.columns:
            col.set_class(col is target and col is not self._drag.column, "-drop-target")

    def on_mouse_up(self, event: events.MouseUp) -> None:
        drag, self._drag = self._drag, None
        for col in self.columns:
            col.remove_class("-drop-target")
        if drag is None:
            return
        drag.remove_class("-dragging")
        source = drag.column
        target = self._column_at(event.screen_x, event.screen_y)
        if source is not None and target is not None and target is not source:
            self.post_message(self.MoveRequested(drag.card, source.stage_id, target.stage_id))

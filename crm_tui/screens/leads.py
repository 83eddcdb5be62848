"""The Leads area: quick filters, status and source menus, search, sort, paging; status from the keyboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label, Select

from crm_tui.screens.bulk_actions import BULK_PALETTE_NAMES, bulk_bindings
from crm_tui.screens.mine_scope import MINE_PALETTE_NAMES, MineScope, mine_binding
from crm_tui.screens.record_list import RecordListScreen
from crm_tui.screens.saved_views import VIEW_PALETTE_NAMES, view_bindings
from crm_tui.services.fields import LEAD_STATUSES
from crm_tui.widgets.worker import run_db

QUICK = {
    "all": ("All", {}),
    "mine": ("Mine", {"owner": "me"}),
    "new": ("New since yesterday", {"since": "yesterday"}),
    "today": ("Follow-up due today", {"follow_up": "today"}),
    "overdue": ("Overdue", {"follow_up": "overdue"}),
}
STATUS_STYLE = {"new": "bold cyan", "contacted": "cyan", "nurture": "yellow", "qualified": "bold green",
                "unqualified": "dim", "converted": "green", "junk": "dim red"}


class LeadsScreen(MineScope, RecordListScreen):
    """My leads (the Mine quick filter, on by default), or everyone's: m or 2 toggles it."""

    TITLE = "Leads"
    # Below 120 columns the quick-filter keys (1 All 2 Mine …) do not fit beside the search and the menus:
    # they hide, and the status line names the quick filter in force.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (120, "-wide")]
    SCOPE_KEY = "leads"
    DEFAULT_ORDER = "newest first"
    ENTITY = "lead"
    # Name, company, status and the next follow-up first: 80 columns show them.
    COLUMNS = ("name", "company", "status", "next_follow_up", "source", "score", "owner", "created_at")
    KEEP = ("name", "company", "status", "next_follow_up")
    SHRINK: ClassVar[dict[str, int]] = {"company": 14, "name": 14}
    PALETTE_GROUP = "Leads"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {
        "quick('all')": "all leads", "quick('mine')": "my leads", "quick('new')": "new since yesterday",
        "quick('today')": "follow-ups due today", "quick('overdue')": "overdue follow-ups",
        "new_lead": "new lead", "status": "change status", "qualify": "qualify", **BULK_PALETTE_NAMES, **VIEW_PALETTE_NAMES,
        **MINE_PALETTE_NAMES,
    }

    BINDINGS = [
        Binding("n", "new_lead", "New", tooltip="Add a lead"),
        Binding("s", "status", "Status", tooltip="Change the status of the lead under the cursor"),
        Binding("q", "qualify", "Qualify", show=False, tooltip="Mark the lead under the cursor qualified"),
        Binding("1", "quick('all')", "All", show=False, tooltip="Every lead"),
        Binding("2", "quick('mine')", "Mine", tooltip="Leads assigned to me"),
        Binding("3", "quick('new')", "New", tooltip="Leads created since yesterday"),
        Binding("4", "quick('today')", "Due today", tooltip="Open leads with a follow-up due today"),
        Binding("5", "quick('overdue')", "Overdue", tooltip="Open leads whose follow-up is overdue"),
        mine_binding("leads"),
        *bulk_bindings("leads"),
        *view_bindings("leads"),
    ]

    @dataclass
    class Sources(Message):
        sources: list

    def __init__(self) -> None:
        super().__init__()
        self.quick: set[str] = {"all"}

    def compose_filters(self) -> ComposeResult:
        yield Select([(s, s) for s in LEAD_STATUSES], prompt="any status", id="lead-status-filter")
        yield Select([], prompt="any source", id="lead-source-filter")
        yield Label(self._quick_label(), id="lead-quick", classes="filter-label")

    def on_mount(self) -> None:
        # Textual runs RecordListScreen.on_mount as well (handlers run along the MRO), after this one:
        # it loads the list with the scope set here.
        if self.mine:
            self.quick = {"mine"}
            self.query_state.filters.update(QUICK["mine"][1])
            self.query_one("#lead-quick", Label).update(self._quick_label())
        self._load_sources()
        self.call_later(self._show_scope)

    def _show_scope(self) -> None:
        self.sub_title = self.scope_sub_title()

    def scope_changed(self) -> None:
        if self.mine != ("mine" in self.quick):
            self.action_quick("mine")

    def status_words(self) -> list[str]:
        if not self.has_class("-narrow") or self.quick == {"all"}:
            return []
        return [" + ".join(QUICK[k][0].lower() if k != "mine" else "mine" for k in QUICK if k in self.quick)]

    def on_resize(self) -> None:
        if self.is_mounted and self.loaded:
            self.call_after_refresh(self._status)  # the quick filter named there below 120 columns

    def _quick_label(self) -> Text:
        text = Text()
        for n, (key, (label, _)) in enumerate(QUICK.items(), start=1):
            text.append(f" {n} {label} ", style="reverse bold" if key in self.quick else "dim")
        return text

    def _load_sources(self) -> None:
        def sources(s: Any) -> LeadsScreen.Sources:
            from crm_tui.services.sales.leads import lead_sources

            return self.Sources(lead_sources(session=s, actor=self.app.actor))

        run_db(self, sources, group="sources")

    @on(Sources)
    def _sources(self, message: Sources) -> None:
        self.query_one("#lead-source-filter", Select).set_options([(s, s) for s in message.sources])

    def format_cell(self, name: str, value: Any) -> Any:
        if name == "status" and value:
            return Text(value, style=STATUS_STYLE.get(value, ""))
        return super().format_cell(name, value)

    # ------------------------------------------------------------ filters

    def action_quick(self, key: str) -> None:
        """1 clears the quick filters; 2 (mine) toggles and combines with 3, 4 or 5, which replace each other."""
        if key == "all":
            self.quick = {"all"}
        elif key == "mine":
            self.quick ^= {"mine"}
        else:
            self.quick = {k for k in self.quick if k == "mine"} | ({key} if key not in self.quick else set())
        self.quick.discard("all")
        if not self.quick:
            self.quick = {"all"}
        filters = {k: v for k, v in self.query_state.filters.items() if k in ("status", "source")}
        for name in self.quick:
            filters.update(QUICK[name][1])
        self.query_state.filters = filters
        self.query_one("#lead-quick", Label).update(self._quick_label())
        mine = "mine" in self.quick
        state = getattr(self.app, "ui_state", None)
        if state is not None and mine != self.mine:  # 2 toggles the scope as m does: remembered
            state.set_scope(self.SCOPE_KEY, "mine" if mine else "everyone")
        self.sub_title = self.scope_sub_title()
        self.reload()

    @on(Select.Changed)
    def _select(self, event: Select.Changed) -> None:
        key = "status" if event.select.id == "lead-status-filter" else "source"
        value = None if event.value is Select.NULL else event.value
        self.query_state.filters[key] = value
        self.reload()

    # ------------------------------------------------------------ actions

    def open_record(self, record_id: int) -> None:
        from crm_tui.screens.lead_detail import LeadDetailScreen

        self.app.push_screen(LeadDetailScreen(record_id), lambda _=None: self.reload())

    def action_new_lead(self) -> None:
        from crm_tui.screens.lead_detail import LeadFormScreen

        def done(lead_id: int | None) -> None:
            if lead_id:
                self.reload()

        self.app.push_screen(LeadFormScreen(None), done)

    def action_status(self) -> None:
        from crm_tui.screens.lead_detail import change_status

        lead_id = self.selected_id()
        if lead_id is not None:
            change_status(self, lead_id, self.reload)

    def action_qualify(self) -> None:
        from crm_tui.screens.lead_detail import set_status

        lead_id = self.selected_id()
        if lead_id is not None:
            set_status(self, lead_id, "qualified", self.reload)

"""The Dashboard, the first screen: my pipeline and forecast against quota, and what needs me today.

Proposals awaiting a response (mine, sent, no answer yet) open in the proposal editor.

It paints at once with empty panels; the figures and the lists come from two thread workers, each
with its own session, as messages (``run_db``: a failure is a notification). Every list item
opens its record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui import formatting
from crm_tui.screens.base import CRMScreenMixin, open_record
from crm_tui.text import visible
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.my_day import MyDay
from crm_tui.widgets.onboarding import OnboardingChecklist
from crm_tui.widgets.timeline import when_text
from crm_tui.widgets.worker import run_db

LISTS = (("closing", "Closing this week"), ("leads", "New leads since yesterday"),
         ("tasks", "My tasks due today or overdue"), ("followups", "Lead follow-ups due"),
         ("stalled", "Stalled deals"), ("proposals", "Proposals awaiting a response"))


def day_text(value: dt.date | dt.datetime, *, weekday: bool = False, today: dt.date | None = None) -> str:
    """"20 Aug" this year, "20 Aug 2025" in another (local time for a datetime); "Fri 04 Dec"."""
    return formatting.day(value, weekday=weekday, today=today)


def target_text(t) -> Text:
    """One period's card: pipeline, weighted forecast, won and quota."""
    text = Text()
    text.append(f"{t.label}\n", style="bold")
    rows = (("Pipeline", t.pipeline_minor), ("Weighted", t.weighted_minor), ("Won", t.won_minor),
            ("Forecast", t.forecast_minor), ("Quota", t.quota_minor))
    for label, value in rows:
        text.append(f"{label:<10}", style="dim")
        shown = "—" if value is None else formatting.money(value, t.currency, compact=True)  # as the lists
        text.append(f"{shown:>20}\n")
    if t.quota_minor:
        pct = t.attainment
        text.append(f"{'Attained':<10}", style="dim")
        text.append(f"{str(pct) + '%':>20}\n", style="bold green" if pct >= 100 else "bold yellow")
        ahead = t.forecast_minor * 100 // t.quota_minor
        text.append(f"{'Heading':<10}", style="dim")
        text.append(f"{str(ahead) + '% of quota':>20}", style="green" if ahead >= 100 else "red")
    else:
        text.append("no quota set: a manager sets it on the Forecast (F8, q)", style="dim")
    return text


def target_brief(t) -> Text:
    """The same period in three lines, for a short terminal: attainment, won and forecast, pipeline."""
    def m(minor: int | None) -> str:
        return "—" if minor is None else formatting.money(minor, t.currency, compact=True, code=False)

    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{t.label} · {t.currency}", style="bold")
    if t.quota_minor:
        pct = t.attainment
        text.append(f"  {pct}% of {m(t.quota_minor)}\n", style="bold green" if pct >= 100 else "bold yellow")
    else:
        text.append("  no quota\n", style="dim")
    text.append("Won ", style="dim")
    text.append(m(t.won_minor))
    text.append(" · Forecast ", style="dim")
    text.append(f"{m(t.forecast_minor)}\n")
    text.append("Pipeline ", style="dim")
    text.append(m(t.pipeline_minor))
    return text


def _cursor_on_first(widget: OptionList) -> None:
    """Put a list's cursor on its first row that opens something, when it has none."""
    if widget.highlighted is not None:
        return
    for index in range(widget.option_count):
        if not widget.get_option_at_index(index).disabled:
            widget.highlighted = index
            return


class DashboardScreen(CRMScreenMixin, Screen):
    TITLE = "Dashboard"
    # Below 34 rows (80×24) the period cards shrink to three lines each so the lists keep their rows.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (34, "-tall")]
    PALETTE_GROUP = "Dashboard"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"reload": "reload the dashboard"}

    BINDINGS = [
        Binding("r", "reload", "Reload", id="dashboard.reload", tooltip="Load the figures and lists again"),
        Binding("slash", "app.search", "Search", key_display="/", id="dashboard.search",
                tooltip="Search every record: names, notes, descriptions, activity bodies"),
    ]

    @dataclass
    class Targets(Message):
        month: Any
        quarter: Any

    @dataclass
    class Lists(Message):
        lists: Any

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(f"Good day, {self.user}", id="dash-title")
        yield OnboardingChecklist(id="dash-onboarding")
        with Horizontal(id="dash-targets"):
            yield Static("This month: loading…", id="dash-month", classes="dash-card dash-full")
            yield Static("This quarter: loading…", id="dash-quarter", classes="dash-card dash-full")
            yield Static("This month: loading…", id="dash-month-brief", classes="dash-card dash-brief")
            yield Static("This quarter: loading…", id="dash-quarter-brief", classes="dash-card dash-brief")
            yield MyDay(id="dash-my-day", classes="dash-card")
        with Grid(id="dash-lists"):
            for key, title in LISTS:
                with Vertical(classes="dash-panel"):
                    yield Label(f"{title} …", id=f"dash-{key}-title", classes="section-title")
                    yield OptionList(id=f"dash-{key}", classes="dash-list")
        yield FitFooter()

    def on_mount(self) -> None:
        self.items: dict[str, tuple[str, int]] = {}
        self.sub_title = f"{self.user} · {self.crm.database_label}"
        self.action_reload()

    def user_resolved(self, old: str) -> None:
        super().user_resolved(old)
        shown = getattr(self, "_lists_shown", None)
        self.query_one("#dash-title", Label).update(f"Good day, {shown and shown[1].first_name or self.user}")

    def on_screen_resume(self) -> None:
        if getattr(self, "_loaded", False):
            self.action_reload()

    def action_reload(self) -> None:
        self._load_targets()
        self._load_lists()
        if getattr(self, "_loaded", False):
            self.query_one(MyDay).reload()  # (it loads itself when mounted)

    @on(MyDay.Selected)
    def _open_appointment(self, message: MyDay.Selected) -> None:
        open_record(self.app, *message.target)

    def _load_targets(self) -> None:
        self._fetch("dashboard-targets",
                    lambda dashboard, s: self.Targets(*dashboard.targets(session=s, actor=self.actor)))

    def _load_lists(self) -> None:
        stall_days = self.settings.stalled_days
        self._fetch("dashboard-lists",
                    lambda dashboard, s: self.Lists(dashboard.lists(session=s, actor=self.actor,
                                                                    stall_days=stall_days)))

    def _fetch(self, group: str, build) -> None:
        """In a worker: build the message from the dashboard service with a fresh session, and post it."""

        def fetch(s):
            from crm_tui.services.sales import dashboard

            return build(dashboard, s)

        run_db(self, fetch, group=group)

    @on(Targets)
    def _show_targets(self, message: Targets) -> None:
        if (message.month, message.quarter) == getattr(self, "_targets_shown", None):
            return  # reloaded on coming back, and nothing changed: the screen stays as it is
        self._targets_shown = (message.month, message.quarter)
        self.query_one("#dash-month", Static).update(target_text(message.month))
        self.query_one("#dash-quarter", Static).update(target_text(message.quarter))
        self.query_one("#dash-month-brief", Static).update(target_brief(message.month))
        self.query_one("#dash-quarter-brief", Static).update(target_brief(message.quarter))

    @on(Lists)
    def _show_lists(self, message: Lists) -> None:
        data = message.lists
        self._loaded = True
        shown = (dt.date.today(), data)  # (dates read relative to today: "this year")
        if shown == getattr(self, "_lists_shown", None):
            return  # reloaded on coming back, and nothing changed: the lists (and their cursors) stay
        self._lists_shown = shown
        self.query_one("#dash-title", Label).update(f"Good day, {data.first_name or self.user}")
        self.items = {}
        self._fill("closing", [(("opportunity", d["id"]),
                                self._deal_text(d, day_text(d["expected_close"], weekday=True)))
                               for d in data.closing])
        self._fill("leads", [(("lead", lead["id"]), self._lead_text(lead)) for lead in data.new_leads])
        self._fill("tasks", [(t.get("target"), self._task_text(t)) for t in data.tasks])
        self._fill("followups", [(("lead", lead["id"]), self._follow_text(lead)) for lead in data.follow_ups])
        self._fill("stalled", [(("opportunity", d["id"]),
                                self._deal_text(d, f"since {day_text(d['stage_changed_at'])}"))
                               for d in data.stalled])
        self._fill("proposals", [(("proposal", p["id"]), self._proposal_text(p)) for p in data.proposals])
        self.query_one("#dash-stalled-title", Label).update(
            f"Stalled deals: quiet {data.stall_days}+ days ({len(data.stalled)})")  # whole at 80 columns

    def _fill(self, key: str, entries: list) -> None:
        widget = self.query_one(f"#dash-{key}", OptionList)
        widget.clear_options()
        for i, (target, text) in enumerate(entries):
            option_id = f"{key}-{i}"
            if target is not None:
                self.items[option_id] = target
            widget.add_option(Option(text, id=option_id))
        title = dict(LISTS)[key]
        self.query_one(f"#dash-{key}-title", Label).update(f"{title} ({len(entries)})")
        if not entries:
            widget.add_option(Option(Text("nothing here", style="dim"), disabled=True))
        if widget.has_focus:  # refilled under the user's eyes: the cursor stays visible
            _cursor_on_first(widget)

    @staticmethod
    def _deal_text(d: dict, when: str) -> Text:
        text = Text()
        text.append(f"{when:<10}  ", style="yellow")
        account = d.get("account")
        # the deal's own name (formatting.deal_name), its company once at the end: as on the Kanban
        text.append(visible(formatting.deal_name(d["name"], account), one_line=True), style="bold")
        text.append(f"  {formatting.money(d['amount_minor'], d['currency'], compact=True)}  {visible(d['stage'], one_line=True)}",
                    style="dim")
        if account:
            text.append(f"  · {visible(account, one_line=True)}", style="dim")
        return text

    @staticmethod
    def _lead_text(lead: dict) -> Text:
        text = Text(visible(lead["name"], one_line=True), style="bold")
        if lead.get("company"):
            text.append(f" ({visible(lead['company'], one_line=True)})")
        text.append(f"  [{lead['status']}] {visible(lead.get('source'), one_line=True)}", style="dim")
        return text

    @staticmethod
    def _follow_text(lead: dict) -> Text:
        text = Text(f"{when_text(lead['next_follow_up'])}  ", style="yellow")
        text.append(visible(lead["name"], one_line=True), style="bold")
        if lead.get("company"):
            text.append(f" ({visible(lead['company'], one_line=True)})")
        return text

    @staticmethod
    def _task_text(t: dict) -> Text:
        text = Text(f"{when_text(t['due_at'])}  ", style="bold red" if t["overdue"] else "yellow")
        text.append(visible(t["subject"], one_line=True))
        if t.get("target_account"):  # the company of the record enter opens (services: add_targets)
            text.append(f"  · {visible(t['target_account'], one_line=True)}", style="dim")
        return text

    @staticmethod
    def _proposal_text(p: dict) -> Text:
        days = p["days_waiting"]
        text = Text(f"{days}d waiting  " if days else "sent today  ", style="bold red" if p["overdue"] else "yellow")
        text.append(p["number"], style="bold")
        text.append(f" {visible(p['title'], one_line=True)}")
        text.append(f"  {formatting.money(p['total_minor'], p['currency'], compact=True)}", style="dim")
        if p.get("account"):
            text.append(f"  · {p['account']}", style="dim")
        return text

    @on(events.DescendantFocus)
    def _cursor_on_focus(self, event: events.DescendantFocus) -> None:
        """A list reached with tab shows its cursor on its first row, so enter opens what is seen."""
        if isinstance(event.widget, OptionList):
            _cursor_on_first(event.widget)

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        target = self.items.get(event.option.id or "")
        if target is None:
            return
        entity, record_id = target
        if entity == "proposal":
            from crm_tui.screens.proposal_editor import ProposalEditorScreen

            self.app.push_screen(ProposalEditorScreen(record_id))
        else:
            open_record(self.app, entity, record_id)

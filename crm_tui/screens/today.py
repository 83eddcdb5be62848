"""Today: my tasks due today and overdue, and my leads whose follow-up is due. Reachable from anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Label, OptionList
from textual.widgets.option_list import Option

from crm_tui.screens.mine_scope import MINE_PALETTE_NAMES, MineScope, mine_binding
from crm_tui.screens.record_list import WorkerErrors
from crm_tui.text import visible
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.timeline import when_text
from crm_tui.widgets.worker import run_db


class TodayScreen(MineScope, WorkerErrors, Screen):
    """My tasks and lead follow-ups due (m: everyone's I may read)."""

    TITLE = "Today"
    SCOPE_KEY = "today"
    PALETTE_GROUP = "Today"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"done": "mark task done", "reload": "reload", **MINE_PALETTE_NAMES}

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("x", "done", "Done", tooltip="Mark the task under the cursor done"),
        Binding("r", "reload", "Reload", tooltip="Load today's list again"),
        mine_binding("today"),
    ]

    @dataclass
    class Loaded(Message):
        tasks: list
        leads: list
        mine: bool = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="today-tasks-title", classes="section-title")
        yield OptionList(id="today-tasks", classes="today-list")
        yield Label("", id="today-leads-title", classes="section-title")
        yield OptionList(id="today-leads", classes="today-list")
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = self.scope_sub_title()
        self.action_reload()

    def scope_changed(self) -> None:
        self._load()

    def action_reload(self) -> None:
        self._load()

    def _load(self) -> None:
        mine = self.mine

        def load(s: Any) -> TodayScreen.Loaded:
            from crm_tui.services.engagement.activities import due_tasks
            from crm_tui.services.engagement.changes import link_names
            from crm_tui.services.sales.leads import due_follow_ups

            actor = self.app.actor
            tasks = link_names(session=s, rows=due_tasks(session=s, actor=actor, mine=mine), actor=actor)
            return self.Loaded(tasks, due_follow_ups(session=s, actor=actor, mine=mine), mine)

        run_db(self, load, group="today")

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        user = self.app.user
        tasks = self.query_one("#today-tasks", OptionList)
        tasks.clear_options()
        for t in message.tasks:
            text = Text()
            text.append(f"{when_text(t['due_at'])}  ", style="bold red" if t["overdue"] else "yellow")
            text.append(visible(t["subject"], one_line=True))
            # the records it is about, by name: "Kim Lee (lead)", "Acme – Data platform", "Ana Diaz"
            where = [f"{visible(t['lead_name'], one_line=True)} (lead)"] if t.get("lead_name") else []
            where += [visible(t[k], one_line=True) for k in ("opportunity_name", "contact_name") if t.get(k)]
            if t.get("account") and not any(t["account"] in w for w in where):
                where.append(visible(t["account"], one_line=True))
            if where:
                text.append("  · " + ", ".join(where), style="dim")
            tasks.add_option(Option(text, id=f"task-{t['id']}"))
        whose = "My" if message.mine else "Everyone's"
        self.query_one("#today-tasks-title", Label).update(
            f"{whose} tasks due today or overdue ({len(message.tasks)})" + (f" — {user}" if message.mine else "")
            + ("" if message.tasks else "  ·  nothing due: f on a record schedules a follow-up task"))
        leads = self.query_one("#today-leads", OptionList)
        leads.clear_options()
        for lead in message.leads:
            text = Text()
            text.append(f"{when_text(lead['next_follow_up'])}  ", style="yellow")
            text.append(visible(lead["name"], one_line=True), style="bold")
            if lead.get("company"):
                text.append(f" ({visible(lead['company'], one_line=True)})")
            text.append(f"  [{lead['status']}]", style="dim")
            leads.add_option(Option(text, id=f"lead-{lead['id']}"))
        self.query_one("#today-leads-title", Label).update(f"{whose} lead follow-ups due ({len(message.leads)})"
            + ("" if message.leads else "  ·  none due: f on a lead (F3) schedules one"))
        self.tasks = {f"task-{t['id']}": t for t in message.tasks}
        if message.tasks:
            tasks.highlighted = 0
            tasks.focus()
        elif message.leads:
            leads.highlighted = 0
            leads.focus()

    def action_done(self) -> None:
        tasks = self.query_one("#today-tasks", OptionList)
        if tasks.highlighted is None or not tasks.option_count:
            return
        option = tasks.get_option_at_index(tasks.highlighted)
        if option.id and option.id.startswith("task-"):
            task = getattr(self, "tasks", {}).get(option.id, {})
            self._complete(self.app.user, int(option.id[5:]), task.get("subject") or "")

    def _complete(self, user: str, activity_id: int, subject: str = "") -> None:
        def complete(s: Any) -> None:
            from crm_tui.services.engagement.activities import complete_activity

            complete_activity(session=s, activity_id=activity_id, actor=user)

        def done(_: None) -> None:
            self.notify(f"Task “{visible(subject, one_line=True)}” done" if subject else "Task done")
            self._load()

        run_db(self, complete, group="today-done", done=done)

    @on(OptionList.OptionSelected, "#today-leads")
    def _open_lead(self, event: OptionList.OptionSelected) -> None:
        from crm_tui.screens.lead_detail import LeadDetailScreen

        self.app.push_screen(LeadDetailScreen(int((event.option.id or "lead-0")[5:])),
                             lambda _=None: self.action_reload())

    @on(OptionList.OptionSelected, "#today-tasks")
    def _open_task(self, event: OptionList.OptionSelected) -> None:
        task = getattr(self, "tasks", {}).get(event.option.id or "")
        if not task:
            return
        if task.get("lead_id"):
            from crm_tui.screens.lead_detail import LeadDetailScreen

            self.app.push_screen(LeadDetailScreen(task["lead_id"]), lambda _=None: self.action_reload())
            return
        from crm_tui.screens.base import open_record

        for entity, column in (("opportunity", "opportunity_id"), ("contact", "contact_id"),
                               ("account", "account_id")):
            if task.get(column):
                open_record(self.app, entity, task[column], lambda _=None: self.action_reload())
                return

"""One timeline widget for every detail screen: activities and field changes, newest first.

It loads in a thread worker (its own session) and posts the items back; the
owner calls ``reload()`` after anything that adds to the record's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from crm_tui.app import CRMApp
from crm_tui import formatting
from crm_tui.text import visible
from crm_tui.widgets.worker import run_db

ICONS = {"call": "☎", "meeting": "👥", "email": "✉", "note": "✎", "task": "☐", "whatsapp": "💬",
         "system": "⚙", "change": "Δ"}


def when_text(value: dt.datetime | None) -> str:
    return formatting.moment(value)


def render_item(item: Any) -> Text:
    icon = ICONS.get(item.type, "•")
    if item.type == "task":
        icon = "☑" if item.completed_at else "☐"
    line = Text()
    line.append(f"{when_text(item.when)}  ", style="dim")
    line.append(f"{icon} {item.type:<8} ", style="bold" if item.kind == "activity" else "italic")
    line.append(visible(item.title, one_line=True))
    if item.kind == "activity" and item.due_at:  # a task, or a call or meeting scheduled for later
        overdue = item.completed_at is None and item.due_at < dt.datetime.now(dt.timezone.utc)
        line.append(f"  due {when_text(item.due_at)}", style="bold red" if overdue else "yellow")
        if item.completed_at:
            line.append("  done", style="green")
    line.append(f"  — {visible(item.who, one_line=True)}", style="dim")
    if item.via:
        line.append(f"  (from {visible(item.via, one_line=True)})", style="dim cyan")
    if item.body and item.kind == "activity":
        body = item.body.replace("\n", " ")
        if len(body) > 200:  # cut: say so
            body = body[:199].rstrip() + "…"
        line.append("\n    " + visible(body, one_line=True), style="dim")
    return line


def read_items(new_session: Any, entity: str, record_id: int, actor: Any) -> list | None:
    """In a screen's worker (``run_db(..., session=False)``): a record's timeline, read in a session of its
    own after the record's, so that the screen shows both at once; None if it could not be read (the
    timeline then loads on its own, and its failure is shown as it always was)."""
    from crm_tui.services.engagement.timeline import timeline

    try:
        with new_session() as s:
            return timeline(session=s, entity=entity, record_id=record_id, actor=actor)
    except Exception:  # noqa: BLE001 - shown by the timeline's own load, which runs instead
        return None


class Timeline(OptionList):
    """The history of one record. Enter or x on an open task marks it done."""

    if TYPE_CHECKING:
        @property
        def app(self) -> CRMApp: ...

    DEFAULT_CSS = """
    Timeline {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
    }
    Timeline:focus {
        border: round $accent;
    }
    """

    BINDINGS = [
        Binding("x", "done", "Done", tooltip="Mark the task under the cursor done"),
    ]

    @dataclass
    class Loaded(Message):
        timeline: "Timeline"
        items: list

    @dataclass
    class TaskDone(Message):
        """A task was marked done (the owner may refresh other views)."""

        timeline: "Timeline"
        activity_id: int

    def __init__(self, entity: str, record_id: int, *, owner_loads: bool = False, **kwargs: Any) -> None:
        """``owner_loads``: the screen reads the first items with its record (``read_items``) and hands
        them to ``show`` (or calls ``reload`` if it could not); later reloads are the timeline's own."""
        super().__init__(**kwargs)
        self.entity = entity
        self.record_id = record_id
        self.owner_loads = owner_loads
        self.items: list = []
        self.border_title = "Timeline"

    def on_mount(self) -> None:
        if not self.owner_loads:
            self.reload()

    def reload(self) -> None:
        self._load()

    def _load(self) -> None:
        entity, record_id = self.entity, self.record_id

        def load(s: Any) -> Timeline.Loaded:
            from crm_tui.services.engagement.timeline import timeline

            return self.Loaded(self, timeline(session=s, entity=entity, record_id=record_id,
                                                  actor=self.app.actor))

        run_db(self, load, group="timeline", title="Timeline")

    @on(Loaded)
    def _show(self, event: Loaded) -> None:
        event.stop()
        self.show(event.items)

    def handed(self, items: list | None) -> None:
        """The first items, read by the screen with its record (``owner_loads``), or None when that read
        failed: show them, or load on its own. From then on the timeline loads itself. Once only."""
        if not self.owner_loads:
            return
        self.owner_loads = False
        if items is not None:
            self.show(items)
        else:
            self.reload()

    def show(self, items: list) -> None:
        """Show ``items`` (``crm_tui.services.engagement.timeline.timeline``), keeping the cursor's place."""
        self.items = items
        highlighted = self.highlighted
        self.clear_options()
        if not self.items:
            self.add_option(Option(Text("Nothing has happened yet.", style="dim"), disabled=True))
        else:
            self.add_options([Option(render_item(i), id=f"item-{n}") for n, i in enumerate(self.items)])
            if highlighted is not None and highlighted < len(self.items):
                self.highlighted = highlighted
        self.border_title = f"Timeline ({len(self.items)})"

    def current_item(self) -> Any | None:
        if self.highlighted is None or not self.items or self.highlighted >= len(self.items):
            return None
        return self.items[self.highlighted]

    def action_done(self) -> None:
        item = self.current_item()
        if item is None or not item.open_task:
            self.notify("Put the cursor on an open task to mark it done.", severity="warning")
            return
        self._complete(self.app.user, item.activity_id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        item = self.current_item()
        if item is not None and item.open_task:
            event.stop()
            self.action_done()

    def _complete(self, user: str, activity_id: int) -> None:
        def complete(s: Any) -> None:
            from crm_tui.services.engagement.activities import complete_activity

            complete_activity(session=s, activity_id=activity_id, actor=user)

        def done(_: None) -> None:
            self.post_message(self.TaskDone(self, activity_id))
            self._load()

        run_db(self, complete, group="timeline-done", done=done, title="Timeline")

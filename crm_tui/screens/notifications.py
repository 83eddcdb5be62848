"""Notifications: mine, newest first; enter opens the record (and marks it read), r marks one read,
a marks all read. Reachable from anywhere (F11, or the palette)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList
from textual.widgets.option_list import Option

from crm_tui.screens.record_list import WorkerErrors
from crm_tui.text import visible
from crm_tui.widgets.timeline import when_text
from crm_tui.widgets.worker import run_db


class NotificationsScreen(WorkerErrors, Screen):
    TITLE = "Notifications"
    PALETTE_GROUP = "Notifications"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"open": "open the record", "read": "mark read",
                                               "read_all": "mark all read", "reload": "reload"}

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "open", "Open", tooltip="Open the record of the notification under the cursor; marks it read",
                show=True),
        Binding("r", "read", "Read", tooltip="Mark the notification under the cursor read"),
        Binding("a", "read_all", "All read", tooltip="Mark every notification read"),
        Binding("ctrl+r", "reload", "Reload", show=False, tooltip="Load the notifications again"),
    ]

    @dataclass
    class Loaded(Message):
        rows: list
        unread: int

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="notifications-title", classes="section-title")
        yield OptionList(id="notifications-list", classes="today-list")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#notifications-title", Label).update(self.app.busy_text())  # type: ignore[attr-defined]
        self.action_reload()

    def action_reload(self) -> None:
        def load(s: Any) -> NotificationsScreen.Loaded:
            from crm_tui.services import notifications

            actor = self.app.actor  # type: ignore[attr-defined]
            return self.Loaded(notifications.list_for(session=s, actor=actor),
                               notifications.unread_count(session=s, actor=actor))

        run_db(self, load, group="notifications")

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        listing = self.query_one("#notifications-list", OptionList)
        keep = listing.highlighted
        listing.clear_options()
        self.rows = {}
        for row in message.rows:
            text = Text()
            text.append("● " if not row["read"] else "  ", style="bold yellow")
            text.append(f"{when_text(row['created_at'])}  ", style="dim")
            text.append(visible(row["title"], one_line=True), style="" if row["read"] else "bold")
            if row.get("body"):
                text.append("  · " + visible(row["body"], one_line=True), style="dim")
            key = f"n-{row['id']}"
            self.rows[key] = row
            listing.add_option(Option(text, id=key))
        total = len(message.rows)
        title = (f"{message.unread} unread of {total}" if total else
                 "No notifications yet: you are told here when a lead or deal is assigned to you, a deal of your "
                 "team is won or lost, or a proposal is accepted")
        self.query_one("#notifications-title", Label).update(title)
        if total:
            listing.highlighted = min(keep or 0, total - 1)
            listing.focus()
        refresh = getattr(self.app, "refresh_notifications", None)
        if refresh is not None:
            refresh()

    def _current(self) -> dict | None:
        listing = self.query_one("#notifications-list", OptionList)
        if listing.highlighted is None or not listing.option_count:
            return None
        return self.rows.get(listing.get_option_at_index(listing.highlighted).id or "")

    def _mark(self, notification_id: int | None, then: Any = None) -> None:
        def mark(s: Any) -> None:
            from crm_tui.services import notifications

            actor = self.app.actor  # type: ignore[attr-defined]
            if notification_id is None:
                notifications.mark_all_read(session=s, actor=actor)
            else:
                notifications.mark_read(session=s, actor=actor, notification_id=notification_id)

        def done(_: None) -> None:
            self.action_reload()
            if then is not None:
                then()

        run_db(self, mark, group="notifications-read", done=done)

    def action_read(self) -> None:
        row = self._current()
        if row is not None and not row["read"]:
            self._mark(row["id"])

    def action_read_all(self) -> None:
        if any(not r["read"] for r in self.rows.values()):
            self._mark(None)

    @on(OptionList.OptionSelected, "#notifications-list")
    def _selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self._current()
        if row is None:
            return
        if not row["read"]:
            self._mark(row["id"])
        entity, record_id = row.get("entity"), row.get("record_id")
        if not entity or record_id is None:
            self.notify("This notification has no record to open (it counts several).")
            return
        if entity == "proposal":
            from crm_tui.screens.proposal_editor import ProposalEditorScreen

            self.app.push_screen(ProposalEditorScreen(record_id))
            return
        from crm_tui.screens.base import open_record

        try:
            open_record(self.app, entity, record_id)
        except ValueError:
            self.notify(f"Cannot open a {entity} here.", severity="warning")

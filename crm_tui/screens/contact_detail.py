"""One contact: every field (e edits), who they report to, their timeline, quick logging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Label, Static

from crm_tui.screens.base import CRMScreenMixin, open_record
from crm_tui.screens.record_list import cell
from crm_tui.widgets.cells import safe
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.log_activity import LogActivityKeys
from crm_tui.widgets.timeline import Timeline, read_items
from crm_tui.widgets.worker import failure_text, run_db

HIDDEN = {"id", "stage_position", "version"}  # the record is shown by its name, never its id


def fields_table(row: dict, hidden: set[str] = HIDDEN, label_width: int | None = None) -> Table:
    """The record's fields, a label and its value a row; ``label_width``: labels wider than that wrap
    (so a long label such as "converted opportunity name" leaves the values their room)."""
    table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
    table.add_column(style="bold", no_wrap=label_width is None, max_width=label_width)
    table.add_column(overflow="fold")
    for key, value in row.items():
        if key in hidden or key.endswith(("_minor", "_id")):  # a reference shows by its name (its own key)
            continue
        table.add_row(key.replace("_", " "), safe(cell(value)))
    return table


class ContactDetailScreen(CRMScreenMixin, LogActivityKeys, Screen):
    TITLE = "Contact"
    PALETTE_GROUP = "Contact"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {
        **LogActivityKeys.LOG_PALETTE_NAMES, "back": "back", "edit": "edit contact",
        "open_account": "open its account", "reload": "reload",
    }

    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to where you came from"),
        Binding("e", "edit", "Edit", tooltip="Edit this contact"),
        *LogActivityKeys.LOG_BINDINGS,
        Binding("a", "open_account", "Account", tooltip="Open the contact's account"),
        Binding("r", "reload", "Reload", show=False, tooltip="Load the contact again"),
    ]

    @dataclass
    class Loaded(Message):
        row: dict
        timeline: list | None = None  # read with the contact until the timeline is first shown

    def __init__(self, contact_id: int) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.row: dict = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Contact", id="detail-heading", classes="detail-heading")
        with Horizontal(classes="detail-body"):
            with VerticalScroll(classes="detail-fields"):
                yield Static("loading…", id="detail-fields")
            yield Timeline("contact", self.contact_id, id="detail-timeline", owner_loads=True)
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    def _load(self) -> None:
        contact_id = self.contact_id
        # Until the timeline is first shown, it is read with the contact: one worker, one message, one layout.
        with_timeline = self.query_one(Timeline).owner_loads

        def load(new_session: Any) -> ContactDetailScreen.Loaded:
            from crm_tui.services import records
            from crm_tui.services.engagement.changes import names_of
            from crm_tui.services.sales import contacts

            actor = self.actor
            with new_session() as s:
                row = records.get_record(contacts.ENTITY, session=s, record_id=contact_id, actor=actor)
                if row.get("reports_to_id"):
                    row["reports_to"] = names_of(session=s, kind="contact", ids=[row["reports_to_id"]],
                                                 actor=actor).get(row["reports_to_id"])
            return self.Loaded(row, read_items(new_session, "contact", contact_id, actor) if with_timeline else None)

        run_db(self, load, group="detail", failed=self._failed, session=False)

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self.row = row = message.row
        self.query_one(Timeline).handed(message.timeline)
        title = row.get("name") or "(no name)"
        where = f" · {row['title']}" if row.get("title") else ""
        where += f" at {row['account']}" if row.get("account") else ""
        self.sub_title = title
        self.query_one("#detail-heading", Label).update(safe(f"{title}{where}"))
        self.query_one("#detail-fields", Static).update(fields_table(row))

    def _failed(self, error: BaseException) -> None:
        """run_db has notified; the fields pane says it too."""
        self.query_one(Timeline).handed(None)  # (it was to come with the contact)
        self.query_one("#detail-fields", Static).update(safe(failure_text(error)))

    def action_back(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        from crm_tui.screens.contact_form import ContactFormScreen

        def saved(row: dict | None) -> None:
            if row:
                self.action_reload()
                self.query_one(Timeline).reload()

        self.app.push_screen(ContactFormScreen(self.contact_id), saved)

    def action_open_account(self) -> None:
        if not self.row.get("account_id"):
            self.notify("This contact has no account.", severity="warning")
            return
        open_record(self.app, "account", self.row["account_id"])

    def activity_links(self) -> dict[str, int]:
        links = {"contact": self.contact_id}
        if self.row.get("account_id"):
            links["account"] = self.row["account_id"]
        return links

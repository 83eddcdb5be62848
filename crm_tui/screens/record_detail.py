"""Detail of an account, contact or opportunity: every field, its timeline, quick logging.

An account also shows its contacts as a reports-to tree with their buying roles,
and its open opportunities; Enter on either opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.screens.record_list import WorkerErrors, cell
from crm_tui.widgets.log_activity import LogActivityKeys
from crm_tui.widgets.timeline import Timeline

LINK_KEY = {"account": "account", "contact": "contact", "opportunity": "opp", "lead": "lead"}
HIDDEN = {"stage_position", "version"}
TITLE_FIELD = {"account": "name", "contact": "name", "opportunity": "name"}


def fields_table(row: dict, hidden: set[str] = HIDDEN) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in row.items():
        if key in hidden or key.endswith("_minor"):
            continue
        table.add_row(key.replace("_", " "), cell(value))
    return table


class RecordDetailScreen(WorkerErrors, LogActivityKeys, Screen):
    PALETTE_NAMES: ClassVar[dict[str, str]] = dict(LogActivityKeys.LOG_PALETTE_NAMES)

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to where you came from"),
        *LogActivityKeys.LOG_BINDINGS,
        Binding("r", "reload", "Reload", show=False, tooltip="Load the record again"),
    ]

    @dataclass
    class Loaded(Message):
        row: dict
        extras: dict

    @dataclass
    class Failed(Message):
        error: str

    def __init__(self, entity: str, record_id: int) -> None:
        super().__init__()
        self.entity = entity
        self.record_id = record_id
        self.row: dict = {}
        self.PALETTE_GROUP = entity.capitalize()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(f"{self.entity} {self.record_id}", id="detail-heading", classes="detail-heading")
        with Horizontal(classes="detail-body"):
            with VerticalScroll(classes="detail-fields"):
                yield Static("loading…", id="detail-fields")
                if self.entity == "account":
                    yield Label("Contacts (who reports to whom)", classes="section-title")
                    yield OptionList(id="account-contacts", classes="related-list")
                    yield Label("Open opportunities", classes="section-title")
                    yield OptionList(id="account-opps", classes="related-list")
            yield Timeline(self.entity, self.record_id, id="detail-timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def _load(self) -> None:
        engine = self.app.engine  # in the worker thread: waits until the database is open
        from crm_tui.errors import CRMError
        from crm_tui.services import contacts, opportunities, records
        from crm_tui.services.registry import ENTITIES
        from crm_tui.database import session_scope

        extras: dict = {}
        try:
            with session_scope(engine) as s:
                row = records.get_record(ENTITIES[self.entity], session=s, record_id=self.record_id)
                if self.entity == "account":
                    extras["tree"] = contacts.reports_tree(session=s, account_id=self.record_id)
                    extras["opps"] = records.list_records(
                        opportunities.ENTITY, session=s, filters={"account": self.record_id, "open": "yes"},
                        sort="expected_close", limit=50)
        except CRMError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Loaded(row, extras))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self.row = message.row
        title = self.row.get(TITLE_FIELD.get(self.entity, "id")) or f"#{self.record_id}"
        self.query_one("#detail-heading", Label).update(f"{self.entity.capitalize()} {self.record_id}: {title}")
        self.query_one("#detail-fields", Static).update(fields_table(self.row))
        if self.entity == "account":
            tree = self.query_one("#account-contacts", OptionList)
            tree.clear_options()
            for depth, contact in message.extras.get("tree", []):
                text = Text("  " * depth + ("└ " if depth else ""))
                text.append(contact["name"] or f"#{contact['id']}", style="bold")
                if contact.get("title"):
                    text.append(f", {contact['title']}")
                if contact.get("buying_role"):
                    text.append(f"  [{contact['buying_role']}]", style="cyan")
                tree.add_option(Option(text, id=f"contact-{contact['id']}"))
            if not message.extras.get("tree"):
                tree.add_option(Option(Text("no contacts", style="dim"), disabled=True))
            opps = self.query_one("#account-opps", OptionList)
            opps.clear_options()
            for opp in message.extras.get("opps", []):
                text = Text(f"{opp['name']}  ")
                text.append(f"{opp['stage']} {opp['probability']}%  {opp['amount']} {opp['currency']}", style="dim")
                opps.add_option(Option(text, id=f"opportunity-{opp['id']}"))
            if not message.extras.get("opps"):
                opps.add_option(Option(Text("no open opportunities", style="dim"), disabled=True))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.notify(message.error, severity="error")
        self.query_one("#detail-fields", Static).update(message.error)

    @on(OptionList.OptionSelected, ".related-list")
    def _open_related(self, event: OptionList.OptionSelected) -> None:
        entity, _, rid = (event.option.id or "").partition("-")
        if rid:
            self.app.push_screen(RecordDetailScreen(entity, int(rid)))

    def activity_links(self) -> dict[str, int]:
        links = {LINK_KEY[self.entity]: self.record_id}
        if self.entity in ("contact", "opportunity") and self.row.get("account_id"):
            links["account"] = self.row["account_id"]
        return links

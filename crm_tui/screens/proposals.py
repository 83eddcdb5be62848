"""The Proposals area (F7): every proposal with filters, and the way into the editor.

Listing only reads: the follow-up tasks for proposals sent without a response
are made by the scheduled jobs (services/jobs.py: `crm jobs run`, and the app's
timer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, Select, Static

from crm_tui import formatting
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.services.quotes import proposals as P
from crm_tui.text import visible
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.paged_table import PagedTable
from crm_tui.widgets.picker import Picker
from crm_tui.widgets.worker import failure_text, run_db

SHOW = (("all", "all"), ("pending response", "pending"), ("overdue follow-up", "overdue"))


class NewProposalDialog(CRMScreenMixin, ModalScreen[int | None]):
    """Create a proposal for an opportunity, from a template or empty. Dismisses with the new id."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    @dataclass
    class Templates(Message):
        options: list

    @dataclass
    class Created(Message):
        proposal_id: int
        message: str

    def __init__(self, opportunity_id: int | None = None) -> None:
        super().__init__()
        self.opportunity_id = opportunity_id

    def compose(self) -> ComposeResult:
        with Vertical(id="new-proposal-dialog", classes="dialog"):
            yield Label("New proposal", classes="dialog-title")
            yield Picker("opportunity", value="" if self.opportunity_id is None else str(self.opportunity_id),
                         placeholder="choose the deal (enter, or type its name)", id="np-opp",
                         disabled=self.opportunity_id is not None)
            yield Select([], id="np-template", allow_blank=True, prompt="(no template)")
            yield Static("", id="np-problem")
            with Horizontal(classes="buttons"):
                yield Button("Create", variant="primary", id="np-create")
                yield Button("Cancel", id="np-cancel")

    def on_mount(self) -> None:
        self.load_templates()
        if self.opportunity_id is None:
            self.query_one("#np-opp", Picker).focus()
        else:
            self.query_one("#np-template", Select).focus()

    def load_templates(self) -> None:
        def load(s: Any) -> NewProposalDialog.Templates:
            return self.Templates([(f"{t.name} ({t.lines} lines, valid {t.valid_days} days)", t.name)
                                   for t in P.list_templates(session=s)])

        run_db(self, load, group="new-proposal-templates", failed=self._failed, notify_known=False)

    def on_new_proposal_dialog_templates(self, message: Templates) -> None:
        select = self.query_one("#np-template", Select)
        select.set_options(message.options)
        if message.options:
            select.value = message.options[0][1]

    @on(Button.Pressed, "#np-create")
    @on(Input.Submitted)
    def create(self) -> None:
        value = self.query_one("#np-template", Select).value
        if not self.query_one("#np-opp", Picker).value:
            self.query_one("#np-problem", Static).update(Text("Choose the deal first.", style="red"))
            return
        self.create_proposal(self.query_one("#np-opp", Picker).value,
                             None if value is Select.NULL else str(value))

    def create_proposal(self, opportunity: str, template: str | None) -> None:
        user = self.user

        def create(s: Any) -> NewProposalDialog.Created:
            view = P.new_proposal(session=s, opportunity_id=opportunity, actor=user, template=template)
            return self.Created(view.id, f"created {view.number} ({len(view.pricing.lines)} lines)")

        run_db(self, create, group="new-proposal-create", failed=self._failed, notify_known=False)

    def _failed(self, error: BaseException) -> None:
        self.query_one("#np-problem", Static).update(Text(visible(failure_text(error)), style="red"))

    def on_new_proposal_dialog_created(self, message: Created) -> None:
        self.notify(message.message)
        self.dismiss(message.proposal_id)

    @on(Button.Pressed, "#np-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def open_new_proposal(screen: Screen, opportunity_id: int | None = None) -> None:
    """From any screen: ask for a template, create the proposal, open it in the editor."""
    from crm_tui.screens.proposal_editor import ProposalEditorScreen

    def created(proposal_id: int | None) -> None:
        if proposal_id is not None:
            screen.app.push_screen(ProposalEditorScreen(proposal_id))

    screen.app.push_screen(NewProposalDialog(opportunity_id), created)


class ProposalsScreen(CRMScreenMixin, Screen):
    TITLE = "Proposals"
    PALETTE_GROUP = "Proposals"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"open": "open the proposal", "new": "new proposal",
                                               "reload": "reload", "focus_filters": "filter"}
    # (label, width): number, title, total and validity first, so 80 columns show them; the title takes
    # the width left free.
    COLUMNS = (("Number", 13), ("Title", 20), ("Total", 16), ("Valid until", 11), ("Status", 8), ("Account", 24),
               ("Owner", 8), ("Sent", 11), ("Rev", 3))

    BINDINGS = [
        Binding("enter", "open", "Open", id="proposals.open", tooltip="Open the proposal under the cursor"),
        Binding("n", "new", "New", id="proposals.new", tooltip="New proposal for an opportunity"),
        Binding("r", "reload", "Reload", id="proposals.reload", tooltip="Load the list again"),
        Binding("slash", "focus_filters", "Filter", id="proposals.filter", tooltip="Filter by status, response, owner"),
    ]

    @dataclass
    class Loaded(Message):
        rows: list

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="proposals-filters"):
            yield Select([("any status", "any")] + [(s, s) for s in P.STATUSES], value="any", allow_blank=False,
                         id="proposals-status")
            yield Select(list(SHOW), value="all", allow_blank=False, id="proposals-show")
            yield Input(placeholder="owner (username or me)", id="proposals-owner")
        yield PagedTable(id="proposals-table", stretch="title")
        yield Static("", id="proposals-status-line")
        yield FitFooter()

    def on_mount(self) -> None:
        self.sub_title = f"{self.user} · {self.crm.database_label}"
        table = self.query_one("#proposals-table", DataTable)
        for label, width in self.COLUMNS:
            table.add_column(label, key=label.lower(), width=width)
        table.focus()
        self.action_reload()

    def filters(self) -> dict[str, Any]:
        status = self.query_one("#proposals-status", Select).value
        show = self.query_one("#proposals-show", Select).value
        owner = self.query_one("#proposals-owner", Input).value.strip()  # "me": the service resolves it
        return {"status": None if status == "any" else status, "pending": show == "pending", "overdue_followup": show == "overdue",
                "owner": owner or None}

    def action_reload(self) -> None:
        self.load(self.filters())

    @on(Select.Changed)
    @on(Input.Submitted, "#proposals-owner")
    def filter_changed(self) -> None:
        self.action_reload()

    def load(self, flt: dict) -> None:
        def load(s: Any) -> ProposalsScreen.Loaded:
            return self.Loaded(P.list_proposals(session=s, limit=1000, actor=self.actor, **flt))

        run_db(self, load, group="proposals-list", title="Proposals")

    def on_proposals_screen_loaded(self, message: Loaded) -> None:
        self.rows = message.rows
        table = self.query_one("#proposals-table", DataTable)
        table.clear()
        for r in message.rows:
            status = r["status"]
            style = {"expired": "dim", "accepted": "green", "rejected": "red", "sent": "yellow"}.get(status, "")
            table.add_row(r["number"], r["title"], formatting.money(r["total_minor"], r["currency"]),
                          formatting.day(r["valid_until"]), Text(status, style=style), r["account"] or "",
                          r["owner"] or "", formatting.day(r["sent_at"]), str(r["revision"]), key=str(r["id"]))
        flt = self.filters()
        if message.rows or flt["status"] or flt["pending"] or flt["overdue_followup"] or flt["owner"]:
            line = f"{len(message.rows)} proposals"
        else:
            line = "No proposals yet — press n to create one for a deal (or ctrl+n on the deal)."
        self.query_one("#proposals-status-line", Static).update(line)

    @on(DataTable.RowSelected, "#proposals-table")
    def row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        from crm_tui.screens.proposal_editor import ProposalEditorScreen

        table = self.query_one("#proposals-table", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return
        pid = self.rows[table.cursor_row]["id"]
        self.app.push_screen(ProposalEditorScreen(pid), lambda changed: self.action_reload() if changed else None)

    def action_new(self) -> None:
        open_new_proposal(self)

    def action_focus_filters(self) -> None:
        self.query_one("#proposals-status", Select).focus()

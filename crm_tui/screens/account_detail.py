"""One account: every field, its contacts, its opportunities and recent activity."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from crm_tui.errors import CRMError, NotFound
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.database import session_scope
from crm_tui.widgets.cells import date_text, datetime_text, money_text, plain, right, status_text

RELATED_LIMIT = 50
ACTIVITY_LIMIT = 20


@dataclass
class AccountDetails:
    account: dict
    contacts: list[dict]
    contact_count: int
    opportunities: list[dict]
    opportunity_count: int
    activities: list[dict]
    activity_count: int


def load_account_details(session, account_id: int) -> AccountDetails:
    """Everything the detail screen shows, read in one session (runs in a worker thread)."""
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES

    account = records.get_record(ENTITIES["account"], session=session, record_id=account_id)
    by_account = {"account": account_id}
    related = {}
    for name, limit in (("contact", RELATED_LIMIT), ("opportunity", RELATED_LIMIT), ("activity", ACTIVITY_LIMIT)):
        entity = ENTITIES[name]
        rows = records.list_records(entity, session=session, filters=by_account, limit=limit)
        total = len(rows) if len(rows) < limit else records.count_records(entity, session=session,
                                                                          filters=by_account)
        related[name] = (rows, total)
    return AccountDetails(account, *related["contact"], *related["opportunity"], *related["activity"])


class AccountDetailScreen(CRMScreenMixin, Screen):
    """Shows one account; ``e`` edits it, escape goes back to the list."""

    TITLE = "Account"
    PALETTE_GROUP = "Account"
    PALETTE_NAMES = {"back": "back to the list", "edit": "edit account", "refresh": "refresh"}

    BINDINGS = [
        Binding("escape", "back", "Back", id="account.back", tooltip="Back to the accounts list"),
        Binding("e", "edit", "Edit", id="account.edit", tooltip="Edit this account"),
        Binding("r", "refresh", "Refresh", id="account.refresh", tooltip="Load this account again"),
    ]

    @dataclass
    class Loaded(Message):
        details: AccountDetails

    @dataclass
    class LoadFailed(Message):
        error: str
        missing: bool = False

    def __init__(self, account_id: int) -> None:
        super().__init__()
        self.account_id = account_id
        self.details: AccountDetails | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="detail-title-row"):
            yield Static("Loading…", id="detail-title")
            yield Static("", id="detail-badge")
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-fields-pane"):
                yield Static("", id="detail-fields")
                yield Static("", id="detail-description")
            with Vertical(id="detail-related"):
                yield Static("Contacts", id="contacts-title", classes="section-title")
                contacts = DataTable(id="detail-contacts", cursor_type="row", zebra_stripes=True)
                contacts.add_column("Name", width=20, key="name")
                contacts.add_column("Title", width=18, key="title")
                contacts.add_column("Email", width=28, key="email")
                contacts.add_column("Phone", width=15, key="phone")
                contacts.add_column("Buying role", width=14, key="role")
                yield contacts
                yield Static("Opportunities", id="opps-title", classes="section-title")
                opps = DataTable(id="detail-opportunities", cursor_type="row", zebra_stripes=True)
                opps.add_column("Name", width=34, key="name")
                opps.add_column("Stage", width=12, key="stage")
                opps.add_column(Text("Amount", justify="right"), width=16, key="amount")
                opps.add_column(Text("Prob.", justify="right"), width=5, key="probability")
                opps.add_column("Close", width=10, key="close")
                opps.add_column("Owner", width=8, key="owner")
                yield opps
                yield Static("Recent activity", id="activities-title", classes="section-title")
                acts = DataTable(id="detail-activities", cursor_type="row", zebra_stripes=True)
                acts.add_column("When", width=16, key="when")
                acts.add_column("Type", width=8, key="type")
                acts.add_column("Subject", width=36, key="subject")
                acts.add_column("Owner", width=8, key="owner")
                acts.add_column("Due / done", width=12, key="due")
                yield acts
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"#{self.account_id}"
        self.reload()

    def reload(self) -> None:
        self._fetch(self.account_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="account-detail")
    def _fetch(self, account_id: int) -> None:
        worker = get_current_worker()
        try:
            with session_scope(self.engine) as session:
                details = load_account_details(session, account_id)
        except NotFound as exc:
            self.post_message(self.LoadFailed(str(exc), missing=True))
            return
        except CRMError as exc:
            self.post_message(self.LoadFailed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(details))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.details = d = message.details
        a = d.account
        self.sub_title = a["name"]
        self.query_one("#detail-title", Static).update(Text(a["name"], style="bold"))
        badge = status_text(a.get("status"))
        self.query_one("#detail-badge", Static).update(Text.assemble(" ", badge, " ") if badge else "")
        self.query_one("#detail-fields", Static).update(self._fields_table(a))
        description = a.get("description") or ""
        self.query_one("#detail-description", Static).update(
            Text.assemble(("Description\n", "bold"), description) if description else "")
        self._fill_related(d)

    def _fields_table(self, a: dict) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        employees = a.get("employees")
        rows = [
            ("Name", plain(a.get("name"))),
            ("Status", status_text(a.get("status"))),
            ("Owner", plain(a.get("owner")) or Text("unassigned", style="dim")),
            ("Industry", plain(a.get("industry"))),
            ("Website", plain(a.get("website"))),
            ("Email", plain(a.get("email"))),
            ("Phone", plain(a.get("phone"))),
            ("Street", plain(a.get("street"))),
            ("City", plain(a.get("city"))),
            ("State", plain(a.get("state"))),
            ("Postal code", plain(a.get("postal_code"))),
            ("Country", plain(a.get("country"))),
            ("Source", plain(a.get("source"))),
            ("Employees", f"{employees:,}" if isinstance(employees, int) else ""),
            ("Lifetime value", Text(money_text(a.get("lifetime_value_minor"), a.get("currency")).plain,
                                    style="bold")),
            ("Currency", plain(a.get("currency"))),
            ("Created", datetime_text(a.get("created_at"))),
            ("Updated", datetime_text(a.get("updated_at"))),
            ("Id / version", f"#{a['id']} · v{a.get('version')}"),
        ]
        for label, value in rows:
            grid.add_row(label, value)
        return grid

    def _fill_related(self, d: AccountDetails) -> None:
        def title(widget_id: str, label: str, shown: int, total: int) -> None:
            if total == 0:
                note = Text("  none yet", style="dim")
            else:
                note = Text(f"  ({total:,}" + (f", showing {shown})" if total > shown else ")"), style="dim")
            self.query_one(widget_id, Static).update(Text.assemble((label, "bold"), note))

        contacts = self.query_one("#detail-contacts", DataTable)
        contacts.clear()
        for c in d.contacts:
            name = plain(c.get("name")) + (" ★" if c.get("is_primary") else "")
            contacts.add_row(name, plain(c.get("title")), plain(c.get("email")), plain(c.get("phone")),
                             plain(c.get("buying_role")), key=str(c["id"]))
        title("#contacts-title", "Contacts", len(d.contacts), d.contact_count)

        opps = self.query_one("#detail-opportunities", DataTable)
        opps.clear()
        prefix = f"{d.account['name']} – "
        for o in d.opportunities:
            name = plain(o.get("name"))
            if name.startswith(prefix) and len(name) > len(prefix):
                name = name[len(prefix):]  # the account is this screen's title already
            opps.add_row(name, plain(o.get("stage")),
                         money_text(o.get("amount_minor"), o.get("currency")),
                         right(f"{o.get('probability')}%" if o.get("probability") is not None else ""),
                         date_text(o.get("actual_close") or o.get("expected_close")), plain(o.get("owner")),
                         key=str(o["id"]))
        title("#opps-title", "Opportunities", len(d.opportunities), d.opportunity_count)

        acts = self.query_one("#detail-activities", DataTable)
        acts.clear()
        for act in d.activities:
            if act.get("completed_at"):
                due = Text("done " + date_text(act["completed_at"]), style="dim")
            elif act.get("due_at"):
                due = Text("due " + date_text(act["due_at"]), style="bold")
            else:
                due = Text("")
            acts.add_row(datetime_text(act.get("occurred_at")), plain(act.get("type")), plain(act.get("subject")),
                         plain(act.get("owner")), due, key=str(act["id"]))
        title("#activities-title", "Recent activity", len(d.activities), d.activity_count)
        for table in (contacts, opps, acts):
            table.set_class(table.row_count == 0, "-empty")

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self.notify(message.error, title="Could not load the account", severity="error", timeout=8)
        if message.missing:
            self.query_one("#detail-title", Static).update(Text(message.error, style="bold red"))

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.reload()

    def action_edit(self) -> None:
        from crm_tui.screens.account_form import AccountFormScreen
        from crm_tui.screens.accounts import AccountsScreen

        def saved(row: dict | None) -> None:
            if not row:
                return
            self.reload()
            for screen in self.app.screen_stack:
                if isinstance(screen, AccountsScreen):
                    screen.post_message(AccountsScreen.AccountSaved(row))

        self.app.push_screen(AccountFormScreen(self.account_id), saved)

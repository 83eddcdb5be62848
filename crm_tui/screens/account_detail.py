"""One account, everything about it on one screen.

Every field (e edits), its contacts as a reports-to tree with their buying roles
(enter opens one, n adds one, e edits the one under the cursor), its open
opportunities (enter opens the deal), and its timeline; c, m, w, n and f log a
call, meeting, email, note or follow-up against the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from crm_tui import formatting
from crm_tui.errors import NotFound
from crm_tui.screens.base import CRMScreenMixin, open_record
from crm_tui.text import visible
from crm_tui.widgets.cells import date_text, datetime_text, money_text, plain, right, safe_cell, status_text
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.log_activity import LogActivityKeys
from crm_tui.widgets.text_table import TextTable
from crm_tui.widgets.timeline import Timeline, read_items
from crm_tui.widgets.worker import run_db

RELATED_LIMIT = 50
# An empty deals list, by how many of the account's deals the user may read (services.sales.accounts.deals_seen).
NONE_SEEN = {"all": "none yet", "team": "none of your team's", "own": "none of yours", "none": "none you can see"}


@dataclass
class AccountDetails:
    account: dict
    contacts: list[tuple[int, dict]]  # (depth in the reports-to tree, contact), managers first
    opportunities: list[dict]  # open ones, soonest close first
    opportunity_count: int
    deals_seen: str = "all"  # how many of its deals the user may read: all, team, own, none


def load_account_details(session, account_id: int, actor=None) -> AccountDetails:
    """Everything the detail screen shows, read in one session (runs in a worker thread)."""
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES
    from crm_tui.services.sales import accounts, contacts, opportunities

    account = records.get_record(ENTITIES["account"], session=session, record_id=account_id, actor=actor)
    tree = contacts.reports_tree(session=session, account_id=account_id, actor=actor)
    open_deals = {"account": account_id, "open": "yes"}
    opps = records.list_records(opportunities.ENTITY, session=session, filters=open_deals, sort="expected_close",
                                limit=RELATED_LIMIT, actor=actor)
    total = len(opps) if len(opps) < RELATED_LIMIT else records.count_records(
        opportunities.ENTITY, session=session, filters=open_deals, actor=actor)
    seen = accounts.deals_seen(session=session, account_id=account_id, actor=actor) if total == 0 else "all"
    return AccountDetails(account, tree, opps, total, seen)


# The contacts table's columns: key, header, narrowest and widest width. The columns take their contents'
# width within these bounds; when the row is wider than the pane, the title gives way first and the
# e-mail last, and a cut value ends in "…" (an address cut short must not look like another address).
CONTACT_COLUMNS = (("name", "Name (reports to ↑)", 12, 28), ("title", "Title", 10, 24),
                   ("role", "Buying role", 11, 14), ("email", "Email", 16, 40), ("phone", "Phone", 10, 16))
GIVES_WAY = ("title", "role", "name", "phone", "email")


def fit_widths(room: int, natural: dict[str, int], least: dict[str, int]) -> dict[str, int]:
    """Column widths that fit ``room`` (cell padding excluded): each its natural width, the columns in
    GIVES_WAY order shrunk towards their least width while the row is too wide. When even the least
    widths do not fit (a narrow terminal), the natural ones: the table scrolls sideways, whole."""
    widths = dict(natural)
    if sum(min(natural[key], least[key]) for key in natural) > room:
        return widths
    over = sum(widths.values()) - room
    for key in GIVES_WAY:
        if over <= 0:
            break
        cut = min(over, max(0, widths[key] - least[key]))
        widths[key] -= cut
        over -= cut
    return widths


def _cut(value: str, width: int) -> str:
    return value if len(value) <= width else value[:max(0, width - 1)] + "…"


class ContactsTable(DataTable):
    """The account's contacts; its keys act on the contact under the cursor."""

    def on_resize(self) -> None:
        # Laid out (the first time, or the terminal resized): the columns fit the width it now has.
        screen = self.screen
        if isinstance(screen, AccountDetailScreen):
            screen.show_contacts()

    BINDINGS = [
        Binding("n", "screen.new_contact", "New contact", tooltip="Add a contact to this account"),
        Binding("e", "screen.edit_contact", "Edit contact", tooltip="Edit the contact under the cursor"),
    ]


class AccountDetailScreen(CRMScreenMixin, LogActivityKeys, Screen):
    """Shows one account; escape goes back to where it was opened from."""

    TITLE = "Account"
    PALETTE_GROUP = "Account"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {
        "back": "back to the list", "edit": "edit account", "refresh": "refresh",
        "new_contact": "add a contact", "edit_contact": "edit the contact under the cursor",
        "new_deal": "new deal for this account",
        **LogActivityKeys.LOG_PALETTE_NAMES,
    }

    BINDINGS = [
        Binding("escape", "back", "Back", id="account.back", tooltip="Back to the accounts list"),
        Binding("e", "edit", "Edit", id="account.edit", tooltip="Edit this account"),
        *LogActivityKeys.LOG_BINDINGS,
        Binding("a", "new_contact", "Add contact", id="account.new_contact", tooltip="Add a contact to this account"),
        # (n is "add a note" on every detail screen)
        Binding("d", "new_deal", "New deal", id="account.new_deal", tooltip="Add a deal for this account"),
        Binding("E", "edit_contact", "Edit contact", show=False, key_display="E", id="account.edit_contact",
                tooltip="Edit the contact under the cursor in the contacts list"),
        Binding("r", "refresh", "Refresh", show=False, id="account.refresh", tooltip="Load this account again"),
    ]

    @dataclass
    class Loaded(Message):
        details: AccountDetails
        timeline: list | None = None  # the first load's timeline items (None: the timeline loads them)

    def __init__(self, account_id: int) -> None:
        super().__init__()
        self.account_id = account_id
        self.details: AccountDetails | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="detail-title-row"):
            yield Static("Loading…", id="detail-title")
            yield Static("", id="detail-badge")
        # Laid out and drawn once, filled: until the account has loaded (a few ms) the screen shows its
        # title and keys only.
        body = Horizontal(id="detail-body")
        body.display = False
        with body:
            with VerticalScroll(id="detail-fields-pane"):
                yield Static("", id="detail-fields")
                yield Static("", id="detail-description")
            with Vertical(id="detail-related"):
                yield Static("Contacts", id="contacts-title", classes="section-title")
                contacts = ContactsTable(id="detail-contacts", cursor_type="row", zebra_stripes=True)
                for key, label, _least, _most in CONTACT_COLUMNS:
                    contacts.add_column(label, width=_most if key != "email" else 24, key=key)
                yield contacts
                yield Static("Open opportunities", id="opps-title", classes="section-title")
                opps = TextTable(id="detail-opportunities", cursor_type="row", zebra_stripes=True)
                opps.add_column("Name", width=30, key="name")
                opps.add_column("Stage", width=11, key="stage")
                opps.add_column(Text("Amount", justify="right"), width=16, key="amount")
                opps.add_column(Text("Prob.", justify="right"), width=5, key="probability")
                opps.add_column("Close", width=11, key="close")
                opps.add_column("Owner", width=8, key="owner")
                yield opps
                yield Timeline("account", self.account_id, id="detail-timeline", owner_loads=True)
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "loading…"
        self.reload()

    def reload(self) -> None:
        # Until the timeline is first shown, it is read with the account: one worker, one message, one
        # layout of the screen with everything in it.
        self._fetch(self.account_id, with_timeline=self.query_one(Timeline).owner_loads)

    def _fetch(self, account_id: int, with_timeline: bool = False) -> None:
        def fetch(new_session: Any) -> AccountDetailScreen.Loaded | None:
            actor = self.actor
            with new_session() as session:
                details = load_account_details(session, account_id, actor)
            items = read_items(new_session, "account", account_id, actor) if with_timeline else None
            return None if get_current_worker().is_cancelled else self.Loaded(details, items)

        run_db(self, fetch, group="account-detail", title="Could not load the account", failed=self._load_failed,
               session=False)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.details = d = message.details
        self.query_one("#detail-body").display = True
        self.query_one(Timeline).handed(message.timeline)
        a = d.account
        self.sub_title = a["name"]
        self.query_one("#detail-title", Static).update(Text(visible(a["name"], one_line=True), style="bold"))
        badge = status_text(a.get("status"))
        self.query_one("#detail-badge", Static).update(Text.assemble(" ", badge, " ") if badge else "")
        self.query_one("#detail-fields", Static).update(self._fields_table(a))
        description = a.get("description") or ""
        self.query_one("#detail-description", Static).update(
            Text.assemble(("Description\n", "bold"), visible(description)) if description else "")
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
        ]
        for label, value in rows:
            grid.add_row(label, safe_cell(value))
        return grid

    def _fill_related(self, d: AccountDetails) -> None:
        def title(widget_id: str, label: str, shown: int, total: int, empty: str, none: str = "none yet") -> None:
            if total == 0:
                note = Text(f"  {none}{empty}", style="dim")
            else:
                note = Text(f"  ({total:,}" + (f", showing {shown})" if total > shown else ")"), style="dim")
            self.query_one(widget_id, Static).update(Text.assemble((label, "bold"), note))

        self.show_contacts()  # (and again when the table is laid out: ContactsTable.on_resize)
        title("#contacts-title", "Contacts", len(d.contacts), len(d.contacts), " · a adds one")

        opps = self.query_one("#detail-opportunities", DataTable)
        opps.clear()
        for o in d.opportunities:
            # the account is this screen's title already: the deal's own name, money as in the lists
            opp_name = formatting.deal_name(plain(o.get("name")), d.account["name"])
            opps.add_row(opp_name, plain(o.get("stage")),
                         money_text(o.get("amount_minor"), o.get("currency"), compact=True),
                         right(f"{o.get('probability')}%" if o.get("probability") is not None else ""),
                         date_text(o.get("expected_close")), plain(o.get("owner")),
                         key=str(o["id"]))
        # Deals the user may not read are not "none yet": none of theirs (whether others have any, unsaid).
        title("#opps-title", "Open opportunities", len(d.opportunities), d.opportunity_count, "",
              NONE_SEEN.get(d.deals_seen, "none yet"))
        opps.set_class(opps.row_count == 0, "-empty")

    def show_contacts(self) -> None:
        """The contacts as a reports-to tree, each column as wide as the pane allows (CONTACT_COLUMNS)."""
        if self.details is None:
            return
        contacts = self.query_one("#detail-contacts", DataTable)
        rows = []
        for depth, c in self.details.contacts:
            name = ("  " * (depth - 1) + "└ " if depth else "") + (visible(plain(c.get("name")), one_line=True)
                                                                     or "(no name)")
            rows.append((str(c["id"]), bool(c.get("is_primary")), {
                "name": name + (" ★" if c.get("is_primary") else ""),
                "title": visible(plain(c.get("title")), one_line=True),
                "role": visible(plain(c.get("buying_role")), one_line=True),
                "email": visible(plain(c.get("email")), one_line=True),
                "phone": visible(plain(c.get("phone")), one_line=True)}))
        natural = {key: min(most, max([len(label)] + [len(r[2][key]) for r in rows]))
                   for key, label, _least, most in CONTACT_COLUMNS}
        least = {key: least for key, _label, least, _most in CONTACT_COLUMNS}
        room = contacts.size.width
        if room:
            scrollbar = contacts.styles.scrollbar_size_vertical if len(rows) + 1 > 10 else 0  # (max-height 10)
            room -= 2 * contacts.cell_padding * len(CONTACT_COLUMNS) + scrollbar
            widths = fit_widths(room, natural, least)
        else:
            widths = natural
        shown = (widths, rows)
        if shown == getattr(self, "_contacts_shown", None):
            return
        self._contacts_shown = shown
        cursor = contacts.coordinate_to_cell_key(contacts.cursor_coordinate).row_key.value \
            if contacts.row_count else None
        contacts.clear(columns=True)
        for key, label, _least, _most in CONTACT_COLUMNS:
            contacts.add_column(label, width=widths[key], key=key)
        for row_key, primary, cells in rows:
            name = _cut(cells["name"], widths["name"])
            tree = len(name) - len(name.lstrip(" └"))  # the reports-to indent, dim
            star = primary and name.endswith(" ★")
            text = Text(name[:tree], style="dim")
            text.append(name[tree:-2] if star else name[tree:])
            if star:
                text.append(" ★", style="yellow")
            contacts.add_row(text, Text(_cut(cells["title"], widths["title"])),
                             Text(_cut(cells["role"], widths["role"]), style="cyan"),
                             Text(_cut(cells["email"], widths["email"])), Text(_cut(cells["phone"], widths["phone"])),
                             key=row_key)
        if cursor is not None and cursor in contacts.rows:
            contacts.move_cursor(row=contacts.get_row_index(cursor), animate=False)
        contacts.set_class(contacts.row_count == 0, "-empty")

    def _load_failed(self, error: BaseException) -> None:
        """run_db has notified; a missing account also says so in the title."""
        self.query_one("#detail-body").display = True
        self.query_one(Timeline).handed(None)  # it was to come with the account: it loads on its own
        if isinstance(error, NotFound):
            self.query_one("#detail-title", Static).update(Text(visible(str(error)), style="bold red"))

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss(None)  # (not pop_screen: whoever opened it may refresh in its callback)

    def action_refresh(self) -> None:
        self.reload()
        self.query_one(Timeline).reload()

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

    def _contact_under_cursor(self) -> int | None:
        table = self.query_one("#detail-contacts", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_new_contact(self) -> None:
        from crm_tui.screens.contact_form import ContactFormScreen

        name = self.details.account["name"] if self.details else None
        self.app.push_screen(ContactFormScreen(account_id=self.account_id, account_name=name),
                             self._contact_saved)

    def action_edit_contact(self) -> None:
        from crm_tui.screens.contact_form import ContactFormScreen

        contact_id = self._contact_under_cursor()
        if contact_id is None:
            self.notify("This account has no contacts yet: press a to add one.", severity="warning")
            return
        self.app.push_screen(ContactFormScreen(contact_id), self._contact_saved)

    def action_new_deal(self) -> None:
        from crm_tui.screens.opportunity_form import OpportunityFormScreen

        name = self.details.account["name"] if self.details else None

        def saved(row: dict | None) -> None:
            if row:
                self.reload()  # the deal is among the account's open opportunities

        self.app.push_screen(OpportunityFormScreen(account_id=self.account_id, account_name=name), saved)

    def _contact_saved(self, row: dict | None) -> None:
        if row:
            self.reload()

    @on(DataTable.RowSelected, "#detail-contacts")
    def _open_contact(self, event: DataTable.RowSelected) -> None:
        open_record(self.app, "contact", int(event.row_key.value), lambda _=None: self.reload())

    @on(DataTable.RowSelected, "#detail-opportunities")
    def _open_opportunity(self, event: DataTable.RowSelected) -> None:
        open_record(self.app, "opportunity", int(event.row_key.value), lambda _=None: self.action_refresh())

    def activity_links(self) -> dict[str, int]:
        return {"account": self.account_id}

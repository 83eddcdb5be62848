"""Lead detail (every field, timeline), the lead form, status changes and conversion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.screens.contact_detail import fields_table
from crm_tui.screens.record_list import WorkerErrors
from crm_tui.services.fields import LEAD_FIELDS, LEAD_STATUSES
from crm_tui.text import visible
from crm_tui.widgets.cells import ControlPictures, safe
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.log_activity import LogActivityKeys
from crm_tui.widgets.picker import Picker
from crm_tui.widgets.timeline import Timeline, read_items
from crm_tui.widgets.worker import failure_text, run_db

if TYPE_CHECKING:
    from crm_tui.app import CRMApp

SETTABLE = tuple(s for s in LEAD_STATUSES if s != "converted")


# ---------------------------------------------------------------- status


def set_status(node: Widget, lead_id: int, status: str, after: Callable[[], None] | None = None) -> None:
    """Change a lead's status in a thread worker; notify; call ``after`` on success."""
    app = cast("CRMApp", node.app)
    user = app.user

    def run(s: Any) -> str:
        from crm_tui.services.sales.leads import get_lead, lead_label
        from crm_tui.services.sales.leads import set_status as service_set_status

        service_set_status(session=s, lead_id=lead_id, status=status, actor=user)
        return lead_label(get_lead(session=s, lead_id=lead_id, actor=app.actor))

    def done(label: str) -> None:
        app.notify(f"{visible(label, one_line=True)} is now {status}")
        if after:
            after()

    run_db(node, run, group="lead-status", done=done)


def change_status(node: Widget, lead_id: int, after: Callable[[], None] | None = None) -> None:
    def chosen(status: str | None) -> None:
        if status:
            set_status(node, lead_id, status, after)

    node.app.push_screen(StatusScreen(lead_id), chosen)


class StatusScreen(ModalScreen[str | None]):
    """Pick a status: arrows and Enter, or its number."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")] + [
        Binding(str(n), f"pick('{status}')", status, show=False) for n, status in enumerate(SETTABLE, start=1)
    ]

    def __init__(self, lead_id: int) -> None:
        super().__init__()
        self.lead_id = lead_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Change the lead's status", classes="dialog-title")
            yield OptionList(*[Option(f"{n}  {s}", id=s) for n, s in enumerate(SETTABLE, start=1)], id="status-list")

    @on(OptionList.OptionSelected, "#status-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, status: str) -> None:
        self.dismiss(status)


# ---------------------------------------------------------------- form


class LeadFormScreen(ModalScreen[int | None]):
    """Create (lead_id None) or edit a lead. Ctrl+S or Save writes; errors name the field."""

    if TYPE_CHECKING:
        @property
        def app(self) -> CRMApp: ...

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, lead_id: int | None, row: dict | None = None) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.row = row or {}
        self.batch_id: str | None = None  # an edit's change-log batch, for ctrl+z

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog lf-dialog"):
            yield Label("New lead" if self.lead_id is None else "Edit lead", classes="dialog-title")
            with VerticalScroll(classes="lf-fields"):
                for spec in LEAD_FIELDS.values():
                    value = self.row.get(spec.name)
                    if spec.kind == "user":
                        value = self.row.get("owner")
                    text = "" if value is None else (
                        value.astimezone().strftime("%Y-%m-%d %H:%M") if hasattr(value, "astimezone") else str(value))
                    with Horizontal(classes="lf-row"):
                        yield Label(spec.name.replace("_", " "), classes="lf-label")
                        if spec.kind == "user":
                            yield Picker("user", value=text, id=f"lead-{spec.name}",
                                         placeholder="you (enter to choose someone else)")
                        else:
                            yield Input(value=text, placeholder=spec.help, id=f"lead-{spec.name}",
                                        highlighter=ControlPictures())
            yield Label("", id="lf-error", classes="lf-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="form-save")
                yield Button("Cancel", id="form-cancel")

    def _data(self) -> dict:
        data = {}
        for spec in LEAD_FIELDS.values():
            widget = self.query_one(f"#lead-{spec.name}")
            value = widget.value if isinstance(widget, Picker) else cast(Input, widget).value.strip()
            if self.lead_id is None:
                if value:
                    data[spec.name] = value
            else:
                old = self.row.get("owner" if spec.kind == "user" else spec.name)
                old_text = "" if old is None else (
                    old.astimezone().strftime("%Y-%m-%d %H:%M") if hasattr(old, "astimezone") else str(old))
                if value != old_text:
                    data[spec.name] = value
        return data

    @on(Button.Pressed, "#form-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        data = self._data()
        if not data:
            self.dismiss(self.lead_id)
            return
        self._save(self.app.user, data, self.row.get("version"))

    def _save(self, user: str, data: dict, version: int | None) -> None:
        lead_id = self.lead_id

        def save(s: Any) -> tuple[dict, list]:
            from crm_tui.services import records
            from crm_tui.services.sales import leads

            if lead_id is None:
                return leads.create_lead(session=s, data=data, actor=user, viewer=self.app.actor)
            batch = records.new_batch_id()
            row = records.update_record(leads.ENTITY, session=s, record_id=lead_id, data=data, actor=self.app.actor,
                                        expected_version=version, batch_id=batch)
            if row["version"] != version:
                self.batch_id = batch  # read on the UI thread once saved: ctrl+z undoes the edit
            return row, []

        run_db(self, save, group="lead-form", done=self._saved, failed=self._error, notify_known=False)

    def _saved(self, result: tuple[dict, list]) -> None:
        row, dups = result
        if self.batch_id:
            self.app.remember_write(self.batch_id, f"edited lead {row.get('name') or ''}".rstrip())
        if dups:
            self.app.notify("\n".join(str(d) for d in dups), title="Saved; likely duplicates",
                            severity="warning", timeout=12)
        else:
            from crm_tui.services.sales.leads import lead_label

            self.app.notify(f"Saved {visible(lead_label(row), one_line=True)}")
        self.dismiss(row["id"])

    def _error(self, exc: BaseException) -> None:
        self.query_one("#lf-error", Label).update(safe(failure_text(exc)))
        field = getattr(exc, "field", None)
        if field and field in LEAD_FIELDS:
            self.query_one(f"#lead-{field}", Input).focus()

    @on(Button.Pressed, "#form-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------- conversion


class ConvertScreen(ModalScreen[Any]):
    """The conversion form, pre-filled from the lead; says whether an account is reused."""

    if TYPE_CHECKING:
        @property
        def app(self) -> CRMApp: ...

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "convert", "Convert")]

    @dataclass
    class Planned(Message):
        plan: Any

    def __init__(self, lead_id: int, version: int | None) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.version = version
        self.plan: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog lf-dialog"):
            yield Label("Convert the lead to an opportunity", classes="dialog-title", id="convert-title")
            yield Static("working out the account…", id="convert-account-note", classes="convert-note")
            for name, label, hint in (
                ("name", "opportunity", "Opportunity name"),
                ("amount", "amount", "e.g. 12500.00"),
                ("close_date", "close date", "YYYY-MM-DD or today+30d"),
                ("stage", "stage", "Qualified"),
                ("account", "account", "a new account (enter: match an existing one)"),
            ):
                with Horizontal(classes="lf-row"):
                    yield Label(label, classes="lf-label")
                    if name in ("stage", "account"):
                        yield Picker(name, id=f"convert-{name}", placeholder=hint, allow_blank=name == "account")
                    else:
                        yield Input(placeholder=hint, id=f"convert-{name}")
            yield Label("", id="convert-error", classes="lf-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Convert", variant="success", id="convert-go")
                yield Button("Cancel", id="convert-cancel")

    def on_mount(self) -> None:
        self._plan()

    def _plan(self) -> None:
        lead_id = self.lead_id

        def plan(s: Any) -> ConvertScreen.Planned:
            from crm_tui.services.sales.leads import plan_conversion

            return self.Planned(plan_conversion(session=s, lead_id=lead_id, actor=self.app.actor))

        # Without a plan there is nothing to convert: the dialog closes (the notification says why).
        run_db(self, plan, group="plan", failed=lambda _exc: self.dismiss(None))

    @on(Planned)
    def _fill(self, message: Planned) -> None:
        plan = message.plan
        self.query_one("#convert-name", Input).value = plan.opportunity_name
        self.query_one("#convert-amount", Input).value = plan.amount
        self.query_one("#convert-close_date", Input).value = plan.close_date.isoformat()
        self.plan = plan
        self.query_one("#convert-stage", Picker).set_value(plan.stage)
        self.query_one("#convert-account", Picker).set_value(str(plan.account_id or ""))
        if plan.contact_name:
            self.query_one("#convert-title", Label).update(f"Convert {plan.contact_name} to an opportunity")
        self._note(plan.account_name if plan.account_id else None, plan.account_reason)
        self.query_one("#convert-amount", Input).focus()

    def _note(self, existing: str | None, reason: str = "") -> None:
        plan = self.plan
        note = Text()
        if existing:
            note.append("Existing account will be used: ", style="bold yellow")
            note.append(f"{existing} ({reason})" if reason else existing)
        else:
            note.append("A new account will be created: ", style="bold green")
            note.append("from the lead's company" if plan.account_id else plan.account_name)
        note.append(f"\nContact: {plan.contact_name}")
        self.query_one("#convert-account-note", Static).update(note)

    @on(Picker.Changed, "#convert-account")
    def _account_chosen(self, event: Picker.Changed) -> None:
        if self.plan is not None:
            self._note(event.choice.label if event.choice else None, "chosen" if event.choice else "")

    @on(Button.Pressed, "#convert-go")
    @on(Input.Submitted)
    def action_convert(self) -> None:
        values = {name: self.query_one(f"#convert-{name}", Input).value.strip()
                  for name in ("name", "amount", "close_date")}
        values.update({name: self.query_one(f"#convert-{name}", Picker).value for name in ("stage", "account")})
        self.query_one("#convert-go", Button).disabled = True
        self._convert(self.app.user, values)

    def _convert(self, user: str, values: dict) -> None:
        lead_id, version = self.lead_id, self.version

        def convert(s: Any) -> Any:
            from crm_tui.services.sales.leads import convert_lead

            return convert_lead(session=s, lead_id=lead_id, actor=user, amount=values["amount"] or None,
                                close_date=values["close_date"] or None, stage=values["stage"] or None,
                                account_id=values["account"] or None, opportunity_name=values["name"] or None,
                                expected_version=version)

        run_db(self, convert, group="convert", done=self.dismiss, failed=self._error, notify_known=False)

    def _error(self, exc: BaseException) -> None:
        self.query_one("#convert-error", Label).update(safe(failure_text(exc)))
        self.query_one("#convert-go", Button).disabled = False

    @on(Button.Pressed, "#convert-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------- detail


class LeadDetailScreen(WorkerErrors, LogActivityKeys, Screen):
    TITLE = "Lead"
    PALETTE_GROUP = "Lead"
    # Under 110 columns the fields give up width so the timeline stays readable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (110, "-wide")]
    PALETTE_NAMES: ClassVar[dict[str, str]] = {
        **LogActivityKeys.LOG_PALETTE_NAMES, "back": "back to the list", "convert": "convert to opportunity",
        "edit": "edit",
        "status": "change status", "qualify": "qualify", "reassign": "reassign to another user",
        "open_converted('opportunity')": "open its opportunity", "open_converted('account')": "open its account",
        "open_converted('contact')": "open its contact",
    }

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the list"),
        Binding("v", "convert", "Convert", tooltip="Convert to an opportunity (with account and contact)"),
        Binding("e", "edit", "Edit", tooltip="Edit the lead's fields"),
        Binding("s", "status", "Status", tooltip="Change the status"),
        Binding("q", "qualify", "Qualify", tooltip="Mark the lead qualified"),
        Binding("g", "reassign", "Reassign", tooltip="Give the lead to another user (they are notified)"),
        *LogActivityKeys.LOG_BINDINGS,
        Binding("o", "open_converted('opportunity')", "Opportunity", show=False,
                tooltip="Open the opportunity the lead was converted into"),
        Binding("a", "open_converted('account')", "Account", show=False,
                tooltip="Open the account the lead was converted into"),
        Binding("k", "open_converted('contact')", "Contact", show=False,
                tooltip="Open the contact the lead was converted into"),
        Binding("r", "reload", "Reload", show=False, tooltip="Load the lead again"),
    ]

    @dataclass
    class Loaded(Message):
        row: dict
        timeline: list | None = None  # read with the lead until the timeline is first shown

    def __init__(self, lead_id: int) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.row: dict = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="detail-heading-row"):
            yield Label("Lead", id="lead-heading", classes="detail-heading")
            yield Button("Convert to opportunity", variant="success", id="lead-convert")
        with Horizontal(classes="detail-body"):
            with VerticalScroll(classes="detail-fields"):
                yield Static("loading…", id="lead-fields")
                yield Label("Converted into", classes="section-title", id="lead-converted-title")
                yield OptionList(id="lead-converted", classes="related-list")
            yield Timeline("lead", self.lead_id, id="lead-timeline", owner_loads=True)
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    def _load(self) -> None:
        lead_id = self.lead_id
        # Until the timeline is first shown, it is read with the lead: one worker, one message, one layout.
        with_timeline = self.query_one(Timeline).owner_loads

        def load(new_session: Any) -> LeadDetailScreen.Loaded:
            from crm_tui.services.engagement.changes import names_of
            from crm_tui.services.sales.leads import get_lead

            actor = self.app.actor
            with new_session() as s:
                row = get_lead(session=s, lead_id=lead_id, actor=actor)
                for kind in ("opportunity", "account", "contact"):  # what it became, by name
                    rid = row.get(f"converted_{kind}_id")
                    row[f"converted_{kind}_name"] = names_of(session=s, kind=kind, ids=[rid], actor=actor).get(rid) \
                        if rid else None
            return self.Loaded(row, read_items(new_session, "lead", lead_id, actor) if with_timeline else None)

        run_db(self, load, group="lead", session=False, failed=self._load_failed)

    def _load_failed(self, error: BaseException) -> None:
        """run_db has notified; the timeline, which was to come with the lead, loads on its own."""
        self.query_one(Timeline).handed(None)

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        from crm_tui.services.sales.leads import lead_label

        self.row = row = message.row
        self.query_one(Timeline).handed(message.timeline)
        self.query_one("#lead-heading", Label).update(Text.assemble(
            (visible(f"{lead_label(row)}  ", one_line=True), "bold"), (f"[{row['status']}]", "reverse")))
        self.query_one("#lead-fields", Static).update(
            fields_table(row, hidden={"id", "version", "name"}, label_width=16))
        converted = row["status"] == "converted"
        button = self.query_one("#lead-convert", Button)
        became = self._became()
        if converted and became:  # what it became, by name: the button opens it (never converts again)
            button.label = Text(visible(f"Open {became[2]}", one_line=True))
            button.tooltip = f"The lead was converted: open its {became[0]}"
            button.disabled = False
        else:
            button.label = "Converted" if converted else "Convert to opportunity"
            button.disabled = converted or row["status"] == "junk"
        links = self.query_one("#lead-converted", OptionList)
        links.clear_options()
        for entity, key, letter in (("opportunity", "converted_opportunity_id", "o"),
                                    ("account", "converted_account_id", "a"), ("contact", "converted_contact_id", "k")):
            if row.get(key):
                name = row.get(f"converted_{entity}_name") or "a record you cannot see"
                links.add_option(Option(Text.assemble((f"{letter} ", "bold"), f"{entity} ",
                                                      (visible(name, one_line=True), "bold")),
                                        id=f"{entity}-{row[key]}"))
        links.display = converted
        self.query_one("#lead-converted-title").display = converted
        self.refresh_bindings()  # a converted lead's footer offers no conversion

    def _became(self) -> tuple[str, int, str] | None:
        """What the lead was converted into that opens first (its opportunity, else its account or contact):
        (entity, id, name)."""
        for entity in ("opportunity", "account", "contact"):
            record_id = self.row.get(f"converted_{entity}_id")
            if record_id:
                return entity, record_id, self.row.get(f"converted_{entity}_name") or f"its {entity}"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "convert" and self.row.get("status") == "converted":
            return False  # a converted lead is not offered conversion: the button opens what it became
        return True

    def refresh_all(self) -> None:
        self.action_reload()
        self.query_one(Timeline).reload()

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss(None)  # (not pop_screen: the list that opened it refreshes in its callback)

    def action_edit(self) -> None:
        if self.row:
            self.app.push_screen(LeadFormScreen(self.lead_id, self.row), lambda lid: lid and self.refresh_all())

    def action_status(self) -> None:
        change_status(self, self.lead_id, self.refresh_all)

    def action_qualify(self) -> None:
        set_status(self, self.lead_id, "qualified", self.refresh_all)

    def action_reassign(self) -> None:
        from crm_tui.screens.reassign import reassign
        from crm_tui.services.sales.leads import lead_label

        reassign(self, "lead", self.lead_id, self.row.get("owner"), self.refresh_all,
                 name=lead_label(self.row) if self.row else None)

    @on(Button.Pressed, "#lead-convert")
    def action_convert(self) -> None:
        if self.row.get("status") == "converted":
            became = self._became()
            if became is None:
                self.notify("This lead was already converted.", severity="warning")
            else:
                self.action_open_converted(became[0])
            return

        def done(conv: Any) -> None:
            if conv is None:
                return
            self.notify("\n".join(line[:1].upper() + line[1:] for line in conv.story), title="Lead converted",
                        timeout=12)
            self.refresh_all()

        self.app.push_screen(ConvertScreen(self.lead_id, self.row.get("version")), done)

    @on(OptionList.OptionSelected, "#lead-converted")
    def _open_converted(self, event: OptionList.OptionSelected) -> None:
        from crm_tui.screens.base import open_record

        entity, _, rid = (event.option.id or "").partition("-")
        open_record(self.app, entity, int(rid), lambda _=None: self.refresh_all())

    def action_open_converted(self, entity: str) -> None:
        from crm_tui.screens.base import open_record

        record_id = self.row.get(f"converted_{entity}_id")
        if not record_id:
            self.notify("This lead has not been converted.", severity="warning")
            return
        open_record(self.app, entity, record_id, lambda _=None: self.refresh_all())

    def activity_links(self) -> dict[str, int]:
        return {"lead": self.lead_id}

    def activity_logged(self, row: dict) -> None:
        super().activity_logged(row)
        self.action_reload()  # a follow-up task is the lead's next follow-up: show the new date

    @on(Timeline.TaskDone)
    def _task_done(self, message: Timeline.TaskDone) -> None:
        self.action_reload()  # the next follow-up advanced to the next open task, or cleared

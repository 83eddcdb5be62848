"""One opportunity: every field editable, its field history and its timeline.

Saving sends only the fields that changed, guarded by the version the screen
loaded: if someone else changed the deal meanwhile, the save is refused with a
message and the screen reloads. A stage change goes through the same move as the
board (system activity, lost reason, probability rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, Select, Static

from crm_tui import formatting
from crm_tui.errors import Conflict
from crm_tui.lazy import LazyModule
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.services import fields
from crm_tui.widgets.cells import ControlPictures, esc
from crm_tui.widgets.confirm import ConfirmScreen
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.picker import Picker
from crm_tui.widgets.text_table import TextTable
from crm_tui.widgets.worker import run_db

if TYPE_CHECKING:
    from crm_tui.services.sales.pipeline import Detail

pipeline = LazyModule("crm_tui.services.sales.pipeline")

# form field -> the record column its current value comes from
FORM_FIELDS = (
    ("name", "name"), ("stage", "stage"), ("lost_reason", "lost_reason"), ("probability", "probability"),
    ("amount", "amount"), ("currency", "currency"), ("expected_close", "expected_close"),
    ("next_step", "next_step"), ("competitors", "competitors"), ("account", "account_id"),
    ("contact", "contact_id"), ("owner", "owner"), ("forecast_category", "forecast_category"),
    ("source", "source"), ("description", "description"),
)

# form fields chosen by name with a picker -> the kind of record
PICKERS = {"stage": "stage", "account": "account", "contact": "contact", "owner": "user"}


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class ActivityDialog(ModalScreen[dict | None]):
    """Log an activity or schedule a follow-up on this deal."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, follow_up: bool) -> None:
        super().__init__()
        self.follow_up = follow_up

    def compose(self) -> ComposeResult:
        with Vertical(id="activity-dialog"):
            yield Label("Schedule a follow-up" if self.follow_up else "Log an activity", id="activity-title")
            if not self.follow_up:
                yield Select([(t, t) for t in fields.ACTIVITY_TYPES if t != "system"], value="call",
                             allow_blank=False, id="activity-type")
            else:  # a task, a call or a meeting at a time, for so long: on the owner's day
                yield Select([("task", "task"), ("call", "call"), ("meeting", "meeting")], value="task",
                             allow_blank=False, id="activity-type")
            yield Input(placeholder="Subject", id="activity-subject")
            if self.follow_up:
                yield Input(placeholder="Due: YYYY-MM-DD HH:MM or tomorrow", value="tomorrow", id="activity-due")
                yield Input(placeholder="Duration in minutes (optional), e.g. 30", id="activity-duration",
                            restrict=r"[0-9]*", max_length=4)
            else:
                yield Input(placeholder="Details (optional)", id="activity-body")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="activity-save")
                yield Button("Cancel", id="activity-cancel")

    @on(Button.Pressed, "#activity-save")
    @on(Input.Submitted)
    def save(self) -> None:
        data = {"subject": self.query_one("#activity-subject", Input).value}
        if self.follow_up:
            data["type"] = str(self.query_one("#activity-type", Select).value)
            data["due"] = self.query_one("#activity-due", Input).value
            duration = self.query_one("#activity-duration", Input).value.strip()
            if duration:
                data["duration"] = duration
        else:
            data["type"] = str(self.query_one("#activity-type", Select).value)
            body = self.query_one("#activity-body", Input).value
            if body:
                data["body"] = body
        self.dismiss(data)

    @on(Button.Pressed, "#activity-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class RoleDialog(ModalScreen[dict | None]):
    """Add a contact to the buying group with a role (or '-' to remove)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, account_id: int | None = None) -> None:
        super().__init__()
        self.account_id = account_id  # the deal's account: its people are offered

    def compose(self) -> ComposeResult:
        with Vertical(id="role-dialog"):
            yield Label("Contact role", id="role-title")
            yield Picker("contact", account_id=self.account_id, id="role-contact",
                         placeholder="choose a contact (enter, or type a name)")
            yield Input(placeholder=f"Role: {', '.join(fields.BUYING_ROLES)} ('-' removes)", id="role-role")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="role-save")
                yield Button("Cancel", id="role-cancel")

    @on(Button.Pressed, "#role-save")
    @on(Input.Submitted)
    def save(self) -> None:
        contact = self.query_one("#role-contact", Picker).value
        if not contact:
            self.notify("Choose a contact first.", severity="warning")
            self.query_one("#role-contact", Picker).focus()
            return
        self.dismiss({"contact": contact, "role": self.query_one("#role-role", Input).value})

    @on(Button.Pressed, "#role-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class OpportunityDetailScreen(CRMScreenMixin, Screen[bool]):
    TITLE = "Opportunity"
    PALETTE_GROUP = "Opportunity"
    # Under 110 columns the form gives up width so the history and the timeline stay readable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape", "back", "Back", id="opportunity.back"),
        Binding("ctrl+s", "save", "Save", id="opportunity.save"),
        Binding("ctrl+l", "log_activity", "Log activity", id="opportunity.log"),
        # ctrl+f is the app's search here too (F1-F12, ctrl+f, ctrl+p, ctrl+q are reserved app-wide).
        Binding("ctrl+y", "follow_up", "Follow-up", id="opportunity.follow_up",
                tooltip="Schedule a follow-up task with a due date"),
        Binding("ctrl+o", "contact_role", "Contact role", id="opportunity.role"),
        Binding("ctrl+n", "new_proposal", "Proposal", id="opportunity.proposal",
                tooltip="New proposal for this opportunity (from a template), opened in the editor"),
        Binding("ctrl+g", "reassign", "Reassign", id="opportunity.reassign",
                tooltip="Give the deal to another user (they are notified)"),
    ]

    @dataclass
    class Loaded(Message):
        detail: Detail
        choices: dict = field(default_factory=dict)  # picker field -> its Choice, read with the record

    @dataclass
    class Saved(Message):
        message: str
        batch_id: str | None = None  # the change log's batch of a save (ctrl+z undoes it)
        what: str = ""

    def __init__(self, opportunity_id: int, *, engine=None, user: str | None = None) -> None:
        super().__init__()
        self.opportunity_id = opportunity_id
        self._engine = engine
        self._user = user
        self.detail = None
        self.original: dict[str, str] = {}
        self.changed = False

    @property
    def engine(self):
        return self._engine if self._engine is not None else self.app.engine

    @property
    def user(self) -> str:
        return self._user or self.app.user

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Opportunity", id="opp-title")
        # The form and its side panels are laid out and drawn once, filled: until the deal has loaded
        # (a few ms) the screen shows its title and keys only, not sixty empty widgets drawn for nothing.
        body = Horizontal(id="opp-body")
        body.display = False
        with body:
            with VerticalScroll(id="opp-form"):
                for name, _ in FORM_FIELDS:
                    spec = fields.OPPORTUNITY_FIELDS[name]
                    yield Label(name.replace("_", " "), classes="field-label")
                    if name in PICKERS:
                        yield Picker(PICKERS[name], id=f"field-{name}", tooltip=spec.help,
                                     allow_blank=name not in ("stage", "owner"))
                    elif name == "forecast_category":
                        yield Select([(c, c) for c in fields.FORECAST_CATEGORIES], id="field-forecast_category",
                                     allow_blank=True)
                    else:
                        # Born "-valid", the class its first value adds (no validators: always valid), so
                        # that filling the form does not restyle each input once more.
                        yield Input(id=f"field-{name}", placeholder=spec.help, highlighter=ControlPictures(),
                                    classes="-valid")
                yield Button("Save (ctrl+s)", variant="primary", id="opp-save")
            with Vertical(id="opp-side"):
                yield Label("Field history", classes="section")
                yield TextTable(id="opp-history", cursor_type="row")
                yield Label("Buying group (ctrl+o)", classes="section")
                yield TextTable(id="opp-roles", cursor_type="row")
                yield Label("Timeline (ctrl+l log · ctrl+y follow-up)", classes="section")
                yield TextTable(id="opp-timeline", cursor_type="row")
        yield FitFooter(compact=True)

    def on_mount(self) -> None:
        h = self.query_one("#opp-history", DataTable)
        h.add_columns("When", "Who", "Change")
        r = self.query_one("#opp-roles", DataTable)
        r.add_columns("Name", "Title", "Role")
        t = self.query_one("#opp-timeline", DataTable)
        # The subject last: a narrow panel cuts it, never a date.
        t.add_columns("When", "Type", "Due", "Done", "Subject")
        self.load()

    def load(self) -> None:
        opportunity_id, reasons = self.opportunity_id, self.settings.lost_reasons

        def load(s: Any) -> OpportunityDetailScreen.Loaded:
            from crm_tui.services.pick import choice_for

            actor = self.actor
            detail = pipeline.opportunity_detail(session=s, opportunity_id=opportunity_id, reasons=reasons,
                                                 actor=actor)
            # The pickers' names, read here rather than by four look-ups of their own (four more
            # workers, and the screen laid out once more when they land).
            columns = dict(FORM_FIELDS)
            choices = {name: choice_for(session=s, kind=kind, key=_text(detail.record.get(columns[name])),
                                        actor=actor) for name, kind in PICKERS.items()}
            return self.Loaded(detail, choices)

        run_db(self, load, group="opportunity-load", title="Opportunity", failed=self._load_failed)

    def _load_failed(self, error: BaseException) -> None:
        """run_db has notified; the (empty) form shows, as it always did."""
        self.query_one("#opp-body").display = True

    def on_opportunity_detail_screen_loaded(self, message: Loaded) -> None:
        d = message.detail
        self.detail = d
        rec = d.record
        self.query_one("#opp-body").display = True
        self.query_one("#opp-title", Static).update(
            f"[b]{esc(formatting.deal_name(rec['name'], rec.get('account')))}[/b]  ·  "
            f"{formatting.money(rec['amount_minor'], rec['currency'], compact=True)}  ·  "
            f"{esc(rec['stage'])}  ·  {esc(rec.get('account') or 'no account')}")  # the account once, by its name
        self.query_one("#field-contact", Picker).account_id = rec.get("account_id")
        self.original = {}
        for name, column in FORM_FIELDS:
            value = _text(rec.get(column))
            if name == "probability" and not rec.get("probability_manual"):
                value = _text(rec.get(column))
            self.original[name] = value
            widget = self.query_one(f"#field-{name}")
            if isinstance(widget, Picker):
                if name in message.choices:
                    widget.set_looked_up(value, message.choices[name])
                else:
                    widget.set_value(value)
            elif isinstance(widget, Select):
                if value:
                    widget.value = value
                else:
                    widget.clear()
            else:
                cast(Input, widget).value = value
        hist = self.query_one("#opp-history", DataTable)
        hist.clear()
        for h in d.history:
            hist.add_row(formatting.moment(h["changed_at"]), h["actor"], h.get("sentence") or h["what"])
        roles = self.query_one("#opp-roles", DataTable)
        roles.clear()
        for r in d.contact_roles:
            roles.add_row(r["name"], r["title"] or "", r["role"] or "")
        tl = self.query_one("#opp-timeline", DataTable)
        tl.clear()
        for a in d.activities:
            tl.add_row(formatting.moment(a["occurred_at"]), a["type"],
                       formatting.moment(a["due_at"]),
                       "yes" if a["completed_at"] else "", a["subject"])

    @on(Picker.Changed, "#field-account")
    def _account_changed(self, event: Picker.Changed) -> None:
        """The primary contact is chosen among the new account's people."""
        self.query_one("#field-contact", Picker).account_id = event.picker.record_id

    def _form_values(self) -> dict[str, str]:
        values = {}
        for name, _ in FORM_FIELDS:
            widget = self.query_one(f"#field-{name}")
            if isinstance(widget, Picker):
                values[name] = widget.value
            elif isinstance(widget, Select):
                values[name] = "" if widget.is_blank() else str(widget.value)
            else:
                values[name] = cast(Input, widget).value.strip()
        return values

    @on(Button.Pressed, "#opp-save")
    def action_save(self) -> None:
        if self.detail is None:
            return
        changed = {k: v for k, v in self._form_values().items() if v != self.original.get(k, "")}
        if not changed:
            self.notify("nothing changed")
            return
        version = self.detail.record["version"]
        stage = changed.get("stage", "")
        closing = _closing_word(self.detail, stage) if stage else None
        if closing is None:
            self.save(changed, version)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.save(changed, version)

        name = self.detail.record.get("name") or "this deal"
        self.app.push_screen(ConfirmScreen(f"Mark “{name}” as {closing} ({stage})?", yes=f"Mark {closing}",
                                           no="Cancel", detail="This closes the deal and sets its close date."),
                             answered)

    def save(self, changed: dict, version: int) -> None:
        opportunity_id, detail = self.opportunity_id, self.detail
        reasons = self.settings.lost_reasons
        lost_reason = self.original.get("lost_reason")

        def save(s: Any) -> OpportunityDetailScreen.Saved:
            from crm_tui.services import records
            from crm_tui.services.sales.opportunities import ENTITY

            data = dict(changed)
            stage = data.pop("stage", None)
            current = version
            batch = records.new_batch_id()  # the move and the edits: one batch, one ctrl+z
            if stage:
                reason = data.pop("lost_reason", None) or lost_reason or None
                move = pipeline.move_opportunity(session=s, opportunity_id=opportunity_id, stage=stage,
                                                 reason=reason if _is_lost(detail, stage) else None,
                                                 actor=self.actor, expected_version=current, reasons=reasons,
                                                 batch_id=batch)
                current = move.version
            if data:
                row = records.update_record(ENTITY, session=s, record_id=opportunity_id, data=data,
                                            actor=self.actor, expected_version=current, batch_id=batch)
                current = row["version"]
            name = (detail.record.get("name") if detail else None) or f"opportunity {opportunity_id}"
            what = f"moved {name} to {stage}" if stage and not data else f"edited {name} ({', '.join(changed)})"
            return self.Saved(f"saved {', '.join(changed)}", batch if current != version else None, what)

        run_db(self, save, group="opportunity-save", title="Not saved", failed=self._save_failed)

    def _save_failed(self, error: BaseException) -> None:
        """run_db has notified; after a conflict the latest version is loaded."""
        if isinstance(error, Conflict):
            self.load()

    def on_opportunity_detail_screen_saved(self, message: Saved) -> None:
        self.crm.remember_write(message.batch_id, message.what)
        self.changed = True
        self.notify(message.message, timeout=2)
        self.load()

    def action_log_activity(self) -> None:
        self.app.push_screen(ActivityDialog(follow_up=False), self._add_activity)

    def action_follow_up(self) -> None:
        self.app.push_screen(ActivityDialog(follow_up=True), self._add_activity)

    def _add_activity(self, data: dict | None) -> None:
        if data:
            self.add_activity(data)

    def add_activity(self, data: dict) -> None:
        data = {**data, "opp": self.opportunity_id}
        if self.detail and self.detail.record.get("account_id"):
            data["account"] = self.detail.record["account_id"]
        user = self.user

        def add(s: Any) -> OpportunityDetailScreen.Saved:
            from crm_tui.services import records
            from crm_tui.services.engagement import activities

            records.create_record(activities.ENTITY, session=s, data=data, actor=user)
            return self.Saved(f"{data['type']} added to the timeline")

        run_db(self, add, group="opportunity-activity", title="Not saved")

    def action_contact_role(self) -> None:
        account_id = self.detail.record.get("account_id") if self.detail else None
        self.app.push_screen(RoleDialog(account_id), self._set_role)

    def _set_role(self, data: dict | None) -> None:
        if data:
            self.set_role(data)

    def set_role(self, data: dict) -> None:
        opportunity_id, user = self.opportunity_id, self.user

        def set_role(s: Any) -> OpportunityDetailScreen.Saved:
            pipeline.set_contact_role(session=s, opportunity_id=opportunity_id, contact_id=data["contact"],
                                      role=data["role"] or None, actor=user)
            return self.Saved("buying group updated")

        run_db(self, set_role, group="opportunity-role", title="Not saved")

    def action_reassign(self) -> None:
        from crm_tui.screens.reassign import reassign

        record = self.detail.record if self.detail is not None else {}
        reassign(self, "opportunity", self.opportunity_id, record.get("owner"), self.load, name=record.get("name"))

    def action_new_proposal(self) -> None:
        from crm_tui.screens.proposals import open_new_proposal

        open_new_proposal(self, self.opportunity_id)

    def action_back(self) -> None:
        self.dismiss(self.changed)


def _is_lost(detail, stage: str) -> bool:
    return stage.strip().lower() in {n.lower() for n in detail.lost_stages}


def _closing_word(detail, stage: str) -> str | None:
    """"won" or "lost" when ``stage`` closes the deal (asked before saving), else None."""
    if _is_lost(detail, stage):
        return "lost"
    if stage.strip().lower() in {n.lower() for n in detail.won_stages}:
        return "won"
    return None

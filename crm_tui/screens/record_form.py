"""A record form: add a record or edit one, every field of its entity, guarded by the record's version.

Subclasses name the entity and its fields (``AccountFormScreen``, ``ContactFormScreen``); an invalid
value is shown under its field, with the service's own message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from crm_tui.errors import Conflict, CRMError, NotFound, ValidationError, for_people
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.text import visible
from crm_tui.widgets.cells import ControlPictures
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.picker import Picker
from crm_tui.widgets.text_table import PicturedTextArea
from crm_tui.widgets.worker import failure_text, run_db


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass
class FieldError:
    field: str
    value: Any
    reason: str
    message: str


# references chosen by name with a picker (crm_tui/widgets/picker.py), never typed as ids
PICKED = frozenset({"account", "contact"})


class RecordFormScreen(CRMScreenMixin, ModalScreen[dict | None]):
    """Modal form over every field in ``SPECS`` (the entity's field specs).

    Dismisses with the saved row (a dict), or None when cancelled. An edit
    sends only the fields that changed, with ``expected_version`` = the version
    loaded, so a change made meanwhile by someone else is reported as a
    conflict instead of being overwritten.
    """

    ENTITY: ClassVar[str] = ""  # the services' entity name
    SPECS: ClassVar[dict[str, Any]] = {}
    LABELS: ClassVar[dict[str, str]] = {}
    PLACEHOLDERS: ClassVar[dict[str, str]] = {}
    WIDE: ClassVar[frozenset[str]] = frozenset()  # fields that take both columns
    OPTIONAL_CHOICES: ClassVar[frozenset[str]] = frozenset()  # choices that may stay empty ("none")
    TEXT_AREAS: ClassVar[frozenset[str]] = frozenset()  # long text: a TextArea, not an Input
    SUGGESTIONS: ClassVar[dict[str, tuple[str, ...]]] = {}  # field -> values the Input suggests
    FIRST_FIELD: ClassVar[str] = "name"

    PALETTE_NAMES = {"save": "save", "cancel": "cancel", "reload": "discard my edits and load the latest"}

    BINDINGS = [
        # Not a priority binding: keys typed just before ctrl+s reach their field first.
        Binding("ctrl+s", "save", "Save", id="form.save", tooltip="Save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without saving"),
        Binding("ctrl+r", "reload", "Reload", id="form.reload", show=False,
                tooltip="Discard your edits and load the latest version"),
    ]

    @dataclass
    class Loaded(Message):
        row: dict

    @dataclass
    class Saved(Message):
        row: dict
        created: bool
        existing: Any = None  # another record with the same account name or contact e-mail (duplicates.Existing)
        batch_id: str | None = None  # an edit's change-log batch (ctrl+z undoes it); None when nothing changed

    @dataclass
    class Invalid(Message):
        errors: list[FieldError] = field(default_factory=list)

    @dataclass
    class Failed(Message):
        error: str
        conflict: bool = False
        missing: bool = False

    def __init__(self, record_id: int | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.original: dict[str, str] = {}
        self.version: int | None = None
        self.saving = False

    @property
    def is_new(self) -> bool:
        return self.record_id is None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="form-dialog"):
            title = f"New {self.ENTITY}" if self.is_new else f"Edit {self.ENTITY}"
            yield Static(Text(title, style="bold"), id="form-title")
            yield Static("", id="form-banner")
            with VerticalScroll(id="form-body"):
                with Grid(id="form-grid"):
                    for name, spec in self.SPECS.items():
                        wide = " -wide" if name in self.WIDE else ""
                        with Vertical(classes=f"form-field{wide}", id=f"field-{name}"):
                            required = " *" if spec.required else ""
                            yield Label(f"{self.field_label(name)}{required}", classes="form-label")
                            yield self._input_for(name)
                            yield Static("", classes="form-error", id=f"error-{name}")
            with Horizontal(id="form-buttons"):
                yield Button("Save", variant="primary", id="form-save")
                yield Button("Cancel", id="form-cancel")
                yield Static("tab / shift+tab move between fields", id="form-hint")
        yield FitFooter(compact=True)

    def field_label(self, name: str) -> str:
        spec = self.SPECS[name]
        return spec.label or self.LABELS.get(name) or name.replace("_", " ").capitalize()

    def _input_for(self, name: str) -> Widget:
        spec = self.SPECS[name]
        widget_id = f"input-{name}"
        if spec.kind == "choice":
            if name in self.OPTIONAL_CHOICES:
                return Select([(c, c) for c in spec.choices], prompt="none", id=widget_id, tooltip=spec.help,
                              compact=True)
            return Select([(c, c) for c in spec.choices], value=spec.choices[0], allow_blank=False,
                          id=widget_id, tooltip=spec.help, compact=True)
        if spec.kind == "bool":
            return Select([("no", "no"), ("yes", "yes")], value="no", allow_blank=False, id=widget_id,
                          tooltip=spec.help, compact=True)
        if spec.kind == "user" or (spec.kind == "ref" and spec.ref in PICKED):
            kind = "user" if spec.kind == "user" else spec.ref
            placeholder = "you (enter to choose someone else)" if kind == "user" else ""
            return Picker(kind, id=widget_id, tooltip=spec.help, placeholder=placeholder, compact=True)
        if name in self.TEXT_AREAS:
            return PicturedTextArea(id=widget_id, tooltip=spec.help, soft_wrap=True, compact=True)
        placeholder = self.PLACEHOLDERS.get(name, spec.help)
        if spec.kind == "user":
            placeholder = f"username (default: {self.user})"
        suggestions = self.SUGGESTIONS.get(name)
        suggester = SuggestFromList(suggestions, case_sensitive=False) if suggestions else None
        restrict = r"[0-9,]*" if spec.kind == "int" else None
        return Input(placeholder=placeholder, id=widget_id, tooltip=spec.help, suggester=suggester,
                     restrict=restrict, max_length=spec.max_len or 0, compact=True, highlighter=ControlPictures())

    def on_mount(self) -> None:
        self._banner()
        if self.is_new:
            self.query_one(f"#input-{self.FIRST_FIELD}").focus()
        else:
            self._set_enabled(False)
            self._banner("Loading…")
            self._load(self.record_id)

    def _set_enabled(self, enabled: bool) -> None:
        for name in self.SPECS:
            self.query_one(f"#input-{name}").disabled = not enabled
        self.query_one("#form-save", Button).disabled = not enabled

    # ------------------------------------------------------------ values

    def _get(self, name: str) -> str:
        widget = self.query_one(f"#input-{name}")
        if isinstance(widget, Select):
            return "" if widget.is_blank() else as_text(widget.value)
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Picker):
            return widget.value
        assert isinstance(widget, Input)
        return widget.value

    def _set(self, name: str, value: str) -> None:
        widget = self.query_one(f"#input-{name}")
        if isinstance(widget, Select):
            if value:
                widget.value = value
            elif widget._allow_blank:
                widget.clear()
            else:
                widget.value = self.SPECS[name].choices[0]
        elif isinstance(widget, TextArea):
            widget.text = value
        elif isinstance(widget, Picker):
            widget.set_value(value)
        else:
            assert isinstance(widget, Input)
            widget.value = value
            widget.cursor_position = 0

    def field_text(self, name: str, row: dict) -> str:
        """A field's value in ``row`` as the form shows it: a reference as its id, yes/no for a flag."""
        spec = self.SPECS[name]
        if spec.kind == "ref":
            return as_text(row.get(spec.col))
        if spec.kind == "bool":
            return "yes" if row.get(name) else "no"
        return as_text(row.get(name))

    def values(self) -> dict[str, str]:
        return {name: self._get(name) for name in self.SPECS}

    def changes(self) -> dict[str, str]:
        """For a new record: every field given. For an edit: only the fields changed."""
        current = self.values()
        if self.is_new:
            data = {k: v for k, v in current.items() if v.strip()}
            if data.get("owner", "").strip().lower() == self.user.lower():
                data.pop("owner")  # "me": the service assigns (and if needed creates) the current user
            return data
        return {k: v for k, v in current.items() if v != self.original.get(k, "")}

    # ------------------------------------------------------------ loading

    def _load(self, record_id: int) -> None:
        entity_name = self.ENTITY

        def load(session: Any) -> RecordFormScreen.Loaded:
            from crm_tui.services import records
            from crm_tui.services.registry import ENTITIES

            return self.Loaded(records.get_record(ENTITIES[entity_name], session=session, record_id=record_id))

        run_db(self, load, group="record-form", failed=self._job_failed, notify_known=False)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        row = message.row
        self.version = row["version"]
        self.original = {name: self.field_text(name, row) for name in self.SPECS}
        for name, value in self.original.items():
            self._set(name, value)
        self.query_one("#form-title", Static).update(
            Text.assemble(("Edit ", "bold"), (visible(row["name"], one_line=True), "bold")))
        self._clear_errors()
        self._set_enabled(True)
        self.query_one(f"#input-{self.FIRST_FIELD}").focus()

    # ------------------------------------------------------------ saving

    def action_save(self) -> None:
        if self.saving or self.query_one("#form-save", Button).disabled:
            return
        data = self.changes()
        if not self.is_new and not data:
            self.notify("Nothing changed.", severity="information")
            self.dismiss(None)
            return
        self.saving = True
        self.query_one("#form-save", Button).loading = True
        self._save(self.record_id, data, self.version)

    def _save(self, record_id: int | None, data: dict[str, str], version: int | None) -> None:
        entity_name, user = self.ENTITY, self.user

        def save(session: Any) -> RecordFormScreen.Saved:
            from crm_tui.services import records
            from crm_tui.services.registry import ENTITIES
            from crm_tui.services.sales.duplicates import existing_same

            entity = ENTITIES[entity_name]
            batch = None
            if record_id is None:
                row = records.create_record(entity, session=session, data=data, actor=user)
            else:
                batch = records.new_batch_id()
                row = records.update_record(entity, session=session, record_id=record_id, data=data, actor=self.app.actor,
                                            expected_version=version, batch_id=batch)
                if row["version"] == version:
                    batch = None  # nothing changed: nothing logged
            existing = existing_same(session=session, entity=entity_name, values=row, exclude_id=row["id"],
                                     actor=self.actor) if record_id is None else None
            return self.Saved(row, created=record_id is None, existing=existing, batch_id=batch)

        run_db(self, save, group="record-form", failed=self._job_failed, notify_known=False)

    def _job_failed(self, exc: BaseException) -> None:
        """Loading or saving failed: fields marked, or the reason in the banner; the edits stay."""
        if isinstance(exc, ValidationError):
            self._invalid(self.Invalid([FieldError(e.field, e.value, e.reason, str(e)) for e in exc.errors]))
        elif isinstance(exc, CRMError):
            self._failed(self.Failed(for_people(exc), conflict=isinstance(exc, Conflict), missing=isinstance(exc, NotFound)))
        else:  # not a user error: run_db has notified; the form and its edits stay
            self._done_saving()
            self._banner(Text(visible(failure_text(exc)), style="bold"), error=True)

    def _done_saving(self) -> None:
        self.saving = False
        self.query_one("#form-save", Button).loading = False

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._done_saving()
        row = message.row
        verb = "Added" if message.created else "Saved"
        name = visible(row.get("name") or "", one_line=True)
        self.notify(f"{verb} {name}." if name else f"{verb}.", title=f"{self.ENTITY.capitalize()} saved")
        if message.existing is not None:
            self.crm.offer_record(message.existing)
        remember = getattr(self.app, "remember_write", None)  # ctrl+z undoes the edit
        if remember is not None:
            remember(message.batch_id, f"edited {self.ENTITY} {row.get('name') or ''}".rstrip())
        self.dismiss(row)

    @on(Invalid)
    def _invalid(self, message: Invalid) -> None:
        self._done_saving()
        self._clear_errors()
        unplaced = []
        first: str | None = None
        for err in message.errors:
            if err.field in self.SPECS:
                self.query_one(f"#error-{err.field}", Static).update(err.message)
                self.query_one(f"#field-{err.field}").add_class("-invalid")
                first = first or err.field
            else:
                unplaced.append(err.message)
        count = len(message.errors)
        summary = f"Not saved: {count} field{'s' if count != 1 else ''} to fix."
        banner = "\n".join([summary, *unplaced])
        self._banner(Text(banner, style="bold"), error=True)
        self.notify("\n".join(e.message for e in message.errors), title=summary, severity="error", timeout=8)
        if first:
            widget = self.query_one(f"#input-{first}")
            widget.focus()
            self.query_one("#form-body", VerticalScroll).scroll_to_widget(widget, animate=False)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._done_saving()
        if message.conflict:
            self._banner(Text.assemble(("Not saved — ", "bold"), message.error,
                                       "\nYour edits are still here. Press ctrl+r to discard them and load "
                                       "the latest version, or escape to close."), error=True)
            self.notify(message.error, title="Changed by someone else", severity="error", timeout=10)
        else:
            self._banner(Text(message.error, style="bold"), error=True)
            self.notify(message.error, title="Not saved" if self.version or self.is_new else "Could not load",
                        severity="error", timeout=8)

    def _banner(self, text: str | Text = "", *, error: bool = False) -> None:
        banner = self.query_one("#form-banner", Static)
        banner.update(text)
        banner.set_class(error, "-error")
        banner.display = bool(text)
        self._banner_lines = (str(text).count("\n") + 2) if text else 0  # its lines and its margin
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Let the fields scroll, so the title, messages and buttons always fit on screen."""
        # footer 1, dialog border 2 and bottom padding 1, title 3, buttons 3, a little air 2
        chrome = 12 + getattr(self, "_banner_lines", 0)
        self.query_one("#form-body").styles.max_height = max(4, self.size.height - chrome)

    def _clear_errors(self) -> None:
        for name in self.SPECS:
            self.query_one(f"#error-{name}", Static).update("")
            self.query_one(f"#field-{name}").remove_class("-invalid")
        self._banner()

    # ------------------------------------------------------------ actions

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        if self.is_new:
            return
        self._set_enabled(False)
        self._clear_errors()
        self._banner("Loading the latest version…")
        self._load(self.record_id)

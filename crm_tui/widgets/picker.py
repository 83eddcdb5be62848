"""A field that holds a record but shows its name: ``Picker`` (account, contact, owner, stage).

The field shows the chosen record's name and a dim second line that tells two of the same name
apart (an account's city, a contact's company and e-mail). Enter, a click, or typing a letter opens
``PickerDialog``: search as you type (debounced, a few rows at a time, in a thread worker, as the
acting user sees the records), ↓/↑ to move, Enter to choose, Escape to keep what was there.
Delete clears an optional field.

``value`` is what a form sends for the choice (``pick.Choice.key``: the record's id, a user's
username, a stage's name); ``record_id`` the chosen record's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.text import visible
from crm_tui.widgets.worker import run_db

if TYPE_CHECKING:
    from crm_tui.services.pick import Choice

NOUNS = {"account": "an account", "contact": "a contact", "user": "an owner", "stage": "a stage",
         "opportunity": "a deal"}
DEBOUNCE = 0.15  # seconds after the last key before the search runs
ROWS = 20


def _choice_text(choice: Choice) -> Text:
    text = Text(visible(choice.label, one_line=True) or "—", style="bold")
    if choice.detail:
        text.append("\n" + visible(choice.detail, one_line=True), style="dim")
    return text


class PickerDialog(ModalScreen["Choice | None"]):
    """Search for a record of ``kind`` by name; dismisses with the chosen ``Choice`` or None."""

    DEFAULT_CSS = """
    PickerDialog { align: center middle; }
    PickerDialog > #picker-dialog {
        width: 64; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    PickerDialog #picker-results { height: auto; max-height: 16; border: none; }
    PickerDialog #picker-hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close and keep what was there"),
        Binding("down", "down", "Next", show=False),
        Binding("up", "up", "Previous", show=False),
    ]

    @dataclass
    class Results(Message):
        text: str
        choices: list

    def __init__(self, kind: str, *, text: str = "", account_id: int | None = None, engine: Any = None,
                 title: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.initial = text
        self.account_id = account_id
        self._engine = engine
        self.title_text = title or f"Choose {NOUNS.get(kind, kind)}"
        self.choices: list[Choice] = []
        self._timer: Timer | None = None
        self._shown_for: str | None = None
        self._submit_for: str | None = None  # Enter came before the list for this text: choose when it lands

    @property
    def engine(self) -> Any:
        return self._engine if self._engine is not None else self.app.engine  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Label(Text(self.title_text, style="bold"), id="picker-title")
            yield Input(value=self.initial, placeholder="type a few letters of the name", id="picker-search")
            yield OptionList(id="picker-results")
            yield Static("↓↑ move · enter choose · esc cancel", id="picker-hint")

    def on_mount(self) -> None:
        search = self.query_one("#picker-search", Input)
        search.focus()
        search.cursor_position = len(self.initial)
        self._search(self.initial)

    @on(Input.Changed, "#picker-search")
    def _changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        self._timer = self.set_timer(DEBOUNCE, lambda: self._search(text))

    def _search(self, text: str) -> None:
        kind, account_id = self.kind, self.account_id

        def search(s: Any) -> PickerDialog.Results:
            from crm_tui.services.pick import search_choices

            return self.Results(text, search_choices(session=s, kind=kind, text=text, account_id=account_id,
                                                     limit=ROWS, actor=self.app.actor))  # type: ignore[attr-defined]

        run_db(self, search, group="picker-search", title="Search")

    @on(Results)
    def _show(self, message: Results) -> None:
        if message.text != self.query_one("#picker-search", Input).value:
            return  # a slower answer to an older text
        self.choices = message.choices
        self._shown_for = message.text
        results = self.query_one("#picker-results", OptionList)
        results.clear_options()
        if not self.choices:
            results.add_option(Option(Text("nothing matches", style="dim"), disabled=True))
            return
        results.add_options([Option(_choice_text(c), id=f"choice-{n}") for n, c in enumerate(self.choices)])
        results.highlighted = 0
        if self._submit_for == message.text:
            self._choose(0)

    def action_down(self) -> None:
        self.query_one("#picker-results", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#picker-results", OptionList).action_cursor_up()

    @on(Input.Submitted, "#picker-search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._shown_for != event.value:  # the list is not for this text yet: search now, then choose
            if self._timer is not None:
                self._timer.stop()
            self._submit_for = event.value
            self._search(event.value)
            return
        self._choose(self.query_one("#picker-results", OptionList).highlighted)

    @on(OptionList.OptionSelected, "#picker-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)

    def _choose(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self.choices):
            self.dismiss(self.choices[index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class Picker(Widget, can_focus=True):
    """A form field holding a record of ``kind``, shown by name; see the module's docstring."""

    DEFAULT_CSS = """
    Picker {
        height: 3; width: 1fr;
        border: tall $border-blurred; background: $surface; padding: 0 1;
    }
    Picker:focus { border: tall $border; background-tint: $foreground 5%; }
    Picker.-compact { height: 1; border: none; background: $boost; }
    Picker.-compact:focus { background: $accent 30%; }
    Picker.-empty { color: $text-muted; }
    Picker:disabled { opacity: 0.6; }
    """

    BINDINGS = [
        Binding("enter", "open", "Choose", tooltip="Search by name and choose"),
        Binding("delete", "clear", "Clear", show=False, tooltip="Clear the field"),
    ]

    @dataclass
    class Changed(Message):
        picker: Picker
        value: str
        choice: Choice | None

        @property
        def control(self) -> Picker:
            return self.picker

    @dataclass
    class Resolved(Message):
        picker: Picker
        key: str
        choice: Choice | None

    def __init__(self, kind: str, *, value: str = "", account_id: int | None = None, placeholder: str = "",
                 allow_blank: bool = True, id: str | None = None, classes: str | None = None,
                 tooltip: str | None = None, disabled: bool = False, compact: bool = False) -> None:
        super().__init__(id=id, classes=classes, disabled=disabled)
        self.set_class(compact, "-compact")
        self.kind = kind
        self.account_id = account_id
        self.placeholder = placeholder or f"choose {NOUNS.get(kind, kind)} (enter)"
        self.allow_blank = allow_blank
        self.choice: Choice | None = None
        self._value = ""
        self._looked_up: str | None = None  # the last key looked up (a key not found shows as such)
        if tooltip:
            self.tooltip = tooltip
        if value:
            self.set_value(value)

    @property
    def engine(self) -> Any:
        return getattr(self.screen, "engine", None) or self.app.engine  # type: ignore[attr-defined]

    @property
    def value(self) -> str:
        return self._value

    @value.setter
    def value(self, key: str) -> None:
        self.set_value(key)

    @property
    def record_id(self) -> int | None:
        return self.choice.id if self.choice is not None else None

    def render(self) -> Text:
        if self.choice is not None:
            text = Text(visible(self.choice.label, one_line=True))
            if self.choice.detail:
                text.append("  " + visible(self.choice.detail, one_line=True), style="dim")
            return text
        if self._value and self._looked_up == self._value:
            return Text(f"{visible(self._value, one_line=True)}  (not found)", style="red")
        if self._value:
            return Text("…", style="dim")  # being looked up
        return Text(self.placeholder, style="dim italic")

    # ------------------------------------------------------------ setting

    def set_choice(self, choice: Choice | None, *, announce: bool = True) -> None:
        before = self._value
        self.choice = choice
        self._value = choice.key if choice is not None else ""
        self.set_class(choice is None, "-empty")
        self.refresh(layout=True)
        if announce and self._value != before:
            self.post_message(self.Changed(self, self._value, choice))

    def set_value(self, key: Any) -> None:
        """Hold ``key`` (an id, a username, a stage name), its name read in a worker; no Changed."""
        text = "" if key is None else str(key).strip()
        self._value = text
        if not text:
            self.choice = None
            self.set_class(True, "-empty")
            self.refresh(layout=True)
            return
        if self.choice is not None and self.choice.key == text:
            return
        self.choice = None
        if self.is_mounted:
            self._resolve(text)

    def set_looked_up(self, key: Any, choice: Choice | None) -> None:
        """Hold ``key`` with its choice read already (``pick.choice_for`` in the caller's worker, with the
        record the form shows): no look-up of its own, no Changed. None shows the key as not found."""
        text = "" if key is None else str(key).strip()
        if not text:
            self.set_value("")
            return
        self._value = self._looked_up = text
        self.choice = choice
        self.set_class(choice is None, "-empty")
        self.refresh(layout=True)

    def on_mount(self) -> None:
        self.set_class(not self._value, "-empty")
        if self._value and self.choice is None:
            self._resolve(self._value)

    def _resolve(self, key: str) -> None:
        kind = self.kind

        def resolve(s: Any) -> Picker.Resolved:
            from crm_tui.services.pick import choice_for

            return self.Resolved(self, key, choice_for(session=s, kind=kind, key=key,
                                                      actor=self.app.actor))  # type: ignore[attr-defined]

        run_db(self, resolve, group="picker-resolve", title="Look-up", exclusive=False)

    @on(Resolved)
    def _resolved(self, message: Resolved) -> None:
        message.stop()
        if message.key != self._value:
            return  # the field moved on meanwhile
        self._looked_up = message.key
        self.choice = message.choice
        self.set_class(message.choice is None, "-empty")
        self.refresh(layout=True)

    # ------------------------------------------------------------ choosing

    def action_open(self, text: str = "") -> None:
        if self.disabled:
            return

        def chosen(choice: Choice | None) -> None:
            if choice is not None:
                self.set_choice(choice)
            self.focus()

        self.app.push_screen(PickerDialog(self.kind, text=text, account_id=self.account_id, engine=self.engine),
                             chosen)

    def action_clear(self) -> None:
        if self.allow_blank and self._value:
            self.set_choice(None)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.focus()
        self.action_open()

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and event.character.strip():
            event.stop()
            event.prevent_default()
            self.action_open(event.character)
        elif event.key == "backspace" and self.allow_blank and self._value:
            event.stop()
            self.action_clear()

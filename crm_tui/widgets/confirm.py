"""A Yes/No question before an action that cannot be taken back (send, won, lost, delete).

``ConfirmScreen(question, yes="Send")`` dismisses with True only on an explicit yes (the
button, or ``y``); No, ``n`` and escape dismiss with False, and the caller does nothing.
The focus starts on No, so a stray enter never confirms.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmScreen(ModalScreen[bool]):
    """Asks ``question``; True only when the user says yes."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #confirm-dialog {
        width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmScreen #confirm-question { width: 100%; text-style: bold; margin-bottom: 1; }
    ConfirmScreen #confirm-detail { width: 100%; color: $text-muted; margin-bottom: 1; }
    ConfirmScreen #confirm-buttons { height: auto; }
    ConfirmScreen #confirm-buttons Button { width: 1fr; margin-right: 1; }
    """

    BINDINGS = [
        Binding("escape", "answer(False)", "No", tooltip="Cancel: nothing changes"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y", "answer(True)", "Yes", tooltip="Go ahead"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No", detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.question, id="confirm-question", markup=False)
            if self.detail:
                yield Label(self.detail, id="confirm-detail", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes_label} (y)", variant="warning", id="confirm-yes")
                yield Button(f"{self.no_label} (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

"""A filter box that waits for the user to pause typing before it asks for a query."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from crm_tui.filter_text import looks_like_expression, split_filter

__all__ = ["FilterBar", "FilterMessage", "filter_error_text", "looks_like_expression", "split_filter"]


class FilterMessage(Static):
    """The line under a filter box that says why an expression cannot be used (hidden when empty)."""

    DEFAULT_CSS = """
    FilterMessage {
        display: none;
        height: auto;
        max-height: 6;
        padding: 0 2;
        color: $text-error;
    }
    FilterMessage.-shown {
        display: block;
    }
    """

    def show(self, message: str) -> None:
        self.update(message)
        self.set_class(bool(message), "-shown")

    def clear(self) -> None:
        self.show("")

    @property
    def message(self) -> str:
        return str(self.content) if self.has_class("-shown") else ""


def filter_error_text(error: Exception) -> str:
    """A filter error for the line under the box: the message, then the text with a caret under the token."""
    pointer = getattr(error, "pointer", None)
    text = str(error)
    if callable(pointer) and getattr(error, "position", 0):
        text += "\n" + pointer()
    return text


class FilterBar(Input):
    """An Input that posts ``FilterBar.Applied`` once typing pauses (debounced).

    Each keystroke restarts a short timer, so typing "acme" runs one query, not
    four; ``Applied`` messages still waiting in the queue are collapsed into the
    newest one. Enter applies at once; escape clears the text (or, when already
    empty, posts ``Applied`` with ``leave=True`` so the screen can move focus on).
    """

    DEFAULT_CSS = """
    FilterBar {
        width: 1fr;
    }
    """

    BINDINGS = [
        Binding("escape", "clear_or_leave", "Clear", tooltip="Clear the filter; again to go back to the list"),
    ]

    DEBOUNCE_SECONDS = 0.15  # (as the pickers): typing at a normal pace still runs one query

    @dataclass
    class Applied(Message):
        """The filter text to use now."""

        filter_bar: "FilterBar"
        value: str
        leave: bool = False  # the user asked to go back to the list

        @property
        def search(self) -> str:
            """Plain text to search for ("" when the text is a filter expression)."""
            return split_filter(self.value)[0]

        @property
        def where(self) -> str:
            """The filter expression ("" when the text is plain search text)."""
            return split_filter(self.value)[1]

        @property
        def control(self) -> "FilterBar":
            return self.filter_bar

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, FilterBar.Applied) and message.filter_bar is self.filter_bar

    def __init__(self, *args, debounce: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._debounce = self.DEBOUNCE_SECONDS if debounce is None else debounce
        self._timer: Timer | None = None

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _apply(self, leave: bool = False) -> None:
        self._stop_timer()
        self.post_message(self.Applied(self, self.value.strip(), leave))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input is not self:
            return
        event.stop()
        self._stop_timer()
        self._timer = self.set_timer(self._debounce, self._apply)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input is not self:
            return
        event.stop()
        self._apply(leave=True)

    def action_clear_or_leave(self) -> None:
        if self.value:
            self.value = ""
            self._apply()
        else:
            self._apply(leave=True)

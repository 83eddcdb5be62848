"""Reassign a lead or a deal: pick an active user by name; the service checks the assign right,
records the change and notifies the new owner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from crm_tui.text import visible
from crm_tui.widgets.worker import run_db

WORDS = {"lead": "lead", "opportunity": "deal"}


class UserPickerScreen(ModalScreen[str | None]):
    """Pick a user by name (arrows and Enter, or type to jump); the username, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, users: list[dict], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.users = users
        self.current = (current or "").lower()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(visible(self.title_text, one_line=True), classes="dialog-title")
            options = []
            for user in self.users:
                label = visible(user["name"], one_line=True)
                if user["name"] != user["username"]:
                    label += f"  ({visible(user['username'], one_line=True)})"
                if user["username"].lower() == self.current:
                    label += "  · owner now"
                options.append(Option(label, id=f"user-{user['username']}"))
            yield OptionList(*options, id="user-picker")

    @on(OptionList.OptionSelected, "#user-picker")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss((event.option.id or "user-")[5:] or None)


def reassign(node: Widget, entity: str, record_id: int, current_owner: str | None,
             after: Callable[[], Any] | None = None, *, name: str | None = None) -> None:
    """Offer the active users; give the record (``name``: how the user knows it) to the one picked
    (in a worker), then ``after()``."""
    app: Any = node.app

    def load(s: Any) -> list[dict]:
        from crm_tui.services.assignment import assignable_users

        return assignable_users(session=s)

    def loaded(users: list[dict]) -> None:
        def chosen(username: str | None) -> None:
            if username:
                _assign(node, entity, record_id, username, after, name)

        what = f"{WORDS.get(entity, entity)} {name}" if name else f"this {WORDS.get(entity, entity)}"
        app.push_screen(UserPickerScreen(f"Give {what} to…", users,
                                         current_owner), chosen)

    run_db(node, load, group="reassign-users", done=loaded)


def _assign(node: Widget, entity: str, record_id: int, username: str, after: Callable[[], Any] | None,
            name: str | None = None) -> None:
    app: Any = node.app

    def run(s: Any) -> dict:
        from crm_tui.services.assignment import assign

        return assign(session=s, entity=entity, record_id=record_id, to_user=username, actor=app.actor)

    def done(row: dict) -> None:
        label = name or row.get("name")
        what = f"{WORDS.get(entity, entity).capitalize()} {label}" if label else f"The {WORDS.get(entity, entity)}"
        app.notify(visible(f"{what} is now {row.get('owner')}'s; they were notified.", one_line=True))
        if after is not None:
            after()

    run_db(node, run, group="reassign", done=done, title="Reassign")

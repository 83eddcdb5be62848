"""My profile: the acting user's own name and e-mail (crm_tui/services/onboarding.py), which every
user may change; role and team are an admin's (the Admin screen)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from crm_tui.widgets.worker import run_db


class ProfileDialog(ModalScreen[bool]):
    """Edit my name and e-mail; dismisses with True when saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save my name and e-mail"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving"),
    ]

    DEFAULT_CSS = """
    ProfileDialog { align: center middle; }
    ProfileDialog > #profile-dialog { width: 64; max-width: 100%; height: auto; }
    """

    @property
    def actor(self) -> Any:
        """The acting user (read it in the worker: the app resolves it once the database is open)."""
        return self.app.actor  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        with Vertical(id="profile-dialog", classes="dialog"):
            yield Label(f"My profile ({getattr(self.app, 'user', '')})", classes="dialog-title", markup=False)
            yield Input(placeholder="my full name", id="profile-name", disabled=True)
            yield Input(placeholder="my e-mail, e.g. jessica@example.com", id="profile-email", disabled=True)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="profile-save")
                yield Button("Cancel", id="profile-cancel")

    def on_mount(self) -> None:
        def load(s: Any) -> dict:
            from crm_tui.services.onboarding import my_profile

            return my_profile(session=s, actor=self.actor)

        run_db(self, load, group="profile-load", done=self._loaded, title="Profile")

    def _loaded(self, profile: dict) -> None:
        for field in ("name", "email"):
            box = self.query_one(f"#profile-{field}", Input)
            box.value = profile[field] or ""
            box.disabled = False
        self.query_one("#profile-email", Input).focus()

    @on(Button.Pressed, "#profile-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        name = self.query_one("#profile-name", Input).value
        email = self.query_one("#profile-email", Input).value

        def save(s: Any) -> bool:
            from crm_tui.services.onboarding import update_my_profile

            update_my_profile(session=s, actor=self.actor, name=name, email=email)
            return True

        def saved(_: bool) -> None:
            self.notify("Saved your profile.")
            self.dismiss(True)

        run_db(self, save, group="profile-save", done=saved, title="Profile")

    @on(Button.Pressed, "#profile-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

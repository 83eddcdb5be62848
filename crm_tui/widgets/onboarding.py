"""The onboarding checklist on the Dashboard: a new user's first steps, each done or not (computed
from the data by crm_tui/services/onboarding.py), Enter opening the screen where it is done.

Hidden until loaded, and for good once every step is done. It loads again whenever its screen
comes back (after a step was done elsewhere).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from crm_tui.widgets.worker import run_db

# Where Enter on a step goes: an area of the app (a mode), or "profile" (my profile form).
OPENS = {"email": "profile", "activity": "accounts", "lead": "leads", "deal": "pipeline", "stage": "pipeline"}


class OnboardingChecklist(Vertical):
    """Getting started: the acting user's onboarding steps."""

    DEFAULT_CSS = """
    OnboardingChecklist { height: auto; border: round $success; padding: 0 1; display: none; }
    OnboardingChecklist.-shown { display: block; }
    OnboardingChecklist #onboarding-title { text-style: bold; }
    OnboardingChecklist OptionList { height: auto; max-height: 7; border: none; padding: 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.checklist: Any = None

    def compose(self) -> ComposeResult:
        yield Label("Getting started", id="onboarding-title")
        yield OptionList(id="onboarding-steps")

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(self, self._screen_changed)
        self.reload()

    def _screen_changed(self, screen: Any) -> None:
        if screen is self.screen:
            self.reload()

    def reload(self) -> None:
        def load(s: Any) -> Any:
            from crm_tui.services.onboarding import checklist

            return checklist(session=s, actor=self.app.actor)  # type: ignore[attr-defined]

        run_db(self, load, group="onboarding", done=self._show)

    def _show(self, checklist: Any) -> None:
        self.checklist = checklist
        self.set_class(not checklist.complete, "-shown")
        if checklist.complete:
            return
        self.query_one("#onboarding-title", Label).update(
            f"Getting started: {checklist.done_count} of {len(checklist.steps)} done (enter opens where)")
        steps = self.query_one("#onboarding-steps", OptionList)
        steps.clear_options()
        for step in checklist.steps:
            text = Text("✔ " if step.done else "☐ ", style="green" if step.done else "yellow")
            text.append(step.label, style="dim" if step.done else "bold")
            if not step.done:
                text.append(f"  · {step.where}", style="dim")
            steps.add_option(Option(text, id=f"onboarding-{step.key}"))
        # The next step to do, each time the list is shown (on a short terminal the only one in view).
        steps.highlighted = next((i for i, step in enumerate(checklist.steps) if not step.done), 0)

    @property
    def steps(self) -> dict[str, bool]:
        """{step key: done} as shown (empty until loaded)."""
        return {s.key: s.done for s in self.checklist.steps} if self.checklist is not None else {}

    @on(OptionList.OptionSelected, "#onboarding-steps")
    def _open(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open_step((event.option.id or "").removeprefix("onboarding-"))

    def open_step(self, key: str) -> None:
        """Open the screen where step ``key`` is done."""
        target = OPENS.get(key)
        if target is None:
            return
        if target == "profile":
            from crm_tui.widgets.profile import ProfileDialog

            self.app.push_screen(ProfileDialog(), lambda saved: self.reload() if saved else None)
        else:
            self.app.switch_mode(target)

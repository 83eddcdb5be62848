"""Log a call, meeting, email or note, or schedule a follow-up, in two or three keystrokes.

``LogActivityKeys`` gives a detail screen the keys: c call, m meeting, w email,
n note, f follow-up. Each opens ``LogActivityScreen`` with the subject focused;
Enter saves. The screen says which record(s) the activity belongs to via
``activity_links()`` and is told through ``activity_logged()``. Enter or ctrl+s saves.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

if TYPE_CHECKING:
    from crm_tui.app import CRMApp
from crm_tui.widgets.cells import safe
from crm_tui.widgets.worker import failure_text, run_db

LABELS = {"call": "Log a call", "meeting": "Log a meeting", "email": "Log an email", "note": "Add a note",
          "task": "Schedule a follow-up"}
# What a scheduled follow-up is: it goes on the owner's day (the Dashboard's "My day") at its time.
SCHEDULED_TYPES = (("Task", "task"), ("Call", "call"), ("Meeting", "meeting"))


class LogActivityScreen(ModalScreen[dict | None]):
    """Subject (and details, and for a task the due date-time); Enter or ctrl+s saves, Escape cancels."""

    if TYPE_CHECKING:
        @property
        def app(self) -> CRMApp: ...

    DEFAULT_CSS = """
    LogActivityScreen {
        align: center middle;
    }
    LogActivityScreen > Vertical {
        width: 72;
        height: auto;
        padding: 1 2;
        border: thick $accent;
        background: $surface;
    }
    LogActivityScreen Label.title {
        text-style: bold;
        margin-bottom: 1;
    }
    LogActivityScreen Label.error {
        color: $error;
        height: auto;
    }
    LogActivityScreen Horizontal {
        height: auto;
        margin-top: 1;
    }
    LogActivityScreen #log-when { margin-top: 0; }
    LogActivityScreen #log-type { width: 14; }
    LogActivityScreen #log-due { width: 1fr; }
    LogActivityScreen #log-duration { width: 12; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save", tooltip="Save (as Enter)")]

    def __init__(self, kind: str, links: dict[str, int], *, subject: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.links = links
        self.subject = subject

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(LABELS.get(self.kind, "Log an activity"), classes="title")
            yield Input(value=self.subject, placeholder="Subject, e.g. 'Talked budget with Ana'", id="log-subject")
            yield Input(placeholder="Details (optional)", id="log-body")
            if self.kind == "task":
                tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
                with Horizontal(id="log-when"):
                    yield Select(SCHEDULED_TYPES, value="task", allow_blank=False, id="log-type", compact=True,
                                 tooltip="A task, a call or a meeting")
                    yield Input(value=f"{tomorrow} 09:00", placeholder="Due: YYYY-MM-DD HH:MM, tomorrow 10:00",
                                id="log-due")
                    yield Input(placeholder="minutes", id="log-duration", restrict=r"[0-9]*", max_length=4,
                                tooltip="How long, in minutes (optional), e.g. 30")
            yield Label("", classes="error", id="log-error")
            with Horizontal():
                yield Button("Save", variant="primary", id="log-save")
                yield Button("Cancel", id="log-cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#log-save")
    def save(self) -> None:
        subject = self.query_one("#log-subject", Input).value.strip()
        if not subject:
            self.query_one("#log-error", Label).update("subject: is required")
            self.query_one("#log-subject", Input).focus()
            return
        body = self.query_one("#log-body", Input).value.strip() or None
        due = self.query_one("#log-due", Input).value.strip() if self.kind == "task" else None
        kind, duration = self.kind, None
        if self.kind == "task":
            kind = str(self.query_one("#log-type", Select).value)
            duration = self.query_one("#log-duration", Input).value.strip() or None
        self._save(self.app.user, subject, body, due, kind, duration)

    def action_save(self) -> None:
        """ctrl+s saves, as in every other form."""
        self.save()

    def _save(self, user: str, subject: str, body: str | None, due: str | None, kind: str | None = None,
              duration: str | None = None) -> None:
        kind, links = kind or self.kind, self.links

        def save(s: Any) -> dict:
            from crm_tui.services.engagement.activities import log_activity

            return log_activity(session=s, actor=user, type=kind, subject=subject, body=body, due=due, links=links,
                                duration=duration)

        run_db(self, save, group="log-activity", done=self.dismiss, failed=self._show_error, notify_known=False)

    def _show_error(self, exc: BaseException) -> None:
        self.query_one("#log-error", Label).update(safe(failure_text(exc)))

    @on(Button.Pressed, "#log-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class LogActivityKeys:
    """Mixed into a detail Screen: the keys and the flow. The screen defines
    ``activity_links() -> dict`` and may override ``activity_logged(row)``."""

    LOG_BINDINGS = [
        Binding("c", "log('call')", "Call", tooltip="Log a call"),
        Binding("m", "log('meeting')", "Meeting", tooltip="Log a meeting"),
        Binding("w", "log('email')", "Email", tooltip="Log an email you wrote or got"),
        Binding("n", "log('note')", "Note", tooltip="Add a note"),
        Binding("f", "log('task')", "Follow-up", tooltip="Schedule a follow-up task with a due date and time"),
    ]
    LOG_PALETTE_NAMES = {"log('call')": "log a call", "log('meeting')": "log a meeting",
                         "log('email')": "log an email", "log('note')": "add a note",
                         "log('task')": "schedule a follow-up"}

    def activity_links(self) -> dict[str, int]:  # pragma: no cover - screens override
        return {}

    def activity_logged(self, row: dict) -> None:
        from crm_tui.widgets.timeline import Timeline

        for timeline in self.query(Timeline):  # type: ignore[attr-defined]
            timeline.reload()

    def action_log(self, kind: str) -> None:
        links = self.activity_links()
        if not links:
            return

        def done(row: dict | None) -> None:
            if row:
                what = "follow-up scheduled" if kind == "task" else f"{kind} logged"
                self.notify(f"{what}: {row['subject']}")  # type: ignore[attr-defined]
                self.activity_logged(row)

        self.app.push_screen(LogActivityScreen(kind, links), done)  # type: ignore[attr-defined]

"""My day: today's calls, meetings and tasks with their times, in time order, on the Dashboard.

"09:30 Call — Ana Ruiz (Acme)". It loads itself (``reload()``) in a thread worker; enter on a line says
``MyDay.Selected`` with the record it opens (the deal, the lead, the contact or the account), for the
screen to open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from crm_tui.text import visible
from crm_tui.widgets.worker import run_db


class MyDay(Vertical):
    """Today's appointments of the acting user."""

    DEFAULT_CSS = """
    MyDay { height: 100%; }
    MyDay > Label { text-style: bold; }
    MyDay > OptionList { height: 1fr; border: none; padding: 0; }
    """

    @dataclass
    class Loaded(Message):
        appointments: list

    @dataclass
    class Selected(Message):
        """Enter on an appointment: open ``target`` (entity, id)."""

        target: tuple[str, int]

    def compose(self) -> ComposeResult:
        yield Label("My day …", id="my-day-title")
        yield OptionList(id="my-day-list")

    def on_mount(self) -> None:
        self.targets: dict[str, tuple[str, int]] = {}
        self.reload()

    def reload(self) -> None:
        def load(s: Any) -> MyDay.Loaded:
            from crm_tui.services.engagement.my_day import my_day

            return self.Loaded(my_day(session=s, actor=self.app.actor))  # type: ignore[attr-defined]

        run_db(self, load, group="my-day")

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        message.stop()
        widget = self.query_one("#my-day-list", OptionList)
        widget.clear_options()
        self.targets = {}
        for appointment in message.appointments:
            option_id = f"appointment-{appointment.id}"
            text = Text(visible(appointment.line(), one_line=True))
            text.stylize("bold yellow", 0, 5)
            if appointment.duration_minutes:
                text.append(f" · {appointment.duration_minutes} min", style="dim")
            if appointment.who:
                text.append(f" · {visible(appointment.subject, one_line=True)}", style="dim")
            if appointment.target:
                self.targets[option_id] = appointment.target
            widget.add_option(Option(text, id=option_id))
        count = len(message.appointments)
        self.query_one("#my-day-title", Label).update(f"My day: calls, meetings and tasks today ({count})")
        if not count:
            widget.add_option(Option(Text("nothing scheduled today", style="dim"), disabled=True))

    @on(OptionList.OptionSelected, "#my-day-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        target = self.targets.get(event.option.id or "")
        if target is not None:
            self.post_message(self.Selected(target))

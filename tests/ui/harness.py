"""A stand-in app shell for the Leads, Contacts and Today screens until ``crm_tui.app`` lands.

Run it by hand: ``PYTHONPATH=tests/ui python -m harness /tmp/i3.db``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

import crm_tui
from crm_tui.screens.contacts import ContactsScreen
from crm_tui.screens.leads import LeadsScreen


class HarnessApp(App[None]):
    CSS_PATH = str(Path(crm_tui.__file__).parent / "app.tcss")
    MODES = {"leads": LeadsScreen, "contacts": ContactsScreen}
    DEFAULT_MODE = "leads"
    BINDINGS = [
        Binding("f4", "switch_mode('leads')", "Leads"),
        Binding("f5", "switch_mode('contacts')", "Contacts"),
        Binding("f6", "today", "Today"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, *, engine: Any, user: str) -> None:
        super().__init__()
        self.engine = engine
        self.user = user

    def action_today(self) -> None:
        from crm_tui.screens.today import TodayScreen

        self.push_screen(TodayScreen())


if __name__ == "__main__":  # pragma: no cover - manual use
    from crm_tui.locations import current_username, database_url
    from crm_tui.store.db import open_engine

    HarnessApp(engine=open_engine(database_url(sys.argv[1] if len(sys.argv) > 1 else None)),
               user=current_username()).run()

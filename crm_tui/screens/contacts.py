"""The Contacts area: every contact, searchable and sorted, paged; Enter opens one."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding

from crm_tui.screens.record_list import RecordListScreen


class ContactsScreen(RecordListScreen):
    ENTITY = "contact"
    PLURAL = "contacts"
    COLUMNS = ("id", "name", "account", "title", "buying_role", "email", "phone", "owner")
    PALETTE_GROUP = "Contacts"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"mine": "my contacts"}

    BINDINGS = [
        Binding("2", "mine", "Mine", tooltip="Only contacts I own (again: everyone's)"),
    ]

    def action_mine(self) -> None:
        if self.query_state.filters.get("owner"):
            self.query_state.filters.pop("owner")
        else:
            self.query_state.filters["owner"] = "me"
        self.reload()

    def open_record(self, record_id: int) -> None:
        from crm_tui.screens.record_detail import RecordDetailScreen

        self.app.push_screen(RecordDetailScreen("contact", record_id))

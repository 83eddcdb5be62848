"""The Contacts area: every contact, searchable and sorted, paged; Enter opens one, n adds one, e edits one."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding

from crm_tui.screens.bulk_actions import BULK_PALETTE_NAMES, bulk_bindings
from crm_tui.screens.record_list import RecordListScreen
from crm_tui.screens.saved_views import VIEW_PALETTE_NAMES, view_bindings


class ContactsScreen(RecordListScreen):
    TITLE = "Contacts"
    DEFAULT_ORDER = "sorted by last name"
    ENTITY = "contact"
    COLUMNS = ("name", "account", "title", "buying_role", "email", "phone", "owner")
    PALETTE_GROUP = "Contacts"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"mine": "my contacts", "new_contact": "new contact",
                                               "edit_contact": "edit contact", **BULK_PALETTE_NAMES, **VIEW_PALETTE_NAMES}

    BINDINGS = [
        Binding("n", "new_contact", "New", tooltip="Add a contact"),
        Binding("e", "edit_contact", "Edit", tooltip="Edit the contact under the cursor"),
        Binding("2", "mine", "Mine", tooltip="Only contacts I own (again: everyone's)"),
        *bulk_bindings("contacts"),
        *view_bindings("contacts"),
    ]

    def action_mine(self) -> None:
        if self.query_state.filters.get("owner"):
            self.query_state.filters.pop("owner")
        else:
            self.query_state.filters["owner"] = "me"
        self.reload()

    def open_record(self, record_id: int) -> None:
        from crm_tui.screens.base import open_record

        open_record(self.app, "contact", record_id, lambda _=None: self.reload())

    def action_new_contact(self) -> None:
        from crm_tui.screens.contact_form import ContactFormScreen

        self.app.push_screen(ContactFormScreen(), self._saved)

    def action_edit_contact(self) -> None:
        from crm_tui.screens.contact_form import ContactFormScreen

        contact_id = self.selected_id()
        if contact_id is None:
            self.notify("No contact under the cursor: press n to add one.", severity="warning")
            return
        self.app.push_screen(ContactFormScreen(contact_id), self._saved)

    def _saved(self, row: dict | None) -> None:
        if row:
            self.reload()

"""The contact form: add a contact or edit one, with buying role and who they report to.

"Reports to" is a picker over the people at the contact's account. A choice that
would make a reporting loop is refused by the service, and its message, naming the
chain, is shown under the field.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.widget import Widget

from crm_tui.screens.record_form import RecordFormScreen
from crm_tui.services import fields
from crm_tui.widgets.picker import Picker


class ContactFormScreen(RecordFormScreen):
    """Every field in ``fields.CONTACT_FIELDS``; dismisses with the saved row, or None."""

    ENTITY = "contact"
    SPECS = fields.CONTACT_FIELDS
    LABELS: ClassVar[dict[str, str]] = {"account": "Account", "is_primary": "Primary contact",
                                        "reports_to": "Reports to"}
    PLACEHOLDERS: ClassVar[dict[str, str]] = {
        "first_name": "First name",
        "last_name": "Last name",
        "email": "e.g. ana@acme.com",
        "phone": "e.g. +1 415 555 0100",
        "title": "e.g. Head of Procurement",
    }
    WIDE = frozenset({"notes"})
    TEXT_AREAS = frozenset({"notes"})
    OPTIONAL_CHOICES = frozenset({"buying_role"})
    FIRST_FIELD = "first_name"
    PALETTE_GROUP = "Contact form"

    def __init__(self, contact_id: int | None = None, *, account_id: int | None = None,
                 account_name: str | None = None) -> None:
        super().__init__(contact_id)
        self.account_id = account_id
        self.account_name = account_name
        self._people_for: int | None = None  # the account whose people "reports to" offers

    def _input_for(self, name: str) -> Widget:
        if name == "reports_to":
            return Picker("contact", id="input-reports_to", tooltip="Who they report to: someone at the same account",
                          placeholder="nobody (enter to choose a manager at the account)")
        return super()._input_for(name)

    def on_mount(self) -> None:
        if self.is_new and self.account_id is not None:
            self._set("account", str(self.account_id))
            self._people(self.account_id)

    # ------------------------------------------------------------ reports to

    def _people(self, account_id: int | None) -> None:
        """"Reports to" offers the people at ``account_id``."""
        self._people_for = account_id
        self.query_one("#input-reports_to", Picker).account_id = account_id

    @on(Picker.Changed, "#input-account")
    def _account_changed(self, event: Picker.Changed) -> None:
        account_id = event.picker.record_id
        if account_id != self._people_for:
            self._people(account_id)
            self.query_one("#input-reports_to", Picker).set_choice(None)  # a manager at the old account

    @on(RecordFormScreen.Loaded)
    def _contact_loaded(self, message: RecordFormScreen.Loaded) -> None:
        self._people(message.row.get("account_id"))

"""The contact form: add a contact or edit one, with buying role and who they report to.

"Reports to" offers the people at the contact's account. A choice that would
make a reporting loop is refused by the service, and its message, naming the
chain, is shown under the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Select

from crm_tui.errors import CRMError
from crm_tui.screens.record_form import RecordFormScreen
from crm_tui.services import fields
from crm_tui.widgets.picker import Picker
from crm_tui.widgets.worker import run_db

PEOPLE_LIMIT = 500


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

    @dataclass
    class PeopleLoaded(Message):
        account_id: int | None
        people: list  # (label, id) of the account's contacts

    def __init__(self, contact_id: int | None = None, *, account_id: int | None = None,
                 account_name: str | None = None) -> None:
        super().__init__(contact_id)
        self.account_id = account_id
        self.account_name = account_name
        self._reports_to = ""  # the chosen manager's id, kept until the account's people are listed
        self._people_for: int | None = None
        self._people_timer: Timer | None = None

    def _input_for(self, name: str) -> Widget:
        if name == "reports_to":
            return Select([], prompt="nobody", id="input-reports_to", tooltip=self.SPECS[name].help, compact=True)
        return super()._input_for(name)

    def on_mount(self) -> None:
        if self.is_new and self.account_id is not None:
            self._set("account", str(self.account_id))
            self._people(self.account_id)

    # ------------------------------------------------------------ reports to

    def _get(self, name: str) -> str:
        if name == "reports_to" and self._people_for is None:
            return self._reports_to  # the list is not there yet: what was loaded stands
        return super()._get(name)

    def _set(self, name: str, value: str) -> None:
        if name == "reports_to":
            self._reports_to = value
            select = self.query_one("#input-reports_to", Select)
            ids = {value for _label, value in getattr(select, "_options", [])}
            if value and value in ids:
                select.value = value
            elif not value:
                select.clear()
            return
        super()._set(name, value)

    @on(Select.Changed, "#input-reports_to")
    def _reports_to_changed(self, event: Select.Changed) -> None:
        if self._people_for is not None:
            self._reports_to = "" if event.value is Select.NULL else str(event.value)

    @on(Picker.Changed, "#input-account")
    def _account_changed(self, event: Picker.Changed) -> None:
        if self._people_timer is not None:
            self._people_timer.stop()
        text = event.value.strip()
        if text.isdigit() and int(text) != self._people_for:
            self._people_timer = self.set_timer(0.3, lambda: self._people(int(text)))

    def _people(self, account_id: int) -> None:
        record_id = self.record_id

        def people_of(s: Any) -> ContactFormScreen.PeopleLoaded:
            from crm_tui.services.sales import contacts

            try:
                tree = contacts.reports_tree(session=s, account_id=account_id, actor=self.actor)
            except CRMError:  # no such account (yet): nobody to report to
                tree = []
            people = []
            for depth, row in tree[:PEOPLE_LIMIT]:
                if row["id"] == record_id:
                    continue
                label = "  " * depth + (row["name"] or "(no name)")
                if row.get("title"):
                    label += f", {row['title']}"
                people.append((label, str(row["id"])))
            return self.PeopleLoaded(account_id, people)

        run_db(self, people_of, group="contact-people")

    @on(PeopleLoaded)
    def _people_loaded(self, message: PeopleLoaded) -> None:
        select = self.query_one("#input-reports_to", Select)
        keep = self._reports_to
        self._people_for = message.account_id
        select.set_options(message.people)
        if keep and keep in {value for _label, value in message.people}:
            select.value = keep
        else:
            select.clear()
            self._reports_to = ""

    @on(RecordFormScreen.Loaded)
    def _contact_loaded(self, message: RecordFormScreen.Loaded) -> None:
        account_id = message.row.get("account_id")
        if account_id:
            self._people(account_id)

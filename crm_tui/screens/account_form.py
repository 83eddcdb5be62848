"""The account form: add a new account or edit one, guarded by the record's version."""

from __future__ import annotations

from typing import ClassVar

from crm_tui.screens.record_form import RecordFormScreen
from crm_tui.services import fields


class AccountFormScreen(RecordFormScreen):
    """Every field in ``fields.ACCOUNT_FIELDS``; dismisses with the saved row, or None."""

    ENTITY = "account"
    SPECS = fields.ACCOUNT_FIELDS
    LABELS: ClassVar[dict[str, str]] = {"postal_code": "Postal code", "employees": "Employees",
                                        "description": "Description"}
    PLACEHOLDERS: ClassVar[dict[str, str]] = {
        "name": "Company name",
        "industry": "e.g. Technology",
        "website": "e.g. acme.com",
        "phone": "e.g. +1 415 555 0100",
        "email": "e.g. info@acme.com",
        "street": "Billing street",
        "city": "Billing city",
        "state": "State or region",
        "postal_code": "Postal code",
        "country": "Country",
        "source": "e.g. Referral, Web, Event",
        "employees": "Number of employees",
        "currency": "USD (the default)",
    }
    WIDE = frozenset({"description"})
    TEXT_AREAS = frozenset({"description"})
    SUGGESTIONS: ClassVar[dict[str, tuple[str, ...]]] = {"industry": tuple(fields.INDUSTRIES)}
    PALETTE_GROUP = "Account form"

    def __init__(self, account_id: int | None = None) -> None:
        super().__init__(account_id)

    @property
    def account_id(self) -> int | None:
        return self.record_id

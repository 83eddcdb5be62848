"""The new-deal form: `n` on the pipeline, `d` on an account (prefilled with it), "new deal" in the palette.

The fields a rep fills when a deal starts; the rest (probability, forecast category, ...) follow the
stage and are edited on the deal's detail."""

from __future__ import annotations

from typing import ClassVar

from crm_tui.screens.record_form import RecordFormScreen
from crm_tui.services import fields

NEW_DEAL_FIELDS = ("name", "account", "contact", "owner", "stage", "amount", "currency", "expected_close",
                   "next_step", "description")


class OpportunityFormScreen(RecordFormScreen):
    """A new opportunity; dismisses with the saved row, or None."""

    ENTITY = "opportunity"
    SPECS = {name: fields.OPPORTUNITY_FIELDS[name] for name in NEW_DEAL_FIELDS}
    LABELS: ClassVar[dict[str, str]] = {"account": "Account", "contact": "Primary contact",
                                        "expected_close": "Expected close", "next_step": "Next step"}
    PLACEHOLDERS: ClassVar[dict[str, str]] = {
        "name": "e.g. Acme – Data platform",
        "account": "choose the account (enter)",
        "contact": "choose the primary contact (optional)",
        "stage": "the first stage unless chosen",
        "amount": "e.g. 12,500.00",
        "currency": "USD (the default)",
        "expected_close": "YYYY-MM-DD or today+30d",
        "next_step": "e.g. Demo with the CTO",
    }
    WIDE = frozenset({"description"})
    TEXT_AREAS = frozenset({"description"})
    PALETTE_GROUP = "Deal form"

    def __init__(self, *, account_id: int | None = None, account_name: str | None = None) -> None:
        super().__init__(None)
        self.account_id = account_id
        self.account_name = account_name

    def on_mount(self) -> None:
        # RecordFormScreen.on_mount runs too (handlers run along the MRO) and focuses the name.
        if self.account_id is not None:
            self._set("account", str(self.account_id))
            if self.account_name:
                self.query_one("#input-account").tooltip = self.account_name

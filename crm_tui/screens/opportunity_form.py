"""The new-deal form (n on the Pipeline): the fields a deal starts with; the rest is on its detail screen."""

from __future__ import annotations

from typing import ClassVar

from crm_tui.screens.record_form import RecordFormScreen
from crm_tui.services import fields

FIRST_FIELDS = ("name", "account", "amount", "currency", "stage", "expected_close", "next_step")


class OpportunityFormScreen(RecordFormScreen):
    """A new opportunity: name, account, amount and currency, stage, expected close, next step;
    dismisses with the saved row, or None. The owner is you."""

    ENTITY = "opportunity"
    SPECS = {name: fields.OPPORTUNITY_FIELDS[name] for name in FIRST_FIELDS}
    LABELS: ClassVar[dict[str, str]] = {"account": "Account id", "expected_close": "Expected close",
                                        "next_step": "Next step"}
    PLACEHOLDERS: ClassVar[dict[str, str]] = {
        "name": "e.g. Acme – data platform", "account": "the account's id (optional)", "amount": "e.g. 12500.00",
        "currency": "USD (the default)", "stage": "Lead (the first stage) unless given",
        "expected_close": "YYYY-MM-DD or today+30d", "next_step": "e.g. send the proposal",
    }
    PALETTE_GROUP = "Deal form"

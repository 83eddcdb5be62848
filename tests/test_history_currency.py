"""An opportunity's history shows each amount in the currency it had at the time."""

from __future__ import annotations

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import pipeline
from crm_tui.store.db import session_scope

OPP = ENTITIES["opportunity"]


def test_amounts_in_history_use_the_currency_of_their_time(engine):
    with session_scope(engine) as s:
        deal = records.create_record(OPP, session=s, data={"name": "Yen deal", "amount": "5000", "currency": "JPY"},
                                     actor="tester")
    with session_scope(engine) as s:
        records.update_record(OPP, session=s, record_id=deal["id"], data={"amount": "7000"}, actor="tester")
    with session_scope(engine) as s:
        records.update_record(OPP, session=s, record_id=deal["id"], data={"amount": "12.50", "currency": "EUR"},
                              actor="tester")
    with session_scope(engine) as s:
        history = pipeline.readable_history(session=s, opportunity_id=deal["id"])
    amounts = [(h["old_value"], h["new_value"]) for h in history if h["field"] == "amount"]
    # Newest first: 7000 JPY became 12.50 EUR; before that 5000 JPY became 7000 JPY (no decimals in yen).
    assert amounts == [("7000", "12.50"), ("5000", "7000")]
    assert [h["what"] for h in history if h["field"] == "currency"] == ["currency: JPY → EUR"]

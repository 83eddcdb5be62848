"""Money and dates read the same on every screen: grouped with the currency, the year only when it is not
this year."""

from __future__ import annotations

import datetime as dt

from ui_helpers import make, settle

from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope

USER = "tester"


async def test_opportunity_header_shows_grouped_amount_with_currency(engine):
    last_year = dt.date(dt.date.today().year - 1, 3, 9)
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor=USER, data={"name": "Keystone Robotics"})
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor=USER, data={
            "name": "Keystone Robotics – Data platform", "account": acc["id"], "amount": "40000",
            "expected_close": last_year.isoformat()})
    app = make(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(OpportunityDetailScreen(opp["id"]))
        await settle(pilot)
        header = str(app.screen.query_one("#opp-title").render())
        assert "40,000 USD" in header and "40000.00" not in header
        await pilot.press("f4", "v")
        await settle(pilot)
        table = app.screen.query_one("#pipeline-list")
        row = table.render_line(1).text
        assert "40,000 USD" in row and f"9 Mar {last_year.year}" in row

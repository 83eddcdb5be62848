"""A lead's detail in an 80-column terminal keeps its timeline readable.

Reviewing a newly assigned lead means reading what happened to it (who assigned it, the intro call
scheduled, the calls logged). The fields column kept its 56 columns at any width, which at 80 left the
timeline about 20: one entry ran over four or five lines. Under 110 columns the fields give up width;
at 160 they keep it.
"""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widgets import Static
from ui_helpers import USER, make, wait_until

from crm_tui.services import records
from crm_tui.services.engagement.activities import log_activity
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_lead_timeline_gets_a_readable_share_of_the_width(engine, size):
    with session_scope(engine) as s:
        lead_id = records.create_record(ENTITIES["lead"], session=s, actor=USER, data={
            "first_name": "Maya", "last_name": "Ortiz", "company": "Pacific Bloom Florists",
            "email": "maya@pacificbloom.example"})["id"]
        log_activity(session=s, actor=USER, type="call", subject="Intro call with Maya", links={"lead": lead_id})
    app = make(engine)
    async with app.run_test(size=size) as pilot:
        from crm_tui.screens.lead_detail import LeadDetailScreen

        await app.push_screen(LeadDetailScreen(lead_id))
        await wait_until(pilot, lambda: app.screen.query_one("#lead-timeline").items, what="the timeline")
        timeline = app.screen.query_one("#lead-timeline").region
        fields = app.screen.query_one(".detail-fields").region
        static = app.screen.query_one("#lead-fields", Static)
        lines = [strip.text for strip in static.render_lines(Region(0, 0, static.size.width, static.size.height))]
        assert any("Pacific Bloom" in line for line in lines), lines
        if size[0] >= 160:
            assert any("maya@pacificbloom.example" in line for line in lines), lines
        if size[0] < 110:
            assert timeline.width >= 36, (fields, timeline)
            assert fields.width >= 30, (fields, timeline)
        else:
            assert fields.width >= 56, (fields, timeline)
            assert timeline.width >= 90, (fields, timeline)

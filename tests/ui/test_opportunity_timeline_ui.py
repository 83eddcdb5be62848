"""The opportunity's timeline keeps its dates whole: a narrow side panel cuts the subject, never the
due date."""

from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable
from ui_helpers import make, settle

from crm_tui import formatting
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.services import records
from crm_tui.services.engagement.activities import log_activity
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope

ME = "tester"


async def test_the_due_date_is_never_cut(engine):
    due = dt.datetime.combine(dt.date.today() + dt.timedelta(days=3), dt.time(9, 30))
    with session_scope(engine) as s:
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor=ME, data={"name": "Fleet rollout"})
        log_activity(session=s, actor=ME, type="task", due=due.strftime("%Y-%m-%d %H:%M"), links={"opp": opp["id"]},
                     subject="Call the CFO about the budget for the second phase of the rollout")
    app = make(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(OpportunityDetailScreen(opp["id"]))
        await settle(pilot)
        table = app.screen.query_one("#opp-timeline", DataTable)
        assert table.row_count == 1
        line = table.render_line(1).text  # the first row under the header, as drawn
        assert formatting.moment(due.astimezone()) in line, line
        assert "Call" in line  # the subject starts after the dates (cut at the edge if it must be)

"""The Forecast area: the table, the summary and the owner filter match the forecast service; the period steps."""

from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable, Label, Select
from ui_helpers import USER, make, settle, wait_until

from crm_tui import formatting, money
from crm_tui.screens.forecast import ForecastScreen, quarter_of, shift_quarter
from crm_tui.services import records, users
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import forecast
from crm_tui.store.db import session_scope

SIZE = (170, 50)


def seed(engine):
    q0, q1 = quarter_of(dt.date.today())
    with session_scope(engine) as s:
        users.create_user(session=s, data={"username": USER, "role": "admin"})  # reads the whole team's deals
        users.create_user(session=s, data={"username": "bob"})
        forecast.set_quota(session=s, username=USER, month=q0, amount="20000")
        opp = ENTITIES["opportunity"]
        for name, amount, stage, owner, close in (
                ("A", "1000.00", "Proposal", USER, q0), ("B", "2500.50", "Negotiation", USER, q0),
                ("C", "400.00", "Lead", "bob", q1), ("D", "9.99", "Lead", USER, q1 + dt.timedelta(days=1))):
            records.create_record(opp, session=s, actor=USER, data={
                "name": name, "amount": amount, "stage": stage, "owner": owner, "expected_close": close.isoformat()})


def rows(screen) -> list[list[str]]:
    table = screen.query_one("#forecast-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def summary(screen) -> str:
    return str(screen.query_one("#forecast-summary", Label).render())


async def test_forecast_table_and_summary_match_the_service(engine):
    seed(engine)
    q0, q1 = quarter_of(dt.date.today())
    with session_scope(engine) as s:
        expected = forecast.forecast(session=s, start=q0, end=q1, by=("month", "stage"))
    async with make(engine, mode=None).run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ForecastScreen)
        await pilot.press("m")  # it opens on my deals: everyone's, to compare with the whole forecast
        await wait_until(pilot, lambda: summary(screen).startswith("everyone"), what="everyone's forecast")
        shown = rows(screen)
        want = [[formatting.month(r.key["month"]), r.key["stage"], str(r.metrics.open_count),
                 money.format_money(r.metrics.open_minor, "USD", code=False),
                 money.format_money(r.metrics.weighted_minor, "USD", code=False),
                 money.format_money(r.metrics.won_minor, "USD", code=False)] for r in expected.rows]
        assert shown[:-1] == want
        assert shown[-1] == ["Total", "USD", "3", "3,900.50", "2,415.38", "0.00"]  # 500 + 1875.375 + 40, once
        text = summary(screen)
        assert "weighted 2,415.38 USD" in text and "quota 20,000.00 USD" in text
        assert "coverage 0.20x" in text
        # owner filter: bob alone
        screen.query_one("#forecast-owner", Select).value = "bob"
        await wait_until(pilot, lambda: summary(screen).startswith("bob"), what="bob's forecast")
        assert [r[1] for r in rows(screen)] == ["Lead", "USD"]
        assert rows(screen)[-1][3] == "400.00"
        # the next quarter holds only D (owned by the tester, so back to everyone first)
        screen.query_one("#forecast-owner", Select).value = "__all__"
        await wait_until(pilot, lambda: summary(screen).startswith("everyone"), what="everyone")
        await pilot.press("right_square_bracket")
        n0, _ = shift_quarter(q0, 1)
        await wait_until(pilot, lambda: any(r[3] == "9.99" for r in rows(screen)), what="next quarter")
        assert rows(screen)[0][0] == formatting.month(n0)  # "Jan 2027" in another year, "Apr" in this one
        assert formatting.day(n0) in str(screen.query_one("#forecast-period", Label).render())
        await pilot.press("t")
        await wait_until(pilot, lambda: rows(screen)[-1][3] == "3,900.50", what="this quarter again")

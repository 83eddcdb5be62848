"""Mine by default: Pipeline (board and list), Leads, Forecast and Today open on the acting user's own
records; `m` toggles to everyone's and back; the sub-title says which; the choice is remembered per
screen across restarts (a JSON file next to the config)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from textual.widgets import DataTable, Label, OptionList
from ui_helpers import USER, make, settle

from crm_tui import locations
from crm_tui.screens.forecast import ForecastScreen
from crm_tui.screens.leads import LeadsScreen
from crm_tui.screens.pipeline import PipelineScreen
from crm_tui.screens.today import TodayScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.widgets.kanban import KanbanCard

SIZE = (160, 48)


@pytest.fixture
def two_owners(engine) -> None:
    """tester (the acting user, the database's first user: an admin) and bob each own a deal, a lead
    with a follow-up due and a task due today."""
    close = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    due = dt.datetime.now().strftime("%Y-%m-%d 00:01")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    with session_scope(engine) as s:
        for owner, deal, lead in ((USER, "My deal", "Mia"), ("bob", "Bob deal", "Bea")):
            records.create_record(ENTITIES["opportunity"], session=s, actor=owner,
                                  data={"name": deal, "amount": "1000", "expected_close": close})
            records.create_record(ENTITIES["lead"], session=s, actor=owner,
                                  data={"first_name": lead, "last_name": "Lead", "next_follow_up": yesterday})
            records.create_record(ENTITIES["activity"], session=s, actor=owner,
                                  data={"subject": f"Call for {deal}", "type": "task", "due": due})


def remembered() -> dict:
    return json.loads(locations.ui_state_path().read_text())["users"][USER]


def card_names(app) -> list[str]:
    return sorted(c.card.name for c in app.screen.query(KanbanCard))


async def test_pipeline_opens_on_my_deals_and_m_shows_everyones_remembered(engine, two_owners):
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PipelineScreen)
        assert screen.sub_title.startswith("Mine · tester")
        assert card_names(app) == ["My deal"]
        await pilot.press("v")  # the list too
        await settle(pilot)
        table = screen.query_one("#pipeline-list", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["My deal"]
        await pilot.press("m")
        await settle(pilot)
        assert screen.sub_title.startswith("Everyone · tester")
        assert sorted(str(table.get_row_at(i)[0]) for i in range(table.row_count)) == ["Bob deal", "My deal"]
        await pilot.press("v")
        await settle(pilot)
        assert card_names(app) == ["Bob deal", "My deal"]
    assert remembered()["scope.pipeline"] == "everyone"

    app = make(engine, mode="pipeline")  # a restart opens on what was chosen
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.sub_title.startswith("Everyone")
        assert card_names(app) == ["Bob deal", "My deal"]
        await pilot.press("m")
        await settle(pilot)
        assert app.screen.sub_title.startswith("Mine")
        assert card_names(app) == ["My deal"]
    assert remembered()["scope.pipeline"] == "mine"


async def test_an_owner_in_the_filter_wins_over_mine(engine, two_owners):
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"owner:bob", "enter")
        await settle(pilot)
        assert card_names(app) == ["Bob deal"]


def lead_names(app) -> list[str]:
    table = app.screen.query_one("#list-table", DataTable)
    names = list(app.screen.COLUMNS).index("name")
    return sorted(str(table.get_row_at(i)[names]) for i in range(table.row_count))


async def test_leads_open_on_mine_and_m_toggles_per_screen(engine, two_owners):
    app = make(engine, mode="leads")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LeadsScreen)
        assert app.screen.sub_title.startswith("Mine")
        assert lead_names(app) == ["Mia Lead"]
        await pilot.press("m")
        await settle(pilot)
        assert app.screen.sub_title.startswith("Everyone")
        assert lead_names(app) == ["Bea Lead", "Mia Lead"]
    assert remembered() == {"scope.leads": "everyone"}  # the pipeline keeps its own (the default)

    app = make(engine, mode="leads")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert lead_names(app) == ["Bea Lead", "Mia Lead"]
        await pilot.press("2")  # the Mine quick filter is the same choice
        await settle(pilot)
        assert app.screen.sub_title.startswith("Mine")
        assert lead_names(app) == ["Mia Lead"]
    assert remembered() == {"scope.leads": "mine"}


async def test_forecast_opens_on_mine_and_m_shows_everyone(engine, two_owners):
    app = make(engine, mode="forecast")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ForecastScreen)
        assert screen.sub_title.startswith("Mine")
        summary = str(screen.query_one("#forecast-summary", Label).render())
        assert summary.startswith("tester · pipeline 1,000.00 USD")
        await pilot.press("m")
        await settle(pilot)
        assert screen.sub_title.startswith("Everyone")
        summary = str(screen.query_one("#forecast-summary", Label).render())
        assert summary.startswith("everyone · pipeline 2,000.00 USD")
    assert remembered()["scope.forecast"] == "everyone"


def option_texts(app, widget_id: str) -> list[str]:
    options = app.screen.query_one(widget_id, OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_today_opens_on_mine_and_m_shows_everyones(engine, two_owners):
    app = make(engine, mode="dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        assert app.screen.sub_title.startswith("Mine")
        tasks = option_texts(app, "#today-tasks")
        assert len(tasks) == 1 and "Call for My deal" in tasks[0]
        assert [t for t in option_texts(app, "#today-leads") if "Lead" in t][0].count("Mia Lead") == 1
        await pilot.press("m")
        await settle(pilot)
        assert app.screen.sub_title.startswith("Everyone")
        tasks = option_texts(app, "#today-tasks")
        assert sorted("Bob deal" in t for t in tasks) == [False, True]
        assert sorted(t.split("  ")[1] for t in option_texts(app, "#today-leads")) == ["Bea Lead", "Mia Lead"]
    assert remembered()["scope.today"] == "everyone"

"""Issue 7 in the TUI: the filter language in the list filter boxes, global search, multi-select bulk actions.

Driven with Pilot on the real app; assertions read the database.
"""

from __future__ import annotations

from textual.widgets import Input
from ui_helpers import make, settle, status_line, table_names, wait_until

from crm_tui.widgets import FilterBar, FilterMessage

SIZE = (160, 48)


def opportunity_id(engine, name: str) -> int:
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES
    from crm_tui.store.db import session_scope

    with session_scope(engine) as s:
        return next(r["id"] for r in records.list_records(ENTITIES["opportunity"], session=s) if r["name"] == name)


async def type_filter(pilot, text: str) -> None:
    bar = pilot.app.screen.query_one(FilterBar)
    bar.focus()
    bar.value = text
    await pilot.press("enter")


async def test_a_filter_expression_narrows_the_accounts_list(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(table_names(pilot.app)) == 3
        await type_filter(pilot, "industry=Technology and state=CA")
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Acme Corporation"], what="filtered list")
        assert "where industry=Technology and state=CA" in status_line(pilot.app)
        # Plain words still search as before.
        await type_filter(pilot, "initech")
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Initech"], what="plain search")


async def test_a_bad_filter_expression_shows_the_parser_message_and_keeps_the_rows(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_filter(pilot, "state=TX")
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Initech"], what="filtered list")
        message = pilot.app.screen.query_one(FilterMessage)
        assert message.message == ""
        await type_filter(pilot, "industri=Technology")
        await wait_until(pilot, lambda: message.message != "", what="the filter message")
        assert "unknown field 'industri' at position 1" in message.message
        assert "industri=Technology\n^" in message.message  # the caret under the bad token
        assert "industry" in message.message  # the fields that exist
        assert table_names(pilot.app) == ["Initech"]  # the previous rows stay
        await type_filter(pilot, "state=IL")
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Globex Inc"], what="a good filter again")
        assert message.message == ""


async def test_the_contacts_filter_box_takes_expressions_too(engine, seeded):
    async with make(engine, mode="contacts").run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one("#list-table")
        assert table.row_count == 1
        await type_filter(pilot, "account.industry=Manufacturing")
        await wait_until(pilot, lambda: table.row_count == 0, what="no contacts")
        await type_filter(pilot, "account.industry=Technology and email~acme")
        await wait_until(pilot, lambda: table.row_count == 1, what="one contact")
        await type_filter(pilot, "emial=x")
        message = pilot.app.screen.query_one(FilterMessage)
        await wait_until(pilot, lambda: "unknown field 'emial'" in message.message, what="the filter message")
        assert table.row_count == 1


# ---------------------------------------------------------------- search (ctrl+f)


async def test_search_finds_a_record_and_enter_opens_it(engine, seeded):
    from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
    from crm_tui.screens.search import SearchScreen

    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), what="the search screen")
        screen = pilot.app.screen
        await pilot.press(*"rocket")
        await wait_until(pilot, lambda: screen.table.row_count == 1, what="one hit")
        kind, label, snippet = (str(c) for c in screen.table.get_row_at(0))
        assert (kind, label) == ("Opportunity", "Rocket skates")
        assert "[Rocket]" in snippet
        await pilot.press("enter")  # from the box to the results
        await wait_until(pilot, lambda: screen.table.has_focus, what="the results focused")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, OpportunityDetailScreen), what="the deal")
        assert pilot.app.screen.opportunity_id == opportunity_id(engine, "Rocket skates")


async def test_search_opens_an_activity_on_its_record_and_reports_a_bad_query(engine, seeded):
    from crm_tui.screens.account_detail import AccountDetailScreen
    from crm_tui.screens.search import SearchScreen

    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.action_search()
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), what="the search screen")
        screen = pilot.app.screen
        await pilot.press(*'"discovery')
        message = screen.query_one(FilterMessage)
        await wait_until(pilot, lambda: "unbalanced quote" in message.message, what="the query's message")
        screen.query_one(FilterBar).value = "discovery"
        await wait_until(pilot, lambda: screen.table.row_count == 1 and message.message == "", what="one hit")
        assert str(screen.table.get_row_at(0)[0]) == "Activity"
        screen.table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountDetailScreen), what="the account")
        assert pilot.app.screen.account_id == seeded["Acme Corporation"]

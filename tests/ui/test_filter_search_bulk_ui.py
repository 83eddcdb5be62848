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


async def test_slash_on_the_dashboard_opens_search(engine, seeded):
    from crm_tui.screens.dashboard import DashboardScreen
    from crm_tui.screens.search import SearchScreen

    async with make(engine, mode="dashboard").run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, DashboardScreen)
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), what="the search screen")
        screen = pilot.app.screen
        await pilot.press(*"rocket")
        await wait_until(pilot, lambda: screen.table.row_count == 1, what="one hit")
        assert [str(c) for c in screen.table.get_row_at(0)][:2] == ["Opportunity", "Rocket skates"]


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


# ---------------------------------------------------------------- marking rows and bulk actions


def db_rows(engine, sql: str, **params) -> list[tuple]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


async def test_mark_three_accounts_and_tag_them_in_one_batch(engine, seeded):
    from crm_tui.screens.bulk_actions import PromptScreen

    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = pilot.app.screen.table
        table.focus()
        await pilot.press("space", "space", "space")
        await wait_until(pilot, lambda: len(table.selected_keys) == 3, what="three marked")
        assert "3 marked" in status_line(pilot.app)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), what="the tag prompt")
        await pilot.press(*"q1_priority", "enter")
        await wait_until(pilot, lambda: len(db_rows(engine, "SELECT record_id FROM taggings")) == 3,
                         what="three taggings")
        tagged = sorted(r[0] for r in db_rows(
            engine, "SELECT tg.record_id FROM taggings tg JOIN tags t ON t.id = tg.tag_id "
                    "WHERE t.name = 'q1_priority' AND tg.entity = 'account'"))
        assert tagged == sorted(seeded.values())
        batches = db_rows(engine, "SELECT DISTINCT batch_id FROM changes WHERE field = 'tag' AND entity = 'account'")
        assert len(batches) == 1 and batches[0][0]
        batch = batches[0][0]
        assert len(db_rows(engine, "SELECT id FROM changes WHERE batch_id = :b", b=batch)) == 3
        await wait_until(pilot, lambda: any("Tagged 3 accounts “q1_priority” — ctrl+z undoes" == str(n.message)
                                            for n in pilot.app._notifications), what="the bulk notification")
        assert not any(batch in str(n.message) for n in pilot.app._notifications)  # said in words, not by id
        await wait_until(pilot, lambda: table.selected_keys == [] and table.row_count == 3, what="marks cleared")


async def test_star_marks_every_loaded_row_and_again_none(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = pilot.app.screen.table
        table.focus()
        await pilot.press("asterisk")
        await wait_until(pilot, lambda: len(table.selected_keys) == 3, what="all marked")
        await pilot.press("asterisk")
        await wait_until(pilot, lambda: table.selected_keys == [], what="none marked")


async def test_reassign_two_opportunities_from_the_pipeline_list(engine, seeded):
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES
    from crm_tui.store.db import session_scope

    with session_scope(engine) as s:
        records.ensure_user(s, "bob")
        for name in ("Anvil subscription", "Giant magnet"):
            records.create_record(ENTITIES["opportunity"], session=s, actor="tester",
                                  data={"name": name, "account": seeded["Initech"], "amount": "900"})
    async with make(engine, mode="pipeline").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")  # everyone's deals: given to bob, they stay in the list
        await settle(pilot)
        await pilot.press("v")
        table = pilot.app.screen.query_one("#pipeline-list")
        await wait_until(pilot, lambda: table.row_count == 3 and table.has_focus, what="the list")
        keys = [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(2)]
        await pilot.press("space", "space")
        await wait_until(pilot, lambda: table.selected_keys == keys, what="two marked")
        await pilot.press("a")
        from crm_tui.widgets.picker import PickerDialog

        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PickerDialog), what="the owner picker")
        await pilot.press(*"bob", "enter")
        owner_of = ("SELECT o.id FROM opportunities o JOIN users u ON u.id = o.owner_id "
                    "WHERE u.username = 'bob' ORDER BY o.id")
        await wait_until(pilot, lambda: len(db_rows(engine, owner_of)) == 2, what="two deals given to bob")
        assert sorted(str(r[0]) for r in db_rows(engine, owner_of)) == sorted(keys)
        changes = db_rows(engine, "SELECT record_id, batch_id FROM changes WHERE entity = 'opportunity' "
                                  "AND field = 'owner_id' AND batch_id IS NOT NULL")
        assert sorted(str(r[0]) for r in changes) == sorted(keys)
        assert len({r[1] for r in changes}) == 1
        await wait_until(pilot, lambda: sum(1 for i in range(table.row_count) if table.get_row_at(i)[5] == "bob") == 2,
                         what="the list shows the new owner")


async def test_a_closing_stage_is_refused_with_the_bulk_message(engine, seeded):
    from crm_tui.screens.bulk_actions import StagePromptScreen

    async with make(engine, mode="pipeline").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        table = pilot.app.screen.query_one("#pipeline-list")
        await wait_until(pilot, lambda: table.row_count == 1 and table.has_focus, what="the list")
        await pilot.press("space", "g")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, StagePromptScreen), what="the stage prompt")
        prompt = pilot.app.screen
        stages = prompt.stages
        lost = next(s for s in stages if s.lower().startswith("closed lost") or s.lower() == "lost")
        from textual.widgets import Select

        prompt.query_one(Select).value = lost
        await wait_until(pilot, lambda: any("closing stage" in str(n.message) for n in pilot.app._notifications),
                         what="the refusal")
        assert db_rows(engine, "SELECT id FROM changes WHERE batch_id IS NOT NULL") == []
        second = next(s for s in stages if s != lost and "won" not in s.lower() and s != stages[0])
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, StagePromptScreen), what="the stage prompt")
        pilot.app.screen.query_one(Select).value = second
        await wait_until(pilot, lambda: db_rows(engine, "SELECT s.name FROM opportunities o JOIN stages s "
                                                        "ON s.id = o.stage_id") == [(second,)], what="moved")


async def test_the_pipeline_list_filter_takes_expressions(engine, seeded):
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES
    from crm_tui.store.db import session_scope

    with session_scope(engine) as s:
        records.create_record(ENTITIES["opportunity"], session=s, actor="tester",
                              data={"name": "Giant magnet", "account": seeded["Initech"], "amount": "60000"})
    async with make(engine, mode="pipeline").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        table = pilot.app.screen.query_one("#pipeline-list")
        await wait_until(pilot, lambda: table.row_count == 2, what="the list")
        box = pilot.app.screen.query_one("#pipeline-filter", Input)
        box.focus()
        box.value = "amount>50000 and account.state=TX"
        await pilot.press("enter")
        await wait_until(pilot, lambda: table.row_count == 1 and str(table.get_row_at(0)[0]) == "Giant magnet",
                         what="one deal")
        message = pilot.app.screen.query_one(FilterMessage)
        box.focus()
        box.value = "amount>>5"
        await pilot.press("enter")
        await wait_until(pilot, lambda: message.message != "", what="the filter message")
        assert "amount>>5\n" in message.message and "^" in message.message
        assert table.row_count == 1  # the list keeps its rows


# ---------------------------------------------------------------- saved views


async def test_save_the_filter_as_a_view_and_apply_it_again(engine, seeded):
    from crm_tui.screens.bulk_actions import PromptScreen
    from crm_tui.screens.saved_views import ViewPickerScreen
    from crm_tui.services import views
    from crm_tui.store.db import session_scope

    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_filter(pilot, "state=TX or state=IL")
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Globex Inc", "Initech"], what="two accounts")
        await pilot.press("W")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), what="the name prompt")
        await pilot.press(*"midwest", "enter")

        def saved() -> list:
            with session_scope(engine) as s:
                return [(v["name"], v["where"]) for v in views.list_views(session=s, entity="account")]

        await wait_until(pilot, lambda: saved() == [("midwest", "state=TX or state=IL")], what="the view saved")
        await type_filter(pilot, "")
        await wait_until(pilot, lambda: len(table_names(pilot.app)) == 3, what="every account")
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ViewPickerScreen), what="the views")
        await pilot.press("enter")
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Globex Inc", "Initech"], what="the view applied")
        assert pilot.app.screen.query_one(FilterBar).value == "state=TX or state=IL"

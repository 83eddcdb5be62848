"""The Accounts area, driven with Pilot like a person would: list, filter, sort, detail, form."""

from __future__ import annotations

from textual.widgets import Input, Select, Static
from ui_helpers import make, settle, status_line, table_names, wait_until

from crm_tui.screens.account_detail import AccountDetailScreen
from crm_tui.screens.account_form import AccountFormScreen
from crm_tui.screens.accounts import PAGE_SIZE, AccountsScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope

ACCOUNT = ENTITIES["account"]
SIZE = (160, 48)


def db_account(engine, account_id: int) -> dict:
    with session_scope(engine) as s:
        return records.get_record(ACCOUNT, session=s, record_id=account_id)


def db_names(engine) -> list[str]:
    with session_scope(engine) as s:
        return [r["name"] for r in records.list_records(ACCOUNT, session=s)]


def static_text(screen, selector: str) -> str:
    """The text a Static shows (plain), whatever it holds: str, Text or a Rich table."""
    import io

    from rich.console import Console

    content = screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(content)
    return out.getvalue()


def cells(table) -> str:
    return "\n".join(" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count))


async def select_row(pilot, name: str) -> None:
    table = pilot.app.screen.table
    names = table_names(pilot.app)
    table.move_cursor(row=names.index(name))
    await pilot.pause()


# ---------------------------------------------------------------- list


async def test_list_shows_every_account_sorted_by_name_with_a_count(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, AccountsScreen)
        assert pilot.app.current_mode == "accounts"
        assert table_names(pilot.app) == ["Acme Corporation", "Globex Inc", "Initech"]
        assert "1–3 of 3 accounts" in status_line(pilot.app)
        assert "sorted by name, ascending" in status_line(pilot.app)
        row = [str(c) for c in pilot.app.screen.table.get_row_at(0)]
        assert row[:6] == ["Acme Corporation", "Technology", "San Francisco", "CA", "active", "tester"]
        assert row[6] == "0.00 USD"


async def test_typing_in_the_filter_narrows_the_list(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert pilot.app.focused.id == "accounts-filter"
        await pilot.press(*"glob")
        # debounced: the query runs once typing pauses
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Globex Inc"], what="the filtered list")
        assert "1–1 of 1 account matching “glob”" in status_line(pilot.app)

        # two words must both match (name, industry, city, state, web site or email)
        await pilot.press("ctrl+a", "ctrl+k")  # select all and clear
        pilot.app.screen.query_one("#accounts-filter", Input).value = "tx software"
        await wait_until(pilot, lambda: table_names(pilot.app) == ["Initech"], what="two-word filter")

        # escape clears the filter and shows everything again
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(table_names(pilot.app)) == 3, what="the cleared list")
        assert "matching" not in status_line(pilot.app)


async def test_enter_in_the_filter_applies_at_once_and_returns_to_the_list(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f", *"initech", "enter")
        await settle(pilot)
        assert table_names(pilot.app) == ["Initech"]
        assert pilot.app.focused is pilot.app.screen.table


async def test_a_filter_matching_nothing_shows_an_empty_state(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzzz", "enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert table_names(pilot.app) == []
        assert screen.has_class("-empty")
        assert "No accounts match “zzzz”" in static_text(screen, "#accounts-empty")
        assert "no accounts" in status_line(pilot.app)


async def test_an_empty_database_says_how_to_start(engine):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.has_class("-empty")
        assert "No accounts yet" in static_text(screen, "#accounts-empty")


async def test_sort_keys_cycle_columns_and_reverse(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")  # next column: industry
        await settle(pilot)
        assert table_names(pilot.app) == ["Globex Inc", "Initech", "Acme Corporation"]
        assert "sorted by industry, ascending" in status_line(pilot.app)
        assert str(pilot.app.screen.table.columns["industry"].label) == "Industry ▲"
        await pilot.press("S")  # reverse
        await settle(pilot)
        assert table_names(pilot.app) == ["Acme Corporation", "Initech", "Globex Inc"]
        assert "sorted by industry, descending" in status_line(pilot.app)


async def test_clicking_a_column_header_sorts_and_clicking_again_reverses(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        table = screen.table
        # the City header: past the Name and Industry columns
        x = sum(table.columns[k].get_render_width(table) for k in ("name", "industry")) + 3
        await pilot.click(table, offset=(x, 0))
        await settle(pilot)
        assert "sorted by city, ascending" in status_line(pilot.app)
        assert table_names(pilot.app) == ["Initech", "Acme Corporation", "Globex Inc"]
        await pilot.click(table, offset=(x, 0))
        await settle(pilot)
        assert "sorted by city, descending" in status_line(pilot.app)
        assert table_names(pilot.app) == ["Globex Inc", "Acme Corporation", "Initech"]


# ---------------------------------------------------------------- detail


async def test_enter_opens_the_detail_with_every_field_and_related_records(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the cursor starts on the first row: Acme
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AccountDetailScreen)
        assert screen.account_id == seeded["Acme Corporation"]
        fields = static_text(screen, "#detail-fields")
        for text in ("Acme Corporation", "active", "tester", "Technology", "acme.com", "info@acme.com",
                     "+1 415 555 0100", "1 Market Street", "San Francisco", "CA", "94105", "United States",
                     "Referral", "250", "Lifetime value", "0.00 USD", "Created", "Updated"):
            assert text in fields, text
        assert "Wile Coyote" in cells(screen.query_one("#detail-contacts"))
        opps = cells(screen.query_one("#detail-opportunities"))
        assert "Rocket skates" in opps and "12,500.50 USD" in opps
        assert [i.title for i in screen.query_one("#detail-timeline").items] == ["Discovery call"]
        assert "(1)" in static_text(screen, "#contacts-title")
        assert "Head of Procurement" in cells(screen.query_one("#detail-contacts"))

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, AccountsScreen)


async def test_an_account_without_related_records_says_so(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_row(pilot, "Globex Inc")
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert "none yet" in static_text(screen, "#contacts-title")
        assert "none yet" in static_text(screen, "#opps-title")


# ---------------------------------------------------------------- form


async def test_new_account_via_the_form_is_written_and_selected(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, AccountFormScreen)
        assert pilot.app.focused.id == "input-name"
        await pilot.press(*"Bluth Company")
        form.query_one("#input-industry", Input).value = "Real Estate"
        form.query_one("#input-email", Input).value = "george@bluth.com"
        form.query_one("#input-status", Select).value = "active"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(pilot.app.screen, AccountsScreen), "the form closes after saving"
        with session_scope(engine) as s:
            rows = records.list_records(ACCOUNT, session=s, search="bluth")
        assert len(rows) == 1
        saved = rows[0]
        assert (saved["industry"], saved["email"], saved["status"], saved["owner"]) == (
            "Real Estate", "george@bluth.com", "active", "tester")
        # the list was refreshed and the new account is selected
        assert "Bluth Company" in table_names(pilot.app)
        assert pilot.app.screen.selected_id() == saved["id"]
        assert "of 4 accounts" in status_line(pilot.app)


async def test_edit_updates_the_database_and_records_a_change(engine, seeded):
    globex = seeded["Globex Inc"]
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_row(pilot, "Globex Inc")
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, AccountFormScreen)
        city = form.query_one("#input-city", Input)
        assert city.value == "Springfield"
        city.value = "Shelbyville"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AccountsScreen)
        # the row in the list shows the new value
        row = [str(c) for c in pilot.app.screen.table.get_row(str(globex))]
        assert row[2] == "Shelbyville"

    saved = db_account(engine, globex)
    assert saved["city"] == "Shelbyville"
    assert saved["version"] == 2
    with session_scope(engine) as s:
        changes = records.history(session=s, entity="account", record_id=globex)
    assert [(c["field"], c["old_value"], c["new_value"], c["actor"]) for c in changes] == [
        ("city", "Springfield", "Shelbyville", "tester")]


async def test_edit_from_the_detail_screen_refreshes_it(engine, seeded):
    initech = seeded["Initech"]
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_row(pilot, "Initech")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#input-status", Select).value = "active"
        await pilot.press("ctrl+s")
        await settle(pilot)
        detail = pilot.app.screen
        assert isinstance(detail, AccountDetailScreen)
        assert "active" in static_text(detail, "#detail-fields")
        assert "churned" not in static_text(detail, "#detail-fields")  # the status it had, gone
        await pilot.press("escape")
        await settle(pilot)
        row = [str(c) for c in pilot.app.screen.table.get_row(str(initech))]
        assert row[4] == "active"
    assert db_account(engine, initech)["status"] == "active"


async def test_an_invalid_email_is_shown_under_its_field_and_nothing_is_written(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = pilot.app.screen
        form.query_one("#input-name", Input).value = "Bad Email Ltd"
        form.query_one("#input-email", Input).value = "not-an-email"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert pilot.app.screen is form, "the form stays open"
        error = static_text(form, "#error-email")
        assert "email" in error and "not-an-email" in error and "not an email address" in error
        assert form.query_one("#field-email").has_class("-invalid")
        assert pilot.app.focused.id == "input-email"
        assert "Not saved" in static_text(form, "#form-banner")
        assert any("not-an-email" in n.message for n in pilot.app._notifications)
        assert static_text(form, "#error-name") == ""
    assert "Bad Email Ltd" not in db_names(engine)


async def test_several_invalid_fields_are_each_named(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = pilot.app.screen
        form.query_one("#input-website", Input).value = "not a site"
        form.query_one("#input-currency", Input).value = "XYZ"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "name" in static_text(form, "#error-name") and "required" in static_text(form, "#error-name")
        assert "not a site" in static_text(form, "#error-website")
        assert "XYZ" in static_text(form, "#error-currency")
        assert "3 fields" in static_text(form, "#form-banner")
    assert len(db_names(engine)) == 3


async def test_an_unknown_owner_is_refused(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_row(pilot, "Initech")
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#input-owner").value = "nobody"  # a username no picker offers
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "nobody" in static_text(form, "#error-owner")
        assert "is not a user" in static_text(form, "#error-owner")
    assert db_account(engine, seeded["Initech"])["owner"] == "tester"


async def test_a_concurrent_change_is_a_conflict_and_is_not_overwritten(engine, seeded):
    globex = seeded["Globex Inc"]
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_row(pilot, "Globex Inc")
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        assert form.version == 1

        # someone else saves first
        with session_scope(engine) as s:
            records.update_record(ACCOUNT, session=s, record_id=globex, data={"city": "Capital City"},
                                  actor="someone", expected_version=1)

        form.query_one("#input-city", Input).value = "Shelbyville"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form, "the form stays open with the user's edits"
        banner = static_text(form, "#form-banner")
        assert "changed by someone else" in banner
        assert form.query_one("#input-city", Input).value == "Shelbyville"
        assert any("changed by someone else" in n.message for n in pilot.app._notifications)

        # ctrl+r discards the edits and loads the latest version
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert form.query_one("#input-city", Input).value == "Capital City"
        assert form.version == 2

    saved = db_account(engine, globex)
    assert saved["city"] == "Capital City"
    assert saved["version"] == 2


async def test_escape_cancels_the_form_without_writing(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Never Saved")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AccountsScreen)
    assert "Never Saved" not in db_names(engine)


async def test_saving_an_unchanged_form_writes_nothing(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AccountsScreen)
    with session_scope(engine) as s:
        assert records.history(session=s, entity="account", record_id=seeded["Acme Corporation"]) == []


# ---------------------------------------------------------------- scale


async def test_a_large_list_holds_one_page_and_loads_more_near_the_end(engine):
    from crm_tui.services.data import demo

    counts = demo.generate(engine, opportunities=16_000, me="tester")
    assert counts.accounts == 2_000
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        table = screen.table
        assert table.row_count == PAGE_SIZE
        assert f"1–{PAGE_SIZE} of 2,000 accounts" in status_line(pilot.app)

        await pilot.press("end")  # jump to the last loaded row: the next page loads
        await wait_until(pilot, lambda: table.row_count == 2 * PAGE_SIZE, what="the second page")
        assert f"1–{2 * PAGE_SIZE} of 2,000 accounts" in status_line(pilot.app)
        # pages follow on without gaps or repeats, in the same order as the service's
        with session_scope(engine) as s:
            expected = [str(r["id"]) for r in records.list_records(ACCOUNT, session=s, limit=2 * PAGE_SIZE)]
        assert [rk.value for rk in table.rows] == expected

        # scrolling to the bottom with the mouse wheel / scrollbar loads more too
        table.scroll_end(animate=False)
        await wait_until(pilot, lambda: table.row_count == 3 * PAGE_SIZE, what="the third page")


async def test_a_new_account_beyond_the_first_page_is_shown_in_its_detail(engine):
    from crm_tui.services.data import demo

    demo.generate(engine, opportunities=16_000, me="tester")
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        pilot.app.screen.query_one("#input-name", Input).value = "Zzyzx Last Company"
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AccountDetailScreen)
        assert "Zzyzx Last Company" in static_text(screen, "#detail-fields")
        await pilot.press("escape")
        await settle(pilot)
        assert "of 2,001 accounts" in status_line(pilot.app)


async def test_filtering_a_large_list_counts_in_sql(engine):
    from crm_tui.services.data import demo

    demo.generate(engine, opportunities=16_000, me="tester")
    with session_scope(engine) as s:
        expected = records.count_records(ACCOUNT, session=s, search="tx")
    assert PAGE_SIZE < expected < 2_000
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"tx", "enter")
        await settle(pilot)
        assert pilot.app.screen.table.row_count == PAGE_SIZE
        assert f"of {expected:,} accounts matching “tx”" in status_line(pilot.app)


# ---------------------------------------------------------------- failures


async def test_a_database_failure_is_reported_and_the_app_keeps_running(engine, seeded, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(records, "list_records", boom)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, AccountsScreen)
        assert any("disk on fire" in n.message for n in pilot.app._notifications)
        monkeypatch.undo()
        await pilot.press("r")
        await settle(pilot)
        assert table_names(pilot.app) == ["Acme Corporation", "Globex Inc", "Initech"]


async def test_a_missing_account_says_so(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        with session_scope(engine) as s:
            records.delete_record(ACCOUNT, session=s, record_id=seeded["Globex Inc"], actor="someone")
        await select_row(pilot, "Globex Inc")
        await pilot.press("enter")
        await settle(pilot)
        assert "account 2 not found" in static_text(pilot.app.screen, "#detail-title")
        assert any("not found" in n.message for n in pilot.app._notifications)

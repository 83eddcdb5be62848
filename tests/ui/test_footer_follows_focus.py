"""The footer shows the keys of what has focus, and fits the terminal, however it gets there: it is
rebuilt only when what it shows changes, so these prove it still changes when it should."""

from __future__ import annotations

from ui_helpers import make, settle

from crm_tui.widgets.footer import FitFooter


def footer_actions(app) -> list[str]:
    return [k.action for k in app.screen.query_one(FitFooter).query("FooterKey")]


async def test_the_footer_follows_the_focus_between_filter_box_and_list(engine, seeded):
    async with make(engine).run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        shown = footer_actions(pilot.app)
        assert "cycle_sort" in shown and "clear_or_leave" not in shown  # the list has focus
        await pilot.press("slash")
        await settle(pilot)
        shown = footer_actions(pilot.app)
        assert "clear_or_leave" in shown and "cycle_sort" not in shown  # typing: no letter keys
        await pilot.press("escape", "escape")  # clear (empty already), then back to the list
        await settle(pilot)
        shown = footer_actions(pilot.app)
        assert "cycle_sort" in shown and "clear_or_leave" not in shown
        assert "toggle_keys" in shown


async def test_the_footer_refits_when_the_terminal_narrows_and_widens(engine, seeded):
    async with make(engine).run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        wide = footer_actions(pilot.app)
        assert "switch_mode('dashboard')" in wide  # room for the area keys
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        narrow = footer_actions(pilot.app)
        footer = pilot.app.screen.query_one(FitFooter)
        assert footer.virtual_size.width <= 80
        assert len(narrow) < len(wide) and "toggle_keys" in narrow
        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        assert footer_actions(pilot.app) == wide


async def test_a_detail_screen_shows_its_keys_and_going_back_shows_the_lists(engine, seeded):
    async with make(engine).run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        shown = footer_actions(pilot.app)
        assert "back" in shown and "cycle_sort" not in shown
        await pilot.press("escape")
        await settle(pilot)
        assert "cycle_sort" in footer_actions(pilot.app)

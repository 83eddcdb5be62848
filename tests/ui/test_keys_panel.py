"""F1 shows the keys panel; F1 again or escape closes it (and escape does nothing else then)."""

from __future__ import annotations

from textual.widgets import HelpPanel
from ui_helpers import make, settle

from crm_tui.screens.opportunity_detail import OpportunityDetailScreen


def panel_shown(app) -> bool:
    return bool(app.screen.query(HelpPanel))


async def test_f1_and_escape_close_the_keys_panel(engine, seeded):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert panel_shown(app)
        await pilot.press("f1")
        await settle(pilot)
        assert not panel_shown(app)
        await pilot.press("f1")
        await settle(pilot)
        assert panel_shown(app)
        await pilot.press("escape")
        await settle(pilot)
        assert not panel_shown(app)


async def test_escape_on_a_detail_closes_the_panel_before_leaving(engine, seeded):
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES
    from crm_tui.store.db import session_scope

    with session_scope(engine) as s:
        oid = records.list_records(ENTITIES["opportunity"], session=s, limit=1)[0]["id"]
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(oid))
        await settle(pilot)
        detail = app.screen
        await pilot.press("f1")
        await settle(pilot)
        assert panel_shown(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is detail and not panel_shown(app)
        await pilot.press("escape")  # now escape is the screen's own again: back
        await settle(pilot)
        assert app.screen is not detail

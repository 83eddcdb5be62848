"""The lost-reason dialog shows the whole deal name in its title, wrapped when it is long."""

from __future__ import annotations

from textual.widgets import Label
from ui_helpers import make, settle

from crm_tui.screens.pipeline import LostReasonScreen

NAME = "Vandelay Industries plc – Cloud migration and managed services, phase two (EMEA)"


async def test_the_title_is_never_cut(engine):
    app = make(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(LostReasonScreen(NAME, ("price", "competition", "timing")))
        await settle(pilot)
        title = app.screen.query_one("#lost-title", Label)
        drawn = " ".join(title.render_line(y).text.strip() for y in range(title.size.height))
        assert " ".join(f"Why was “{NAME}” lost?".split()) == " ".join(drawn.split())

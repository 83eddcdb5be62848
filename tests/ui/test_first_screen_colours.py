"""The first screen's text is drawn in a colour that shows: Textual styled the app's first screen
before the theme's colours settled, and the Dashboard's greeting and cards drew their text in their
own background colour (invisible in the terminal, and pictured so by the snapshot test)."""

from __future__ import annotations

import pytest
from textual.widgets import Label, Static
from ui_helpers import USER, make, settle

from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope


def invisible_text(screen) -> list[str]:
    """Text on ``screen`` whose colour is its background's: "widget id: text"."""
    found = []
    for widget in screen.query(Static):
        if not widget.display or not widget.region.width or not isinstance(widget, (Static, Label)):
            continue
        for y in range(min(widget.region.height, 3)):
            for segment in widget.render_line(y):
                style = segment.style
                if segment.text.strip() and style is not None and style.color is not None \
                        and style.bgcolor is not None and style.color == style.bgcolor:
                    found.append(f"{widget.id or type(widget).__name__}: {segment.text.strip()[:30]}")
    return found


@pytest.mark.parametrize("mode", [None, "accounts", "pipeline"])
async def test_the_first_screen_draws_its_text_visibly(engine, mode):
    with session_scope(engine) as s:
        create_user(session=s, data={"username": USER, "name": "Tess Ter", "role": "admin"})
    app = make(engine, mode=mode)
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(3):
            await settle(pilot)
            await pilot.pause(0.1)
        assert invisible_text(app.screen) == []

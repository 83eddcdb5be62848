"""The header's unread count stays on screen in a narrow terminal.

The sub-title names the user and the database (on PostgreSQL a long URL with the login in it); at
80 columns the header cut it, and the unread count that followed it, off the screen: a rep told
"a lead was assigned to you" had no count left to see once the toast went.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Header
from textual.widgets._header import HeaderTitle
from ui_helpers import USER, make, wait_until

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope

LONG_SUB_TITLE = f"{USER} · postgresql+psycopg://w15_jessica:***@127.0.0.1/crm_onboarding_walk"


def header_on_screen(app) -> str:
    """The header's title line as drawn, cut to the width it has."""
    lines = []
    for header in app.screen.query(Header):
        for title in header.query(HeaderTitle):
            strips = title.render_lines(Region(0, 0, title.size.width, 1))
            lines.append("".join(strip.text for strip in strips))
    return " ".join(lines)


async def test_the_unread_count_is_visible_at_80_columns_with_a_long_database_url(engine):
    with session_scope(engine) as s:
        create_user(session=s, data={"username": USER, "name": "Tess Ter", "role": "sales"})
        create_user(session=s, data={"username": "kim", "name": "Kim Lee", "role": "admin"})
        records.create_record(ENTITIES["lead"], session=s, data={"last_name": "Chen", "owner": USER}, actor="kim")
    app = make(engine, mode=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.unread_notifications == 1, what="the unread count")
        app.screen.sub_title = LONG_SUB_TITLE
        await wait_until(pilot, lambda: "crm_onboarding" in header_on_screen(app) or "…" in header_on_screen(app),
                         what="the long sub-title drawn")
        drawn = header_on_screen(app)
        assert "1 unread" in drawn and "Dashboard" in drawn, drawn

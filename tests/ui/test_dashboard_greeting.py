"""The Dashboard greets the user by their first name (from the users table), not their login."""

from __future__ import annotations

from textual.widgets import Label
from ui_helpers import USER, make, wait_until

from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope


def _title(app) -> str:
    return str(app.screen.query_one("#dash-title", Label).render())


async def test_the_greeting_uses_the_first_name(engine):
    with session_scope(engine) as s:
        create_user(session=s, data={"username": USER, "name": "Jessica Jones", "role": "sales"})
    app = make(engine, mode=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _title(app) == "Good day, Jessica", what="the greeting by first name")


async def test_a_user_without_a_name_is_greeted_by_login(engine):
    with session_scope(engine) as s:
        create_user(session=s, data={"username": USER, "role": "sales"})
    app = make(engine, mode=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: getattr(app.screen, "_loaded", False), what="the lists")
        assert _title(app) == f"Good day, {USER}"


async def test_the_quarter_card_reads_as_people_say_it(engine):
    import datetime as dt

    from textual.widgets import Static

    today = dt.date.today()
    with session_scope(engine) as s:
        create_user(session=s, data={"username": USER, "name": "Jessica Jones", "role": "sales"})
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 48)) as pilot:
        quarter = f"Q{(today.month - 1) // 3 + 1} {today.year}"
        await wait_until(pilot, lambda: str(app.screen.query_one("#dash-quarter", Static).render()).startswith(quarter),
                         what=f"the quarter card titled {quarter}")

"""The Admin screen: an admin adds a user, changes a role and a team, deactivates a user and edits a
role rule, and the database holds each change; a sales user cannot open it."""

from __future__ import annotations

from sqlalchemy import select
from ui_helpers import make, settle, wait_until

from crm_tui.screens.admin import AdminScreen, ChoiceDialog, UserDialog
from crm_tui.services import access
from crm_tui.services import users as U
from crm_tui.store.db import session_scope
from crm_tui.store.models import User
from crm_tui.widgets.confirm import ConfirmScreen

SIZE = (160, 48)


def seed_admin(engine, role: str = "admin") -> None:
    with session_scope(engine) as s:
        U.create_user(session=s, data={"username": "tester", "name": "The Tester", "role": role})
        if role != "admin":
            U.create_user(session=s, data={"username": "boss", "role": "admin"})
        U.create_user(session=s, data={"username": "bob", "name": "Bob Rep", "role": "sales"})


def user(engine, username: str) -> dict:
    with session_scope(engine) as s:
        return next(r for r in U.user_rows(session=s) if r["username"] == username)


async def open_admin(pilot) -> AdminScreen:
    await settle(pilot)
    await pilot.press("ctrl+u")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AdminScreen) and pilot.app.screen.users,
                     what="the admin screen")
    return pilot.app.screen


async def test_an_admin_adds_a_user_changes_the_role_and_deactivates(engine):
    seed_admin(engine)
    with session_scope(engine) as s:
        U.create_team(session=s, actor=U.resolve_actor(session=s, username="tester"), name="West Coast")
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        table = screen.query_one("#admin-users")
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == ["bob", "tester"]
        # add a user with the form
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UserDialog)
        dialog.query_one("#user-username").value = "jessica"
        dialog.query_one("#user-name").value = "Jessica Lee"
        dialog.query_one("#user-email").value = "jessica@example.com"
        dialog.query_one("#user-team").value = "West Coast"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen and len(screen.users) == 3, what="the new user")
        assert user(engine, "jessica") == {**user(engine, "jessica"), "name": "Jessica Lee", "role": "sales",
                                           "email": "jessica@example.com", "team": "West Coast", "active": True}
        # change bob's role to manager (bob is the first row)
        table.move_cursor(row=0)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UserDialog)
        dialog.query_one("#user-role").value = "manager"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen and user(engine, "bob")["role"] == "manager",
                         what="bob a manager")
        # deactivate bob: No first changes nothing, then yes
        table.move_cursor(row=0)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert user(engine, "bob")["active"] is True
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: not user(engine, "bob")["active"], what="bob deactivated")
        await settle(pilot)
        assert str(table.get_row_at(0)[5]) == "no"
        # d on an inactive user reactivates them (after a yes)
        table.move_cursor(row=0)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: user(engine, "bob")["active"], what="bob active again")


async def test_an_admin_adds_a_team_and_its_members(engine):
    seed_admin(engine)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        screen.query_one("#admin-tabs").active = "tab-teams"
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        app.screen.query_one("#choice-text").value = "East"
        await pilot.press("enter")
        await wait_until(pilot, lambda: [t["name"] for t in screen.teams] == ["East"], what="the team")
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        app.screen.query_one("#choice-select").value = "bob"
        app.screen.query_one("#choice-ok").press()
        await wait_until(pilot, lambda: user(engine, "bob")["team"] == "East", what="bob in East")
        await wait_until(pilot, lambda: screen.query_one("#admin-members").row_count == 1, what="the member row")
        screen.query_one("#admin-members").focus()
        await pilot.press("x")
        await wait_until(pilot, lambda: user(engine, "bob")["team"] is None, what="bob out of East")


async def test_an_admin_edits_a_rule_and_one_key_saves_it(engine):
    seed_admin(engine)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        screen.query_one("#admin-tabs").active = "tab-roles"
        await wait_until(pilot, lambda: screen.rule_levels, what="the rules")
        assert screen.query_one("#rule-opportunity-read").value == "own"  # sales' default
        screen.query_one("#rule-opportunity-read").value = "team"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with session_scope(engine) as s:
        levels = {(r.entity, r.action): r.level for r in access.rules(session=s, role="sales")}
    assert levels[("opportunity", "read")] == "team"
    assert levels[("lead", "read")] == "own"  # untouched


async def test_a_sales_user_cannot_open_the_admin_screen(engine):
    seed_admin(engine, role="sales")
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert not isinstance(app.screen, AdminScreen)
        texts = [n.message for n in app._notifications]
        assert any("only an admin may" in t for t in texts), texts
        assert "open_admin" not in {c.action for c in app.palette_commands(app.screen)}
        # nothing changed in the database
        with session_scope(engine) as s:
            assert s.execute(select(User.role).where(User.username == "tester")).scalar() == "sales"


async def test_an_admin_finds_the_admin_screen_in_the_palette(engine):
    seed_admin(engine)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "open_admin" in {c.action for c in app.palette_commands(app.screen)}

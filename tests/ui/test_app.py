"""The app shell: factory, modes, keys, command palette, and the UI's import rules."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.command import CommandPalette
from ui_helpers import make, settle, wait_until

import crm_tui
from crm_tui.app import CRMApp, make_app, own_actions
from crm_tui.screens.account_detail import AccountDetailScreen
from crm_tui.screens.account_form import AccountFormScreen
from crm_tui.screens.accounts import AccountsScreen

SIZE = (160, 48)
PACKAGE = Path(crm_tui.__file__).parent


def test_make_app_takes_the_user_from_the_environment_when_not_given(engine):
    app = make_app(engine=engine)
    assert isinstance(app, CRMApp)
    assert app.user == "tester"  # CRM_USER, set for every test
    assert make_app(engine=engine, user="someone").user == "someone"


def test_only_working_areas_are_modes():
    assert set(CRMApp.MODES) == {"dashboard", "accounts", "leads", "contacts", "pipeline", "proposals", "forecast",
                                  "products"}
    assert CRMApp.DEFAULT_MODE == "dashboard"


def palette_names(app, screen) -> dict[str, str]:
    return {c.name: c.action for c in app.palette_commands(screen)}


async def test_every_binding_is_in_the_command_palette(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        app = pilot.app
        names = palette_names(app, app.screen)
        for expected in ("Accounts: new account", "Accounts: edit account", "Accounts: filter",
                         "Accounts: refresh", "Accounts: open account", "Accounts: sort by next column",
                         "Accounts: reverse sort order", "App: toggle dark", "App: quit", "App: go to accounts"):
            assert expected in names, expected
        # every action crm-tui binds on the screen and on the app has a palette entry, with a real name
        for node in (app.screen, app):
            for action in own_actions(node):
                assert action in names.values(), action
                assert action in type(node).PALETTE_NAMES, action
        # and nothing of Textual's plumbing (focus next, copy text) clutters it
        assert not [n for n in names if "focus" in n.lower() and "filter" not in n.lower()]

        # the detail screen and the form offer their own commands
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountDetailScreen)
        detail = palette_names(app, app.screen)
        assert {"Account: edit account", "Account: back to the list", "Account: refresh"} <= set(detail)
        assert own_actions(app.screen) <= set(detail.values())
        await pilot.press("e")
        await settle(pilot)
        form = palette_names(app, app.screen)
        assert {"Account form: save", "Account form: cancel"} <= set(form)
        assert own_actions(app.screen) <= set(form.values())


async def test_a_palette_command_runs_its_action(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="the palette")
        await pilot.press(*"new account")
        await wait_until(pilot, lambda: pilot.app.screen.query("CommandList Option") or True)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountFormScreen), what="the form")


async def test_toggle_dark(engine):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        dark = pilot.app.current_theme.dark
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert pilot.app.current_theme.dark is not dark


async def test_header_names_the_user_and_the_database(engine):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, AccountsScreen)
        assert pilot.app.screen.sub_title == "tester · ui.db"


async def test_keymap_from_config_remaps_a_binding(engine, ui_env):
    import json

    config = ui_env / "config.json"
    config.write_text(json.dumps({"keymap": {"accounts.new": "a"}}))
    async with make_app(engine=engine, user="tester", mode="accounts").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(pilot.app.screen, AccountFormScreen)


async def test_settings_read_at_start_reach_the_screens(engine, ui_env):
    from crm_tui.settings import Settings

    (ui_env / "config.json").write_text('{"stalled_days": 30}')  # not read: the caller passed settings
    app = make_app(engine=engine, user="tester", mode="dashboard", settings=Settings(stalled_days=3))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: "quiet 3+ days" in str(pilot.app.screen.query_one("#dash-stalled-title").render()),
                         what="the stalled-deals title with the settings' 3 days")


# ---------------------------------------------------------------- import rules


def _ui_files() -> list[Path]:
    return [PACKAGE / "app.py", *sorted((PACKAGE / "screens").glob("*.py")),
            *sorted((PACKAGE / "widgets").glob("*.py"))]


def test_screens_and_widgets_reach_data_only_through_services():
    """No SQL in the UI: no sqlalchemy/sqlmodel imports, no .execute(), only services and session_scope."""
    for path in _ui_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                modules = []
            for module in modules:
                root = module.split(".")[0]
                assert root not in ("sqlalchemy", "sqlmodel"), f"{path.name} imports {module}"
                if module.startswith("crm_tui.store"):
                    assert module == "crm_tui.store.db", f"{path.name} imports {module}"
                    assert [a.name for a in node.names] == ["session_scope"], f"{path.name}: {module}"
            if isinstance(node, ast.Attribute) and node.attr == "execute":
                raise AssertionError(f"{path.name} calls .execute()")


def test_app_css_lives_in_tcss_and_default_css_only_in_widgets():
    assert (PACKAGE / "app.tcss").is_file()
    for path in _ui_files():
        if path.parent.name != "widgets":
            assert "DEFAULT_CSS" not in path.read_text(encoding="utf-8"), path.name
            assert "\n    CSS =" not in path.read_text(encoding="utf-8"), path.name


def test_workers_are_threads_that_do_not_exit_the_app_on_error():
    """Every @work in the UI runs in a thread, is exclusive, and keeps the app alive on errors."""
    for path in _ui_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "work":
                kwargs = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                assert kwargs.get("thread") is True, f"{path.name}:{node.lineno}"
                assert kwargs.get("exclusive") is True, f"{path.name}:{node.lineno}"
                assert kwargs.get("exit_on_error") is False, f"{path.name}:{node.lineno}"
                assert kwargs.get("group"), f"{path.name}:{node.lineno}"


async def test_every_screen_offers_every_binding_in_the_palette(engine, seeded):
    """Each area, detail and form: every action crm-tui binds there is a "Group: verb" palette command."""
    import re

    from textual.screen import ModalScreen

    from crm_tui.screens.base import open_record
    from crm_tui.screens.contact_form import ContactFormScreen

    seen: set[str] = set()

    def check(app) -> None:
        screen = app.screen
        names = palette_names(app, screen)
        for action in own_actions(screen):
            assert action in names.values(), (type(screen).__name__, action)
        for name in names:
            assert re.fullmatch(r"[A-Z][\w ]*: [a-z0-9'][^:]*", name), (type(screen).__name__, name)
        if not isinstance(screen, ModalScreen):  # a dialog sits over a screen that has one
            assert screen.title and screen.title != "crm-tui", f"{type(screen).__name__} has no title of its own"
        seen.add(type(screen).__name__)

    async with make(engine).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        for key in ("f3", "f4", "f5", "f6", "f7", "f8", "f10", "f12", "f2"):
            await pilot.press(key)
            await settle(pilot)
            check(app)
        for entity, record_id in (("account", seeded["Acme Corporation"]), ("contact", 1), ("opportunity", 1)):
            open_record(app, entity, record_id)
            await settle(pilot)
            check(app)
            app.pop_screen()
            await settle(pilot)
        app.push_screen(ContactFormScreen(1))
        await settle(pilot)
        check(app)
    assert len(seen) == 13, seen

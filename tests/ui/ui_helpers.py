"""Helpers for the UI tests: build the app, wait on workers and conditions, read the screen."""

from __future__ import annotations

import time
from collections.abc import Callable

USER = "tester"


def make(engine, mode: str | None = "accounts"):
    """The real app; these helpers' tests start in Accounts (mode=None: the dashboard, as for the user)."""
    from crm_tui.app import make_app

    return make_app(engine=engine, user=USER, mode=mode)


async def settle(pilot) -> None:
    """Let queued messages run, then wait for every worker, then let their results land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def wait_until(pilot, condition: Callable[[], bool], *, timeout: float = 5.0, what: str = "") -> None:
    """Wait for ``condition`` (e.g. a debounce timer firing and its query landing)."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


def table_names(app) -> list[str]:
    """The Name column of the accounts table, top to bottom."""
    from crm_tui.screens.accounts import AccountsScreen

    screen = app.screen
    assert isinstance(screen, AccountsScreen), f"on {screen!r}"
    table = screen.table
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def status_line(app) -> str:
    return str(app.screen.query_one("#accounts-status").render())

"""Snapshot tests: every screen at 80×24 and 160×48 on fixed demo data, so a layout regression fails CI.

The data is the demo's (seeded, 60 deals) written as of a fixed day, and the clock is held at that
day, so the pictures do not change from one day to the next. A change that is meant to move the layout
updates them: ``pytest tests/ui/test_snapshots.py --snapshot-update``, then look at the SVGs under
``__snapshots__`` (the pytest report links a side-by-side view when one differs).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from ui_helpers import settle

from crm_tui.services.data import demo
from crm_tui.store.db import open_engine

FIXED = dt.datetime(2026, 6, 15, 9, 30, tzinfo=dt.timezone.utc)
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
ME = "alice"


@pytest.fixture
def demo_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setenv("CRM_USER", ME)
    eng = open_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with time_machine.travel(FIXED, tick=False):
        demo.generate(eng, opportunities=60, seed=7, me=ME, today=FIXED.date())
    yield eng
    eng.dispose()
    monkeypatch.delenv("TZ")
    time.tzset()


async def _loaded(pilot) -> None:
    """Settled: every worker done and the screen the same twice in a row (a busy machine lands the
    Dashboard's many loads over several frames)."""
    before = None
    for _ in range(30):
        await settle(pilot)
        now = pilot.app.export_screenshot()
        if now == before:
            return
        before = now
        await pilot.pause(0.05)


def _keys(*keys: str):
    async def run_before(pilot) -> None:
        await _loaded(pilot)
        for key in keys:
            await pilot.press(key)
            await _loaded(pilot)
        pilot.app.set_focus(None)  # no blinking cursor in the picture
        await _loaded(pilot)

    return run_before


SCREENS = [
    pytest.param(None, (), id="dashboard"),
    pytest.param("accounts", (), id="accounts"),
    pytest.param("contacts", (), id="contacts"),
    pytest.param("leads", (), id="leads"),
    pytest.param("pipeline", (), id="pipeline-board"),
    pytest.param("pipeline", ("v",), id="pipeline-list"),
    pytest.param("proposals", (), id="proposals"),
    pytest.param("forecast", (), id="forecast"),
    pytest.param("products", (), id="products"),
    pytest.param("accounts", ("f6",), id="today"),
    pytest.param("accounts", ("f11",), id="notifications"),
    pytest.param("accounts", ("enter",), id="account-detail"),
    pytest.param("accounts", ("f1",), id="keys-panel"),
]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("mode", "keys"), SCREENS)
def test_screen_layout(snap_compare, demo_engine, mode, keys, size):
    from crm_tui.app import make_app

    with time_machine.travel(FIXED, tick=False):
        app = make_app(engine=demo_engine, user=ME, mode=mode)
        assert snap_compare(app, terminal_size=size, run_before=_keys(*keys))

"""The app keeps Python's full garbage collections off the keys while it runs (CRMApp.freeze_heap), and
leaves the collector as it found it when it ends (a test run or an embedding program goes on as before)."""

from __future__ import annotations

import gc

from ui_helpers import make, settle

from crm_tui.app import CRMApp


async def test_the_collector_is_tuned_while_the_app_runs_and_restored_after(engine, seeded):
    before = gc.get_threshold()
    app = make(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert gc.get_threshold() == CRMApp.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what was loaded at the start is left out of full collections
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0

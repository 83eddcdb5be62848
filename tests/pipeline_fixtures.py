"""Fixtures the pipeline tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def restore_stages(engine):
    """Stage tests change stages; on PostgreSQL the stages table outlives the test, so put it back."""
    yield
    from sqlalchemy import text

    from crm_tui.store.models import DEFAULT_STAGES

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM activities WHERE opportunity_id IN "
                          "(SELECT id FROM opportunities WHERE stage_id > 6)"))
        conn.execute(text("DELETE FROM opportunities WHERE stage_id > 6"))
        conn.execute(text("DELETE FROM stages WHERE id > 6"))
        for i, (name, prob, pos, _won, _lost, cat) in enumerate(DEFAULT_STAGES, start=1):
            conn.execute(text("UPDATE stages SET name=:n, probability=:p, position=:pos, forecast_category=:c "
                              "WHERE id=:i"), {"i": i, "n": name, "p": prob, "pos": pos, "c": cat})

"""A timeline entry whose text is longer than the timeline shows says it was cut.

Converting a lead writes one system activity that lists everything it created; the timeline shows
an activity's first 200 characters, and cut there the line ended mid-word ("its buying group as ch")
with nothing to tell the reader there was more.
"""

from __future__ import annotations

import datetime as dt

from crm_tui.services.engagement.timeline import TimelineItem
from crm_tui.widgets.timeline import render_item

WHEN = dt.datetime(2026, 12, 4, 16, 43, tzinfo=dt.timezone.utc)


def test_a_cut_body_ends_with_an_ellipsis():
    body = ("created the account Pacific Bloom Florists; created the contact Maya Ortiz; created the "
            "opportunity Pacific Bloom Florists – new business at Qualified (25%); added Maya Ortiz to its "
            "buying group as champion")
    assert len(body) > 200
    text = render_item(TimelineItem(when=WHEN, kind="activity", type="system", who="jessica",
                                    title="Lead converted", body=body)).plain
    shown = text.split("\n", 1)[1].strip()
    assert shown.endswith("…"), shown
    assert body.startswith(shown[:-1])


def test_a_short_body_is_shown_whole_without_an_ellipsis():
    text = render_item(TimelineItem(when=WHEN, kind="activity", type="note", who="jessica",
                                    title="Checked their website", body="Three cafes in Seattle")).plain
    assert text.endswith("    Three cafes in Seattle")

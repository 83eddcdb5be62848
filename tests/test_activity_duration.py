"""A scheduled call or meeting has a duration: `crm activity add --duration`, on both backends; my day
lists it at its time."""

from __future__ import annotations

import datetime as dt
import json

from crm_tui.services.engagement.my_day import my_day
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import session_scope

ME = "tester"


def test_activity_add_takes_a_duration_and_my_day_lists_it(cli, engine):
    today = dt.date.today().isoformat()
    r = cli("activity", "add", "Demo", "--type", "meeting", "--due", f"{today} 14:00", "--duration", "45")
    assert r.exit_code == 0, r.stderr
    r = cli("activity", "add", "Call Ana", "--type", "call", "--due", f"{today} 09:30")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(cli("activity", "list", "--format", "json").stdout)
    assert {row["subject"]: row["duration_minutes"] for row in rows} == {"Demo": 45, "Call Ana": None}
    r = cli("activity", "add", "Too long", "--type", "call", "--due", f"{today} 10:00", "--duration", "0")
    assert r.exit_code == 1 and "duration" in r.stderr
    with session_scope(engine) as s:
        day = my_day(session=s, actor=resolve_actor(session=s, username=ME))
    assert [a.line() for a in day] == ["09:30 Call — Call Ana", "14:00 Meeting — Demo"]
    assert [a.duration_minutes for a in day] == [None, 45]

"""The daily summary reads like the app: dates by the one formatter, a task says what it is about,
and a long list shows its first rows and counts the rest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from crm_tui.services import records, users
from crm_tui.services.engagement import summary
from crm_tui.services.engagement.activities import ENTITY as ACTIVITY
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity, User


def test_summary_caps_stalled_deals_and_names_what_a_task_is_about(engine):
    today = dt.date.today()
    with session_scope(engine) as s:
        users.create_user(session=s, data={"username": "tester", "name": "Tess Ter"})
        account = records.create_record(ENTITIES["account"], session=s, actor="tester", data={"name": "Keystone Robotics"})["id"]
        deals = [records.create_record(ENTITIES["opportunity"], session=s, actor="tester", data={
            "name": f"Stale deal {i:02d}", "account": account, "amount": "1000", "stage": "Qualified",
            "expected_close": (today + dt.timedelta(days=30)).isoformat()})["id"] for i in range(13)]
        records.create_record(ACTIVITY, session=s, actor="tester", data={
            "subject": "Send the contract", "type": "task", "opp": deals[0],
            "due": dt.datetime.now().strftime("%Y-%m-%d 00:01")})
        long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)
        s.execute(update(Opportunity.__table__).values(stage_changed_at=long_ago, created_at=long_ago))
    with session_scope(engine) as s:
        user = s.execute(select(User).where(User.username == "tester")).scalar_one()
        built = summary.build(session=s, user=user, today=today)
        text = summary.render_text(built)
        page = summary.render_html(built)

    assert f"Daily summary for Tess Ter (tester), {today:%A} {today.day} {today:%B %Y}\n" in text
    assert "Send the contract — Keystone Robotics" in text
    assert " 00:01 " in text and f"{today:%Y-%m-%d}" not in text  # "4 Dec 00:01", not ISO
    # 12 stalled: the deal with an open task is being worked on
    stalled = text.split("Stalled deals, untouched 14+ days (12), longest untouched first:\n")[1].split("\n\n")[0]
    lines = stalled.splitlines()
    assert len(lines) == summary.SHOWN + 1 and all("Stale deal" in line and "closes " in line for line in lines[:-1])
    assert lines[-1] == "  … and 2 more"
    fix = text.split("Data to fix (")[1].split("\n\n")[0].splitlines()
    assert len(fix) == summary.SHOWN + 2 and fix[-1].startswith("  … and ")  # the title, 10 rows, the rest counted
    assert "… and 2 more" in page

"""`crm lead ...` and `crm activity today`: output formats, conversion, refusals as one-line errors."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from crm_tui.store.db import session_scope
from crm_tui.store.models import Account, Contact, Lead, Opportunity


def _counts(url):
    from crm_tui.store.db import open_engine

    engine = open_engine(url)
    try:
        with session_scope(engine) as s:
            return tuple(s.execute(select(func.count()).select_from(m)).scalar()
                         for m in (Account, Contact, Opportunity, Lead))
    finally:
        engine.dispose()


def test_lead_add_flags_duplicates_and_lists_in_every_format(cli):
    r = cli("lead", "add", "--first-name", "Ada", "--last-name", "Byron", "--company", "Engines Ltd",
            "--email", "ada@engines.io", "--source", "Referral", "--next-follow-up", "today 10:00")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == "1"
    r = cli("lead", "add", "--last-name", "Lovelace", "--company", "ENGINES, Inc.")
    assert r.exit_code == 0
    assert "warning: lead 2 may duplicate lead 1 (Ada Byron (Engines Ltd)): same company name" in r.stderr
    r = cli("lead", "list", "--follow-up", "today", "--format", "json")
    assert [row["id"] for row in json.loads(r.stdout)] == [1]
    r = cli("lead", "list", "--format", "ids", "--sort", "id")
    assert r.stdout.split() == ["1", "2"]
    r = cli("lead", "list", "--source", "referral", "--format", "csv")
    assert r.stdout.splitlines()[0].startswith("id,name,") and len(r.stdout.splitlines()) == 2
    r = cli("lead")
    assert "Lovelace" in r.stdout and "Byron" in r.stdout


def test_lead_convert_then_refuse_twice(cli, db_url):
    cli("lead", "add", "--first-name", "Ada", "--last-name", "Byron", "--company", "Engines Ltd")
    cli("account", "add", "Other Co")
    r = cli("lead", "convert", "1", "--amount", "5000", "--close-date", "2027-01-31", "--format", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["account_created"] is True and out["opportunity_id"] == 1
    assert "created account" in r.stderr and "converted lead 1" in r.stderr
    before = _counts(db_url)
    assert "cannot be converted twice" in cli.error(cli("lead", "convert", "1"))
    assert _counts(db_url) == before
    r = cli("opp", "show", "1", "--format", "json")
    opp = json.loads(r.stdout)
    assert (opp["stage"], opp["probability"], opp["amount"], opp["expected_close"]) == (
        "Qualified", 25, "5000.00", "2027-01-31")
    r = cli("opp", "timeline", "1", "--format", "json")
    assert any("converted" in row["title"] for row in json.loads(r.stdout))


def test_bad_input_is_one_line_and_writes_nothing(cli, db_url):
    cli("lead", "add", "--last-name", "Junky", "--status", "junk")
    before = _counts(db_url)
    assert "junk" in cli.error(cli("lead", "convert", "1"))
    assert "next_follow_up" in cli.error(cli("lead", "add", "--last-name", "X", "--next-follow-up", "2026-02-30"))
    assert _counts(db_url) == before
    assert cli("lead", "update", "1", "--status", "new").exit_code == 0
    assert "close_date" in cli.error(cli("lead", "convert", "1", "--close-date", "someday"))
    assert _counts(db_url) == before
    cli("contact", "add", "--last-name", "Boss")
    cli("contact", "add", "--last-name", "Report", "--reports-to", "1")
    assert "loop" in cli.error(cli("contact", "update", "1", "--reports-to", "2"))


def test_activity_today(cli):
    cli("activity", "add", "Call back", "--type", "task", "--due", "today 23:59")
    cli("activity", "add", "Late", "--type", "task", "--due", "yesterday 09:00")
    cli("activity", "add", "Later", "--type", "task", "--due", "today+3d")
    r = cli("activity", "today", "--format", "json")
    rows = json.loads(r.stdout)
    assert [(row["subject"], row["overdue"]) for row in rows] == [("Late", True), ("Call back", False)]
    assert cli("activity", "done", "1").exit_code == 0
    r = cli("activity", "today", "--format", "ids")
    assert r.stdout.split() == ["2"]

"""Migration 0006: the change log is found by record id, taggings are keyed (entity, record, tag).

What a user would notice if it went wrong: tags or history gone after upgrading, a
record's history mixed with another entity's, the dashboard missing a lead reassigned
to them, or a bulk untag logging records it did not untag.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import func, select, text

from crm_tui.actor import Actor
from crm_tui.services import records
from crm_tui.services.data import bulk
from crm_tui.services.records import new_batch_id
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import dashboard, leads
from crm_tui.store import db as store_db
from crm_tui.store.db import session_scope
from crm_tui.store.models import Change

ME = "tester"


def test_upgrade_from_0005_keeps_tags_and_history(blank_url):
    old = store_db.make_engine(blank_url)
    store_db.upgrade(old, "0005_forecast")
    stamp = "2026-01-02 03:04:05"
    with old.begin() as conn:
        conn.execute(text("INSERT INTO tags (id, name) VALUES (1, 'vip'), (2, 'q1_priority')"))
        conn.execute(text(
            "INSERT INTO accounts (id, name, status, currency, lifetime_value_minor, version, created_at, updated_at) "
            "VALUES (7, 'Müller Logistics GmbH', 'active', 'EUR', 0, 1, :t, :t)"), {"t": stamp})
        conn.execute(text("INSERT INTO taggings (tag_id, entity, record_id, created_at) VALUES "
                          "(1, 'account', 7, :t), (2, 'account', 7, :t), (1, 'opportunity', 7, :t)"), {"t": stamp})
        conn.execute(text(
            "INSERT INTO changes (entity, record_id, field, old_value, new_value, actor, changed_at, batch_id) VALUES "
            "('account', 7, 'name', 'Muller', 'Müller Logistics GmbH', 'ana', :t, 'b1'), "
            "('opportunity', 7, 'name', 'x', 'y', 'ana', :t, 'b2')"), {"t": stamp})
    old.dispose()

    engine = store_db.open_engine(blank_url)
    try:
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        with session_scope(engine) as s:
            tagged = s.execute(text("SELECT entity, record_id, tag_id FROM taggings ORDER BY 1, 2, 3")).all()
            assert [tuple(r) for r in tagged] == [("account", 7, 1), ("account", 7, 2), ("opportunity", 7, 1)]
            # the account's history holds its own change only, not the opportunity's with the same id
            history = records.history(session=s, entity="account", record_id=7)
            assert [(h["field"], h["new_value"]) for h in history] == [("name", "Müller Logistics GmbH")]
            # a tag filter still finds the account, and the key still refuses a duplicate tagging
            acc = ENTITIES["account"]
            assert records.count_records(acc, session=s, where="tag=q1_priority") == 1
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'taggings'")).scalar()
                assert "WITHOUT ROWID" in ddl
                plan = " ".join(str(r[-1]) for r in conn.execute(text(
                    "EXPLAIN QUERY PLAN SELECT * FROM changes WHERE entity = 'account' AND record_id = 7")))
                assert "ix_changes_record" in plan
    finally:
        engine.dispose()


def test_untag_logs_exactly_the_records_it_untags(engine):
    """Removing a tag from a selection where only some records carry it: one Change row per
    record that lost the tag, other tags and other records' tags untouched."""
    acc = ENTITIES["account"]
    with session_scope(engine) as s:
        ids = [records.create_record(acc, session=s, data={"name": f"Acme {i}"}, actor=ME)["id"] for i in range(6)]
    with session_scope(engine) as s:
        bulk.tag(acc, session=s, tag="vip", add=True, actor=ME, ids=ids[:4])
        bulk.tag(acc, session=s, tag="renewal", add=True, actor=ME, ids=ids)
    with session_scope(engine) as s:
        result = bulk.tag(acc, session=s, tag="vip", add=False, actor=ME, ids=ids[2:])
    assert (result.matched, result.affected) == (4, 2)
    with session_scope(engine) as s:
        logged = s.execute(select(Change.record_id, Change.field, Change.old_value, Change.new_value)
                           .where(Change.batch_id == result.batch_id).order_by(Change.record_id)).all()
        assert [tuple(r) for r in logged] == [(ids[2], "tag", "vip", None), (ids[3], "tag", "vip", None)]
        assert records.count_records(acc, session=s, where="tag=vip") == 2
        assert records.count_records(acc, session=s, where="tag=renewal") == 6
    with session_scope(engine) as s:
        bulk.undo(session=s, batch_id=result.batch_id, actor=ME)
    with session_scope(engine) as s:
        assert records.count_records(acc, session=s, where="tag=vip") == 4


def test_dashboard_lists_a_lead_reassigned_to_me_yesterday(engine):
    """An old lead moved to alice since yesterday is one of her new leads; an old lead that was
    always hers is not (found through the change log's record index)."""
    today = dt.date.today()
    with session_scope(engine) as s:
        for name in ("alice", "bob"):
            records.ensure_user(s, name)
        moved, _ = leads.create_lead(session=s, data={"first_name": "Moved", "last_name": "Lead", "owner": "bob"},
                                     actor=ME)
        kept, _ = leads.create_lead(session=s, data={"first_name": "Old", "last_name": "Lead", "owner": "alice"},
                                    actor=ME)
    with session_scope(engine) as s:
        s.execute(text("UPDATE leads SET created_at = :t"), {"t": dt.datetime(2020, 1, 1)})
        records.update_record(leads.ENTITY, session=s, record_id=moved["id"], data={"owner": "alice"}, actor=ME)
    with session_scope(engine) as s:
        shown = [row["id"] for row in dashboard.lists(session=s, actor=Actor.unknown("alice"), today=today).new_leads]
        assert shown == [moved["id"]]
        assert dashboard.lists(session=s, actor=Actor.unknown("bob"), today=today).new_leads == []
        assert s.execute(select(func.count()).select_from(Change).where(
            Change.entity == "lead", Change.record_id == moved["id"], Change.field == "owner_id")).scalar() == 1


def test_batch_ids_sort_by_time():
    before = time.time_ns() // 1_000_000
    first = new_batch_id()
    time.sleep(0.002)
    second = new_batch_id()
    after = time.time_ns() // 1_000_000
    assert len(first) == len(second) == 32 and int(first, 16) >= 0
    assert before <= int(first[:12], 16) <= int(second[:12], 16) <= after
    assert first < second

"""Bulk tag / update / delete over a selection, and undo."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from support import one_line_error

from crm_tui.errors import Conflict, ValidationError
from crm_tui.services import records
from crm_tui.services.data import bulk
from crm_tui.services.registry import ENTITIES
from crm_tui.store.models import Change, Tagging

ACC, OPP = ENTITIES["account"], ENTITIES["opportunity"]


@pytest.fixture
def accounts_with_deals(engine):
    with Session(engine) as s:
        ids = []
        for i in range(12):
            a = records.create_record(ACC, session=s, actor="tester", data={
                "name": f"Acc {i}", "industry": "Technology" if i % 2 == 0 else "Food", "state": "CA"})
            ids.append(a["id"])
            records.create_record(OPP, session=s, actor="tester", data={
                "name": f"Deal {i}", "account": a["id"], "amount": str(10000 * i), "stage": "Lead"})
        s.commit()
    return ids


def snapshot(engine, table):
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(table).order_by(table.c.id)))


def count(engine, stmt) -> int:
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


def test_tag_add_remove_and_undo(engine, accounts_with_deals):
    with Session(engine) as s:
        r = bulk.tag(ACC, session=s, tag="hot", add=True, actor="tester", where="industry=Technology")
        s.commit()
    assert (r.matched, r.affected) == (6, 6) and r.batch_id
    with Session(engine) as s:
        assert records.count_records(ACC, session=s, where="tag=hot") == 6
        # adding again changes nothing and makes no batch
        again = bulk.tag(ACC, session=s, tag="HOT", add=True, actor="tester", where="state=CA")
        assert (again.matched, again.affected) == (12, 6)
        s.commit()
    assert count(engine, select(func.count()).select_from(Change.__table__)
                 .where(Change.__table__.c.batch_id == r.batch_id)) == 6
    with Session(engine) as s:
        bulk.undo(session=s, batch_id=again.batch_id, actor="tester")
        bulk.undo(session=s, batch_id=r.batch_id, actor="tester")
        s.commit()
        assert records.count_records(ACC, session=s, where="tag=hot") == 0
    with Session(engine) as s:
        bulk.tag(ACC, session=s, tag="x", add=True, actor="tester", ids=accounts_with_deals[:3])
        rem = bulk.tag(ACC, session=s, tag="x", add=False, actor="tester", where="id<=2")
        s.commit()
        assert records.count_records(ACC, session=s, where="tag=x") == 1
        bulk.undo(session=s, batch_id=rem.batch_id, actor="tester")
        s.commit()
        assert records.count_records(ACC, session=s, where="tag=x") == 3


def test_update_and_undo_restore_exactly(engine, accounts_with_deals):
    before = snapshot(engine, OPP.table)
    with Session(engine) as s:
        r = bulk.update_where(OPP, session=s, data={"next_step": "Call CFO", "stage": "Proposal"}, actor="tester",
                              where="amount>=50000")
        s.commit()
    assert r.affected == 7
    with Session(engine) as s:
        rows = records.list_records(OPP, session=s, where="amount>=50000")
        assert {(x["stage"], x["probability"], x["next_step"], x["version"]) for x in rows} == {
            ("Proposal", 50, "Call CFO", 2)}
        assert records.count_records(OPP, session=s, where="stage=Lead") == 5
        bulk.undo(session=s, batch_id=r.batch_id, actor="tester")
        s.commit()
    after = snapshot(engine, OPP.table)
    # everything but version and updated_at is back
    def strip(rows):
        return [tuple(v for i, v in enumerate(r) if OPP.table.columns.keys()[i] not in ("version", "updated_at"))
                for r in rows]
    assert strip(after) == strip(before)


def test_undo_refuses_when_records_changed_since(engine, accounts_with_deals):
    with Session(engine) as s:
        r = bulk.update_where(ACC, session=s, data={"status": "active"}, actor="tester", where="industry=Food")
        s.commit()
    with Session(engine) as s:
        # another field of a batch record: does not block the undo (a dry run checks it)
        records.update_record(ACC, session=s, record_id=accounts_with_deals[3], data={"city": "Fresno"}, actor="tester")
        s.commit()
        assert bulk.undo(session=s, batch_id=r.batch_id, actor="tester", dry_run=True).records == 6
        # the field the batch changed: blocks it
        records.update_record(ACC, session=s, record_id=accounts_with_deals[1], data={"status": "churned"}, actor="tester")
        s.commit()
    with Session(engine) as s, pytest.raises(Conflict) as info:
        bulk.undo(session=s, batch_id=r.batch_id, actor="tester")
    assert f"account {accounts_with_deals[1]} changed since" in str(info.value)
    with Session(engine) as s:
        # nothing was undone: five still active, the one changed since is churned
        assert records.count_records(ACC, session=s, where="status=active") == 5


def test_delete_and_undo(engine, accounts_with_deals):
    with Session(engine) as s, pytest.raises(Conflict, match="still have 6 opportunities"):
        bulk.delete_where(ACC, session=s, actor="tester", where="industry=Food")
    before = snapshot(engine, OPP.table)
    with Session(engine) as s:
        bulk.tag(OPP, session=s, tag="gone", add=True, actor="tester", where="name~'Deal 1'")
        s.commit()
        r = bulk.delete_where(OPP, session=s, actor="tester", where="name~'Deal 1'")
        s.commit()
    assert r.affected == 3  # Deal 1, Deal 10, Deal 11
    assert count(engine, select(func.count()).select_from(Tagging.__table__)) == 0
    with Session(engine) as s:
        bulk.undo(session=s, batch_id=r.batch_id, actor="tester")
        s.commit()
    assert snapshot(engine, OPP.table) == before
    with Session(engine) as s:
        assert records.count_records(OPP, session=s, where="tag=gone") == 3


def test_bad_input_writes_nothing(engine, accounts_with_deals):
    with Session(engine) as s:
        with pytest.raises(ValidationError, match="status"):
            bulk.update_where(ACC, session=s, data={"status": "bogus"}, actor="tester", where="state=CA")
        with pytest.raises(ValidationError, match="not found"):
            bulk.tag(ACC, session=s, tag="t", add=True, actor="tester", ids=[1, 999999])
        with pytest.raises(ValidationError, match="closing stage"):
            bulk.update_where(OPP, session=s, data={"stage": "Won"}, actor="tester", where="id=1")
        s.rollback()
    assert count(engine, select(func.count()).select_from(Tagging.__table__)) == 0
    with Session(engine) as s:
        assert records.count_records(ACC, session=s, where="status=prospect") == 12


def test_cli_pipe_ids_dry_run_and_undo(cli, accounts_with_deals):
    ids = cli("opp", "list", "--where", "amount>50000", "--format", "ids")
    assert ids.exit_code == 0 and len(ids.stdout.split()) == 6
    dry = cli("tag", "add", "q1_priority", "--entity", "opp", "--ids", "-", "--dry-run", input=ids.stdout)
    assert dry.exit_code == 0, dry.stderr
    assert "would tag q1_priority 6 of 6" in dry.stderr and dry.stdout == ""
    assert cli("opp", "list", "--where", "tag=q1_priority", "--format", "ids").stdout == ""
    done = cli("tag", "add", "q1_priority", "--entity", "opp", "--ids", "-", input=ids.stdout)
    assert done.exit_code == 0 and done.stdout == ""
    batch = re.search(r"batch ([0-9a-f]{32})", done.stderr).group(1)
    assert sorted(cli("opp", "list", "--where", "tag=q1_priority", "--format", "ids").stdout.split()) == sorted(
        ids.stdout.split())
    upd = cli("update", "opp", "--where", "tag=q1_priority", "--set", "next_step=Demo")
    assert upd.exit_code == 0, upd.stderr
    upd_batch = re.search(r"batch ([0-9a-f]{32})", upd.stderr).group(1)
    again = cli("update", "opp", "--where", "tag=q1_priority", "--set", "next_step=Close")
    assert again.exit_code == 0
    refused = one_line_error(cli("undo", upd_batch))  # next_step changed again since
    assert "changed since" in refused
    # the tag batch touched only tags: the updates do not block it
    assert cli("undo", batch).exit_code == 0
    assert cli("opp", "list", "--where", "tag=q1_priority", "--format", "ids").stdout == ""
    # errors are one line, nothing written
    assert "is not one of" in one_line_error(cli("update", "account", "--where", "state=CA", "--set", "status=x"))
    assert "--yes" in one_line_error(cli("delete", "opp", "--where", "id=1"))
    assert "unknown field" in one_line_error(cli("tag", "add", "x", "--entity", "opp", "--where", "nope=1"))
    assert "not found" in one_line_error(cli("undo", "deadbeef"))

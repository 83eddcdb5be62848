"""`crm import` is one batch: every record it creates gets a Change row with the whole record, the records
it updates get theirs, and `crm undo BATCH` takes it all back (refusing, naming the records, when one was
changed since or has dependents). SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select, text

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.models import Change

ACC = ENTITIES["account"]


def table(engine, name: str) -> list[tuple]:
    """Every row of a table, every column, in id order."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY id"))]


def count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def batch_of(result) -> str:
    """The batch id the import printed, checked to come with its undo hint."""
    line = result.stderr.strip().splitlines()[-1]
    batch = re.search(r"batch ([0-9a-f]{32})", line).group(1)
    assert f"(crm undo {batch})" in line
    return batch


ACCOUNTS = ("name,industry,phone,employees,created\n"
            "Acme,Retail,+1 555 0100,12,2019-03-04\n"
            "Globex,Energy,,,\n"
            "\"Zürich \"\"Labs\"\"\",Technology,,7,2020-01-02T03:04:05+00:00\n")


def test_import_then_undo_leaves_the_table_exactly_as_it_was(cli, engine, tmp_path):
    assert cli("account", "add", "Already Here", "--industry", "Food").exit_code == 0
    before = table(engine, "accounts")
    result = cli("import", "account", write(tmp_path / "a.csv", ACCOUNTS), "--map", "created=created_at")
    assert result.exit_code == 0, result.stderr
    batch = batch_of(result)
    assert "imported: 3 new accounts, 0 updated, 0 unchanged; batch" in result.stderr
    assert count(engine, "SELECT count(*) FROM accounts") == 4
    # each new record is logged whole, as a deleted one is: the same text as records.snapshot_text
    with engine.connect() as conn:
        logged = conn.execute(select(Change.__table__).where(Change.__table__.c.batch_id == batch)
                              .order_by(Change.__table__.c.id)).mappings().all()
        assert [(c["record_id"], c["field"], c["old_value"], c["entity"]) for c in logged] == [
            (2, "*", None, "account"), (3, "*", None, "account"), (4, "*", None, "account")]
        for c in logged:
            row = conn.execute(select(ACC.table).where(ACC.table.c.id == c["record_id"])).mappings().one()
            assert c["new_value"] == records.snapshot_text(dict(row))
    assert json.loads(logged[2]["new_value"])["name"] == 'Zürich "Labs"'
    history = cli("account", "history", "2", "--format", "json")
    assert history.exit_code == 0
    assert [(h["field"], h["old_value"], h["batch_id"]) for h in json.loads(history.stdout)] == [("*", None, batch)]

    undone = cli("undo", batch)
    assert undone.exit_code == 0, undone.stderr
    assert f"undid batch {batch}: removed the 3 accounts it created; batch " in undone.stderr
    assert table(engine, "accounts") == before
    # the undo is in the log too: each record deleted, whole
    assert count(engine, "SELECT count(*) FROM changes WHERE field = '*' AND new_value IS NULL "
                         f"AND old_value IS NOT NULL AND batch_id <> '{batch}'") == 3
    # and the batch cannot be undone twice
    assert "changed since" in cli.error(cli("undo", batch))
    assert table(engine, "accounts") == before


def test_an_import_that_creates_and_updates_is_undone_in_one_go(cli, engine, tmp_path):
    assert cli("account", "add", "Acme", "--industry", "Retail", "--phone", "+1 555 0100").exit_code == 0
    before = table(engine, "accounts")
    result = cli("import", "account", write(tmp_path / "a.csv", "name,industry\nACME,Energy\nGlobex,Energy\n"),
                 "--match", "name")
    assert result.exit_code == 0, result.stderr
    assert "imported: 1 new account, 1 updated, 0 unchanged; batch" in result.stderr
    batch = batch_of(result)
    assert count(engine, "SELECT count(DISTINCT batch_id) FROM changes") == 1
    assert cli("undo", "--dry-run", batch).stderr.strip().endswith("can be undone (2 accounts)")
    undone = cli("undo", batch)
    assert undone.exit_code == 0, undone.stderr
    assert "removed the 1 account it created, restored 1 account" in undone.stderr
    after = table(engine, "accounts")
    cols = list(ACC.table.columns.keys())
    def strip(rows):
        return [tuple(v for c, v in zip(cols, r) if c not in ("version", "updated_at")) for r in rows]
    assert strip(after) == strip(before)  # the update's undo is an update: version and updated_at move on
    assert [r[cols.index("industry")] for r in after] == ["Retail"]


def test_a_dry_run_or_a_refused_import_makes_no_batch(cli, engine, tmp_path):
    path = write(tmp_path / "a.csv", "name\nAcme\n")
    dry = cli("import", "account", path, "--dry-run")
    assert dry.exit_code == 0 and "batch" not in dry.stderr
    bad = write(tmp_path / "b.csv", "name,status\nAcme,prospect\nGlobex,bogus\n")
    assert "nothing written" in cli.error(cli("import", "account", bad))
    unchanged = cli("account", "add", "Acme")
    assert unchanged.exit_code == 0
    same = cli("import", "account", path, "--match", "name")
    assert same.exit_code == 0 and "0 new accounts, 0 updated, 1 unchanged" in same.stderr
    assert "batch" not in same.stderr
    assert count(engine, "SELECT count(*) FROM changes") == 0


def test_undo_is_refused_when_an_imported_record_was_changed_since(cli, engine, tmp_path):
    result = cli("import", "account", write(tmp_path / "a.csv", ACCOUNTS))
    batch = batch_of(result)
    assert cli("account", "update", "2", "--phone", "+44 20 7946 0000").exit_code == 0
    before = table(engine, "accounts")
    line = cli.error(cli("undo", batch))
    assert line.startswith(f"error: cannot undo batch {batch}: account 2 changed since (in batch ")
    assert table(engine, "accounts") == before
    # a change that left no Change row is found too: the record differs from what the import logged
    again = batch_of(cli("import", "account", write(tmp_path / "b.csv", "name\nInitech\nHooli\n")))
    with engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET city = 'Basel' WHERE name = 'Hooli'"))
    before = table(engine, "accounts")
    assert cli.error(cli("undo", again)) == f"error: cannot undo batch {again}: account 5 changed since"
    assert table(engine, "accounts") == before


def test_undo_of_accounts_is_refused_while_imported_contacts_point_at_them(cli, engine, tmp_path):
    accounts = cli("import", "account", write(tmp_path / "a.csv", ACCOUNTS))
    account_batch = batch_of(accounts)
    contacts = cli("import", "contact", write(tmp_path / "c.csv", "last_name,account\nLee,Acme\nKim,Acme\nPark,3\n"))
    assert contacts.exit_code == 0, contacts.stderr
    contact_batch = batch_of(contacts)
    before = {name: table(engine, name) for name in ("accounts", "contacts", "changes")}
    line = cli.error(cli("undo", account_batch))
    assert line == (f"error: cannot undo batch {account_batch}: accounts it created still have 3 contacts "
                    "(account 1, 3); delete or move them first")
    assert {name: table(engine, name) for name in before} == before
    # the contacts first, then the accounts
    assert cli("undo", contact_batch).exit_code == 0
    assert count(engine, "SELECT count(*) FROM contacts") == 0
    assert cli("undo", account_batch).exit_code == 0
    assert count(engine, "SELECT count(*) FROM accounts") == 0


def test_undo_removes_the_tags_of_the_records_it_deletes(cli, engine, tmp_path):
    batch = batch_of(cli("import", "account", write(tmp_path / "a.csv", ACCOUNTS)))
    with engine.begin() as conn:  # a tag set without a Change row (older data, a direct write)
        conn.execute(text("INSERT INTO tags (name) VALUES ('vip')"))
        conn.execute(text("INSERT INTO taggings (tag_id, entity, record_id, created_at) "
                          "SELECT id, 'account', 2, CURRENT_TIMESTAMP FROM tags WHERE name = 'vip'"))
    undone = cli("undo", batch)
    assert undone.exit_code == 0, undone.stderr
    assert count(engine, "SELECT count(*) FROM taggings") == 0
    assert count(engine, "SELECT count(*) FROM accounts") == 0
    assert count(engine, "SELECT count(*) FROM changes WHERE field = 'tag' AND record_id = 2 "
                         "AND old_value = 'vip' AND new_value IS NULL") == 1


def test_a_taken_unique_value_is_one_line_and_writes_nothing(cli, engine, tmp_path):
    assert cli("product", "add", "S-1", "--name", "Widget").exit_code == 0
    line = cli.error(cli("import", "product", write(tmp_path / "p.csv", "sku,name\nS-2,Gadget\nS-1,Again\n")))
    assert line.startswith("error: cannot import products: ") and line.endswith("; nothing written")
    assert count(engine, "SELECT count(*) FROM products") == 1


def test_an_imported_deal_reads_as_created_in_its_history(cli, engine, tmp_path):
    from sqlmodel import Session

    from crm_tui.services.sales import pipeline

    result = cli("import", "opp", write(tmp_path / "o.csv", "name,amount\nBig deal,1000\n"))
    assert result.exit_code == 0, result.stderr
    with Session(engine) as s:
        assert [h["what"] for h in pipeline.readable_history(session=s, opportunity_id=1)] == ["opportunity created"]

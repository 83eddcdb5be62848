"""Selections of many records: ``--where 'id in (...)'`` with thousands of ids (SQLite refuses an
expression tree deeper than 1000, which an OR chain of ~1000 comparisons reaches) and ``--ids -``
with tens of thousands of ids, for list, export, tag, update and delete, on every backend."""

from __future__ import annotations

import json

import pytest
from many_rows import account_ids, seed_accounts
from sqlalchemy import text

from crm_tui.services.where import _BUILDERS as FILTERABLE

MANY = 1500  # well past the ~996 ids that used to fail
HUGE = 50_000


def _in_list(ids) -> str:
    return ",".join(map(str, ids))


@pytest.mark.parametrize("entity", sorted(FILTERABLE))
def test_long_id_list_in_where_compiles_for_every_entity(cli, entity):
    where = f"id in ({_in_list(range(1, MANY + 1))})"
    listed = cli(entity, "list", "--where", where, "--format", "ids")
    assert listed.exit_code == 0, listed.stderr
    exported = cli("export", entity, "--where", where, "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    assert json.loads(exported.stdout) == []
    negated = cli(entity, "list", "--where", f"id not in ({_in_list(range(1, MANY + 1))})", "--format", "ids")
    assert negated.exit_code == 0, negated.stderr


def test_long_in_lists_select_exactly_their_records(cli, engine):
    seed_accounts(engine, 2000)
    ids = account_ids(engine)
    chosen = sorted(set(ids[:1400:2]) | set(ids[-800:]))  # 1,500 ids
    where = f"id in ({_in_list(chosen)})"
    listed = cli("account", "list", "--where", where, "--format", "ids", "--limit", "0")
    assert listed.exit_code == 0, listed.stderr
    assert sorted(map(int, listed.stdout.split())) == sorted(chosen)
    rest = cli("account", "list", "--where", f"id not in ({_in_list(chosen)})", "--format", "ids", "--limit", "0")
    assert sorted(map(int, rest.stdout.split())) == sorted(set(ids) - set(chosen))
    names = [f"acct {i}" for i in range(1, 901)]  # text fields compare without case, as = does
    by_name = cli("account", "list", "--where", "name in (" + ",".join(f'"{n}"' for n in names) + ")",
                  "--format", "ids", "--limit", "0")
    assert by_name.exit_code == 0, by_name.stderr
    assert sorted(map(int, by_name.stdout.split())) == ids[:900]
    exported = cli("export", "account", "--where", where, "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    assert sorted(r["id"] for r in json.loads(exported.stdout)) == sorted(chosen)
    updated = cli("update", "account", "--where", where, "--set", "city=Rome")
    assert updated.exit_code == 0, updated.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM accounts WHERE city = 'Rome'")).scalar() == len(chosen)
        assert conn.execute(text("SELECT count(*) FROM changes WHERE field = 'city'")).scalar() == len(chosen)


def test_long_in_list_of_dates_and_null(cli, engine):
    seed_accounts(engine, 3)
    days = ",".join(["2020-01-01"] * 900 + ["2026-01-01", "null"])
    listed = cli("account", "list", "--where", f"created_at in ({days})", "--format", "ids", "--limit", "0")
    assert listed.exit_code == 0, listed.stderr


def test_tens_of_thousands_of_ids_from_stdin(cli, engine):
    seed_accounts(engine, HUGE + 10)
    ids = account_ids(engine)[:HUGE]
    piped = "\n".join(map(str, ids)) + "\n"
    tagged = cli("tag", "add", "bulk_many", "--entity", "account", "--ids", "-", input=piped)
    assert tagged.exit_code == 0, tagged.stderr
    updated = cli("update", "account", "--ids", "-", "--set", "city=Paris", input=piped)
    assert updated.exit_code == 0, updated.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM taggings WHERE entity = 'account'")).scalar() == HUGE
        assert conn.execute(text("SELECT count(*) FROM accounts WHERE city = 'Paris'")).scalar() == HUGE
    deleted = cli("delete", "account", "--ids", "-", "--yes", input=piped)
    assert deleted.exit_code == 0, deleted.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM accounts")).scalar() == 10
        assert conn.execute(text("SELECT count(*) FROM taggings WHERE entity = 'account'")).scalar() == 0

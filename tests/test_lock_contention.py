"""Writers that meet a lock: a bulk write waits for another program's write transaction (up to the
lock timeout, CRM_LOCK_TIMEOUT) and then succeeds, or gives up with one "database is busy" line and
nothing written; two bulk writers in parallel processes never show a traceback and every batch is
all or nothing; two single-record updates of different fields at the same time are both applied.
On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from many_rows import seed_accounts
from sqlalchemy import text
from support import CLI, one_line_error

from crm_tui.errors import Conflict
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import open_engine, session_scope

ROOT = Path(__file__).resolve().parent.parent
BUSY = "error: the database is busy (another program is writing to it); try again"
ROWS = 2000

# Opens a write transaction on rows 1..10 of accounts, says "held", keeps it for argv[2] seconds, commits.
HOLDER = textwrap.dedent("""
    import sys, time
    from sqlalchemy import create_engine, text
    url, seconds = sys.argv[1], float(sys.argv[2])
    engine = create_engine(url, isolation_level=None if url.startswith("sqlite") else "READ COMMITTED")
    with engine.connect() as conn:
        if url.startswith("sqlite"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
        conn.execute(text("UPDATE accounts SET phone = 'held' WHERE id <= 10"))
        print("held", flush=True)
        time.sleep(seconds)
        conn.exec_driver_sql("COMMIT")
""")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(extra)
    return env


def _hold(url: str, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url, str(seconds)], stdout=subprocess.PIPE,
                              text=True, env=_env())
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def test_bulk_update_waits_for_a_held_lock_then_succeeds(db_url, engine):
    seed_accounts(engine, ROWS)
    holder = _hold(db_url, 3)
    try:
        started = time.monotonic()
        result = CLI(db_url)("update", "account", "--where", "id > 0", "--set", "city=Paris")
        waited = time.monotonic() - started
    finally:
        holder.wait(30)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert waited >= 2.0  # it waited for the holder's commit
    assert _count(engine, "SELECT count(*) FROM accounts WHERE city = 'Paris'") == ROWS
    assert _count(engine, "SELECT count(*) FROM accounts WHERE phone = 'held'") == 10  # theirs kept
    assert _count(engine, "SELECT count(*) FROM changes WHERE field = 'city'") == ROWS


@pytest.mark.parametrize("command", [
    ("update", "account", "--where", "id > 0", "--set", "city=Paris"),
    ("tag", "add", "busy_tag", "--entity", "account", "--where", "id > 0"),
    ("delete", "account", "--where", "id > 0", "--yes"),
], ids=["update", "tag", "delete"])
def test_bulk_write_gives_up_with_one_busy_line_and_nothing_written(db_url, engine, monkeypatch, command):
    from crm_tui.store import db

    seed_accounts(engine, ROWS)
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 500)
    monkeypatch.setattr(db, "LOCK_TIMEOUT_MS", 500)
    holder = _hold(db_url, 4)
    try:
        started = time.monotonic()
        result = CLI(db_url)(*command)
        waited = time.monotonic() - started
    finally:
        holder.wait(30)
    assert one_line_error(result) == BUSY
    assert waited >= 0.5
    assert _count(engine, "SELECT count(*) FROM accounts") == ROWS
    assert _count(engine, "SELECT count(*) FROM accounts WHERE city IS NOT NULL") == 0
    assert _count(engine, "SELECT count(*) FROM changes") == 0
    assert _count(engine, "SELECT count(*) FROM taggings") == 0


def test_the_lock_timeout_comes_from_the_environment(monkeypatch):
    from crm_tui.store import db

    monkeypatch.setenv("CRM_LOCK_TIMEOUT", "2.5")
    assert db._timeout_ms("CRM_LOCK_TIMEOUT", 10) == 2500
    monkeypatch.setenv("CRM_LOCK_TIMEOUT", "soon")
    assert db._timeout_ms("CRM_LOCK_TIMEOUT", 10) == 10_000


# Runs `crm` in-process again and again for argv[3] seconds: bulk updates of city (argv[2] "update"),
# or adds and removes a tag ("tag"), over every account. Prints one line per run: exit code, batch id
# (or -), the first line of stderr.
WRITER = textwrap.dedent("""
    import re, sys, time
    from typer.testing import CliRunner
    from crm_tui.cli import app
    from crm_tui.commands._common import State
    url, kind, seconds, name = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    runner = CliRunner()
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end or n < 2:
        n += 1
        stdin = None
        if kind == "update":
            args = ["update", "account", "--where", "id > 0", "--set", f"city={name}-{n}"]
        elif kind == "update-reversed":  # the same records, listed the other way round
            args = ["update", "account", "--ids", "-", "--set", f"city={name}-{n}"]
            stdin = "\\n".join(str(i) for i in range(int(sys.argv[5]), 0, -1))
        else:
            args = ["tag", "add" if n % 2 else "remove", "hot", "--entity", "account", "--where", "id > 0"]
        try:
            result = runner.invoke(app, ["--db", url, *args], input=stdin)
        finally:
            State.reset()
        batch = re.search(r"batch ([0-9a-f]{32})", result.stderr)
        first = (result.stderr.strip().splitlines() or [""])[0]
        tb = "TRACEBACK" if "Traceback" in result.stderr else ""
        print(result.exit_code, batch.group(1) if batch else "-", tb, first, sep="\\t", flush=True)
""")


@pytest.mark.parametrize("kinds", [("update", "update-reversed"), ("update", "tag")],
                         ids=["two-updates", "update-and-tag"])
def test_two_bulk_writers_in_parallel_processes(db_url, engine, kinds):
    seed_accounts(engine, ROWS)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, db_url, kind, "6", f"w{i}", str(ROWS)],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env(CRM_USER="tester"))
               for i, kind in enumerate(kinds)]
    outputs = [w.communicate(timeout=120) for w in writers]
    runs = []
    for (out, err), writer in zip(outputs, writers):
        assert writer.returncode == 0, err
        assert "Traceback" not in err
        runs += [line.split("\t") for line in out.splitlines()]
    assert len(runs) >= 4
    for code, _batch, tb, first in runs:
        assert tb == "", first
        # each run holds the lock for well under a second, so the other waits (10 s at most), never busy
        assert code == "0", (code, first)
    done = [r for r in runs if r[0] == "0" and r[1] != "-"]
    assert done, runs
    with engine.connect() as conn:
        per_batch = dict(conn.execute(text("SELECT batch_id, count(*) FROM changes GROUP BY batch_id")).all())
        cities = conn.execute(text("SELECT count(DISTINCT city), count(*) FROM accounts")).one()
        tagged = conn.execute(text("SELECT count(*) FROM taggings")).scalar()
    # every batch is whole: each changed every account (the updates set a new city each time, and the
    # tag runs alternate add / remove over all of them)
    assert set(per_batch) == {r[1] for r in done}
    assert all(n == ROWS for n in per_batch.values()), per_batch
    assert tuple(cities) == (1, ROWS)
    assert tagged in (0, ROWS)


# ---------------------------------------------------------------- single records, different fields


def test_concurrent_updates_of_different_fields_are_merged(engine, monkeypatch):
    """The second writer read the record before the first saved it: both changes stay, no Conflict."""
    account = ENTITIES["account"]
    with session_scope(engine) as s:
        rid = records.create_record(account, session=s, data={"name": "Shared Inc"}, actor="alice")["id"]
    other = open_engine(engine.url.render_as_string(hide_password=False))
    real_raw = records._raw
    interleaved = []

    def read_then_someone_saves(entity, session, record_id):
        row = real_raw(entity, session, record_id)
        if not interleaved:  # after our read, another program saves a different field
            interleaved.append(True)
            with session_scope(other) as s2:
                records.update_record(account, session=s2, record_id=rid, data={"industry": "Robotics"},
                                      actor="bob")
        return row

    monkeypatch.setattr(records, "_raw", read_then_someone_saves)
    try:
        with session_scope(engine) as s:
            records.update_record(account, session=s, record_id=rid, data={"city": "Berlin"}, actor="alice")
    finally:
        other.dispose()
    monkeypatch.setattr(records, "_raw", real_raw)
    with session_scope(engine) as s:
        row = records.get_record(account, session=s, record_id=rid)
        log = records.history(session=s, entity="account", record_id=rid)
    assert (row["city"], row["industry"], row["version"]) == ("Berlin", "Robotics", 3)
    assert {(c["field"], c["new_value"], c["actor"]) for c in log} >= {("city", "Berlin", "alice"),
                                                                      ("industry", "Robotics", "bob")}


def test_concurrent_updates_of_the_same_field_conflict(engine, monkeypatch):
    account = ENTITIES["account"]
    with session_scope(engine) as s:
        rid = records.create_record(account, session=s, data={"name": "Shared Inc"}, actor="alice")["id"]
    other = open_engine(engine.url.render_as_string(hide_password=False))
    real_raw = records._raw
    interleaved = []

    def read_then_someone_saves(entity, session, record_id):
        row = real_raw(entity, session, record_id)
        if not interleaved:
            interleaved.append(True)
            with session_scope(other) as s2:
                records.update_record(account, session=s2, record_id=rid, data={"city": "Rome"}, actor="bob")
        return row

    monkeypatch.setattr(records, "_raw", read_then_someone_saves)
    try:
        with pytest.raises(Conflict, match="city"):
            with session_scope(engine) as s:
                records.update_record(account, session=s, record_id=rid, data={"city": "Berlin"}, actor="alice")
    finally:
        other.dispose()
    monkeypatch.setattr(records, "_raw", real_raw)
    with session_scope(engine) as s:
        row = records.get_record(account, session=s, record_id=rid)
    assert (row["city"], row["version"]) == ("Rome", 2)


# Updates one field of account 1 argv[3] times from its own process, printing "conflict" for each refusal.
FIELD_WRITER = textwrap.dedent("""
    import sys
    from crm_tui.errors import Conflict
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES
    from crm_tui.store.db import open_engine, session_scope
    url, field, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    engine = open_engine(url)
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(times):
        try:
            with session_scope(engine) as s:
                records.update_record(ENTITIES["account"], session=s, record_id=1, data={field: f"{field} {n}"},
                                      actor="tester")
        except Conflict as exc:
            print("conflict", exc, flush=True)
""")


def test_two_processes_updating_different_fields_are_never_refused(db_url, engine):
    with session_scope(engine) as s:
        assert records.create_record(ENTITIES["account"], session=s, data={"name": "Busy Inc"}, actor="x")["id"] == 1
    times = 40
    writers = [subprocess.Popen([sys.executable, "-c", FIELD_WRITER, db_url, field, str(times)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=_env()) for field in ("city", "industry")]
    for w in writers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    for w in writers:  # start both at once
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    outputs = [w.communicate(timeout=120) for w in writers]
    for (out, err), w in zip(outputs, writers):
        assert w.returncode == 0, err
        assert "conflict" not in out, out
    with session_scope(engine) as s:
        row = records.get_record(ENTITIES["account"], session=s, record_id=1)
    assert (row["city"], row["industry"], row["version"]) == (f"city {times - 1}", f"industry {times - 1}",
                                                              1 + 2 * times)


# ---------------------------------------------------------------- deadlocks are retried whole


class _Deadlock(Exception):
    sqlstate = "40P01"


def _deadlock():
    from sqlalchemy.exc import OperationalError

    return OperationalError("UPDATE accounts ...", {}, _Deadlock("deadlock detected"))


def test_a_deadlocked_unit_of_work_is_rerun_whole(engine):
    from crm_tui.store.db import run_unit

    attempts = []

    def work(s):
        attempts.append(1)
        records.create_record(ENTITIES["account"], session=s, data={"name": f"Try {len(attempts)}"}, actor="x")
        if len(attempts) < 3:
            raise _deadlock()
        return len(attempts)

    assert run_unit(engine, work) == 3
    with engine.connect() as conn:  # the failed attempts left nothing behind
        assert list(conn.execute(text("SELECT name FROM accounts")).scalars()) == ["Try 3"]


def test_a_deadlock_that_persists_is_one_busy_line(engine):
    from crm_tui.errors import DatabaseBusy, user_error
    from crm_tui.store.db import UNIT_ATTEMPTS, run_unit

    attempts = []

    def work(s):
        attempts.append(1)
        records.create_record(ENTITIES["account"], session=s, data={"name": "Never"}, actor="x")
        raise _deadlock()

    with pytest.raises(DatabaseBusy) as caught:
        run_unit(engine, work)
    assert len(attempts) == UNIT_ATTEMPTS
    assert str(user_error(caught.value)) == BUSY.removeprefix("error: ")
    assert _count(engine, "SELECT count(*) FROM accounts") == 0

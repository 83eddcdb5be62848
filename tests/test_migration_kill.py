"""An upgrade killed (SIGKILL) at any point leaves the SQLite file at its old revision with its old
data, or at the newest revision, never in between; the next open upgrades it cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading

import pytest
from old_databases import build, snapshot
from support import sqlite_url

from crm_tui.store import db as store_db

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

OLD = "0001_initial"  # the longest way to the newest revision: every migration runs

# Upgrades the file, pausing (printing "paused") at the point named by argv[2] until killed:
#   after:<SQL start>   just after the first statement that starts so has run
#   statement:<n>       just after the n-th statement
#   commit              just before the COMMIT
#   committed           after the COMMIT, as the connection goes back to the pool
UPGRADER = r"""
import sys, time
from sqlalchemy import event
from crm_tui.store import db

url, where = sys.argv[1], sys.argv[2]
engine = db.make_engine(url)
state = {"count": 0, "committed": False}

def pause(label):
    print("paused", label, flush=True)
    time.sleep(120)

@event.listens_for(engine, "after_cursor_execute")
def statement(conn, cursor, sql, params, context, executemany):
    state["count"] += 1
    sql = " ".join(sql.split())
    if where == f"statement:{state['count']}" or (where.startswith("after:") and sql.startswith(where[6:])):
        pause(sql[:60])

@event.listens_for(engine, "commit")
def commit(conn):
    if where == "commit":
        pause("before COMMIT")
    state["committed"] = True

@event.listens_for(engine, "checkin")
def checkin(dbapi_connection, record):
    if where == "committed" and state["committed"]:
        pause("after COMMIT")

db.upgrade(engine)
print("done", state["count"], flush=True)
"""

POINTS = [
    "statement:3",
    "after:UPDATE alembic_version SET version_num='0002_roles_views'",
    "after:CREATE VIRTUAL TABLE search_account",
    "after:DROP TABLE taggings",
    "after:CREATE TABLE teams",  # where an older crm-tui left it behind
    "after:DROP TABLE users",  # users gone, its copy not yet renamed
    "after:ALTER TABLE _alembic_tmp_users RENAME TO users",
    "statement:100",
    "commit",
    "committed",
]


def _file_state(path) -> tuple:
    with sqlite3.connect(path) as conn:
        schema = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)
        tables = [r[1] for r in schema if r[0] == "table" and not r[1].startswith("sqlite_")]
        rows = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return revision, check, schema, rows


@pytest.fixture(scope="module")
def old_file(tmp_path_factory):
    """A file at the first revision with rows in every table, and what it holds."""
    path = tmp_path_factory.mktemp("old") / "old.db"
    meta, rows = build(sqlite_url(path), OLD)
    assert not os.path.exists(f"{path}-wal") or os.path.getsize(f"{path}-wal") == 0
    return path, meta, rows, _file_state(path)


def _upgrade_until_killed(path, where: str) -> str:
    script = path.parent / "upgrader.py"
    script.write_text(UPGRADER)
    proc = subprocess.Popen([sys.executable, str(script), sqlite_url(path), where],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        line = proc.stdout.readline()
        if line.startswith("paused"):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        watchdog.cancel()
    assert line.startswith("paused"), f"never reached {where}: {line!r} {proc.stderr.read()}"
    assert proc.returncode == -signal.SIGKILL
    return line


@pytest.mark.parametrize("where", POINTS)
def test_killed_upgrade_is_at_the_old_revision_or_the_newest_and_reopens(old_file, tmp_path, where):
    origin, meta, rows, old_state = old_file
    path = tmp_path / "crm.db"
    shutil.copy(origin, path)

    _upgrade_until_killed(path, where)

    revision, check, schema, table_rows = _file_state(path)  # recovers the WAL like any reader
    assert check == "ok"
    if where == "committed":
        assert revision == store_db.HEAD_REVISION
    else:
        assert (revision, check, schema, table_rows) == old_state  # exactly as before: nothing left over

    engine = store_db.open_engine(sqlite_url(path))
    try:
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        with engine.connect() as conn:
            assert snapshot(conn, meta) == rows
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
            assert not {t for t in tables if t.startswith("_alembic_tmp_")}
    finally:
        engine.dispose()


def test_two_programs_opening_an_old_file_at_once_both_get_the_newest(old_file, tmp_path):
    """The upgrade takes the write lock first: the second program waits, then finds it done."""
    origin, meta, rows, _ = old_file
    path = tmp_path / "crm.db"
    shutil.copy(origin, path)
    script = tmp_path / "open.py"
    script.write_text("import sys\nfrom crm_tui.store import db\ndb.open_engine(sys.argv[1]).dispose()\nprint('ok')\n")
    procs = [subprocess.Popen([sys.executable, str(script), sqlite_url(path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    engine = store_db.open_engine(sqlite_url(path))
    try:
        with engine.connect() as conn:
            assert snapshot(conn, meta) == rows
    finally:
        engine.dispose()

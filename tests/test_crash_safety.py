"""kill -9 in the middle of a bulk update of 50,000 records and of an import: afterwards the database
is intact (PRAGMA integrity_check on SQLite), usable, and the write is all or nothing: every record
changed with its batch's Change rows, or none. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from many_rows import seed_accounts
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import CLI

ROOT = Path(__file__).resolve().parent.parent
UPDATED = 50_000
IMPORTED = 20_000


def _crm(url: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "crm_tui", "--db", url, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def _writing(url: str) -> bool:
    """Whether another program is inside a write transaction on the database now."""
    if make_url(url).get_backend_name() == "sqlite":
        import sqlite3

        con = sqlite3.connect(make_url(url).database, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # locked: the writer holds it
            return True
        finally:
            con.close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND query NOT ILIKE 'commit%'")).scalar())
    finally:
        engine.dispose()


def _kill_while_writing(url: str, proc: subprocess.Popen, delay: float,
                        committed: Callable[[], bool] = lambda: False) -> bool:
    """Wait until ``proc`` is writing, then ``delay`` seconds more, then kill -9 it. True if it was
    certainly killed inside its transaction: frozen (SIGSTOP) while still inside it (holding SQLite's
    write lock; on PostgreSQL, its server process has written and not been asked to commit) and its
    work not yet visible to a reader (``committed``): SQLite holds the write lock for a moment after
    the commit record is in the WAL, and a writer frozen there has committed."""
    deadline = time.monotonic() + 60
    while not _writing(url):
        if proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the writer never started writing"
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGSTOP)
    mid = proc.poll() is None and _writing(url) and not committed()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    if make_url(url).get_backend_name() == "postgresql":  # the server rolls the dead client's work back
        deadline = time.monotonic() + 60
        while _writing(url):
            assert time.monotonic() < deadline, "the server kept the killed writer's transaction"
            time.sleep(0.05)
    return mid


def _check_intact(engine, url: str) -> None:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").first() is None
    # still usable by the next writer
    after = CLI(url)("account", "add", "After The Crash")
    assert after.exit_code == 0, after.stderr


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


@pytest.mark.parametrize("delay", [0.02, 0.2])
def test_kill_9_during_a_bulk_update_leaves_all_or_nothing(db_url, engine, delay):
    seed_accounts(engine, UPDATED)
    engine.dispose()
    proc = _crm(db_url, "update", "account", "--where", "id > 0", "--set", "city=Crashed")
    killed = _kill_while_writing(db_url, proc, delay,
                                 lambda: _count(engine, "SELECT count(*) FROM accounts WHERE city = 'Crashed'") > 0)
    changed = _count(engine, "SELECT count(*) FROM accounts WHERE city = 'Crashed'")
    logged = _count(engine, "SELECT count(*) FROM changes WHERE field = 'city' AND new_value = 'Crashed'")
    batches = _count(engine, "SELECT count(DISTINCT batch_id) FROM changes")
    versions = _count(engine, "SELECT count(*) FROM accounts WHERE version = 2")
    assert (changed, logged, versions, batches) in {(0, 0, 0, 0), (UPDATED, UPDATED, UPDATED, 1)}
    if killed:  # killed inside its transaction: nothing at all
        assert changed == 0
    _check_intact(engine, db_url)


@pytest.mark.parametrize("delay", [0.05, 0.5])
def test_kill_9_during_an_import_leaves_all_or_nothing(db_url, engine, tmp_path, delay):
    source = tmp_path / "accounts.csv"
    source.write_text("name,city\n" + "".join(f"Imported {n},Oslo\n" for n in range(IMPORTED)), encoding="utf-8")
    proc = _crm(db_url, "import", "account", str(source))
    killed = _kill_while_writing(db_url, proc, delay)
    imported = _count(engine, "SELECT count(*) FROM accounts WHERE name LIKE 'Imported %'")
    logged = _count(engine, "SELECT count(*) FROM changes WHERE field = '*' AND old_value IS NULL")
    batches = _count(engine, "SELECT count(DISTINCT batch_id) FROM changes")
    assert (imported, logged, batches) in {(0, 0, 0), (IMPORTED, IMPORTED, 1)}
    if killed:
        assert imported == 0
    _check_intact(engine, db_url)

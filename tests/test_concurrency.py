"""Two writers on one SQLite file: the second waits for the first (busy timeout)
instead of failing with "database is locked"."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import open_engine, session_scope

HOLD_SECONDS = 1.0


@pytest.fixture
def two_engines(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = open_engine(url), open_engine(url)
    # Something to update, and the users both writers act as.
    with session_scope(first) as s:
        records.create_record(ENTITIES["account"], session=s, data={"name": "Shared Inc"}, actor="alice")
        records.create_record(ENTITIES["account"], session=s, data={"name": "Other Inc"}, actor="bob")
    yield first, second
    first.dispose()
    second.dispose()


def _hold_write_lock(engine, holding: threading.Event, release_after: float, done: list):
    """Open a write transaction, signal, keep it open, then commit."""
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(text("UPDATE accounts SET city = 'Held' WHERE name = 'Shared Inc'"))
            holding.set()
            time.sleep(release_after)
        done.append(time.monotonic())


def _run_while_locked(first, write):
    holding = threading.Event()
    released: list[float] = []
    holder = threading.Thread(target=_hold_write_lock, args=(first, holding, HOLD_SECONDS, released))
    holder.start()
    try:
        assert holding.wait(10), "the first writer never started"
        started = time.monotonic()
        result = write()
        finished = time.monotonic()
    finally:
        holder.join(20)
    assert released, "the first writer did not commit"
    return result, started, finished, released[0]


def test_second_writer_waits_and_succeeds_on_create(two_engines):
    first, second = two_engines

    def write():
        with session_scope(second) as s:
            return records.create_record(ENTITIES["account"], session=s, data={"name": "Waited Ltd"}, actor="bob")

    row, started, finished, released = _run_while_locked(first, write)
    assert finished >= released - 0.05, "the second write finished while the first still held the lock"
    assert finished - started >= HOLD_SECONDS * 0.5
    with first.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM accounts")).scalars())
        city = conn.execute(text("SELECT city FROM accounts WHERE name = 'Shared Inc'")).scalar()
    assert "Waited Ltd" in names and row["name"] == "Waited Ltd"
    assert city == "Held"  # the first writer's work is kept too


def test_second_writer_waits_and_succeeds_on_update(two_engines):
    first, second = two_engines

    def write():
        with session_scope(second) as s:
            other = records.list_records(ENTITIES["account"], session=s, search="Other")[0]
            return records.update_record(ENTITIES["account"], session=s, record_id=other["id"],
                                         data={"status": "active"}, actor="bob")

    row, started, finished, released = _run_while_locked(first, write)
    assert finished >= released - 0.05
    assert row["status"] == "active" and row["version"] == 2
    with first.connect() as conn:
        assert conn.execute(text("SELECT status FROM accounts WHERE name = 'Other Inc'")).scalar() == "active"
        assert conn.execute(text("SELECT count(*) FROM changes WHERE field = 'status'")).scalar() == 1


def test_reader_is_not_blocked_by_a_writer(two_engines):
    """WAL: reading while another connection writes returns at once, with the committed data."""
    first, second = two_engines

    def read():
        with session_scope(second) as s:
            return records.get_record(ENTITIES["account"], session=s, record_id=1)

    row, started, finished, released = _run_while_locked(first, read)
    assert finished < released, "the read waited for the writer"
    assert row["city"] is None  # the uncommitted change is not visible

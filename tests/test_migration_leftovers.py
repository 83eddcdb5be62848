"""A file a failed upgrade of an older crm-tui left half-migrated (tables and columns it made before it
failed, its revision unchanged) is repaired when that is certain to lose nothing, else refused with one line.

The older crm-tui is re-enacted: its migration environment ran inside ``engine.begin()`` on the
driver's own transactions, which commit the DDL run before a run's first data change.
"""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from old_databases import build, old_revisions, snapshot, sqlite_objects
from sqlalchemy import event
from support import sqlite_url

from crm_tui.errors import DatabaseUnavailable
from crm_tui.store import db as store_db
from crm_tui.store import sqlite_migration

HEAD = store_db.HEAD_REVISION


@contextlib.contextmanager
def _older_crm_transaction(engine):
    with engine.begin() as connection:
        yield connection


class PowerCut(Exception):
    pass


def _fail_like_an_older_crm(monkeypatch, path, *, at_first_data_change: bool = True) -> str:
    """Upgrade ``path`` as an older crm-tui did, failing where it would: the FOREIGN KEY error of the
    users rebuild, or (``at_first_data_change``) before the run's first INSERT/UPDATE/DELETE. The error."""
    with monkeypatch.context() as patch:
        patch.setattr(sqlite_migration, "migration_transaction", _older_crm_transaction)
        engine = store_db.make_engine(sqlite_url(path))

        @event.listens_for(engine, "before_cursor_execute")
        def cut(conn, cursor, statement, parameters, context, executemany):
            if at_first_data_change and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                raise PowerCut()

        try:
            with pytest.raises(DatabaseUnavailable) as failure:
                store_db.upgrade(engine)
        finally:
            engine.dispose()
    return str(failure.value)


@pytest.fixture(scope="module")
def head_objects(tmp_path_factory) -> set:
    engine = store_db.open_engine(sqlite_url(tmp_path_factory.mktemp("head") / "head.db"))
    try:
        with engine.connect() as conn:
            return sqlite_objects(conn)
    finally:
        engine.dispose()


def _objects(path) -> set:
    with sqlite3.connect(path) as conn:
        return {tuple(r) for r in conn.execute("SELECT type, name FROM sqlite_master")}


def _definitions(path) -> set:
    with sqlite3.connect(path) as conn:
        return {tuple(r) for r in conn.execute("SELECT type, name, sql FROM sqlite_master")}


def _revision(path) -> str | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def test_users_rebuild_failure_of_an_older_crm_is_repaired(monkeypatch, tmp_path, head_objects, bare_cli):
    """The reported case: at 0007 with ``teams`` and an empty ``_alembic_tmp_users`` left behind."""
    path = tmp_path / "crm.db"
    meta, rows = build(sqlite_url(path), "0007_job_runs")
    before = _objects(path)
    assert "FOREIGN KEY constraint failed" in _fail_like_an_older_crm(monkeypatch, path, at_first_data_change=False)
    assert _revision(path) == "0007_job_runs"
    assert _objects(path) - before == {("table", "teams"), ("table", "_alembic_tmp_users"),
                                       ("index", "sqlite_autoindex_teams_1"),
                                       ("index", "sqlite_autoindex__alembic_tmp_users_1")}

    result = bare_cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"database at {HEAD} (was 0007_job_runs)" in result.stderr
    engine = store_db.make_engine(sqlite_url(path))
    try:
        with engine.connect() as conn:
            assert snapshot(conn, meta) == rows
            assert sqlite_objects(conn) == head_objects
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", [None, *old_revisions()])
def test_leftovers_of_a_failed_run_from_any_revision_are_repaired(monkeypatch, tmp_path, revision, head_objects):
    """An older crm-tui's run failing at its first data change commits every table, index and column
    it made before; opening the file removes them (all empty) and upgrades it with every row kept."""
    path = tmp_path / "crm.db"
    if revision is None:
        meta, rows = None, None
    else:
        meta, rows = build(sqlite_url(path), revision)
    before = _definitions(path) if path.exists() else set()
    _fail_like_an_older_crm(monkeypatch, path)
    assert _revision(path) == revision if revision else True
    left = _definitions(path) - before  # new tables and indexes, tables with a column more
    if revision is not None:
        assert left, "the re-enacted failure left something behind"

    engine = store_db.open_engine(sqlite_url(path))
    try:
        assert store_db.current_revision(engine) == HEAD
        with engine.connect() as conn:
            if meta is not None:
                assert snapshot(conn, meta) == rows
            assert sqlite_objects(conn) == head_objects
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()


def _half_migrated_0007(monkeypatch, tmp_path):
    path = tmp_path / "crm.db"
    build(sqlite_url(path), "0007_job_runs")
    _fail_like_an_older_crm(monkeypatch, path, at_first_data_change=False)
    return path


def _state(path) -> tuple:
    with sqlite3.connect(path) as conn:
        schema = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)
        tables = [r[1] for r in schema if r[0] == "table"]
        return schema, {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def test_leftover_table_with_rows_is_refused_in_one_line(monkeypatch, tmp_path, bare_cli):
    path = _half_migrated_0007(monkeypatch, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO teams (id, name, created_at) VALUES (1, 'North', '2026-01-01')")
    before = _state(path)
    line = bare_cli.error(bare_cli("--db", str(path), "account", "list"))
    assert line == ("error: the database is at 0007_job_runs but holds table teams with 1 row, left by a failed "
                    "upgrade; nothing was changed: restore a backup (or remove it by hand) and open it again")
    assert _state(path) == before


def test_batch_copy_whose_original_is_gone_is_refused(monkeypatch, tmp_path):
    path = _half_migrated_0007(monkeypatch, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO _alembic_tmp_users SELECT *, NULL FROM users")
        conn.execute("DROP TABLE users")
    before = _state(path)
    with pytest.raises(DatabaseUnavailable, match="holds _alembic_tmp_users while table users is missing"):
        store_db.open_engine(sqlite_url(path))
    assert _state(path) == before


def test_leftover_column_with_values_is_refused(monkeypatch, tmp_path):
    path = tmp_path / "crm.db"
    build(sqlite_url(path), "0009_account_shares")
    _fail_like_an_older_crm(monkeypatch, path)  # 0011 added activities.duration_minutes before it failed
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE activities SET duration_minutes = 30")
    before = _state(path)
    with pytest.raises(DatabaseUnavailable, match=r"holds column activities.duration_minutes with 2 values"):
        store_db.open_engine(sqlite_url(path))
    assert _state(path) == before


def test_another_programs_tables_are_left_alone(monkeypatch, tmp_path):
    path = _half_migrated_0007(monkeypatch, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE my_notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE TABLE _my_scratch (id INTEGER PRIMARY KEY)")
    engine = store_db.open_engine(sqlite_url(path))
    engine.dispose()
    assert {("table", "my_notes"), ("table", "_my_scratch")} <= _objects(path)
    assert _revision(path) == HEAD

"""Upgrading a database with data in it: from every old revision to the newest, every row kept,
references and the file sound; a failing migration changes nothing and says which one failed."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from old_databases import build, old_revisions, reflect, snapshot, sqlite_objects
from support import POSTGRES_URL, sqlite_url

from crm_tui.errors import DatabaseUnavailable
from crm_tui.store import db as store_db
from crm_tui.store.models import metadata
from crm_tui.store.search import include_object

HEAD = store_db.HEAD_REVISION


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(ctx, metadata)


@pytest.fixture(scope="module")
def head_objects(tmp_path_factory) -> set:
    """Every table, index, trigger and view of a database made new at the newest revision."""
    engine = store_db.open_engine(sqlite_url(tmp_path_factory.mktemp("head") / "head.db"))
    try:
        with engine.connect() as conn:
            return sqlite_objects(conn)
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", old_revisions())
def test_populated_sqlite_database_upgrades_from_every_old_revision(tmp_path, revision, head_objects):
    url = sqlite_url(tmp_path / "old.db")
    meta, before = build(url, revision)
    assert all(before[t.name] for t in meta.sorted_tables), "every table has rows"
    assert {"users", "accounts", "tags", "taggings", "changes"} <= set(before)

    engine = store_db.open_engine(url)
    try:
        assert store_db.current_revision(engine) == HEAD
        with engine.connect() as conn:
            assert snapshot(conn, meta) == before
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            # Nothing lost or left over by table rebuilds: the same triggers, indexes and
            # full-text tables as a database made new.
            assert sqlite_objects(conn) == head_objects
            # Full-text search finds the accounts written before the upgrade.
            for name in conn.exec_driver_sql("SELECT name FROM accounts").scalars():
                found = conn.exec_driver_sql(
                    "SELECT count(*) FROM search_account WHERE search_account MATCH ?", (f'"{name}"',)).scalar()
                assert found == 1, name
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", old_revisions())
def test_populated_postgres_database_upgrades_from_every_old_revision(postgres_schema_url, revision):
    meta, before = build(postgres_schema_url, revision)
    engine = store_db.open_engine(postgres_schema_url)
    try:
        assert store_db.current_revision(engine) == HEAD
        with engine.connect() as conn:
            assert snapshot(conn, meta) == before
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


@pytest.fixture
def postgres_schema_url():
    """A schema of its own in the PostgreSQL test database (the shared tables stay as they are)."""
    if not POSTGRES_URL:
        pytest.skip("set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")
    schema = "crm_upgrade_test"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.engine.make_url(POSTGRES_URL).update_query_dict({"options": f"-c search_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


# ---------------------------------------------------------------- a migration that fails


def _file_state(path) -> tuple:
    """Everything in the file that matters: its schema and every row of every table."""
    with sqlite3.connect(path) as conn:
        schema = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)
        tables = [r[1] for r in schema if r[0] == "table" and not r[1].startswith("sqlite_")]
        rows = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    return schema, rows


def _database_at(tmp_path, revision: str):
    path = tmp_path / "old.db"
    build(sqlite_url(path), revision)
    return path


def test_failing_migration_is_one_line_naming_it_and_changes_nothing(bare_cli, tmp_path):
    """A view of the user's own over users breaks the rebuild of users in 0008: the user reads which
    migration failed and why, and the file is exactly as it was; without the view it upgrades."""
    path = _database_at(tmp_path, "0007_job_runs")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIEW my_users AS SELECT username FROM users")
    before = _file_state(path)

    line = bare_cli.error(bare_cli("--db", str(path), "account", "list"))
    assert "migration 0008_teams_roles failed" in line
    assert "no such table: main.users" in line
    assert "still at 0007_job_runs" in line
    assert _file_state(path) == before

    # Again: the same line, not a different failure on what the first try left.
    assert bare_cli.error(bare_cli("--db", str(path), "account", "list")) == line
    assert _file_state(path) == before

    with sqlite3.connect(path) as conn:
        conn.execute("DROP VIEW my_users")
    result = bare_cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"database at {HEAD} (was 0007_job_runs)" in result.stderr


def test_broken_reference_after_migrating_is_refused_and_changes_nothing(tmp_path):
    """PRAGMA foreign_key_check runs before the commit: a row pointing nowhere stops the upgrade."""
    path = _database_at(tmp_path, "0007_job_runs")
    with sqlite3.connect(path) as conn:  # foreign keys are off in a plain sqlite3 connection
        conn.execute("UPDATE contacts SET account_id = 999999 WHERE id = (SELECT min(id) FROM contacts)")
    before = _file_state(path)

    with pytest.raises(DatabaseUnavailable) as failure:
        store_db.open_engine(sqlite_url(path)).dispose()
    message = str(failure.value)
    assert message.startswith(f"cannot upgrade the database to {HEAD}: contacts row ")
    assert "refers to a missing row of accounts" in message
    assert message.endswith("nothing was changed, it is still at 0007_job_runs")
    assert "\n" not in message
    assert _file_state(path) == before


def test_upgrade_leaves_the_apps_connections_as_they_were(tmp_path):
    """Only the migration's own connection runs without the driver's transactions and without foreign
    keys; the pooled connection the app then gets has both back."""
    url = sqlite_url(tmp_path / "old.db")
    build(url, "0007_job_runs")
    engine = store_db.open_engine(url)
    try:
        assert engine.pool.checkedin() == 1  # the one connection the upgrade used
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw.isolation_level == ""  # sqlite3's default: BEGIN before data changes
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.exec_driver_sql("UPDATE contacts SET account_id = 999999")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM contacts WHERE account_id = 999999").scalar() == 0
    finally:
        engine.dispose()


def test_failed_upgrade_leaves_the_apps_connections_as_they_were(tmp_path):
    path = _database_at(tmp_path, "0007_job_runs")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIEW my_users AS SELECT username FROM users")
    engine = store_db.make_engine(sqlite_url(path))
    try:
        with pytest.raises(DatabaseUnavailable):
            store_db.upgrade(engine)
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection.isolation_level == ""
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert not conn.connection.dbapi_connection.in_transaction
    finally:
        engine.dispose()


def test_snapshot_reads_only_the_old_columns(tmp_path):
    """The helper itself: rows compare on the columns the old revision had (new ones are NULL or defaults)."""
    url = sqlite_url(tmp_path / "old.db")
    meta, before = build(url, "0007_job_runs")
    assert "team_id" not in meta.tables["users"].c
    engine = store_db.open_engine(url)
    try:
        with engine.connect() as conn:
            assert "team_id" in reflect(conn).tables["users"].c
            assert snapshot(conn, meta)["users"] == before["users"]
    finally:
        engine.dispose()


def test_upgrade_waiting_too_long_for_the_write_lock_says_busy(tmp_path, monkeypatch):
    """Another program writing all through the busy timeout: "busy, try again", and nothing changed."""
    from crm_tui.errors import DatabaseBusy

    path = _database_at(tmp_path, "0007_job_runs")
    before = _file_state(path)
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        engine = store_db.make_engine(sqlite_url(path))
        try:
            with pytest.raises(DatabaseBusy):
                store_db.upgrade(engine)
        finally:
            engine.dispose()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _file_state(path) == before

"""Migrations: the schema Alembic builds is the models' schema, and old files upgrade."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from crm_tui.store import db as store_db
from crm_tui.store.models import DEFAULT_STAGES, metadata
from crm_tui.store.search import include_object


def sqlite_url(path) -> str:
    return f"sqlite:///{path}"


def script_directory() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(store_db.MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg)


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        # Full-text search objects (FTS5 tables and triggers, GIN expression indexes) are not in
        # the models; the migration env skips them the same way.
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(ctx, metadata)


def base_revision() -> str:
    bases = script_directory().get_bases()
    assert len(bases) == 1, bases
    return bases[0]


def test_head_revision_constant_is_the_script_directory_head():
    assert script_directory().get_heads() == [store_db.HEAD_REVISION]


def test_migrated_schema_is_exactly_the_models(engine):
    assert schema_diff(engine) == []


def test_migrated_database_is_at_head_with_default_stages(engine):
    assert store_db.current_revision(engine) == store_db.HEAD_REVISION
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT name, probability, position, is_won, is_lost, forecast_category FROM stages ORDER BY position"
        )).all()
    assert [(r[0], r[1], r[2], bool(r[3]), bool(r[4]), r[5]) for r in rows] == list(DEFAULT_STAGES)


def test_open_blank_database_migrates_to_models_schema(blank_url):
    engine = store_db.open_engine(blank_url)
    try:
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        assert schema_diff(engine) == []
        # Opening again does nothing more.
        assert store_db.ensure_schema(engine) is False
    finally:
        engine.dispose()


def test_open_empty_file_migrates(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    assert path.stat().st_size == 0
    engine = store_db.open_engine(sqlite_url(path))
    try:
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_open_file_with_empty_alembic_version_migrates(tmp_path):
    path = tmp_path / "half.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    engine = store_db.open_engine(sqlite_url(path))
    try:
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_database_at_first_revision_upgrades_on_open_and_keeps_data(blank_url):
    first = base_revision()
    if first == store_db.HEAD_REVISION:
        pytest.skip("only one revision so far")
    old = store_db.make_engine(blank_url)
    store_db.upgrade(old, first)
    assert store_db.current_revision(old) == first
    with old.begin() as conn:
        conn.execute(text(
            "INSERT INTO accounts (id, name, status, currency, lifetime_value_minor, version, created_at, updated_at) "
            "VALUES (7, 'Müller Logistics GmbH', 'active', 'EUR', 123456, 3, :t, :t)"
        ), {"t": "2026-01-02 03:04:05"})
    old.dispose()

    engine = store_db.open_engine(blank_url)
    try:
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        assert schema_diff(engine) == []
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT name, status, currency, lifetime_value_minor, version FROM accounts WHERE id = 7"
            )).one()
        assert tuple(row) == ("Müller Logistics GmbH", "active", "EUR", 123456, 3)
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(blank_url):
    engine = store_db.open_engine(blank_url)
    try:
        store_db.upgrade(engine, "head")
        from alembic import command

        command.downgrade(store_db.alembic_config(engine), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        assert store_db.current_revision(engine) is None
        store_db.upgrade(engine)
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_database_from_a_newer_crm_gives_one_line_error(bare_cli, tmp_path):
    """A file written by a newer crm-tui (unknown revision) is refused with a message, not a traceback."""
    path = tmp_path / "newer.db"
    engine = store_db.open_engine(sqlite_url(path))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    result = bare_cli("--db", str(path), "account", "list")
    assert "9999_from_the_future" in bare_cli.error(result)


# ---------------------------------------------------------------- crm db upgrade


def test_crm_db_upgrade_creates_then_reports_up_to_date(bare_cli, tmp_path):
    path = tmp_path / "fresh.db"
    result = bare_cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert store_db.HEAD_REVISION in result.stderr
    assert "was empty" in result.stderr
    assert result.stdout == ""
    engine = store_db.make_engine(sqlite_url(path))
    try:
        assert store_db.current_revision(engine) == store_db.HEAD_REVISION
        assert schema_diff(engine) == []
    finally:
        engine.dispose()

    again = bare_cli("--db", str(path), "db", "upgrade")
    assert again.exit_code == 0, again.output
    assert "already up to date" in again.stderr


def test_crm_db_upgrade_from_first_revision(bare_cli, tmp_path):
    first = base_revision()
    if first == store_db.HEAD_REVISION:
        pytest.skip("only one revision so far")
    path = tmp_path / "old.db"
    old = store_db.make_engine(sqlite_url(path))
    store_db.upgrade(old, first)
    old.dispose()
    result = bare_cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"database at {store_db.HEAD_REVISION} (was {first})" in result.stderr
    engine = store_db.make_engine(sqlite_url(path))
    try:
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_crm_db_upgrade_on_migrated_database(cli):
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "already up to date" in result.stderr


def test_crm_db_upgrade_on_unreachable_database(bare_cli, tmp_path):
    result = bare_cli("--db", str(tmp_path / "missing" / "x.db"), "db", "upgrade")
    assert "does not exist" in bare_cli.error(result)


# ---------------------------------------------------------------- SQLite settings


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path):
    engine = store_db.open_engine(sqlite_url(tmp_path / "p.db"))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path):
    from sqlalchemy.exc import IntegrityError

    engine = store_db.open_engine(sqlite_url(tmp_path / "fk.db"))
    try:
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO contacts (account_id, first_name, last_name, is_primary, version, created_at, updated_at)"
                    " VALUES (999999, '', 'Nobody', 0, 1, '2026-01-01', '2026-01-01')"
                ))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 0
    finally:
        engine.dispose()


def test_crm_db_upgrade_on_a_database_from_a_newer_crm(bare_cli, tmp_path):
    path = tmp_path / "newer.db"
    engine = store_db.open_engine(sqlite_url(path))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    result = bare_cli("--db", str(path), "db", "upgrade")
    assert "9999_from_the_future" in bare_cli.error(result)

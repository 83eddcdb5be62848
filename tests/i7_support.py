"""Helpers for the issue-7 tests (filter, bulk, io, search, views): one migrated
database per test on SQLite and, when CRM_TEST_POSTGRES_URL is set, PostgreSQL.

Plain functions, so they never clash with fixtures in a shared conftest.py.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL")
KEEP = {"stages", "alembic_version"}

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres",
                 marks=pytest.mark.skipif(not POSTGRES_URL, reason="set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")),
]

_pg_ready = False


def fresh_url(backend: str, tmp_path) -> str:
    """A migrated database with only the default stages in it."""
    global _pg_ready
    from sqlalchemy import create_engine, inspect

    from crm_tui.store.db import open_engine

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
        open_engine(url).dispose()
        return url
    if not _pg_ready:
        eng = create_engine(POSTGRES_URL)
        with eng.begin() as conn:
            for name in inspect(conn).get_table_names():
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
        eng.dispose()
        open_engine(POSTGRES_URL).dispose()
        _pg_ready = True
    eng = create_engine(POSTGRES_URL)
    with eng.begin() as conn:
        tables = sorted(set(inspect(conn).get_table_names()) - KEEP)
        conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    eng.dispose()
    return POSTGRES_URL


def isolate(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CRM_USER", "tester")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRM_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)


class CLI:
    """`crm` in-process against one database; returns the CliRunner result."""

    def __init__(self, db: str):
        from typer.testing import CliRunner

        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args, input: str | None = None):
        from crm_tui.cli import app
        from crm_tui.commands._common import State

        try:
            return self.runner.invoke(app, ["--db", self.db, *[str(a) for a in args]], input=input)
        finally:
            State.reset()


from support import one_line_error  # noqa: E402,F401 - the one shared check

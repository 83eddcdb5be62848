"""Helpers shared by the test modules (import with `from support import ...`)."""

from __future__ import annotations

import os
from pathlib import Path

# Real third-party data (public CRM data set, HubSpot samples, messy CSVs, injection payloads),
# copied from the team's shared fixtures so a clean clone has them; each folder keeps its SOURCE.txt.
FIXTURES = Path(__file__).resolve().parent / "fixtures"

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL")


def one_line_error(result, code: int = 1) -> str:
    """Check a CLI result is a clean user error: exit ``code``, no traceback, one
    line on stderr starting with "error:", nothing on stdout. Returns that line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}\nstderr: {result.stderr}"
    )
    assert result.exit_code == code, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert result.stdout == ""
    return lines[0]


def sqlite_url(path) -> str:
    return f"sqlite:///{path}"


def truncate_postgres(url: str, tables: list[str]) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


class CLI:
    """Runs `crm` in-process with CliRunner against one database."""

    def __init__(self, db: str | None):
        from typer.testing import CliRunner

        self.db = db
        self.runner = CliRunner()

    @staticmethod
    def error(result, code: int = 1) -> str:
        """Check ``result`` is a clean user error; return its one line (see one_line_error)."""
        return one_line_error(result, code)

    def __call__(self, *args: str, input: str | None = None, db: bool = True, env: dict | None = None):
        from crm_tui.cli import app
        from crm_tui.commands._common import State

        argv = (["--db", self.db] if (db and self.db) else []) + [str(a) for a in args]
        try:
            return self.runner.invoke(app, argv, input=input, env=env)
        finally:
            State.reset()

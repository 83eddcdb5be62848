"""No traceback ever reaches a CLI user.

Known errors print their one-line message; database trouble (busy, unavailable,
damaged, read-only, out of range) prints a clear one-line reason; anything
unexpected prints one line with a hint, and `CRM_DEBUG=1` shows the traceback.
Every failure exits 1 (2 stays for usage errors) and writes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import create_engine, text
from support import CLI, POSTGRES_URL, one_line_error, sqlite_url, truncate_postgres

BUSY = "error: the database is busy (another program is writing to it); try again"
HINT = "(set CRM_DEBUG=1 to see the traceback)"
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


def ids(cli, noun: str) -> list[int]:
    result = cli(noun, "list", "--format", "ids")
    assert result.exit_code == 0, result.stderr
    return [int(line) for line in result.stdout.split()]


def only_line(result) -> str:
    """stderr is exactly one line, exit 1, stdout empty."""
    return one_line_error(result)


# ---------------------------------------------------------------- numbers out of range


def test_an_absurd_amount_is_refused_with_the_field_and_range(cli):
    account = cli("account", "add", "Acme")
    account_id = account.stdout.strip()
    line = only_line(cli("opp", "add", "X", "--account", account_id, "--amount", "1e308"))
    assert line == "error: amount: '1e308' must be between 0 and 92233720368547758.07"
    assert ids(cli, "opp") == []


def test_an_amount_a_thousand_digits_long_is_refused_quickly_and_cut_short(cli):
    account_id = cli("account", "add", "Acme").stdout.strip()
    started = time.perf_counter()
    line = only_line(cli("opp", "add", "X", "--account", account_id, "--amount", "9" * 1000))
    assert time.perf_counter() - started < 5
    assert line.startswith("error: amount: '999")
    assert "…" in line and len(line) < 160
    assert line.endswith("must be between 0 and 92233720368547758.07")
    line = only_line(cli("opp", "add", "X", "--account", account_id, "--amount", "1e999999999"))
    assert line == "error: amount: '1e999999999' must be between 0 and 92233720368547758.07"
    assert ids(cli, "opp") == []


def test_the_largest_amount_fits_on_every_backend(cli):
    account_id = cli("account", "add", "Acme").stdout.strip()
    biggest = "92233720368547758.07"
    added = cli("opp", "add", "Max", "--account", account_id, "--amount", biggest, "--format", "json")
    assert added.exit_code == 0, added.stderr
    assert '"amount": "92233720368547758.07"' in added.stdout
    line = only_line(cli("opp", "add", "X", "--account", account_id, "--amount", "92233720368547758.08"))
    assert line == "error: amount: '92233720368547758.08' must be between 0 and 92233720368547758.07"
    # A currency without decimals has the same limit in minor units.
    line = only_line(cli("opp", "add", "X", "--account", account_id, "--currency", "JPY",
                         "--amount", str(BIGINT_MAX + 1)))
    assert line == f"error: amount: '{BIGINT_MAX + 1}' must be between 0 and {BIGINT_MAX}"
    assert len(ids(cli, "opp")) == 1


def test_huge_employees_is_refused_with_the_integer_column_range(cli):
    line = only_line(cli("account", "add", "Acme", "--employees", str(10**30)))
    assert line == f"error: employees: '{10**30}' must be between 0 and {INT_MAX}"
    line = only_line(cli("account", "add", "Acme", "--employees", str(INT_MAX + 1)))
    assert line == f"error: employees: '{INT_MAX + 1}' must be between 0 and {INT_MAX}"
    assert ids(cli, "account") == []
    added = cli("account", "add", "Acme", "--employees", str(INT_MAX), "--format", "json")
    assert added.exit_code == 0, added.stderr
    assert f'"employees": {INT_MAX}' in added.stdout


def test_an_integer_field_names_its_own_range(cli):
    account_id = cli("account", "add", "Acme").stdout.strip()
    line = only_line(cli("opp", "add", "X", "--account", account_id, "--probability", "101"))
    assert line == "error: probability: '101' must be between 0 and 100"
    line = only_line(cli("lead", "add", "--last-name", "Ng", "--score", "9" * 500))
    assert line.startswith("error: score: '999") and line.endswith("must be between 0 and 100")
    assert ids(cli, "opp") == [] and ids(cli, "lead") == []


def test_an_import_refuses_an_absurd_number_and_writes_nothing(cli, tmp_path):
    source = tmp_path / "accounts.csv"
    source.write_text(f"name,employees\nGood Co,12\nHuge Co,{10**30}\n", encoding="utf-8")
    result = cli("import", "accounts", str(source))
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"employees: '{10**30}' must be between 0 and {INT_MAX}" in result.stderr
    assert ids(cli, "account") == []


def test_a_bulk_update_refuses_an_absurd_number(cli):
    cli("account", "add", "Acme")
    line = only_line(cli("update", "account", "--set", f"employees={10**30}", "--where", "name=Acme"))
    assert f"employees: '{10**30}' must be between 0 and {INT_MAX}" in line


def test_an_id_out_of_the_column_range_is_one_line(cli):
    line = only_line(cli("account", "show", str(10**20)))
    assert line == "error: id: '100000000000000000000' is not an account id: ids run from 1 to 2147483647", line


def test_every_integer_field_fits_its_column():
    """The cleaning limits follow the column types, so SQLite and PostgreSQL refuse the same values."""
    from sqlalchemy import BigInteger, Integer

    from crm_tui.services import validate
    from crm_tui.services.registry import ENTITIES

    checked = 0
    for entity in {id(e): e for e in ENTITIES.values()}.values():
        table = entity.table
        for spec in entity.specs.values():
            if spec.kind != "int":
                continue
            column = table.c[spec.col]
            low, high = validate.int_range(spec)
            if isinstance(column.type, BigInteger):
                assert -(2**63) <= low and high <= 2**63 - 1, spec.name
            else:
                assert isinstance(column.type, Integer), (spec.name, column.type)
                assert -(2**31) <= low and high <= 2**31 - 1, spec.name
            checked += 1
    assert checked >= 3


# ---------------------------------------------------------------- the database


HOLDER = textwrap.dedent("""
    import sqlite3, sys
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    con.execute("UPDATE accounts SET name = 'held' WHERE id = 1")
    print("held", flush=True)
    sys.stdin.read()
    con.execute("ROLLBACK")
""")


@pytest.fixture
def sqlite_cli(tmp_path):
    from crm_tui.store.db import open_engine

    path = tmp_path / "crm.db"
    url = sqlite_url(path)
    open_engine(url).dispose()
    cli = CLI(url)
    cli.path = path
    return cli


def test_a_locked_sqlite_database_waits_then_says_busy(sqlite_cli, monkeypatch):
    from crm_tui.store import db

    cli = sqlite_cli
    assert cli("account", "add", "Acme").exit_code == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(cli.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 400)
        started = time.perf_counter()
        result = cli("account", "update", "1", "--city", "Berlin")
        waited = time.perf_counter() - started
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert only_line(result) == BUSY
    assert waited >= 0.4
    shown = cli("account", "show", "1", "--format", "json")
    assert '"city": null' in shown.stdout and '"version": 1' in shown.stdout


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("CRM_TEST_POSTGRES_URL"), reason="set CRM_TEST_POSTGRES_URL")
def test_a_locked_postgres_row_waits_then_says_busy(request, monkeypatch):
    from crm_tui.store import db

    truncate_postgres(POSTGRES_URL, request.getfixturevalue("postgres_tables"))
    cli = CLI(POSTGRES_URL)
    account_id = cli("account", "add", "Acme").stdout.strip()
    other = create_engine(POSTGRES_URL)
    try:
        with other.connect() as conn:
            conn.execute(text("UPDATE accounts SET name = 'held' WHERE id = :i"), {"i": int(account_id)})
            monkeypatch.setattr(db, "LOCK_TIMEOUT_MS", 400)
            started = time.perf_counter()
            result = cli("account", "update", account_id, "--city", "Berlin")
            waited = time.perf_counter() - started
            conn.rollback()
    finally:
        other.dispose()
    assert only_line(result) == BUSY
    assert waited >= 0.4
    assert '"city": null' in cli("account", "show", account_id, "--format", "json").stdout


def test_a_file_that_is_not_a_database_is_one_line(bare_cli, tmp_path):
    path = tmp_path / "garbage.db"
    path.write_bytes(os.urandom(8192))
    line = only_line(bare_cli("--db", str(path), "account", "list"))
    assert "not a SQLite database" in line


def test_a_damaged_database_is_one_line(sqlite_cli):
    cli = sqlite_cli
    for n in range(30):
        assert cli("account", "add", f"Account {n}", "--description", "x" * 2000).exit_code == 0
    engine = create_engine(sqlite_url(cli.path))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar()
        root = conn.exec_driver_sql("SELECT rootpage FROM sqlite_master WHERE name = 'accounts'").scalar()
    engine.dispose()
    with open(cli.path, "r+b") as fh:  # overwrite the accounts table's root page
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)
    line = only_line(cli("account", "list", "--format", "csv"))
    assert line.startswith("error: the database file is damaged"), line


def test_a_read_only_database_is_one_line(sqlite_cli):
    cli = sqlite_cli
    assert cli("account", "add", "Acme").exit_code == 0
    read_only = CLI(f"sqlite:///file:{cli.path}?mode=ro&uri=true")
    line = only_line(read_only("account", "add", "Other"))
    assert line.startswith("error: the database is read-only"), line
    assert ids(cli, "account") == [1]


def test_an_unreachable_server_is_one_line(bare_cli):
    line = only_line(bare_cli("--db", "postgresql+psycopg://crm:crm@127.0.0.1:1/nothing", "account", "list"))
    assert "127.0.0.1:1" in line and "crm:crm" not in line


def test_driver_errors_map_to_one_line_reasons():
    """The mapping the CLI (and later the TUI) uses, fed with the drivers' own exception classes."""
    import sqlite3

    import psycopg.errors as pg
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

    from crm_tui.errors import CRMError, DatabaseBusy, DatabaseUnavailable, user_error

    def wrap(cls, orig):
        return cls("UPDATE accounts SET name=?", {}, orig)

    locked = sqlite3.OperationalError("database is locked")
    assert isinstance(user_error(wrap(OperationalError, locked)), DatabaseBusy)
    assert str(user_error(wrap(OperationalError, locked))) == BUSY.removeprefix("error: ")
    for orig in (pg.LockNotAvailable("canceling statement due to lock timeout"),
                 pg.DeadlockDetected("deadlock detected"),
                 pg.SerializationFailure("could not serialize access")):
        assert isinstance(user_error(wrap(OperationalError, orig)), DatabaseBusy), orig
    denied = user_error(wrap(ProgrammingError, pg.InsufficientPrivilege("permission denied for table accounts")))
    assert str(denied) == "permission denied by the database: permission denied for table accounts"
    ro = user_error(wrap(DBAPIError, pg.ReadOnlySqlTransaction("cannot execute UPDATE in a read-only transaction")))
    assert str(ro).startswith("the database is read-only")
    down = user_error(wrap(OperationalError, pg.AdminShutdown("terminating connection due to administrator command")))
    assert isinstance(down, DatabaseUnavailable) and "unavailable" in str(down)
    big = user_error(wrap(DBAPIError, pg.NumericValueOutOfRange("integer out of range")))
    assert str(big) == "a number is out of range for the database (integer out of range)"
    sqlite_big = user_error(OverflowError("Python int too large to convert to SQLite INTEGER"))
    assert str(sqlite_big) == f"a number is out of range for the database (at most {BIGINT_MAX})"
    dup = user_error(wrap(IntegrityError, pg.UniqueViolation("duplicate key value violates unique constraint\nDETAIL: x")))
    assert str(dup) == "the database refused the change: duplicate key value violates unique constraint"
    cant_open = user_error(wrap(OperationalError, sqlite3.OperationalError("unable to open database file")))
    assert str(cant_open).startswith("cannot open the database file")
    odd = user_error(KeyError("x"))
    assert str(odd) == f"unexpected KeyError: 'x' {HINT}"
    known = CRMError("account 3 not found")
    assert user_error(known) is known


# ---------------------------------------------------------------- unexpected errors


def _explode(*args, **kwargs):
    raise RuntimeError("the flux capacitor\nis broken")


def test_an_unexpected_error_is_one_line_with_a_hint(cli, monkeypatch):
    from crm_tui.services import records

    monkeypatch.setattr(records, "list_records", _explode)
    line = only_line(cli("account", "list"))
    assert line == f"error: unexpected RuntimeError: the flux capacitor {HINT}"


def test_crm_debug_shows_the_traceback(cli, monkeypatch):
    from crm_tui.services import records

    monkeypatch.setattr(records, "list_records", _explode)
    result = cli("account", "list", env={"CRM_DEBUG": "1"})
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: the flux capacitor" in result.stderr
    assert result.stdout == ""


def test_an_unexpected_error_in_a_write_is_one_line_and_writes_nothing(cli, monkeypatch):
    from crm_tui.commands import leads

    def boom(s, row):  # runs inside the session, after the insert
        raise ValueError("after the insert")

    monkeypatch.setattr(leads, "_duplicates", boom)
    line = only_line(cli("lead", "add", "--last-name", "Ng"))
    assert line == f"error: unexpected ValueError: after the insert {HINT}"
    assert ids(cli, "lead") == []


def test_usage_errors_still_exit_2(cli):
    result = cli("account", "list", "--no-such-option")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- pipes


def test_a_closed_pipe_exits_0_silently(sqlite_cli):
    """`crm account list --format csv | head -1`: no BrokenPipeError, no message, exit 0."""
    cli = sqlite_cli
    engine = create_engine(sqlite_url(cli.path))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO accounts (name, status, currency, version, lifetime_value_minor, created_at, "
                          "updated_at) VALUES (:n, 'prospect', 'USD', 1, 0, '2026-01-01', '2026-01-01')"),
                     [{"n": f"Account number {i:05d} with a long enough name"} for i in range(6000)])
    engine.dispose()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$0" -m crm_tui --db "$1" account list --format csv | head -1',
         sys.executable, sqlite_url(cli.path)],
        capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("id,")
    assert proc.stderr == ""

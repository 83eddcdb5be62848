"""Safe imports: an import updates existing records only when asked (--match), an unedited export imports
back exactly (the formula guard is reversible), creation times in the future are refused, and a dry run
says what it would do."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from support import FIXTURES, one_line_error

from crm_tui.spreadsheet import is_dangerous, neutralise, unneutralise

BOM = FIXTURES / "csv_messy" / "frictionless" / "bom.csv"

# Values that start like formulas, like a guard, or like both.
TRICKY = ["=1+1", "'=1+1", "''=1+1", "'''@x", "'Tis the season", "'", "''", "+1 555 0100", "'+1 555 0100",
          "-12.50", "'-12.50", "@home", "\uff1dcmd", "'\uff20x", "a=b", "  =x", "' =x"]


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the guard, both ways


@pytest.mark.parametrize("value", TRICKY)
def test_guard_is_undone_exactly(value):
    guarded = neutralise(value)
    assert not is_dangerous(guarded)
    assert unneutralise(guarded) == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("'= +-@\t\r\nab1.\uff1d"), max_size=8) | st.text(max_size=12))
def test_guard_round_trips_any_text(value):
    guarded = neutralise(value)
    assert unneutralise(guarded) == value
    assert not is_dangerous(guarded)
    # text nobody guarded is read as it is, unless it looks like a guard itself
    if not value.startswith("'"):
        assert unneutralise(value) == value


# ---------------------------------------------------------------- updates only when asked


def test_a_file_with_ids_does_not_overwrite_records_without_match(cli, engine):
    assert cli("account", "add", "Acme").exit_code == 0
    assert cli("account", "add", "Globex").exit_code == 0
    line = one_line_error(cli("import", "account", BOM))
    assert "id column" in line and "--match id" in line and "--map 'id='" in line
    assert rows(engine, "SELECT id, name, version FROM accounts ORDER BY id") == [(1, "Acme", 1), (2, "Globex", 1)]
    # the same refusal on a dry run
    one_line_error(cli("import", "account", BOM, "--dry-run"))
    # asked to: the rows name accounts 1 and 2
    matched = cli("import", "account", BOM, "--match", "id")
    assert matched.exit_code == 0, matched.stderr
    assert "0 new accounts, 2 updated" in matched.stderr
    assert rows(engine, "SELECT id, name FROM accounts ORDER BY id") == [(1, "english"), (2, "中国人")]
    # or every row as a new record
    added = cli("import", "account", BOM, "--map", "id=")
    assert added.exit_code == 0, added.stderr
    assert "2 new accounts" in added.stderr
    assert rows(engine, "SELECT id, name FROM accounts ORDER BY id")[2:] == [(3, "english"), (4, "中国人")]


def test_match_by_email_ignores_the_id_column(cli, engine, tmp_path):
    assert cli("account", "add", "Acme", "--email", "hi@acme.example").exit_code == 0
    assert cli("account", "add", "Globex").exit_code == 0
    path = write(tmp_path / "a.csv", "id,name,email\n2,Acme Corp,hi@acme.example\n")
    result = cli("import", "account", path, "--match", "email")
    assert result.exit_code == 0, result.stderr
    assert rows(engine, "SELECT id, name FROM accounts ORDER BY id") == [(1, "Acme Corp"), (2, "Globex")]


def test_unedited_export_imports_back_unchanged(cli, engine, tmp_path):
    for i, value in enumerate(TRICKY):
        added = cli("account", "add", f"Tricky {i}", "--description", value, "--industry", value.strip() or "x")
        assert added.exit_code == 0, (value, added.stderr)
    before = rows(engine, "SELECT id, name, description, industry, version, updated_at FROM accounts ORDER BY id")
    assert [r[2] for r in before] == [v.strip() for v in TRICKY]  # stored as typed (trimmed)
    exported = tmp_path / "a.csv"
    assert cli("export", "account", "-o", exported).exit_code == 0
    cells = [c for r in csv.reader(io.StringIO(exported.read_text(encoding="utf-8"))) for c in r]
    assert not [c for c in cells if is_dangerous(c)]
    again = cli("import", "account", exported, "--match", "id")
    assert again.exit_code == 0, again.stderr
    assert f"0 new accounts, 0 updated, {len(TRICKY)} unchanged" in again.stderr
    assert rows(engine, "SELECT id, name, description, industry, version, updated_at FROM accounts "
                        "ORDER BY id") == before
    assert rows(engine, "SELECT count(*) FROM changes WHERE field <> '*'") == [(0,)]


def test_a_creation_time_in_the_future_is_refused(cli, engine, tmp_path):
    for when in ("9999-12-31", "9999-12-31T23:59:59-05:00", "2999-01-01T00:00:00+00:00"):
        path = write(tmp_path / "future.csv", f"name,created_at\nTime Traveller,{when}\n")
        line = one_line_error(cli("import", "account", path))
        # in the future, or (past what a date-time column holds once in UTC) out of range
        assert "created_at" in line and when in line and ("future" in line or "out of range" in line), line
    assert rows(engine, "SELECT count(*) FROM accounts") == [(0,)]
    past = write(tmp_path / "past.csv", "name,created_at\nOld Co,2017-03-04\n")
    assert cli("import", "account", past).exit_code == 0


def test_dry_run_says_which_users_it_would_add(cli, engine, tmp_path):
    path = write(tmp_path / "c.csv", "last_name,owner\nLee,newrep@example.com\n")
    dry = cli("import", "contact", path, "--create-users", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would add 1 user: newrep" in dry.stderr
    assert "added" not in dry.stderr
    assert rows(engine, "SELECT count(*) FROM users WHERE username = 'newrep'") == [(0,)]
    real = cli("import", "contact", path, "--create-users")
    assert real.exit_code == 0, real.stderr
    assert "added 1 user: newrep" in real.stderr
    assert rows(engine, "SELECT count(*) FROM users WHERE username = 'newrep'") == [(1,)]


def test_rejects_file_is_inert_and_imports_like_the_first_file(cli, engine, tmp_path):
    source = write(tmp_path / "in.csv", "name,description,employees\n"
                                        "=HYPERLINK(\"x\"),'=kept,many\nGood,ok,3\n")
    rejects = tmp_path / "rejects.csv"
    result = cli("import", "account", source, "--skip-invalid", "--rejects", rejects)
    assert result.exit_code == 0, result.stderr
    cells = [c for r in csv.reader(io.StringIO(rejects.read_text(encoding="utf-8"))) for c in r]
    assert not [c for c in cells if is_dangerous(c)], cells
    fixed = rejects.read_text(encoding="utf-8").replace("many", "12")
    fixed_path = write(tmp_path / "fixed.csv", fixed)
    again = cli("import", "account", fixed_path, "--map", "error=")
    assert again.exit_code == 0, again.stderr
    assert rows(engine, "SELECT name, description, employees FROM accounts ORDER BY id") == [
        ("Good", "ok", 3), ("=HYPERLINK(\"x\")", "=kept", 12)]

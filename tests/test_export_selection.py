"""`crm export` picks records like the bulk commands (--where, --ids FILE|-) and sorts like list (--sort);
`crm db` alone shows its help."""

from __future__ import annotations

import csv
import io
import json

import pytest
from support import one_line_error


def names(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [r["name"] for r in csv.DictReader(io.StringIO(result.stdout))]


@pytest.fixture
def five(cli):
    for name, employees in (("Delta", 40), ("Alpha", 10), ("Echo", 50), ("Charlie", 30), ("Bravo", 20)):
        assert cli("account", "add", name, "--employees", str(employees)).exit_code == 0
    return cli


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_export_sort(five, fmt):
    cli = five

    def order(*args):
        result = cli("export", "account", "--format", fmt, "--columns", "id,name", *args)
        assert result.exit_code == 0, result.stderr
        if fmt == "csv":
            return names(result)
        rows = json.loads(result.stdout) if fmt == "json" else [json.loads(x) for x in result.stdout.splitlines()]
        return [r["name"] for r in rows]

    assert order() == ["Delta", "Alpha", "Echo", "Charlie", "Bravo"]  # by id
    assert order("--sort", "name") == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert order("--sort", "-employees") == ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]
    assert order("--sort", "-employees", "--where", "employees<35") == ["Charlie", "Bravo", "Alpha"]


def test_export_sort_refuses_an_unknown_column(five):
    assert "sort" in one_line_error(five("export", "account", "--sort", "colour"))


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_export_ids_from_stdin_and_a_file(five, tmp_path, fmt):
    cli = five
    piped = cli("account", "list", "--where", "employees>=30", "--format", "ids")
    assert sorted(piped.stdout.split()) == ["1", "3", "4"]
    result = cli("export", "account", "--ids", "-", "--format", fmt, "--sort", "name", input=piped.stdout)
    assert result.exit_code == 0, result.stderr
    got = (names(result) if fmt == "csv" else [json.loads(x)["name"] for x in result.stdout.splitlines()])
    assert got == ["Charlie", "Delta", "Echo"]
    assert "exported 3 accounts" in result.stderr
    path = tmp_path / "ids.txt"
    path.write_text("id\n5\n2\n\n", encoding="utf-8")
    assert names(cli("export", "account", "--ids", path)) == ["Alpha", "Bravo"]
    # with --where too: both must hold
    assert names(cli("export", "account", "--ids", "-", "--where", "employees<45", input="1\n3\n4\n")) == [
        "Delta", "Charlie"]
    # an empty list exports nothing but the header
    empty = cli("export", "account", "--ids", "-", input="")
    assert empty.exit_code == 0 and empty.stdout.splitlines() == [empty.stdout.splitlines()[0]]


def test_export_of_many_ids(cli, engine):
    """More ids than fit one IN list of bound parameters: they go through a temporary table."""
    from sqlmodel import Session

    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES

    with Session(engine) as s:
        for i in range(1200):
            records.create_record(ENTITIES["account"], session=s, actor="tester", data={"name": f"Co {i:04d}"})
        s.commit()
    wanted = list(range(2, 1201, 1))
    result = cli("export", "account", "--ids", "-", "--columns", "id,name", input="\n".join(map(str, wanted)))
    assert result.exit_code == 0, result.stderr
    assert [int(r["id"]) for r in csv.DictReader(io.StringIO(result.stdout))] == wanted
    refused = cli("export", "account", "--ids", "-", input="".join(f"{i}\n" for i in range(1, 40001)))
    assert "not found among accounts" in one_line_error(refused)


def test_export_ids_refuses_unknown_or_bad_ids(five):
    assert "not found among accounts" in one_line_error(five("export", "account", "--ids", "-", input="1\n99\n"))
    assert "is not a record id" in one_line_error(five("export", "account", "--ids", "-", input="1\nabc\n"))
    line = one_line_error(five("export", "account", "--ids", "/nonexistent/ids.txt"))
    assert "cannot read" in line


def test_db_alone_prints_its_help_and_exits_0(cli):
    result = cli("db")
    assert result.exit_code == 0, result.stderr
    assert "upgrade" in result.stdout and "url" in result.stdout
    assert result.stderr == ""

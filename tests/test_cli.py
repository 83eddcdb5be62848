"""The `crm` command line, run in-process with typer.testing.CliRunner.

stdout carries data only (parsed here with csv / json), stderr carries
messages; exit 0 on success, 1 on a user error (one line naming the bad
value), 2 on a usage error.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
import typer.main
from sqlalchemy import text
from typer.testing import CliRunner

from crm_tui.cli import app
from crm_tui.commands._common import State
from crm_tui.store.models import LEAD_STATUSES


def read_csv(result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def read_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def read_ndjson(result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def read_ids(result) -> list[int]:
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(line.isdigit() for line in lines), result.stdout
    return [int(line) for line in lines]


def added_id(result) -> int:
    (record_id,) = read_ids(result)
    return record_id


# ---------------------------------------------------------------- the command tree


def _walk(command, path: tuple[str, ...] = ()):
    """Every (path, command) under ``command``, through Click's own group API (list_commands /
    get_command), so commands the root builds only when used are walked too. Typer vendors its
    own Click, so groups are recognised by having ``list_commands`` rather than by class."""
    yield path, command
    if not hasattr(command, "list_commands"):
        return
    ctx = typer.Context(command)
    for name in command.list_commands(ctx):
        yield from _walk(command.get_command(ctx, name), path + (name,))


COMMANDS = list(_walk(typer.main.get_command(app)))


def test_the_tree_has_every_noun_and_verb():
    paths = {" ".join(p) for p, _ in COMMANDS}
    for noun in ("account", "contact", "opp", "activity"):
        for verb in ("list", "show", "add", "update", "delete", "history"):
            assert f"{noun} {verb}" in paths
    for extra in ("db upgrade", "user list", "user add", "stage list", "demo", "activity done"):
        assert extra in paths


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "crm" for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path, command):
    assert (command.help or "").strip(), f"`crm {' '.join(path)}` has no help text"
    for param in command.params:
        if param.name == "help":
            continue
        assert (getattr(param, "help", None) or "").strip(), (
            f"`crm {' '.join(path)}` {param.param_type_name} {param.name} has no help text")


# Commands that print no records and no ids on stdout (messages go to stderr): they have no --format.
PRINTS_NO_RECORDS = {
    "account delete", "contact delete", "opp delete", "activity delete", "lead delete", "product delete",
    "opp move", "activity done", "stage update", "quota set",  # say what changed on stderr
    "proposal pdf",  # writes a file
    "db upgrade", "db url", "demo", "import", "view save", "view delete",
    "tag add", "tag remove", "update", "delete", "undo",  # bulk: counts and the batch id on stderr
    "summary",  # a document (text or HTML), with its own --format text|html
    "config path",  # a file name
    "jobs run",  # one line per job run on stderr
    "batch",  # each line prints what its own command prints
    "warm stop",  # says which processes it stopped on stderr
    "user deactivate", "team add-member", "team remove-member", "role set",  # say what changed on stderr
}


def _is_group(command) -> bool:
    return hasattr(command, "list_commands")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "crm" for p, _ in COMMANDS])
def test_every_command_that_prints_records_has_the_shared_output_options(path, command):
    """--format comes from one decorator (crm_tui.commands._output.output_options) on every command that
    prints records or ids, including those that create or update records; nowhere is it declared by hand."""
    from crm_tui.commands._output import OUTPUT_MARK

    name = " ".join(path)
    mark = getattr(command.callback, OUTPUT_MARK, None)
    fmt = [p for p in command.params if "--format" in getattr(p, "opts", ())]
    if name in PRINTS_NO_RECORDS:
        assert mark is None, f"`crm {name}` prints records: take it out of PRINTS_NO_RECORDS"
        return
    if _is_group(command) and not fmt:
        return  # a group whose default verb is `list`: the list command has the options
    assert mark is not None, f"`crm {name}` prints records or ids but has no @output_options"
    assert len(fmt) == 1 and fmt[0].help, f"`crm {name}` --format has no help"
    assert fmt[0].default in {f.value for f in mark["formats"]} | set(mark["formats"])
    if mark["columns"]:
        assert any("--columns" in getattr(p, "opts", ()) for p in command.params)


def test_writes_print_the_id_by_default_and_the_record_on_request(cli):
    """`proposal new` and the other writes take --format like `account add`: the id by default."""
    account_id = added_id(cli("account", "add", "Acme"))
    opp_id = added_id(cli("opp", "add", "Deal", "--account", str(account_id)))
    proposal_id = added_id(cli("proposal", "new", "--opp", str(opp_id)))
    assert read_ids(cli("proposal", "add-line", str(proposal_id), "--description", "Setup", "--price", "100")) == [
        proposal_id]
    shown = read_json(cli("proposal", "send", str(proposal_id), "--format", "json"))
    assert (shown["id"], shown["status"]) == (proposal_id, "sent")
    (stage,) = read_json(cli("stage", "list", "--format", "json"))[:1]
    assert stage["name"]
    user = read_json(cli("user", "add", "alice", "--format", "json"))
    assert user["username"] == "alice"
    assert read_ids(cli("user", "add", "bob")) == [user["id"] + 1]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "crm" for p, _ in COMMANDS])
def test_help_texts_use_the_right_article(path, command):
    import re

    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    for help_text in texts:
        # "a account" / "an lead" (words starting with u, as in "a user", sound like a consonant)
        assert not re.search(r"\ba [aeio]|\ban [bcdfgjklmnpqrstvwxyz]", help_text, re.I), (
            f"`crm {' '.join(path)}`: {help_text}")


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) or "crm" for p, _ in COMMANDS])
def test_every_help_page_renders(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    State.reset()
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout
    assert result.stderr == ""


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("crm-tui ")


# ---------------------------------------------------------------- account round trip


def test_account_round_trip_in_every_format(cli):
    added = cli("account", "add", "Acme Robotics Inc", "--industry", "Technology", "--state", "CA",
                "--email", "info@acme.example.com", "--employees", "250")
    assert added.exit_code == 0, added.stderr
    account_id = added_id(added)
    assert added.stderr.strip() == f"added account {account_id}"

    (row,) = read_csv(cli("account", "list", "--format", "csv"))
    assert row["id"] == str(account_id)
    assert (row["name"], row["industry"], row["state"], row["email"]) == (
        "Acme Robotics Inc", "Technology", "CA", "info@acme.example.com")
    assert (row["status"], row["owner"], row["employees"], row["currency"]) == ("prospect", "tester", "250", "USD")
    assert row["version"] == "1"

    (obj,) = read_json(cli("account", "list", "--format", "json"))
    assert obj["id"] == account_id and obj["name"] == "Acme Robotics Inc" and obj["employees"] == 250
    assert obj["city"] is None

    (line,) = read_ndjson(cli("account", "list", "--format", "ndjson"))
    assert line == obj

    assert read_ids(cli("account", "list", "--format", "ids")) == [account_id]

    table = cli("account", "list")
    assert table.exit_code == 0
    assert "Acme Robotics Inc" in table.stdout and "Technology" in table.stdout
    assert table.stderr == ""

    shown = read_json(cli("account", "show", str(account_id), "--format", "json"))
    assert shown["name"] == "Acme Robotics Inc" and shown["employees"] == 250
    shown_table = cli("account", "show", str(account_id))
    assert shown_table.exit_code == 0 and "Acme Robotics Inc" in shown_table.stdout

    updated = cli("account", "update", str(account_id), "--status", "active", "--city", "San Francisco")
    assert updated.exit_code == 0, updated.stderr
    assert read_ids(updated) == [account_id]
    assert updated.stderr.strip() == f"updated account {account_id} (version 2)"
    shown = read_json(cli("account", "show", str(account_id), "--format", "json"))
    assert (shown["status"], shown["city"], shown["version"]) == ("active", "San Francisco", 2)

    cleared = cli("account", "update", str(account_id), "--city", "-", "--format", "json")
    assert read_json(cleared)["city"] is None

    hist = read_csv(cli("account", "history", str(account_id), "--format", "csv"))
    assert {(h["field"], h["old_value"], h["new_value"], h["actor"]) for h in hist} == {
        ("status", "prospect", "active", "tester"),
        ("city", "", "San Francisco", "tester"),
        ("city", "San Francisco", "", "tester"),
    }

    # A stale version is refused and the stored value stays.
    stale = cli("account", "update", str(account_id), "--status", "churned", "--if-version", "1")
    assert "version 1" in cli.error(stale)
    assert read_json(cli("account", "show", str(account_id), "--format", "json"))["status"] == "active"

    # Deleting needs --yes when nobody can be asked.
    refused = cli("account", "delete", str(account_id))
    assert "without --yes" in cli.error(refused)
    assert read_ids(cli("account", "list", "--format", "ids")) == [account_id]

    deleted = cli("account", "delete", str(account_id), "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.stdout == ""
    assert deleted.stderr.strip() == f"deleted account {account_id} (Acme Robotics Inc)"
    assert read_ids(cli("account", "list", "--format", "ids")) == []
    assert read_csv(cli("account", "list", "--format", "csv")) == []
    assert read_json(cli("account", "list", "--format", "json")) == []
    empty_table = cli("account", "list")
    assert empty_table.exit_code == 0 and empty_table.stdout == "" and "no accounts" in empty_table.stderr


def test_delete_refused_while_contacts_remain(cli):
    account_id = added_id(cli("account", "add", "Parent Co"))
    for last in ("One", "Two", "Three"):
        assert cli("contact", "add", "--last-name", last, "--account", str(account_id)).exit_code == 0
    message = cli.error(cli("account", "delete", str(account_id), "--yes"))
    assert "3 contacts" in message
    assert read_ids(cli("account", "list", "--format", "ids")) == [account_id]


def test_contact_and_opportunity_round_trip(cli):
    account_id = added_id(cli("account", "add", "Zeta Robotics"))
    contact_id = added_id(cli("contact", "add", "--first-name", "Zoë", "--last-name", "Müller",
                              "--account", str(account_id), "--email", "zoe@zeta.example.com"))
    (contact,) = read_json(cli("contact", "list", "--account", str(account_id), "--format", "json"))
    assert (contact["id"], contact["name"], contact["account"]) == (contact_id, "Zoë Müller", "Zeta Robotics")

    opp_id = added_id(cli("opp", "add", "Zeta – data platform", "--account", str(account_id),
                          "--amount", "12,500.00", "--currency", "EUR", "--stage", "Proposal",
                          "--expected-close", "2026-12-31"))
    (opp,) = read_csv(cli("opp", "list", "--format", "csv"))
    assert opp["id"] == str(opp_id)
    assert (opp["name"], opp["stage"], opp["probability"]) == ("Zeta – data platform", "Proposal", "50")
    assert (opp["amount"], opp["amount_minor"], opp["currency"]) == ("12500.00", "1250000", "EUR")
    assert opp["weighted_amount"] == "6250.00"
    assert opp["expected_close"] == "2026-12-31"

    won = read_json(cli("opp", "update", str(opp_id), "--stage", "won", "--format", "json"))
    assert (won["stage"], won["probability"]) == ("Won", 100)
    assert won["actual_close"] is not None

    lost = cli.error(cli("opp", "update", str(opp_id), "--stage", "Lost"))
    assert "lost_reason" in lost

    act = added_id(cli("activity", "add", "Call about pricing", "--type", "call", "--opp", str(opp_id)))
    task = added_id(cli("activity", "add", "Send contract", "--due", "2030-01-01 09:00"))
    assert {r["id"] for r in read_json(cli("activity", "list", "--open", "yes", "--format", "json"))} == {act, task}
    done = cli("activity", "done", str(task))
    assert done.exit_code == 0 and f"activity {task} done" in done.stderr
    assert read_ids(cli("activity", "list", "--open", "no", "--format", "ids")) == [task]
    again = cli.error(cli("activity", "done", str(task)))
    assert "already done" in again


def test_list_options(cli):
    for name, industry in (("Acme Foods", "Retail"), ("Acme Robotics", "Technology"), ("Globex", "Technology")):
        assert cli("account", "add", name, "--industry", industry).exit_code == 0
    assert [r["name"] for r in read_csv(cli("account", "list", "--search", "acme", "--format", "csv"))] == [
        "Acme Foods", "Acme Robotics"]
    assert [r["name"] for r in read_csv(cli("account", "list", "--industry", "technology", "--sort", "-name",
                                            "--format", "csv"))] == ["Globex", "Acme Robotics"]
    limited = read_csv(cli("account", "list", "--limit", "1", "--sort", "name", "--format", "csv"))
    assert [r["name"] for r in limited] == ["Acme Foods"]
    narrow = read_csv(cli("account", "list", "--columns", "id,name", "--format", "csv"))
    assert list(narrow[0]) == ["id", "name"]
    table = cli("account", "list", "--limit", "2")
    assert table.exit_code == 0 and "showing 2 of 3 accounts" in table.stderr
    bad_columns = cli.error(cli("account", "list", "--columns", "id,colour", "--format", "csv"))
    assert "colour" in bad_columns
    assert "colour" in cli.error(cli("account", "list", "--columns", "id,colour"))


def test_owner_me_means_the_current_user(cli):
    mine = added_id(cli("account", "add", "Mine"))
    assert cli("user", "add", "bob").exit_code == 0
    cli("account", "add", "Bobs", "--owner", "bob")
    assert read_ids(cli("account", "list", "--owner", "me", "--format", "ids")) == [mine]


# ---------------------------------------------------------------- errors and exit codes


@pytest.mark.parametrize(("args", "fragments"), [
    (("opp", "add", "Deal", "--amount", "-5"), ("amount", "'-5'")),
    (("opp", "add", "Deal", "--amount", "5.5", "--currency", "JPY"), ("amount", "'5.5'", "JPY")),
    (("opp", "add", "Deal", "--currency", "XYZ"), ("currency", "'XYZ'")),
    (("opp", "add", "Deal", "--stage", "Closing"), ("stage", "'Closing'", "Proposal")),
    (("opp", "add", "Deal", "--probability", "101"), ("probability", "'101'")),
    (("opp", "add", "Deal", "--expected-close", "2026-13-01"), ("expected_close", "'2026-13-01'")),
    (("opp", "add", "Deal", "--account", "999999"), ("account", "'999999'")),
    (("account", "add", "Acme", "--email", "not-an-email"), ("email", "'not-an-email'")),
    (("account", "add", "Acme", "--owner", "ghost"), ("owner", "'ghost'")),
    (("account", "show", "999999"), ("account 999999 not found",)),
    (("account", "update", "999999", "--status", "active"), ("account 999999 not found",)),
    (("account", "delete", "999999", "--yes"), ("account 999999 not found",)),
    (("account", "update", "1"), ("nothing to update",)),
    (("account", "list", "--sort", "colour"), ("sort", "'colour'")),
    (("contact", "list", "--account", "abc"), ("account", "'abc'")),
    (("opp", "list", "--stage", "Closing"), ("stage", "'Closing'")),
    (("user", "add", "bad name!"), ("username", "'bad name!'")),
    (("demo", "--size", "huge"), ("size", "'huge'")),
])
def test_user_errors_exit_1_with_one_line(cli, args, fragments):
    before = read_csv(cli("account", "list", "--format", "csv"))
    message = cli.error(cli(*args))
    for fragment in fragments:
        assert fragment in message
    assert read_csv(cli("account", "list", "--format", "csv")) == before


def test_several_bad_fields_in_one_line(cli):
    message = cli.error(cli("opp", "add", "Deal", "--probability", "101", "--currency", "XYZ"))
    assert "probability: '101'" in message and "currency: 'XYZ'" in message


@pytest.mark.parametrize("args", [
    ("account", "add"),  # missing NAME
    ("account", "list", "--colour", "red"),
    ("account", "list", "--format", "xml"),
    ("account", "list", "--limit", "-1"),
    ("account", "list", "--limit", "one"),  # a count, not an id (text for an id: tests/test_cli_ids.py)
    ("account", "frobnicate"),
    ("nope",),
    ("opp", "update", "1", "--amount"),  # option without its value
])
def test_usage_errors_exit_2(cli, args):
    result = cli(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Error" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- choosing the database


def test_db_in_missing_folder(bare_cli, tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "crm.db"
    message = bare_cli.error(bare_cli("--db", str(path), "account", "list"))
    assert str(path.parent) in message
    assert not path.parent.exists()


def test_db_that_is_not_a_database(bare_cli, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    message = bare_cli.error(bare_cli("--db", str(path), "account", "list"))
    assert str(path) in message and "not a SQLite database" in message
    assert path.read_text() == "these are my notes, not a database\n" * 100


def test_db_postgres_on_closed_port(bare_cli):
    message = bare_cli.error(bare_cli("--db", "postgresql+psycopg://crm:secret@127.0.0.1:1/crm", "account", "list"))
    assert "127.0.0.1:1" in message
    assert "secret" not in message


def test_plain_postgresql_url_uses_psycopg(bare_cli):
    message = bare_cli.error(bare_cli("--db", "postgresql://crm:secret@127.0.0.1:1/crm", "account", "list"))
    assert "postgresql+psycopg://" in message and "secret" not in message


def test_db_url_with_unknown_driver(bare_cli):
    message = bare_cli.error(bare_cli("--db", "nosuchdb://host/x", "account", "list"))
    assert "nosuchdb://host/x" in message


def test_crm_database_url_env_is_honoured(bare_cli, tmp_path, monkeypatch, isolated_env):
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("CRM_DATABASE_URL", str(path))
    account_id = added_id(bare_cli("account", "add", "Env Co"))
    assert path.exists()
    monkeypatch.delenv("CRM_DATABASE_URL")
    other = read_ids(bare_cli("--db", str(path), "account", "list", "--format", "ids"))
    assert other == [account_id]
    assert not (isolated_env / "data" / "crm.db").exists()
    url = bare_cli("--db", f"sqlite:///{path}", "db", "url")
    assert url.stdout.strip() == f"sqlite:///{path}"


def test_db_option_beats_env(bare_cli, tmp_path, monkeypatch):
    env_db, opt_db = tmp_path / "env.db", tmp_path / "opt.db"
    monkeypatch.setenv("CRM_DATABASE_URL", str(env_db))
    added_id(bare_cli("--db", str(opt_db), "account", "add", "Opt Co"))
    assert opt_db.exists() and not env_db.exists()


def test_default_database_lives_in_crm_data_dir(bare_cli, isolated_env):
    added_id(bare_cli("account", "add", "Default Co"))
    assert (isolated_env / "data" / "crm.db").exists()


def test_config_file_database_and_user(bare_cli, tmp_path, monkeypatch, isolated_env):
    path = tmp_path / "configured.db"
    (isolated_env / "config" / "config.json").write_text(json.dumps({"database_url": str(path), "user": "carol"}))
    monkeypatch.delenv("CRM_USER")
    account_id = added_id(bare_cli("account", "add", "Config Co"))
    (row,) = read_csv(bare_cli("--db", str(path), "account", "list", "--format", "csv"))
    assert (row["id"], row["owner"]) == (str(account_id), "carol")


# ---------------------------------------------------------------- demo data


EXPORTS = [
    ("account", "list", "--sort", "id", "--format", "csv"),
    ("contact", "list", "--sort", "id", "--format", "csv"),
    ("opp", "list", "--sort", "id", "--format", "csv"),
    ("activity", "list", "--sort", "id", "--format", "csv"),
    ("user", "list", "--format", "csv"),
    ("stage", "list", "--format", "csv"),
]


def export_all(run) -> dict[str, list[dict]]:
    return {" ".join(args[:2]): read_csv(run(*args)) for args in EXPORTS}


def test_demo_is_deterministic_and_complete(cli, bare_cli, db_url, tmp_path):
    first = cli("demo", "--size", "small", "--seed", "7")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == ""
    data = export_all(cli)
    assert len(data["opp list"]) == 500
    assert len(data["account list"]) > 0 and len(data["contact list"]) > 0 and len(data["activity list"]) > 0

    other_db = tmp_path / "second.db"
    second = bare_cli("--db", str(other_db), "demo", "--size", "small", "--seed", "7")
    assert second.exit_code == 0, second.stderr
    assert export_all(lambda *a: bare_cli("--db", str(other_db), *a)) == data

    # A different seed gives different data.
    third_db = tmp_path / "third.db"
    assert bare_cli("--db", str(third_db), "demo", "--size", "small", "--seed", "8").exit_code == 0
    assert read_csv(bare_cli("--db", str(third_db), *EXPORTS[2])) != data["opp list"]

    # Every stage and every lead status is present.
    stage_names = {s["name"] for s in data["stage list"]}
    assert {o["stage"] for o in data["opp list"]} == stage_names
    from crm_tui.store.db import open_engine

    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            statuses = set(conn.execute(text("SELECT DISTINCT status FROM leads")).scalars())
    finally:
        engine.dispose()
    assert statuses == set(LEAD_STATUSES)

    # A product catalog, two templates, and proposals in every status on open deals, priced by the
    # proposals service (every stored total equals a fresh pricing of its lines).
    products = read_csv(cli("product", "list", "--format", "csv"))
    assert 10 <= len(products) <= 15 and all(p["sku"] and int(p["unit_price_minor"]) > 0 for p in products)
    assert len(read_csv(bare_cli("--db", str(other_db), "product", "list", "--format", "csv"))) == len(products)
    listed = read_csv(cli("proposal", "list", "--format", "csv"))
    assert {p["status"] for p in listed} == {"draft", "sent", "accepted", "rejected", "expired"}
    assert read_csv(bare_cli("--db", str(other_db), "proposal", "list", "--format", "csv")) == listed
    assert read_csv(cli("proposal", "list", "--overdue", "--format", "csv"))
    from crm_tui.services.quotes import proposals
    from crm_tui.store.db import session_scope

    engine = open_engine(db_url)
    try:
        with session_scope(engine) as s:
            assert len(proposals.list_templates(session=s)) == 2
            for row in listed:
                view = proposals.get_proposal(session=s, proposal_id=row["id"])
                assert view.pricing.lines, row["number"]
                repriced = proposals.price_lines(
                    [proposals.LineInput(ln.description, ln.quantity_milli, ln.unit_price_minor, ln.discount_bp)
                     for ln in view.pricing.lines], tax_rate_bp=view.pricing.tax_rate_bp, currency="USD")
                assert repriced.total_minor == int(row["total"].replace(".", "")), row["number"]
            with engine.connect() as conn:
                open_stage = set(conn.execute(text(
                    "SELECT DISTINCT s.is_won OR s.is_lost FROM proposals p JOIN opportunities o "
                    "ON o.id = p.opportunity_id JOIN stages s ON s.id = o.stage_id")).scalars())
            assert open_stage == {False}
    finally:
        engine.dispose()

    # Money columns are exact decimal strings matching the minor units.
    for o in data["opp list"][:50]:
        assert int(o["amount_minor"]) == int(o["amount"].replace(".", ""))


def test_demo_refuses_data_without_replace(cli):
    assert cli("demo", "--size", "small", "--seed", "7").exit_code == 0
    before = export_all(cli)
    message = cli.error(cli("demo", "--size", "small", "--seed", "3"))
    assert "--replace" in message
    assert export_all(cli) == before

    kept = cli("demo", "--size", "small", "--seed", "3", "--if-empty")
    assert kept.exit_code == 0 and "already has data" in kept.stderr
    assert export_all(cli) == before

    replaced = cli("demo", "--size", "small", "--seed", "7", "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert export_all(cli) == before

    # New records get fresh ids after the bulk load (sequences moved on, on PostgreSQL too).
    new_id = added_id(cli("account", "add", "After Demo Co"))
    assert new_id == max(int(a["id"]) for a in before["account list"]) + 1


def test_demo_after_a_user_was_added_does_not_crash(cli):
    """`crm user add` (or any add, which creates the acting user) before `crm demo`."""
    assert cli("user", "add", "bob").exit_code == 0
    result = cli("demo", "--size", "small", "--seed", "7")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:
        users = {u["username"] for u in read_csv(cli("user", "list", "--format", "csv"))}
        assert {"bob", "alice", "tester"} <= users
        assert len(read_ids(cli("opp", "list", "--format", "ids"))) == 500
    else:
        assert "--replace" in cli.error(result)


def test_demo_refuses_a_database_with_only_a_contact(cli):
    assert cli("contact", "add", "--last-name", "Lonely").exit_code == 0
    assert "--replace" in cli.error(cli("demo", "--size", "small"))


# ---------------------------------------------------------------- pipes (a real process)


def run_crm(*args: str, db: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crm_tui", "--db", db, *args], input=input,
                          capture_output=True, text=True, timeout=120)


def test_ids_output_is_one_integer_per_line_through_a_pipe(cli, db_url):
    assert cli("demo", "--size", "small", "--seed", "7").exit_code == 0
    proc = run_crm("opp", "list", "--format", "ids", db=db_url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.split("\n")
    assert lines[-1] == ""  # ends with a newline
    ids = [int(line) for line in lines[:-1] if line.isdigit()]
    assert len(ids) == len(lines) - 1 == 500
    assert len(set(ids)) == 500

    open_won = run_crm("opp", "list", "--stage", "won", "--format", "ids", db=db_url)
    won_ids = [int(x) for x in open_won.stdout.split()]
    assert won_ids and set(won_ids) < set(ids)
    rows = read_csv_text(run_crm("opp", "list", "--stage", "won", "--format", "csv", db=db_url).stdout)
    assert {int(r["id"]) for r in rows} == set(won_ids)
    assert {r["stage"] for r in rows} == {"Won"}


def test_broken_pipe_is_quiet(cli, db_url):
    assert cli("demo", "--size", "small", "--seed", "7").exit_code == 0
    proc = subprocess.run(
        f'"{sys.executable}" -m crm_tui --db "{db_url}" opp list --format csv | head -n 2; exit ${{PIPESTATUS[0]}}',
        shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=120)
    assert len(proc.stdout.splitlines()) == 2
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert proc.returncode == 0


def test_error_in_a_real_process_has_no_traceback(tmp_path):
    proc = run_crm("account", "list", db=str(tmp_path / "missing" / "crm.db"))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")


def read_csv_text(text_: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text_)))

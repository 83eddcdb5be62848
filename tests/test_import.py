"""`crm import`: encodings, delimiters, mapping and presets, validation by row and column, all or nothing,
--skip-invalid with rejects, --match updates, the export round trip with conflicts, and the real fixture files."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from support import (
    FIXTURES,  # noqa: E402
    one_line_error,
)

MESSY = FIXTURES / "csv_messy"


def count(engine, table: str, where: str = "") -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table} {where}")).scalar()


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def write(path: Path, content: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(content.encode(encoding) if encoding != "utf-8-bom" else
                     codecs.BOM_UTF8 + content.encode("utf-8"))
    return path


ACCOUNTS = "Name,Industry,Website,Notes\r\nZürich Labs,Technology,zurich.example.com,\"Two\nlines, one cell\"\r\nAcme,Retail,,\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-bom", "utf-16", "utf-16-le", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_encodings_and_delimiters(cli, engine, tmp_path, encoding, delimiter):
    content = ACCOUNTS.replace(",", delimiter) if delimiter != "," else ACCOUNTS
    content = content.replace(f"Two\nlines{delimiter} one cell", "Two\nlines, one cell")
    path = write(tmp_path / "a.csv", content, encoding)
    result = cli("import", "account", path, "--map", "Notes=description")
    assert result.exit_code == 0, result.stderr
    assert rows(engine, "SELECT name, industry, website, description FROM accounts ORDER BY id") == [
        ("Zürich Labs", "Technology", "zurich.example.com", "Two\nlines, one cell"),
        ("Acme", "Retail", None, None)]
    assert "imported: 2 new accounts" in result.stderr
    assert result.stdout == ""


def test_all_or_nothing_with_errors_by_row_and_column(cli, engine, tmp_path):
    path = write(tmp_path / "c.csv", "First Name,Last Name,Email,Is Primary\n"
                                     "Ann,Lee,ann@example.com,yes\n"
                                     "Bob,,bob@example.com,no\n"
                                     "Cy,Young,not-an-email,maybe\n")
    result = cli("import", "contact", path)
    assert result.exit_code == 1
    err = result.stderr
    assert "line 3, column 'Last Name': last_name: is required" in err
    assert "line 4, column 'Email': email: 'not-an-email' is not an email address" in err
    assert "line 4, column 'Is Primary': is_primary: 'maybe' is not yes or no" in err
    assert err.strip().splitlines()[-1] == "error: 2 of 3 rows cannot be imported (listed above); nothing written"
    assert "Traceback" not in err and result.stdout == ""
    assert count(engine, "contacts") == 0
    # one bad row: one line
    one = write(tmp_path / "one.csv", "Last Name,Email\nLee,ann@example.com\nYoung,nope\n")
    assert one_line_error(cli("import", "contact", one)) == (
        "error: line 3, column 'Email': email: 'nope' is not an email address; nothing written")
    assert count(engine, "contacts") == 0


def test_skip_invalid_writes_good_rows_and_rejects(cli, engine, tmp_path):
    path = write(tmp_path / "c.csv", "Last Name,Email\nLee,ann@example.com\nYoung,nope\n,x@example.com\n")
    rejects = tmp_path / "rejects.csv"
    result = cli("import", "contact", path, "--skip-invalid", "--rejects", rejects)
    assert result.exit_code == 0, result.stderr
    assert rows(engine, "SELECT last_name, email FROM contacts") == [("Lee", "ann@example.com")]
    back = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert [(r["Last Name"], r["Email"]) for r in back] == [("Young", "nope"), ("", "x@example.com")]
    assert "email: 'nope' is not an email address" in back[0]["error"]
    assert "last_name: is required" in back[1]["error"]
    # fixed and imported again
    fixed = write(tmp_path / "fixed.csv", "Last Name,Email\nYoung,young@example.com\nKim,x@example.com\n")
    assert cli("import", "contact", fixed).exit_code == 0
    assert count(engine, "contacts") == 3


def test_dry_run_writes_nothing(cli, engine, tmp_path):
    path = write(tmp_path / "a.csv", "name,owner\nAcme,ghost\n")
    result = cli("import", "account", path, "--dry-run", "--create-users")
    assert result.exit_code == 0, result.stderr
    assert "would import: 1 new account" in result.stderr
    assert count(engine, "accounts") == 0 and count(engine, "users", "WHERE username = 'ghost'") == 0


def test_match_updates_instead_of_duplicating(cli, engine, tmp_path):
    first = write(tmp_path / "a.csv", "Last Name,Email,Title\nLee,ann@example.com,CTO\nKim,kim@example.com,CEO\n")
    assert cli("import", "contact", first).exit_code == 0
    again = write(tmp_path / "b.csv", "Last Name,Email,Title\nLee,ANN@example.com,VP Engineering\n"
                                      "New,new@example.com,Intern\n")
    result = cli("import", "contact", again, "--match", "email")
    assert result.exit_code == 0, result.stderr
    assert "1 new contact, 1 updated" in result.stderr
    assert rows(engine, "SELECT last_name, title, version FROM contacts ORDER BY id") == [
        ("Lee", "VP Engineering", 2), ("Kim", "CEO", 1), ("New", "Intern", 1)]
    changes = rows(engine, "SELECT record_id, field, old_value, new_value, batch_id FROM changes "
                           "WHERE entity = 'contact' ORDER BY id")
    assert [(r, f, o, n) for r, f, o, n, _b in changes if f != "*"] == [(1, "title", "CTO", "VP Engineering")]
    # each new contact is logged whole (so `crm undo` can take it back); the second import is one batch
    created = {r: json.loads(n) for r, f, o, n, _b in changes if f == "*" and o is None}
    assert sorted(created) == [1, 2, 3] and created[3]["last_name"] == "New" and created[1]["title"] == "CTO"
    assert len({b for r, f, _o, _n, b in changes if r == 3 or f == "title"}) == 1


def test_export_round_trip_updates_and_reports_conflicts(cli, engine, tmp_path):
    assert cli("account", "add", "Acme", "--industry", "Retail").exit_code == 0
    assert cli("account", "add", "Globex", "--industry", "Energy").exit_code == 0
    assert cli("opp", "add", "Big deal", "--account", "1", "--amount", "12500.50", "--stage", "Proposal").exit_code == 0
    exported = tmp_path / "opps.csv"
    assert cli("export", "opp", "-o", exported).exit_code == 0
    # unchanged file: nothing to do
    same = cli("import", "opp", exported, "--match", "id")
    assert same.exit_code == 0, same.stderr
    assert "0 new opportunities, 0 updated, 1 unchanged" in same.stderr
    # edited in a spreadsheet (trailing zero dropped from the amount is not a change)
    data = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    data[0]["next_step"] = "Send contract"
    data[0]["amount"] = "12500.5"
    edited = tmp_path / "edited.csv"
    with edited.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)
    result = cli("import", "opp", edited, "--match", "id")
    assert result.exit_code == 0, result.stderr
    assert "1 updated" in result.stderr
    assert rows(engine, "SELECT next_step, amount_minor, version, probability_manual FROM opportunities") == [
        ("Send contract", 1250050, 2, False)]
    assert rows(engine, "SELECT field, new_value FROM changes WHERE entity = 'opportunity'") == [
        ("next_step", "Send contract")]
    # the same file again: the record changed since (version 2 now, 1 in the file) -> conflict, not overwritten
    assert cli("opp", "update", "1", "--next-step", "Colleague's step").exit_code == 0
    line = one_line_error(cli("import", "opp", edited, "--match", "id"))
    assert "conflict: opportunity 1 changed since the export (version 1 in the file, 3 now)" in line
    assert rows(engine, "SELECT next_step FROM opportunities") == [("Colleague's step",)]


def test_hubspot_samples(cli, engine):
    folder = FIXTURES / "imports" / "hubspot"
    companies = cli("import", "account", folder / "companies.csv", "--preset", "hubspot")
    assert companies.exit_code == 0, companies.stderr
    assert rows(engine, "SELECT name, website, phone, city, state FROM accounts") == [
        ("HubSpot", "hubspot.com", "888-482-7768", "Cambridge", "MA")]
    contacts = cli("import", "contact", folder / "contacts_sample_import-1.csv", "--preset", "hubspot")
    assert "is not a user (give --create-users" in contacts.stderr and contacts.exit_code == 1
    assert count(engine, "contacts") == 0
    contacts = cli("import", "contact", folder / "contacts_sample_import-1.csv", "--preset", "hubspot",
                   "--create-users")
    assert contacts.exit_code == 0, contacts.stderr
    assert count(engine, "contacts") == 11
    assert rows(engine, "SELECT c.first_name, c.last_name, c.email, u.username FROM contacts c "
                        "JOIN users u ON u.id = c.owner_id WHERE c.last_name = 'Knope'") == [
        ("Leslie", "Knope", "leslie.knope@cocaola.com", "joe")]
    deals = cli("import", "opp", folder / "Sample_Deal_Import-1.csv", "--preset", "hubspot", "--create-users")
    assert deals.exit_code == 0, deals.stderr
    assert rows(engine, "SELECT o.name, s.name, o.amount_minor, o.expected_close, o.primary_contact_id "
                        "FROM opportunities o JOIN stages s ON s.id = o.stage_id")[0][:3] == (
        "Sample Deal Name", "Lead", 1000000)
    assert str(rows(engine, "SELECT expected_close FROM opportunities")[0][0]) == "2002-01-16"
    assert rows(engine, "SELECT primary_contact_id FROM opportunities") == [(None,)]  # HubSpot ids are not ours


def test_a_hubspot_export_is_recognised_without_the_preset(cli, engine):
    """HubSpot's own column names (Deal Stage, hubspot_owner_email, ...) select its preset: the deal's name,
    amount and stage are read, and HubSpot's record ids are not taken for ours."""
    folder = FIXTURES / "imports" / "hubspot"
    account = cli("account", "add", "Not HubSpot's company 1")
    assert account.exit_code == 0
    deals = cli("import", "opp", folder / "Sample_Deal_Import-1.csv", "--create-users")
    assert deals.exit_code == 0, deals.stderr
    assert "look like a HubSpot export" in deals.stderr and "--preset none" in deals.stderr
    assert rows(engine, "SELECT o.name, s.name, o.amount_minor, o.account_id, o.primary_contact_id "
                        "FROM opportunities o JOIN stages s ON s.id = o.stage_id") == [
        ("Sample Deal Name", "Lead", 1000000, None, None)]

    companies = cli("import", "account", folder / "companies.csv")  # its hubspot_owner_email gives it away
    assert companies.exit_code == 0 and "look like a HubSpot export" in companies.stderr
    assert rows(engine, "SELECT website, phone, street FROM accounts WHERE name = 'HubSpot'") == [
        ("hubspot.com", "888-482-7768", "25 First Street")]
    by_name_only = one_line_error(cli("import", "opp", folder / "Sample_Deal_Import-1.csv", "--preset", "none"))
    assert "required field name" in by_name_only
    assert "'nope' is not one of: hubspot, salesforce, none" in one_line_error(
        cli("import", "opp", folder / "Sample_Deal_Import-1.csv", "--preset", "nope"))
    assert count(engine, "opportunities") == 1


def test_a_file_with_signs_of_two_crms_is_read_by_field_names(cli, engine, tmp_path):
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("Name,Account Name,Lifecycle Stage\nAcme,Acme Corp,Lead\n", encoding="utf-8")
    result = cli("import", "account", mixed)
    assert result.exit_code == 0, result.stderr
    assert "look like" not in result.stderr
    assert rows(engine, "SELECT name FROM accounts") == [("Acme",)]


def test_maven_crm_sales_data(cli, engine):
    folder = FIXTURES / "maven_crm"
    refused = one_line_error(cli("import", "account", folder / "accounts.csv"))
    assert "required field name" in refused
    accounts = cli("import", "account", folder / "accounts.csv", "--map", "account=name", "--map", "sector=industry",
                   "--map", "office_location=country")
    assert accounts.exit_code == 0, accounts.stderr
    assert count(engine, "accounts") == 85
    deals = cli("import", "opp", folder / "sales_pipeline.csv", "--map", "opportunity_id=name",
                "--map", "deal_stage=stage", "--map", "close_value=amount", "--map", "sales_agent=owner",
                "--map", "close_date=expected_close", "--map", "product=description", "--create-users")
    assert deals.exit_code == 0, deals.stderr
    assert "added 30 users" in deals.stderr
    assert count(engine, "opportunities") == 8800
    by_stage = dict(rows(engine, "SELECT s.name, count(*) FROM opportunities o JOIN stages s ON s.id = o.stage_id "
                                 "GROUP BY s.name"))
    assert by_stage == {"Won": 4238, "Lost": 2473, "Qualified": 1589, "Lead": 500}
    assert rows(engine, "SELECT sum(amount_minor) FROM opportunities o JOIN stages s ON s.id = o.stage_id "
                        "WHERE s.name = 'Won'") == [(1000553400,)]
    # won deals closed on their close date, not today
    assert rows(engine, "SELECT actual_close FROM opportunities WHERE name = '1C1I7A6R'")[0][0] is not None
    assert str(rows(engine, "SELECT actual_close FROM opportunities WHERE name = '1C1I7A6R'")[0][0]) == "2017-03-01"
    assert rows(engine, "SELECT a.name FROM opportunities o JOIN accounts a ON a.id = o.account_id "
                        "WHERE o.name = '1C1I7A6R'") == [("Cancity",)]


MESSY_FILES = sorted(p for p in (MESSY / "csvkit").iterdir()) + sorted((MESSY / "frictionless").glob("*.csv"))


@pytest.mark.parametrize("path", MESSY_FILES, ids=lambda p: p.name)
def test_messy_files_import_or_are_refused_cleanly(cli, engine, path):
    """Each file, its first column mapped to the account name: imported, or refused in one clean
    message, never a traceback and never half written."""
    from crm_tui.errors import ValidationError
    from crm_tui.services.data import importing

    try:
        with path.open("rb") as fh:
            parsed = importing.open_csv(fh)
            header, data = parsed.header, list(parsed.rows)
        first = next((h for h in header if h and h != "id"), header[0])
    except ValidationError:
        first, data = "a", None
    result = cli("import", "account", path, "--map", f"{first}=name")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    if result.exit_code == 0:
        assert result.stderr.strip().splitlines()[-1].startswith("imported: ")
        names = [cells[header.index(first)].strip() for _line, cells in data
                 if header.index(first) < len(cells) and cells[header.index(first)].strip()]
        assert count(engine, "accounts") == len(names)
    else:
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines()[-1].startswith("error: ")
        assert count(engine, "accounts") == 0


@pytest.mark.parametrize("name, reason", [
    ("csvkit/empty.csv", "is empty"),
    ("csvkit/null_byte.csv", "NUL byte on line 2"),
    ("frictionless/escaping.csv", "is not valid CSV near line 4"),
    ("csvkit/test_utf8.csv", "none of the file's columns (foo, bar, baz) is a field of accounts"),
])
def test_refusals_name_the_reason(cli, engine, name, reason):
    assert reason in one_line_error(cli("import", "account", MESSY / name))
    assert count(engine, "accounts") == 0


def test_detected_encodings_of_fixtures():
    from crm_tui.services.data import importing

    def enc(name):
        return importing.decode((MESSY / name).read_bytes())

    assert enc("csvkit/test_utf16_big.csv")[0].splitlines()[2] == "4,5,ʤ"
    assert enc("csvkit/test_utf16_little.csv")[0].splitlines()[2] == "4,5,ʤ"
    assert enc("csvkit/test_utf8_bom.csv") == ("foo,bar,baz\n1,2,3\n4,5,ʤ\n", "utf-8-sig")
    assert enc("csvkit/test_latin1.csv")[0].endswith("4,5,©")
    assert importing.sniff_delimiter(enc("frictionless/issue-1009-semicolon.csv")[0]) == ";"
    assert importing.sniff_delimiter(enc("frictionless/dialect.csv")[0]) == "|"
    assert importing.sniff_delimiter(enc("csvkit/dummy.tsv")[0]) == "\t"


def test_stdin_map_errors_and_unknown_entity(cli, engine, tmp_path):
    result = cli("import", "account", "-", "--map", "Company=name", "--map", "Town=city",
                 input="Company,Town\nAcme,Berlin\n")
    assert result.exit_code == 0, result.stderr
    assert rows(engine, "SELECT name, city FROM accounts") == [("Acme", "Berlin")]
    path = write(tmp_path / "a.csv", "Company\nX\n")
    assert "names no column" in one_line_error(cli("import", "account", path, "--map", "Nope=name"))
    assert "maps to no field" in one_line_error(cli("import", "account", path, "--map", "Company=nope"))
    assert "entity" in one_line_error(cli("import", "invoice", path))
    assert "cannot read" in one_line_error(cli("import", "account", tmp_path / "missing.csv"))
    assert "preset" in one_line_error(cli("import", "account", path, "--preset", "pipedrive"))


EMAILS = ["ann@example.com", "Ann.Lee@Example.COM", "a+tag@sub.domain.co.uk", "x_y%z@a-b.io", "a..b@c.com",
          ".a@b.com", "a.@b.com", "a@-b.com", "a@b-.com", "a@b.c", "a@b.123", "a@localhost.test", "a@b.local",
          "x@" + "a" * 64 + ".com", "y" * 65 + "@b.com", "a@b..com", "ünï@café.de", "a@b.com.", "a b@c.com",
          "o'brien@example.ie", "a@xn--caf-dma.de", "A@B.ONION", "-a@b.com", "a-@b.com"]


@pytest.mark.parametrize("address", EMAILS)
def test_fast_email_check_agrees_with_email_validator(address):
    from email_validator import EmailNotValidError, validate_email

    from crm_tui.services.validate import normalize_email

    try:
        expected = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None
    try:
        got = normalize_email(address)
    except ValueError:
        got = None
    assert got == expected


def test_round_trip_takes_back_formula_neutralisation(cli, engine, tmp_path):
    """Export puts a ' before cells a spreadsheet would run ("+1 555 ...", "=x"); import takes it back."""
    assert cli("account", "add", "Acme", "--phone", "+1 555 0100", "--description", "=not a formula").exit_code == 0
    exported = tmp_path / "a.csv"
    assert cli("export", "account", "-o", exported).exit_code == 0
    assert "'+1 555 0100" in exported.read_text(encoding="utf-8")
    result = cli("import", "account", exported, "--match", "id")
    assert result.exit_code == 0, result.stderr
    assert "0 updated, 1 unchanged" in result.stderr
    fresh = write(tmp_path / "new.csv", "name,phone,description\nGlobex,'+1 555 0199,'=SUM(A1)\n")
    assert cli("import", "account", fresh).exit_code == 0
    assert rows(engine, "SELECT phone, description FROM accounts WHERE name = 'Globex'") == [
        ("+1 555 0199", "=SUM(A1)")]


def test_created_at_keeps_when_an_imported_record_was_created(cli, engine, tmp_path):
    good = tmp_path / "old.csv"
    good.write_text("name,created\nOld Co,2017-03-04\nNewer Co,2019-12-31T15:30:00+00:00\n", encoding="utf-8")
    result = cli("import", "account", good, "--map", "created=created_at")
    assert result.exit_code == 0, result.stderr
    got = {name: str(created)[:10] for name, created in rows(engine, "SELECT name, created_at FROM accounts")}
    assert got == {"Old Co": "2017-03-04", "Newer Co": "2019-12-31"}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,created\nBad Date Co,31/02/2017\n", encoding="utf-8")
    before = count(engine, "accounts")
    refused = cli("import", "account", bad, "--map", "created=created_at")
    assert refused.exit_code == 1 and "created_at" in refused.stderr and "31/02/2017" in refused.stderr
    assert count(engine, "accounts") == before

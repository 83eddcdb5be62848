"""What the CLI shows of a user's text: control characters spelled out and Rich markup inert for
people (tables, messages, the summary, PDFs); the exact value for pipes (CSV, JSON, NDJSON).
Also: duplicates named by the record that has the value, and search hits with their account."""

from __future__ import annotations

import csv
import io
import json

from pypdf import PdfReader

from crm_tui.text import visible

ESC = "\x1b"
HOSTILE = "\x1b]0;pwned\x07\x1b[31mRED [red]x[/] [link=http://e.example]y[/link]\u202e"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[31mRED [red]x[/] [link=http://e.example]y[/link]\\u202e"


def ok(result) -> str:
    assert result.exit_code == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def no_controls(text: str) -> None:
    assert ESC not in text and "\x07" not in text and "\u202e" not in text, repr(text)


def test_visible_spells_out_controls_and_keeps_everything_else():
    assert visible(HOSTILE) == SHOWN
    assert visible("line one\n\tline two\r") == "line one\n\tline two\\r"
    assert visible("a\nb", one_line=True) == "a\\nb"
    assert visible("Ёлка & Söhne — 漢字 ✓") == "Ёлка & Söhne — 漢字 ✓"
    assert visible("\x00\x7f\x85\u2028") == "\\x00\\x7f\\x85\\u2028"
    assert visible(None) == "" and visible(12) == "12"


def test_table_output_shows_escapes_and_markup_literally(cli):
    rid = ok(cli("account", "add", HOSTILE, "--description", f"about {HOSTILE}")).strip()
    listed = ok(cli("account", "list"))
    no_controls(listed)
    assert SHOWN in listed
    shown = ok(cli("account", "show", rid))
    no_controls(shown)
    assert SHOWN in shown and f"about {SHOWN}" in shown
    ok(cli("account", "update", rid, "--name", "Plain name"))
    history = ok(cli("account", "history", rid))
    no_controls(history)
    assert "\\x1b]0;pwned" in history and "[red]x[/]" in history


def test_machine_formats_keep_the_exact_value(cli):
    rid = ok(cli("account", "add", HOSTILE)).strip()
    assert json.loads(ok(cli("account", "show", rid, "--format", "json")))["name"] == HOSTILE
    assert json.loads(ok(cli("account", "list", "--format", "json")))[0]["name"] == HOSTILE
    assert json.loads(ok(cli("account", "list", "--format", "ndjson")).splitlines()[0])["name"] == HOSTILE
    assert next(csv.DictReader(io.StringIO(ok(cli("account", "list", "--format", "csv")))))["name"] == HOSTILE


def test_messages_on_stderr_spell_out_controls(cli):
    rid = ok(cli("account", "add", HOSTILE)).strip()
    result = cli("account", "delete", rid, "--yes")
    if result.exit_code != 0:  # no --yes on this command
        result = cli("account", "delete", rid)
    assert result.exit_code == 0, result.stderr
    no_controls(result.stderr)
    assert SHOWN in result.stderr
    missing = cli("opp", "add", "Deal", "--account", HOSTILE)
    assert missing.exit_code == 1
    no_controls(missing.stderr)


def test_search_table_shows_markup_literally_and_snippets_keep_their_brackets(cli):
    ok(cli("account", "add", "Zebra [bold]chatbot[/bold] Ltd\x1b[2J"))
    out = ok(cli("search", "chatbot"))
    no_controls(out)
    assert "Zebra [bold]chatbot[/bold] Ltd\\x1b[2J" in out
    assert "[chatbot]" in out  # the match marker is shown, not read as a style


def test_summary_text_spells_out_controls(cli):
    ok(cli("activity", "add", f"Call {HOSTILE}", "--type", "task", "--due", "today"))
    out = ok(cli("summary"))
    no_controls(out)
    assert f"Call {SHOWN}" in out


def test_proposal_pdf_spells_out_control_characters(cli, tmp_path):
    acc = ok(cli("account", "add", "Ёлка & Söhne")).strip()
    opp = ok(cli("opp", "add", "Renewal", "--account", acc, "--stage", "Proposal")).strip()
    pid = ok(cli("proposal", "new", "--opp", opp)).strip()
    ok(cli("proposal", "add-line", pid, "--description", "Seats\x1b[31m red\x07 [b]x[/b]", "--price", "10"))
    out = tmp_path / "p.pdf"
    ok(cli("proposal", "pdf", pid, "-o", str(out)))
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert ESC not in text and "\x07" not in text
    assert "Seats\\x1b[31m red\\x07 [b]x[/b]" in text


# ---------------------------------------------------------------- duplicates


def test_a_duplicate_sku_names_the_product_that_has_it(cli):
    first = ok(cli("product", "add", "SEAT", "--name", "Seat", "--unit-price", "10")).strip()
    line = cli.error(cli("product", "add", "SEAT", "--name", "Other"))
    assert line == f"error: sku: 'SEAT' is already used by product {first}"
    other = ok(cli("product", "add", "ONB", "--name", "Onboarding")).strip()
    line = cli.error(cli("product", "update", other, "--sku", "SEAT"))
    assert line == f"error: sku: 'SEAT' is already used by product {first}"
    assert [r["sku"] for r in json.loads(ok(cli("product", "list", "--format", "json")))] == ["ONB", "SEAT"]


def test_a_duplicate_account_name_is_added_with_a_warning_naming_the_existing_one(cli):
    first = ok(cli("account", "add", "Acme Corp")).strip()
    result = cli("account", "add", "acme corp")
    second = ok(result).strip()
    assert second != first
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: account name 'acme corp' is already used by account {first} (Acme Corp); "
                        f"open it: crm account show {first}"]
    quiet = cli("account", "add", "Another Corp")
    assert "warning" not in quiet.stderr
    renamed = cli("account", "update", ok(quiet).strip(), "--name", "ACME CORP")
    ok(renamed)
    assert f"warning: account name 'ACME CORP' is already used by account {first} (Acme Corp) and 1 more; " \
           f"open it: crm account show {first}" in renamed.stderr.splitlines()
    assert "warning" not in cli("account", "update", first, "--industry", "Retail").stderr


def test_a_duplicate_contact_email_is_added_with_a_warning_naming_the_existing_one(cli):
    acc = ok(cli("account", "add", "Analytical Engines")).strip()
    first = ok(cli("contact", "add", "--first-name", "Ada", "--last-name", "Lovelace", "--account", acc,
                   "--email", "ada@example.com")).strip()
    result = cli("contact", "add", "--first-name", "Augusta", "--last-name", "King", "--account", acc,
                 "--email", "ADA@example.com")
    ok(result)
    assert (f"warning: contact email 'ADA@example.com' is already used by contact {first} (Ada Lovelace); "
            f"open it: crm contact show {first}") in result.stderr.splitlines()


# ---------------------------------------------------------------- search


def test_search_limit_zero_means_all_and_hits_carry_their_account(cli):
    acc = ok(cli("account", "add", "Chatbot Works")).strip()
    ok(cli("contact", "add", "--first-name", "Cleo", "--last-name", "Chatbot", "--account", acc))
    opp = ok(cli("opp", "add", "Chatbot rollout", "--account", acc)).strip()
    ok(cli("activity", "add", "Chatbot demo", "--type", "call", "--opp", opp))
    for i in range(60):
        ok(cli("lead", "add", "--first-name", f"L{i}", "--last-name", "Chatbot"))
    assert len(json.loads(ok(cli("search", "chatbot", "--format", "json")))) == 50
    hits = json.loads(ok(cli("search", "chatbot", "--limit", "0", "--format", "json")))
    assert len(hits) == 64
    by_entity = {}
    for h in hits:
        by_entity.setdefault(h["entity"], []).append(h["account_id"])
    assert by_entity["account"] == [int(acc)]
    assert by_entity["contact"] == [int(acc)] and by_entity["opportunity"] == [int(acc)]
    assert by_entity["activity"] == [int(acc)] and set(by_entity["lead"]) == {None}
    rows = list(csv.DictReader(io.StringIO(ok(cli("search", "chatbot", "--limit", "0", "--format", "csv")))))
    assert list(rows[0]) == ["entity", "id", "label", "snippet", "account_id"] and len(rows) == 64
    assert cli.error(cli("search", "chatbot", "--limit", "-1")).startswith("error: limit: -1")

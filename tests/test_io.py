"""Export: stable columns, ISO dates, money as decimals, CSV-injection payloads made inert; every noun
the CLI has (leads and the product catalog too)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlmodel import Session
from support import (
    FIXTURES,  # noqa: E402
    one_line_error,
)

from crm_tui.services import records
from crm_tui.services.data import io as crm_io
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import open_engine

INJECTION = FIXTURES / "csv_messy" / "injection"
ACC, OPP = ENTITIES["account"], ENTITIES["opportunity"]


def payloads() -> list[str]:
    lines = []
    for path in sorted(INJECTION.glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


@pytest.fixture
def payload_accounts(engine):
    texts = payloads()
    assert len(texts) >= 20
    with Session(engine) as s:
        for i, text in enumerate(texts):
            records.create_record(ACC, session=s, actor="tester", data={
                "name": f"Payload {i}", "description": text, "source": text[:100], "phone": "+1 555 0100"})
        s.commit()
    return texts


def test_neutralise_rules():
    for bad in ("=1+1", "+1", "-1+2", "@SUM(1)", "\tx", "\rx", "  =cmd", "\uff1d1+1"):
        assert crm_io.neutralise(bad).startswith("'")
        assert crm_io.is_dangerous(bad)
        assert not crm_io.is_dangerous(crm_io.neutralise(bad))
    for ok in ("Acme", "", "-12.50", "42", "a=b", "DDE (\"cmd\")"):
        assert crm_io.neutralise(ok) == ok


def test_injection_payloads_come_out_inert(engine, payload_accounts):
    out = io.StringIO()
    with Session(engine) as s:
        n = crm_io.export(ACC, session=s, out=out, fmt="csv")
    assert n == len(payload_accounts)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    for row in rows:
        for column, cell in row.items():
            assert not crm_io.is_dangerous(cell), (column, cell)
    exported = {r["description"] for r in rows}
    # nothing lost: each payload is there, behind a quote when it was dangerous
    for text in payload_accounts:
        assert (("'" + text) if crm_io.is_dangerous(text) else text) in exported
    # --raw keeps them byte for byte
    raw = io.StringIO()
    with Session(engine) as s:
        crm_io.export(ACC, session=s, out=raw, fmt="csv", raw=True)
    assert {r["description"] for r in csv.DictReader(io.StringIO(raw.getvalue()))} == set(payload_accounts)


def test_export_columns_dates_money(engine):
    with Session(engine) as s:
        a = records.create_record(ACC, session=s, actor="tester", data={"name": "Acme"})
        records.create_record(OPP, session=s, actor="tester", data={
            "name": "Yen", "account": a["id"], "amount": "1200", "currency": "JPY", "expected_close": "2026-03-31"})
        records.create_record(OPP, session=s, actor="tester", data={
            "name": "Dollars", "account": a["id"], "amount": "12500.5", "expected_close": "2026-04-01"})
        s.commit()
        out = io.StringIO()
        crm_io.export(OPP, session=s, out=out, fmt="csv")
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert list(rows[0]) == list(crm_io.EXPORT_COLUMNS["opportunity"])
        assert [(r["name"], r["amount"], r["currency"], r["expected_close"]) for r in rows] == [
            ("Yen", "1200", "JPY", "2026-03-31"), ("Dollars", "12500.50", "USD", "2026-04-01")]
        assert rows[0]["created_at"].endswith("+00:00") or "T" in rows[0]["created_at"]
        nd = io.StringIO()
        crm_io.export(OPP, session=s, out=nd, fmt="ndjson", where="currency=USD", columns=["id", "amount"])
        assert [json.loads(line) for line in nd.getvalue().splitlines()] == [{"id": 2, "amount": "12500.50"}]
        js = io.StringIO()
        assert crm_io.export(OPP, session=s, out=js, fmt="json", where="amount>1e9") == 0
        assert json.loads(js.getvalue()) == []


def test_cli_export_file_excel_and_errors(cli, payload_accounts, tmp_path):
    target = tmp_path / "a.csv"
    result = cli("export", "account", "--where", "name~'Payload 1'", "-o", target, "--excel")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "exported" in result.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows and all(not crm_io.is_dangerous(c) for r in rows for c in r.values())
    piped = cli("export", "account", "--format", "ndjson", "--columns", "id,name")
    assert len(piped.stdout.splitlines()) == len(payload_accounts)
    assert "columns" in one_line_error(cli("export", "account", "--columns", "id,nope"))
    assert "unknown field" in one_line_error(cli("export", "account", "--where", "nope=1"))
    assert "format" in one_line_error(cli("export", "account", "--format", "xml"))


def test_fast_csv_matches_row_by_row_formatting(engine, payload_accounts):
    """The raw-row CSV writer gives the same bytes as formatting records.iter_records rows, for every entity."""
    from crm_tui.services.registry import ENTITIES

    with Session(engine) as s:
        a = records.create_record(ACC, session=s, actor="tester", data={
            "name": "Zürich Labs", "description": "=HYPERLINK(\"x\")", "employees": "12"})
        for amount, cur, prob in (("12500.5", "USD", None), ("1200", "JPY", "33"), ("0.125", "BHD", "50"),
                                  ("0.05", "EUR", "10"), ("0", "USD", None)):
            data = {"name": f"Deal {cur}", "account": a["id"], "amount": amount, "currency": cur,
                    "expected_close": "2026-03-31", "next_step": "-call +1 555"}
            if prob:
                data["probability"] = prob
            records.create_record(OPP, session=s, actor="tester", data=data)
        records.create_record(ENTITIES["contact"], session=s, actor="tester", data={
            "last_name": "Müller", "account": a["id"], "is_primary": "yes", "notes": "@home"})
        for i, note in enumerate(('"quoted", comma\nnew line', "  =1+1", "-12.50", "-12.5x", "+1 555", "\uff1d1",
                                  "a,b", "cr\rhere", 'say "hi"', "  ", "", "Zoë ☃", "-", "'already")):
            records.create_record(ENTITIES["contact"], session=s, actor="tester", data={
                "first_name": note[:50], "last_name": f"N{i}", "notes": note, "title": note[:100]})
        records.create_record(ENTITIES["activity"], session=s, actor="tester", data={
            "subject": "Call", "due": "2026-05-01 10:30", "account": a["id"], "body": "\tbody"})
        s.commit()
        for name in ("account", "contact", "opportunity", "activity"):
            for raw in (False, True):
                fast, slow = io.StringIO(), io.StringIO()
                n = crm_io.export(ENTITIES[name], session=s, out=fast, fmt="csv", raw=raw)
                m = crm_io.export(ENTITIES[name], session=s, out=slow, fmt="csv-rows", raw=raw)
                assert n == m > 0
                assert fast.getvalue() == slow.getvalue(), name


def test_sqlite_lines_match_python_formatting_on_odd_data(tmp_path):
    """SQLite builds each CSV line itself (printf); every odd value takes the same text as the Python path:
    separators inside the data, date-times not in the stored form, negative money, half-even ties,
    chunk edges, one-column exports, and writing to a real file's bytes."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'odd.db'}"
    engine = open_engine(url)
    with Session(engine) as s:
        a = records.create_record(ACC, session=s, actor="tester", data={"name": "Odd, Inc."})
        for amount, cur, prob in (("0.05", "EUR", "10"), ("0.15", "USD", "10"), ("0.25", "USD", "10"),
                                  ("1234.56", "KWD", "33"), ("99", "JPY", "50"), ("10", "USD", "0")):
            records.create_record(OPP, session=s, actor="tester", data={
                "name": f"Deal {amount} {cur}", "account": a["id"], "amount": amount, "currency": cur,
                "probability": prob, "expected_close": "2026-03-31"})
        for i, note in enumerate(("unit\x1fseparator", "record\x1eseparator", "both\x1f\x1e, and \"quotes\"",
                                  "plain", "=1+2", "\uff20cmd", "Ünïcödé", "emoji \U0001F600", "3 digits first")):
            records.create_record(ENTITIES["contact"], session=s, actor="tester", data={
                "first_name": note[:50], "last_name": f"N{i}", "notes": note})
        s.commit()
        # Values other writers may leave: no microseconds, a T separator, an offset, negative money.
        s.execute(text("UPDATE opportunities SET created_at = '2025-01-02 03:04:05' WHERE id = 1"))
        s.execute(text("UPDATE opportunities SET created_at = '2025-01-02T03:04:05.123456' WHERE id = 2"))
        s.execute(text("UPDATE opportunities SET updated_at = '2025-01-02 03:04:05.5+02:00' WHERE id = 3"))
        s.execute(text("UPDATE opportunities SET amount_minor = -1250 WHERE id = 6"))
        s.execute(text("UPDATE contacts SET updated_at = '2024-06-01 12:00:00.000000' WHERE id = 2"))
        s.commit()
        for entity in (OPP, ENTITIES["contact"], ACC):
            for raw in (False, True):
                slow = io.StringIO()
                crm_io.export(entity, session=s, out=slow, fmt="csv-rows", raw=raw)
                for batch in (1, 2, 5000):
                    fast = io.StringIO()
                    crm_io.export(entity, session=s, out=fast, fmt="csv", raw=raw, batch=batch)
                    assert fast.getvalue() == slow.getvalue(), (entity.name, raw, batch)
                path = tmp_path / f"{entity.name}-{raw}.csv"
                with open(path, "w", encoding="utf-8", newline="") as out:
                    out.write("")
                    crm_io.export(entity, session=s, out=out, fmt="csv", raw=raw, batch=3)
                assert path.read_bytes() == slow.getvalue().encode("utf-8"), (entity.name, raw)
        one_fast, one_slow = io.StringIO(), io.StringIO()
        crm_io.export(ENTITIES["contact"], session=s, out=one_fast, fmt="csv", columns=["title"])
        crm_io.export(ENTITIES["contact"], session=s, out=one_slow, fmt="csv-rows", columns=["title"])
        assert one_fast.getvalue() == one_slow.getvalue()
        out = io.StringIO()
        crm_io.export(OPP, session=s, out=out, fmt="csv")
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        by_name = {r["name"]: r for r in rows}
        assert by_name["Deal 0.05 EUR"]["weighted_amount"] == "0.00"  # 0.5 cent rounds to even
        assert by_name["Deal 0.15 USD"]["weighted_amount"] == "0.02"  # 1.5 cents rounds to even
        assert by_name["Deal 0.25 USD"]["weighted_amount"] == "0.02"  # 2.5 cents rounds to even
        assert by_name["Deal 1234.56 KWD"]["amount"] == "1234.560"
        assert by_name["Deal 99 JPY"]["weighted_amount"] == "50"  # 49.5 yen rounds to even
        assert rows[0]["created_at"] == "2025-01-02T03:04:05+00:00"
        assert rows[1]["created_at"] == "2025-01-02T03:04:05.123456+00:00"
        assert rows[2]["updated_at"] == "2025-01-02T01:04:05.500000+00:00"
        assert (rows[5]["amount"], rows[5]["weighted_amount"]) == ("-12.50", "0.00")
        assert rows[0]["account"] == "Odd, Inc." and '"Odd, Inc."' in out.getvalue()
    engine.dispose()


# ---------------------------------------------------------------- every noun the CLI has


def test_export_leads_and_products(cli):
    lead = cli("lead", "add", "--first-name", "Ada", "--last-name", "Byron", "--company", "=Engines Ltd",
               "--email", "ada@engines.example")
    assert lead.exit_code == 0, lead.stderr
    for args in (("SKU-1", "--name", "Analytical engine", "--unit-price", "1,234.50", "--currency", "EUR"),
                 ("SKU-2", "--name", "Punched cards", "--unit-price", "500", "--currency", "JPY")):
        added = cli("product", "add", *args)
        assert added.exit_code == 0, added.stderr

    leads = list(csv.DictReader(io.StringIO(cli("export", "lead").stdout)))
    assert [(r["last_name"], r["company"], r["email"], r["status"]) for r in leads] == [
        ("Byron", "'=Engines Ltd", "ada@engines.example", "new")]  # a formula-like cell is made inert

    result = cli("export", "product")
    assert result.exit_code == 0, result.stderr
    products = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["sku"], r["unit_price"], r["currency"]) for r in products] == [
        ("SKU-1", "1234.50", "EUR"), ("SKU-2", "500", "JPY")]


def test_export_of_an_unknown_noun_lists_the_nouns(cli):
    result = cli("export", "frob")
    assert result.exit_code == 1
    assert "'frob' is not one of: account, contact, opp, activity, lead, product" in result.stderr

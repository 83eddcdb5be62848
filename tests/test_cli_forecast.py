"""`crm forecast`, `crm quota`, `crm lint` against a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from sqlalchemy import update

from crm_tui.services import records, users
from crm_tui.services.sales.accounts import ENTITY as ACCOUNT
from crm_tui.services.sales.contacts import ENTITY as CONTACT
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity


def setup_team(engine):
    """tester (the acting user) manages the team: the forecast and the lint read everyone's deals."""
    with session_scope(engine) as s:
        users.create_team(session=s, actor=users.resolve_actor(session=s, username="tester"), name="Sales")
        for u, role in (("tester", "manager"), ("bob", "sales")):
            users.create_user(session=s, data={"username": u, "role": role, "team": "Sales"})


def add_opp(engine, name, **data):
    with session_scope(engine) as s:
        return records.create_record(OPP, session=s, data={"name": name, **data}, actor="tester")["id"]


def test_forecast_json_csv_and_table(cli, engine):
    setup_team(engine)
    add_opp(engine, "a", amount="1000.00", stage="Proposal", expected_close="2026-03-05", next_step="call")
    add_opp(engine, "b", amount="500.00", stage="Negotiation", expected_close="2026-04-05", owner="bob")
    assert cli("quota", "set", "me", "2026-03", "2,000.00").exit_code == 0
    res = cli("forecast", "--from", "2026-03-01", "--to", "2026-04-30", "--by", "month", "--format", "json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [(r["month"], r["pipeline"], r["weighted"], r["quota"]) for r in rows] == [
        ("2026-03", "1000.00", "500.00", "2000.00"), ("2026-04", "500.00", "375.00", None),
        ("total", "1500.00", "875.00", "2000.00")]  # the last row: the period's total per currency
    assert rows[0]["coverage"] == "0.50"
    res = cli("forecast", "--from", "2026-03-01", "--to", "2026-04-30", "--by", "stage,owner", "--owner", "bob",
              "--format", "csv")
    assert list(csv.DictReader(io.StringIO(res.stdout)))[0]["owner"] == "bob"
    assert [(r["stage"], r["owner"], r["pipeline"]) for r in csv.DictReader(io.StringIO(res.stdout))] == [
        ("Negotiation", "bob", "500.00"), ("total", "", "500.00")]
    table = cli("forecast", "--from", "2026-03-01", "--to", "2026-04-30", "--by", "month,stage")
    assert table.exit_code == 0
    assert "Proposal" in table.stdout and "Negotiation" in table.stdout and "1,500.00" in table.stdout
    assert "total" in table.stdout
    bad = cli("forecast", "--by", "colour")
    assert "is not a grouping" in cli.error(bad)


def test_quota_set_and_list(cli, engine):
    setup_team(engine)
    assert cli("quota", "set", "bob", "2026-05", "12500").exit_code == 0
    res = cli("quota", "list", "--format", "json")
    assert json.loads(res.stdout) == [{"user": "bob", "month": "2026-05", "amount": "12500.00", "currency": "USD"}]
    assert "is not a month" in cli.error(cli("quota", "set", "bob", "May", "1"))
    assert "is not a user" in cli.error(cli("quota", "set", "nobody", "2026-05", "1"))


def test_snapshot_and_compare_commands(cli, engine):
    setup_team(engine)
    oid = add_opp(engine, "a", amount="100.00", stage="Lead", expected_close="2026-03-05")
    res = cli("forecast", "snapshot", "--name", "before")
    assert res.exit_code == 0 and res.stdout.strip() == "1"
    assert cli("opp", "update", str(oid), "--expected-close", "2026-05-01").exit_code == 0
    res = cli("forecast", "compare", "1", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert [(r["id"], r["change"]) for r in json.loads(res.stdout)] == [(oid, "slipped")]
    assert "slipped 1" in res.stderr


def test_lint_finds_problems_and_exits_non_zero(cli, engine):
    setup_team(engine)
    today = dt.date.today()
    clean = add_opp(engine, "clean", amount="1.00", stage="Proposal", next_step="call",
                    expected_close=(today + dt.timedelta(days=10)).isoformat())
    no_close = add_opp(engine, "no close", amount="1.00", stage="Proposal", next_step="call")
    past = add_opp(engine, "past", amount="1.00", stage="Proposal", next_step="call", expected_close="2020-01-01")
    no_step = add_opp(engine, "no step", amount="1.00", stage="Proposal",
                      expected_close=(today + dt.timedelta(days=10)).isoformat())
    odd = add_opp(engine, "odd", amount="1.00", stage="Lead", next_step="x", probability="95",
                  expected_close=(today + dt.timedelta(days=10)).isoformat(), owner="bob")
    old = add_opp(engine, "quiet", amount="1.00", stage="Proposal", next_step="call",
                  expected_close=(today + dt.timedelta(days=10)).isoformat())
    with engine.begin() as conn:
        conn.execute(update(Opportunity.__table__).where(Opportunity.__table__.c.id == old)
                     .values(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    with session_scope(engine) as s:
        a1 = records.create_record(ACCOUNT, session=s, data={"name": "Acme, Inc."}, actor="tester")["id"]
        a2 = records.create_record(ACCOUNT, session=s, data={"name": "ACME inc"}, actor="tester")["id"]
        c1 = records.create_record(CONTACT, session=s, data={"last_name": "Roe", "email": "j@x.com"}, actor="tester")
        c2 = records.create_record(CONTACT, session=s, data={"last_name": "Doe", "email": "J@X.com"}, actor="tester")
    res = cli("lint", "--format", "json")
    assert res.exit_code == 1, res.stderr
    found = {(f["kind"], f["id"]) for f in json.loads(res.stdout)}
    assert found == {("no close date", no_close), ("close date passed", past), ("no next step", no_step),
                     ("probability vs stage", odd), ("no recent activity", old),
                     ("duplicate account", a2), ("duplicate contact", c2["id"])}
    assert clean not in {i for _k, i in found} and a1 not in {i for k, i in found if k == "duplicate account"}
    assert c1["id"] not in {i for k, i in found if k == "duplicate contact"}
    mine = cli("lint", "--owner", "bob", "--format", "json")
    assert {(f["kind"], f["id"]) for f in json.loads(mine.stdout)} == {("probability vs stage", odd)}
    assert "probability vs stage: 1" in mine.stderr


def test_lint_clean_database_exits_zero(cli, engine):
    setup_team(engine)
    res = cli("lint")
    assert res.exit_code == 0 and "no findings" in res.stderr


def test_duplicate_accounts_are_found_in_sql_as_lead_conversion_normalises_them(engine):
    """The SQL-side name and website keys agree with normalize_company / website_domain on the
    usual variants: case, punctuation, "&", trailing legal suffixes (two), a leading "the"."""
    from crm_tui.services.data import lint
    from crm_tui.services.sales.leads import normalize_company, website_domain

    setup_team(engine)
    names = [("Acme", None), ("The Acme Group, Inc.", None), ("ACME holdings ltd", None),
             ("Acme Systems", None), ("Smith & Wesson", None), ("smith and wesson GmbH", None),
             ("Bluestone", "https://www.Bluestone.io/about?x=1"), ("Bluestone Labs", "bluestone.io"),
             ("Other Co", "http://other.example.com#top"), ("Unrelated", "www.other.example.com/")]
    ids = {}
    with session_scope(engine) as s:
        for name, site in names:
            data = {"name": name, **({"website": site} if site else {})}
            ids[name] = records.create_record(ACCOUNT, session=s, data=data, actor="tester")["id"]
    with session_scope(engine) as s:
        found = {f.id: f.detail for f in lint._duplicate_accounts(s, None, None)}
        limited = lint._duplicate_accounts(s, None, 2)
    # what the Python normalisers say, first come first
    expected, first_by_key = {}, {}
    for name, site in names:
        for how, key in (("name", normalize_company(name)), ("website", website_domain(site))):
            if not key:
                continue
            if (how, key) in first_by_key and ids[name] not in expected:
                expected[ids[name]] = first_by_key[(how, key)]
            first_by_key.setdefault((how, key), ids[name])
    assert set(found) == set(expected) == {ids["The Acme Group, Inc."], ids["ACME holdings ltd"],
                                           ids["smith and wesson GmbH"], ids["Bluestone Labs"], ids["Unrelated"]}
    assert found[ids["ACME holdings ltd"]] == f"same name as account {ids['Acme']} (Acme)"
    assert found[ids["Bluestone Labs"]] == f"same website bluestone.io as account {ids['Bluestone']} (Bluestone)"
    assert [f.id for f in limited] == sorted(expected)[:2]


def test_forecast_table_reads_periods_like_people_do(cli, engine):
    setup_team(engine)
    add_opp(engine, "a", amount="1000.00", stage="Proposal", expected_close="2026-03-05", next_step="call")
    add_opp(engine, "b", amount="500.00", stage="Negotiation", expected_close="2026-04-05", owner="bob")
    res = cli("forecast", "--from", "2026-03-01", "--to", "2026-04-30", "--by", "month,quarter")
    assert res.exit_code == 0, res.stderr
    assert "Forecast 1 March 2026 – 30 April 2026 by month, quarter" in res.stdout
    cells = [[c.strip() for c in line.split("│")[1:3]] for line in res.stdout.splitlines() if line.startswith("│")]
    assert cells[:2] == [["Mar 2026", "Q1 2026"], ["Apr 2026", "Q2 2026"]]
    raw = list(csv.DictReader(io.StringIO(cli("forecast", "--from", "2026-03-01", "--to", "2026-04-30",
                                              "--by", "month,quarter", "--format", "csv").stdout)))
    assert [(r["month"], r["quarter"]) for r in raw[:2]] == [("2026-03", "2026-Q1"), ("2026-04", "2026-Q2")]

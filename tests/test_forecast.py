"""The forecast service on SQLite and PostgreSQL: small hand-checked cases, and the Maven CRM data set
checked against figures computed independently with the csv module, as a spreadsheet would."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select, update
from support import FIXTURES  # noqa: E402

from crm_tui import money
from crm_tui.errors import ValidationError
from crm_tui.services import records, users
from crm_tui.services.sales import forecast, pipeline
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity

MAVEN = FIXTURES / "maven_crm"

T = Opportunity.__table__


def add_user(engine, username):
    with session_scope(engine) as s:
        users.create_user(session=s, data={"username": username})


def add_opp(engine, name, *, amount, stage="Lead", owner="alice", close=None, **extra):
    data = {"name": name, "amount": amount, "stage": stage, "owner": owner, **extra}
    if close:
        data["expected_close"] = close
    with session_scope(engine) as s:
        return records.create_record(OPP, session=s, data=data, actor=owner)["id"]


def set_dates(engine, oid, *, created=None, actual=None):
    values = {}
    if created:
        values["created_at"] = dt.datetime.combine(created, dt.time(), tzinfo=dt.timezone.utc)
    if actual:
        values["actual_close"] = actual
    with engine.begin() as conn:
        conn.execute(update(T).where(T.c.id == oid).values(**values))


@pytest.fixture
def team(engine):
    for u in ("alice", "bob"):
        add_user(engine, u)
    return engine


def test_forecast_by_month_and_stage_sums_exactly(team):
    e = team
    add_opp(e, "a", amount="1000.01", stage="Proposal", close="2026-03-10")  # 50%: 500.005 -> weighted raw
    add_opp(e, "b", amount="999.99", stage="Proposal", close="2026-03-20")
    add_opp(e, "c", amount="333.33", stage="Negotiation", close="2026-03-31", owner="bob")
    add_opp(e, "d", amount="100.00", stage="Lead", close="2026-04-01")
    add_opp(e, "outside", amount="5.00", stage="Lead", close="2026-05-01")
    won = add_opp(e, "w", amount="2000.00", stage="Won", owner="bob")
    set_dates(e, won, created=dt.date(2026, 1, 1), actual=dt.date(2026, 3, 15))
    lost = add_opp(e, "l", amount="700.00", stage="Lost", lost_reason="price")
    set_dates(e, lost, created=dt.date(2026, 2, 1), actual=dt.date(2026, 4, 2))
    with session_scope(e) as s:
        f = forecast.forecast(session=s, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30), by="month,stage")
    got = {(r.key["month"], r.key["stage"]): r.metrics for r in f.rows}
    assert set(got) == {("2026-03", "Proposal"), ("2026-03", "Negotiation"), ("2026-03", "Won"),
                        ("2026-04", "Lead"), ("2026-04", "Lost")}
    p = got[("2026-03", "Proposal")]
    assert (p.open_count, p.open_minor, p.weighted_raw) == (2, 200000, 200000 * 50)
    assert p.weighted_minor == 100000
    n = got[("2026-03", "Negotiation")]
    assert n.weighted_raw == 33333 * 75 and n.weighted_minor == 25000  # 24999.75 rounds once, at the end
    w = got[("2026-03", "Won")]
    assert (w.won_count, w.won_minor, w.cycle_days, w.cycle_count) == (1, 200000, 73, 1)
    assert got[("2026-04", "Lost")].lost_count == 1
    tot = f.totals["USD"]
    assert (tot.open_count, tot.open_minor, tot.won_minor, tot.won_count, tot.lost_count) == (4, 243333, 200000, 1, 1)
    assert tot.win_rate == Decimal("50.0")
    assert tot.weighted_raw == 100001 * 50 + 99999 * 50 + 33333 * 75 + 10000 * 10


def test_forecast_quota_attainment_and_coverage_by_owner(team):
    e = team
    add_opp(e, "open", amount="3000.00", stage="Proposal", close="2026-03-10")
    won = add_opp(e, "w", amount="1000.00", stage="Won")
    set_dates(e, won, created=dt.date(2026, 3, 1), actual=dt.date(2026, 3, 11))
    with session_scope(e) as s:
        forecast.set_quota(session=s, username="alice", month="2026-03", amount="5000")
        forecast.set_quota(session=s, username="alice", month="2026-03", amount="4000")  # replaces
        forecast.set_quota(session=s, username="bob", month="2026-03", amount="1000")
        f = forecast.forecast(session=s, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), by="owner")
        listed = forecast.list_quotas(session=s)
    rows = {r.key["owner"]: r.metrics for r in f.rows}
    alice = rows["alice"]
    assert alice.quota_minor == 400000
    assert alice.attainment == Decimal("25.0")
    assert alice.remaining_quota_minor == 300000 and alice.coverage == Decimal("1.00")
    assert rows["bob"].quota_minor == 100000 and rows["bob"].open_count == 0  # quota alone makes a row
    assert f.totals["USD"].quota_minor == 500000
    assert listed == [{"user": "alice", "month": "2026-03", "amount": "4000.00", "currency": "USD"},
                      {"user": "bob", "month": "2026-03", "amount": "1000.00", "currency": "USD"}]


def test_forecast_owner_filter_category_and_bad_input(team):
    e = team
    add_opp(e, "a", amount="10.00", stage="Proposal", close="2026-03-10")
    add_opp(e, "b", amount="20.00", stage="Proposal", close="2026-03-10", owner="bob", forecast_category="commit")
    add_opp(e, "c", amount="40.00", stage="Negotiation", close="2026-03-10", owner="bob")
    with session_scope(e) as s:
        f = forecast.forecast(session=s, by="category", owners=["bob"])
        with pytest.raises(ValidationError, match="is not a grouping"):
            forecast.forecast(session=s, by="month,colour")
        with pytest.raises(ValidationError, match="is not a user"):
            forecast.forecast(session=s, owners=["nobody"])
    assert [(r.key["category"], r.metrics.open_minor) for r in f.rows] == [("commit", 6000)]


def test_weekly_changes_from_change_rows(team):
    e = team
    a = add_opp(e, "a", amount="100.00", stage="Lead", close="2026-03-10")
    b = add_opp(e, "b", amount="200.00", stage="Proposal", close="2026-03-10")
    c = add_opp(e, "c", amount="400.00", stage="Proposal", close="2026-03-10")
    d = add_opp(e, "d", amount="800.00", stage="Negotiation", close="2026-03-10")
    with session_scope(e) as s:
        pipeline.move_opportunity(session=s, opportunity_id=a, stage="Qualified", actor="alice")
        pipeline.move_opportunity(session=s, opportunity_id=b, stage="Lead", actor="alice")
        pipeline.move_opportunity(session=s, opportunity_id=c, stage="Won", actor="alice")
        pipeline.move_opportunity(session=s, opportunity_id=d, stage="Lost", reason="price", actor="alice")
        records.update_record(OPP, session=s, record_id=a, data={"expected_close": "2026-06-01"}, actor="alice")
        records.update_record(OPP, session=s, record_id=b, data={"expected_close": "2026-01-01"}, actor="alice")
    today = dt.datetime.now(dt.timezone.utc).date()
    with session_scope(e) as s:
        weeks = forecast.weekly_changes(session=s, start=today - dt.timedelta(days=14), end=today)
    this = weeks[-1]
    assert this.week == forecast.week_start(today)
    assert this.counts == {"created": 4, "advanced": 1, "moved back": 1, "slipped": 1, "pulled in": 1,
                           "won": 1, "lost": 1}
    assert this.amounts["created"] == 150000 and this.amounts["won"] == 40000 and this.amounts["slipped"] == 10000
    assert all(sum(w.counts.values()) == 0 for w in weeks[:-1])


def test_snapshot_and_compare(team):
    e = team
    a = add_opp(e, "a", amount="100.00", stage="Lead", close="2026-03-10")
    b = add_opp(e, "b", amount="200.00", stage="Proposal", close="2026-03-10")
    c = add_opp(e, "c", amount="400.00", stage="Proposal", close="2026-03-10")
    add_opp(e, "closed before", amount="1.00", stage="Won")
    with session_scope(e) as s:
        snap = forecast.take_snapshot(session=s, actor="alice", name="March")
    assert snap["opportunities"] == 3
    with session_scope(e) as s:
        pipeline.move_opportunity(session=s, opportunity_id=a, stage="Won", actor="alice")
        records.update_record(OPP, session=s, record_id=b, data={"expected_close": "2026-04-30"}, actor="alice")
        records.update_record(OPP, session=s, record_id=c, data={"amount": "500.00"}, actor="alice")
    add_opp(e, "fresh", amount="50.00", stage="Lead", close="2026-03-20")
    with session_scope(e) as s:
        cmp = forecast.compare_snapshot(session=s, snapshot_id=snap["id"])
    assert {i["name"]: i["change"] for i in cmp.items} == {"a": "won", "b": "slipped", "c": "amount changed",
                                                           "fresh": "new"}
    assert cmp.amounts["amount changed"] == 50000
    assert cmp.weighted_then_raw == 10000 * 10 + 20000 * 50 + 40000 * 50
    assert cmp.weighted_now_raw == 20000 * 50 + 50000 * 50 + 5000 * 10


# ---------------------------------------------------------------- the Maven CRM data set


def load_maven(engine, cli) -> list[dict]:
    """Import the Maven CSVs with `crm import`, as a user would: accounts, then the 8,800 deals with
    their agents (created as users), stages (Prospecting -> Lead, Engaging -> Qualified), close values,
    close dates (the actual close of won and lost deals) and engage dates (when each deal was created)."""
    deals = list(csv.DictReader((MAVEN / "sales_pipeline.csv").open(newline="", encoding="utf-8")))
    accounts = cli("import", "account", MAVEN / "accounts.csv", "--map", "account=name", "--map", "sector=industry",
                   "--map", "office_location=country")
    assert accounts.exit_code == 0, accounts.stderr
    imported = cli("import", "opp", MAVEN / "sales_pipeline.csv", "--map", "opportunity_id=name",
                   "--map", "deal_stage=stage", "--map", "close_value=amount", "--map", "sales_agent=owner",
                   "--map", "close_date=expected_close", "--map", "engage_date=created_at",
                   "--map", "product=description", "--create-users")
    assert imported.exit_code == 0, imported.stderr
    return deals


def agent_names(engine) -> dict[str, str]:
    """username -> the agent's name, as the import created them."""
    from crm_tui.store.models import User

    with session_scope(engine) as s:
        return dict(s.execute(select(User.username, User.name)).all())


def spreadsheet_figures(deals: list[dict]) -> dict:
    """What a spreadsheet gives on sales_pipeline.csv, computed with nothing but the csv rows."""
    won = [d for d in deals if d["deal_stage"] == "Won"]
    lost = [d for d in deals if d["deal_stage"] == "Lost"]
    by_quarter: dict[str, int] = defaultdict(int)
    by_agent: dict[str, int] = defaultdict(int)
    won_by_agent: dict[str, int] = defaultdict(int)
    lost_by_agent: dict[str, int] = defaultdict(int)
    cycle = []
    for d in won:
        close = dt.date.fromisoformat(d["close_date"])
        by_quarter[f"{close.year}-Q{(close.month - 1) // 3 + 1}"] += int(d["close_value"])
        by_agent[d["sales_agent"]] += int(d["close_value"])
        won_by_agent[d["sales_agent"]] += 1
        cycle.append((close - dt.date.fromisoformat(d["engage_date"])).days)
    for d in lost:
        lost_by_agent[d["sales_agent"]] += 1
    return {"won": len(won), "lost": len(lost), "win_rate": Fraction(len(won), len(won) + len(lost)),
            "won_total": sum(int(d["close_value"]) for d in won), "by_quarter": dict(by_quarter),
            "by_agent": dict(by_agent), "won_by_agent": dict(won_by_agent), "lost_by_agent": dict(lost_by_agent),
            "cycle_sum": sum(cycle), "cycle_n": len(cycle), "avg_cycle": Fraction(sum(cycle), len(cycle))}


def _pct(fr: Fraction) -> Decimal:
    return (Decimal(fr.numerator) * 100 / Decimal(fr.denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def test_maven_crm_matches_the_spreadsheet(engine, cli):
    deals = load_maven(engine, cli)
    assert len(deals) == 8800
    sheet = spreadsheet_figures(deals)
    with session_scope(engine) as s:
        overall = forecast.forecast(session=s, by="quarter")
        agents = forecast.forecast(session=s, by="owner")
        ranged = forecast.forecast(session=s, start=dt.date(2017, 1, 1), end=dt.date(2017, 12, 31), by="quarter")
    tot = overall.totals["USD"]
    # Win rate, won count and total.
    assert (tot.won_count, tot.lost_count) == (sheet["won"], sheet["lost"]) == (4238, 2473)
    assert Fraction(tot.won_count, tot.closed_count) == sheet["win_rate"]
    assert tot.win_rate == _pct(sheet["win_rate"]) == Decimal("63.2")
    assert tot.won_minor == sheet["won_total"] * 100
    # Won totals by quarter of the close date (deals still open have no date and no quarter).
    won_by_quarter = {r.key["quarter"]: r.metrics.won_minor for r in overall.rows if r.metrics.won_minor}
    assert won_by_quarter == {q: v * 100 for q, v in sheet["by_quarter"].items()}
    assert {r.key["quarter"]: r.metrics.won_minor for r in ranged.rows} == won_by_quarter
    # Won totals, won and lost counts by agent.
    names = agent_names(engine)
    assert {names[r.key["owner"]]: r.metrics.won_minor for r in agents.rows if r.metrics.won_count} == {
        a: v * 100 for a, v in sheet["by_agent"].items()}
    assert {names[r.key["owner"]]: r.metrics.lost_count for r in agents.rows if r.metrics.lost_count} == \
        sheet["lost_by_agent"]
    # Average sales cycle of won deals, engage date to close date.
    assert (tot.cycle_days, tot.cycle_count) == (sheet["cycle_sum"], sheet["cycle_n"])
    assert Fraction(tot.cycle_days, tot.cycle_count) == sheet["avg_cycle"]
    assert tot.avg_cycle_days == (Decimal(sheet["cycle_sum"]) / sheet["cycle_n"]).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    # Average deal size.
    assert tot.avg_deal_minor == int((Decimal(sheet["won_total"] * 100) / sheet["won"]).quantize(
        Decimal(1), rounding=ROUND_HALF_EVEN))
    print(f"\nmaven: win rate {tot.win_rate}% (sheet {float(sheet['win_rate']) * 100:.4f}%), "
          f"won {money.format_money(tot.won_minor, 'USD')} (sheet {sheet['won_total']}), "
          f"avg cycle {tot.avg_cycle_days} d (sheet {float(sheet['avg_cycle']):.4f}), "
          f"by quarter {won_by_quarter} (sheet {sheet['by_quarter']})")

"""Row-level security benchmark: the forecast and the deal list as a sales rep's own PostgreSQL login
(row security on) against the tables' owner login acting as the same CRM user (row security off; the
app's own visibility rule applies to both), side by side. Target: within 1.5x.

    .venv/bin/python bench/run.py rls                  # 200,000 opportunities
    .venv/bin/python bench/run.py rls --size 1000000   # or --size large

It needs a scratch PostgreSQL database whose owner login may create roles (CREATEROLE):
CRM_BENCH_POSTGRES_URL (else CRM_TEST_POSTGRES_URL). Every table in it is dropped and rebuilt;
the data is kept between runs of the same size.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import run as R

REPS = 20
SIZES = {"small": 20_000, "medium": 200_000, "large": 1_000_000}
PASSWORD = "bench-rls"


def _size(text: str) -> int:
    return SIZES.get(text) or int(text.replace("_", ""))


def _build(url: str, n: int) -> None:
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    from crm_tui.store.db import open_engine, session_scope

    engine = create_engine(url)
    with engine.begin() as conn:
        have = inspect(conn).has_table("opportunities") and conn.exec_driver_sql(
            "SELECT count(*) FROM opportunities").scalar() == n
        if have:
            return
        print(f"building {n:,} opportunities in {make_url(url).database} ...", file=sys.stderr)
        for name in inspect(conn).get_table_names():
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    engine.dispose()
    started = time.perf_counter()
    engine = open_engine(url)
    from crm_tui.services.users import create_team, create_user, resolve_actor

    with session_scope(engine) as s:
        setup = resolve_actor(session=s, username="bench")
        for t in range(REPS // 5):
            create_team(session=s, actor=setup, name=f"Team {t}")
        create_user(session=s, data={"username": "boss", "role": "admin"})
        for i in range(1, REPS + 1):
            create_user(session=s, data={"username": f"rep{i:02d}", "role": "sales", "team": f"Team {(i - 1) // 5}"},
                        with_login=i == 1, login=_login(url), password=PASSWORD if i == 1 else None)
    with engine.begin() as conn:
        first = conn.exec_driver_sql("SELECT min(id) FROM users WHERE username LIKE 'rep%%'").scalar()
        stages = conn.exec_driver_sql("SELECT array_agg(id ORDER BY position) FROM stages").scalar()
        conn.exec_driver_sql(
            "INSERT INTO accounts (name, status, lifetime_value_minor, currency, version, created_at, updated_at, "
            "owner_id) SELECT 'Account ' || g, 'active', 0, 'USD', 1, now(), now(), (%(first)s + g %% %(reps)s)::int "
            "FROM generate_series(1::bigint, %(accounts)s) g", {"first": first, "reps": REPS, "accounts": max(100, n // 20)})
        conn.exec_driver_sql(
            "INSERT INTO opportunities (name, account_id, owner_id, stage_id, probability, probability_manual, "
            "amount_minor, currency, expected_close, actual_close, forecast_category, stage_changed_at, version, "
            "created_at, updated_at) "
            "SELECT 'Deal ' || g, (1 + (g * 7919) %% %(accounts)s)::int, (%(first)s + (g * 31) %% %(reps)s)::int, s.id, "
            "s.probability, false, 100000 + (g * 104729) %% 9000000, 'USD', "
            "current_date + ((g * 13) %% 730 - 365)::int, "
            "CASE WHEN s.is_won OR s.is_lost THEN current_date - (g %% 365)::int END, s.forecast_category, now(), 1, "
            "now() - interval '400 days', now() "
            "FROM generate_series(1::bigint, %(n)s) g JOIN stages s ON s.id = (%(stages)s::integer[])[1 + g %% 6]",
            {"accounts": max(100, n // 20), "first": first, "reps": REPS, "n": n, "stages": stages})
        rep = conn.exec_driver_sql("SELECT id FROM users WHERE username = 'rep01'").scalar()
        conn.exec_driver_sql("INSERT INTO account_shares (account_id, user_id, shared_by, created_at) "
                             "SELECT a, %(rep)s, 'boss', now() FROM (VALUES (2), (3)) v(a)", {"rep": rep})
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"  built in {time.perf_counter() - started:.1f}s", file=sys.stderr)


def _login(url: str) -> str:
    from sqlalchemy.engine import make_url

    return f"{make_url(url).database}_rep01"[:63]


def _measure(url: str, username: str, runs: int) -> dict[str, list[float]]:
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES
    from crm_tui.services.sales import forecast
    from crm_tui.services.users import resolve_actor
    from crm_tui.store.db import open_engine, session_scope

    engine = open_engine(url)
    out: dict[str, list[float]] = {"forecast": [], "list": [], "count": []}
    opp = ENTITIES["opportunity"]
    with session_scope(engine) as s:
        actor = resolve_actor(session=s, username=username, explicit=False)
        assert actor.username == username and actor.role == "sales", actor
        jobs = {
            "forecast": lambda: forecast.forecast(session=s, by="month,stage", actor=actor),
            "list": lambda: records.list_records(opp, session=s, limit=50, actor=actor),
            "count": lambda: records.count_records(opp, session=s, actor=actor),
        }
        results = {name: job() for name, job in jobs.items()}  # warm
        for _ in range(runs):
            for name, job in jobs.items():
                t = time.perf_counter()
                job()
                out[name].append(time.perf_counter() - t)
    engine.dispose()
    out["_rows"] = [float(results["count"])]
    return out


def bench_rls(args) -> bool:
    """Forecast and list as a sales login with row security vs the owner login without it."""
    from sqlalchemy.engine import make_url

    url = os.environ.get("CRM_BENCH_POSTGRES_URL") or os.environ.get("CRM_TEST_POSTGRES_URL")
    if not url:
        print(f"{'rls':<28} skipped: set CRM_BENCH_POSTGRES_URL (a scratch database; its tables are dropped)")
        return True
    n = _size(args.size)
    _build(url, n)
    rep_url = make_url(url).set(username=_login(url), password=PASSWORD).render_as_string(hide_password=False)
    runs = max(3, args.runs // 3)
    rls, owner = {}, {}
    for _ in range(3):  # alternate, so a noisy moment hits both
        for target, which in ((rls, rep_url), (owner, url)):
            for k, v in _measure(which, "rep01", runs).items():
                target.setdefault(k, []).extend(v)
    rows = int(rls["_rows"][0])
    assert rows == int(owner["_rows"][0]), "the rep's login and the owner acting as the rep see different deals"
    print(f"{'rls: data':<28} {n:,} opportunities, {REPS} reps; the rep sees {rows:,}")
    ok = True
    for name, label in (("forecast", "forecast month x stage"), ("list", "opp list, first 50"),
                        ("count", "opp count")):
        ok = R._report(f"rls: {label}", statistics.median(rls[name]), statistics.median(owner[name]), 1.5,
                       subject_label="rep login+RLS", reference_label="owner, no RLS") and ok
    return ok


BENCHES = {"rls": bench_rls}

"""Forecast benchmark (issue 6): the grouped forecast query on the demo database.

Run through bench/run.py (`.venv/bin/python bench/run.py forecast --size large`). Target: a forecast by
month and stage over all 1,000,000 deals answers in well under a second (< 500 ms, median), and this
quarter's in < 200 ms. Each figure is timed in a fresh process's warm session, as `crm forecast` or the
Forecast screen's worker runs it; a bare `SELECT count(*), sum(amount_minor)` over the table is printed
next to it for scale.
"""

from __future__ import annotations

import statistics
import subprocess

import run as R

_MEASURE = r"""
import datetime as dt, sys, time
from crm_tui.store.db import open_engine, session_scope
from crm_tui.services.sales import forecast
from sqlalchemy import text
engine = open_engine(sys.argv[1])
today = dt.date.today()
q0, q1 = forecast.quarter_bounds(today)
cases = [("all", None, None, "month,stage"), ("quarter", q0, q1, "month,stage"),
         ("next12", today, today + dt.timedelta(days=365), "month,owner")]
with session_scope(engine) as s:
    for name, a, b, by in cases:
        forecast.forecast(session=s, start=a, end=b, by=by)
    out = []
    for name, a, b, by in cases:
        t = time.perf_counter(); forecast.forecast(session=s, start=a, end=b, by=by); out.append(time.perf_counter() - t)
    t = time.perf_counter(); s.execute(text("SELECT count(*), sum(amount_minor) FROM opportunities")).all()
    out.append(time.perf_counter() - t)
print(" ".join(f"{x:.6f}" for x in out))
"""


def bench_forecast(args) -> bool:
    """The forecast by month and stage on the demo database (1,000,000 deals with --size large)."""
    url = R._demo_db(args.size)
    runs = []
    for _ in range(max(3, args.runs // 3)):
        out = subprocess.run([R.PY, "-c", _MEASURE, url], check=True, capture_output=True, text=True).stdout
        runs.append([float(x) for x in out.split()])
    all_t, quarter_t, next12_t, scan_t = (statistics.median(col) for col in zip(*runs))
    ok_all, ok_quarter = all_t < 0.5, quarter_t < 0.2
    print(f"{'forecast: month x stage':<28} all deals {all_t * 1000:7.1f} ms   target < 500 ms   "
          f"{'OK' if ok_all else 'MISS'}")
    print(f"{'forecast: this quarter':<28} {quarter_t * 1000:7.1f} ms   target < 200 ms   {'OK' if ok_quarter else 'MISS'}")
    print(f"{'forecast: next 12 months':<28} by month x owner {next12_t * 1000:7.1f} ms   "
          f"(bare count+sum over the table {scan_t * 1000:.1f} ms)")
    return ok_all and ok_quarter


BENCHES = {"forecast": bench_forecast}

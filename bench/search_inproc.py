"""Time `services.search.search` for the first 50 hits on a demo database, in-process (warm, median of runs).

    python bench/search_inproc.py DB RUNS QUERY...

Prints one line per query: median seconds and the number of hits.
"""

from __future__ import annotations

import statistics
import sys
import time

from crm_tui.services import search
from crm_tui.store.db import open_engine, session_scope


def main() -> None:
    db, runs, queries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    engine = open_engine(db if "://" in db else f"sqlite:///{db}")
    for query in queries:
        times, n = [], 0
        for _ in range(runs + 1):
            started = time.perf_counter()
            with session_scope(engine) as s:
                n = len(search.search(session=s, query=query, limit=50))
            times.append(time.perf_counter() - started)
        print(statistics.median(times[1:]), n, query)


if __name__ == "__main__":
    main()

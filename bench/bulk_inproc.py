"""In-process timing of one bulk write against one bare UPDATE of the same rows, on the same engine.

    python bench/bulk_inproc.py DB update|tag N RUN

Prints two numbers (seconds): the service call (selection, Change rows, the write, commit) and a bare
UPDATE of the same rows with commit. Process start-up and imports are left out of both sides, so the
ratio is the cost of the work itself; bench_power.py reports start-up separately.
"""

from __future__ import annotations

import sys
import time

from crm_tui.services.data import bulk
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import open_engine, session_scope


def main() -> None:
    db, kind, n, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    engine = open_engine(f"sqlite:///{db}")
    opp = ENTITIES["opportunity"]
    where = f"id<={n}"
    started = time.perf_counter()
    with session_scope(engine) as s:
        if kind == "tag":
            bulk.tag(opp, session=s, tag="q1_priority", add=run % 2 == 0, actor="bench", where=where)
        else:
            bulk.update_where(opp, session=s, data={"next_step": f"crm step {run}"}, actor="bench", where=where)
    subject = time.perf_counter() - started
    started = time.perf_counter()
    # The update bench sets next_step on both sides (both fire the full-text trigger); the tag reference
    # updates a column that is not full-text indexed, as the tag write never touches the table.
    column = "competitors" if kind == "tag" else "next_step"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE opportunities SET {column}='bare step {run}', version=version+1 "
                             f"WHERE id<={n}")
    reference = time.perf_counter() - started
    print(subject, reference)


if __name__ == "__main__":
    main()

"""Power-user benchmarks (issue 7): export against `sqlite3 -csv`, bulk tag/update against a bare UPDATE.

Run through bench/run.py (`.venv/bin/python bench/run.py export bulk_update bulk_tag --size large`).
Search: first 50 hits < 50 ms (bench/search_inproc.py, in-process). Import: 100k accounts against
`sqlite-utils insert --csv` of the same file.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys

import run as R

EXPORT_SQL = """
SELECT o.id, o.name, o.account_id, a.name, o.primary_contact_id, u.username, s.name, o.probability,
       printf('%.2f', o.amount_minor / 100.0), o.currency, printf('%.2f', o.amount_minor * o.probability / 10000.0),
       o.expected_close, o.actual_close,
       coalesce(o.forecast_category, s.forecast_category), o.source, o.next_step, o.competitors, o.lost_reason,
       o.description, o.stage_changed_at, o.created_at, o.updated_at, o.version
FROM opportunities o JOIN stages s ON s.id = o.stage_id LEFT JOIN users u ON u.id = o.owner_id
LEFT JOIN accounts a ON a.id = o.account_id ORDER BY o.id
"""

_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _peak_kib(cmd: list[str]) -> int:
    return int(subprocess.run([R.PY, "-c", _PEAK, *cmd], check=True, capture_output=True, text=True).stdout)


def _path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def bench_export(args) -> bool:
    """`crm export opp` to CSV against `sqlite3 -csv` writing the same rows (target: within 2x, < 100 MiB)."""
    db = _path(R._demo_db(args.size))
    out = R.RESULTS / "export.csv"
    crm = R._crm("--db", db, "export", "opp", "-o", str(out))
    ref = ["sh", "-c", f'sqlite3 -csv -header "{db}" "{" ".join(EXPORT_SQL.split())}" > "{R.RESULTS / "ref.csv"}"']
    R._time(crm), R._time(ref)
    a, b = [], []
    for _ in range(max(3, args.runs // 5)):
        a.append(R._time(crm))
        b.append(R._time(ref))
    ok = R._report(f"export csv ({args.size})", statistics.median(a), statistics.median(b), 2.0,
                   reference_label="sqlite3 -csv")
    peak = _peak_kib(crm) / 1024
    print(f"{'':<28} crm export peak memory {peak:.0f} MiB (target < 100 MiB) {'OK' if peak < 100 else 'MISS'}")
    return ok and peak < 100


def _bulk_db(args, name: str = "bulk") -> str:
    """A fresh copy of the demo database: each bulk write adds its Change rows, so every side starts equal."""
    src = _path(R._demo_db(args.size))
    dst = R.RESULTS / f"{name}-{args.size}.db"
    shutil.copyfile(src, dst)
    for suffix in ("-wal", "-shm"):
        (R.RESULTS / f"{name}-{args.size}.db{suffix}").unlink(missing_ok=True)
    return str(dst)


def _startup(db: str, env=None) -> float:
    """Median time of a `crm` process that opens the database and does nothing (start-up and imports)."""
    cmd = R._crm("--db", db, "opp", "list", "--where", "id<0", "--format", "ids")
    R._time(cmd, env)
    return statistics.median(R._time(cmd, env) for _ in range(3))


def _bulk_in_process(args, db: str, kind: str) -> bool:
    """The same work timed inside one process (bench/bulk_inproc.py), both sides on the same engine.
    Tags alternate add and remove; each is also reported on its own."""
    a, b = [], []
    runs = max(4, args.runs // 5)
    for i in range(runs + runs % 2):
        out = subprocess.run([R.PY, str(R.HERE / "bulk_inproc.py"), db, kind, "100000", str(100 + i)],
                             check=True, capture_output=True, text=True).stdout.split()
        a.append(float(out[0]))
        b.append(float(out[1]))
    if kind == "tag":
        for label, part in (("add", slice(0, None, 2)), ("remove", slice(1, None, 2))):
            ratio = statistics.median(x / y for x, y in zip(a[part], b[part]))
            print(f"{'':<28} tag {label}: median ratio {ratio:.2f}x over {len(a[part])} runs")
    return R._report(f"bulk {kind} 100k in-process", statistics.median(a), statistics.median(b), 3.0,
                     reference_label="bare UPDATE")


def bench_bulk_update(args) -> bool:
    """`crm update opp --where 'id<=100000' --set next_step=...` (Change rows included) against one bare UPDATE
    of the same rows (target: within 3x)."""
    db = _bulk_db(args)
    a, b = [], []
    for i in range(max(3, args.runs // 5)):
        a.append(R._time(R._crm("--db", db, "update", "opp", "--where", "id<=100000",
                          "--set", f"next_step=crm step {i}")))
        b.append(R._time(["sqlite3", db, f"UPDATE opportunities SET next_step='bare step {i}', "
                                         f"version=version+1 WHERE id<=100000"]))
    ok = R._report("bulk update 100k", statistics.median(a), statistics.median(b), 3.0,
                   reference_label="bare UPDATE")
    print(f"{'':<28} of which crm start-up (open the database, no work): {_startup(db) * 1000:.0f} ms warm, "
          f"{_startup(db, R.COLD) * 1000:.0f} ms cold")
    return _bulk_in_process(args, db, "update") and ok


def bench_bulk_tag(args) -> bool:
    """`crm tag add|remove` on 100,000 opportunities against one bare UPDATE of the same rows (target: within 3x).
    `crm` runs warm (crm_tui.warm), as in a shell session; the same commands cold (CRM_WARM=0) are measured
    in the same rounds."""
    db = _bulk_db(args)
    cold_db = _bulk_db(args, "bulk-cold")
    a, b, cold = [], [], []
    R._warm_up(R._crm("--db", db, "stage", "list"))
    served = R._served()
    # an even number of runs, so the tag is off every record again when the in-process runs
    # start with an add (after an odd number that add would find nothing to do)
    runs = max(4, args.runs // 5)
    for i in range(runs + runs % 2):
        verb = "add" if i % 2 == 0 else "remove"
        a.append(R._time(R._crm("--db", db, "tag", verb, "q1_priority", "--entity", "opp",
                          "--where", "id<=100000")))
        # competitors, not next_step: next_step is full-text indexed (0003_search), and its trigger would
        # make the reference slower than the tag write, which never touches the opportunities table.
        b.append(R._time(["sqlite3", db, f"UPDATE opportunities SET competitors='bare {i}' WHERE id<=100000"]))
        # cold on a copy of its own: its Change rows would make the warm runs' log grow twice as fast
        cold.append(R._time(R._crm("--db", cold_db, "tag", verb, "q1_priority", "--entity", "opp",
                                   "--where", "id<=100000"), R.COLD))
    warm_runs = R._served() - served
    ok = R._report("bulk tag 100k", statistics.median(a), statistics.median(b), 3.0,
                   subject_label="crm (warm)", reference_label="bare UPDATE")
    print(f"{'':<28} ({warm_runs} of {len(a)} runs went through the warm server)")
    print(f"{'':<28} (cold, CRM_WARM=0: {statistics.median(cold) * 1000:.0f} ms, "
          f"{statistics.median(cold) / statistics.median(b):.2f}x)")
    print(f"{'':<28} of which crm start-up (open the database, no work): {_startup(db) * 1000:.0f} ms warm, "
          f"{_startup(db, R.COLD) * 1000:.0f} ms cold")
    return _bulk_in_process(args, db, "tag") and ok and warm_runs == len(a)


SEARCH_QUERIES = ("e-commerce OR chatbot", "zürich", "chat*", '"data platform" NOT acme',
                  "renewal AND (acme OR globex)", "nosuchwordanywhere", "smith*")


def bench_search(args) -> bool:
    """`services.search.search`, first 50 hits, warm, in-process (bench/search_inproc.py): target < 50 ms each."""
    db = _path(R._demo_db(args.size))
    out = subprocess.run([R.PY, str(R.HERE / "search_inproc.py"), db, str(max(5, args.runs)), *SEARCH_QUERIES],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    ok = True
    for line in out:
        seconds, hits, query = line.split(" ", 2)
        good = float(seconds) < 0.050
        ok = ok and good
        print(f"{'search ' + repr(query):<40} {float(seconds) * 1000:8.1f} ms  {hits:>3} hits   "
              f"target < 50 ms   {'OK' if good else 'MISS'}")
    return ok


IMPORT_COLUMNS = "name,industry,website,phone,email,street,city,state,postal_code,country,status,source,employees"


def bench_import(args) -> bool:
    """`crm import account` of 100,000 rows (validated, FTS triggers and all) into a fresh database against
    `sqlite-utils insert --csv` of the same file into a fresh database (target: within 2x)."""
    db = _path(R._demo_db(args.size))
    src = R.RESULTS / "import-100k.csv"
    if not src.exists():
        subprocess.run(R._crm("--db", db, "export", "account", "--where", "id<=100000",
                        "--columns", IMPORT_COLUMNS, "-o", str(src)), check=True, capture_output=True)
    target, ref = R.RESULTS / "import.db", R.RESULTS / "import-ref.db"
    a, b = [], []
    for _ in range(max(3, args.runs // 5)):
        for path in (target, ref):
            for suffix in ("", "-wal", "-shm"):
                (path.parent / (path.name + suffix)).unlink(missing_ok=True)
        subprocess.run(R._crm("--db", str(target), "db", "upgrade"), check=True, capture_output=True)
        a.append(R._time(R._crm("--db", str(target), "import", "account", str(src))))
        b.append(R._time([R._bin("sqlite-utils"), "insert", str(ref), "accounts", str(src), "--csv"]))
    return R._report("import 100k accounts", statistics.median(a), statistics.median(b), 2.0,
                     reference_label="sqlite-utils insert --csv")


BENCHES = {"search": bench_search, "import": bench_import, "export": bench_export, "bulk_update": bench_bulk_update, "bulk_tag": bench_bulk_tag}

if __name__ == "__main__":
    sys.exit("run through bench/run.py")

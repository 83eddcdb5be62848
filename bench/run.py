"""crm-tui benchmarks: each measured side by side with a reference in the same run.

    .venv/bin/python bench/run.py                 # everything, on a medium demo database
    .venv/bin/python bench/run.py --size large    # the TUI on 1,000,000 opportunities
    .venv/bin/python bench/run.py cli_help        # one benchmark
    .venv/bin/python bench/run.py bulk_tag --size 100000   # the bulk benchmarks on 100,000 deals

Every process a benchmark starts runs the crm_tui of this checkout (`python -m crm_tui`, the checkout
first on PYTHONPATH), whichever crm_tui the interpreter has installed.

Benchmarks are not tests: they print figures with their targets. Machines are
noisy, so each figure is a median of several runs, alternating subject and
reference, and the verdict is a ratio against the reference.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
RESULTS = HERE / "results"

# Every process a benchmark starts (crm itself, bench/paint.py, bench/bulk_inproc.py, ...) imports the
# crm_tui of this checkout, never whichever one the interpreter has installed (an editable install
# of another worktree, say): the checkout goes first on PYTHONPATH.
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
sys.path.insert(0, str(ROOT))
from crm_tui import warm  # noqa: E402 - this checkout's, as above; the client side: standard library only

# `crm` runs as a user's shell runs it: warm (crm_tui.warm), with a runtime folder of this run's own so
# its server is this checkout's and ends with the run. COLD is the environment of a `crm` with it off.
RUNTIME = tempfile.mkdtemp(prefix="crm-bench-run-")
os.environ.update({"XDG_RUNTIME_DIR": RUNTIME, "CRM_WARM": "1", "CRM_WARM_IDLE": "900"})
COLD = {**os.environ, "CRM_WARM": "0"}


def _warm_up(cmd: list[str]) -> None:
    """Run CMD until a warm server answers it (the first run starts one; it listens once imported)."""
    _time(cmd)
    deadline = time.monotonic() + 60
    while not list(Path(RUNTIME, "crm-tui").glob("*.sock")) and time.monotonic() < deadline:
        time.sleep(0.05)
    _time(cmd)


def _served() -> int:
    """How many commands this run's warm servers ran (`crm warm status` counts them)."""
    return sum(server["served"] for server in warm.servers({"XDG_RUNTIME_DIR": RUNTIME}))


def _stop_warm() -> None:
    """End this run's warm servers (`crm warm stop`) and remove their runtime folder."""
    import shutil

    warm.stop({"XDG_RUNTIME_DIR": RUNTIME})
    deadline = time.monotonic() + 5
    while list(Path(RUNTIME, "crm-tui").glob("*.sock")) and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(RUNTIME, ignore_errors=True)


def _crm(*args: str) -> list[str]:
    """The command line of `crm ARGS...` running this checkout's code (`python -m crm_tui`)."""
    return [PY, "-m", "crm_tui", *args]


def _bin(name: str) -> str:
    candidate = Path(PY).parent / name
    return str(candidate) if candidate.exists() else name


def _time(cmd: list[str], env=None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def _report(name: str, subject: float, reference: float, target: float, unit: str = "s",
            subject_label: str = "crm", reference_label: str = "reference") -> bool:
    ratio = subject / reference
    ok = ratio <= target
    print(f"{name:<28} {subject_label} {subject * 1000:8.1f} ms   {reference_label} {reference * 1000:8.1f} ms   "
          f"ratio {ratio:5.2f}x   target <= {target:.2f}x   {'OK' if ok else 'MISS'}")
    return ok


def bench_cli_help(args) -> bool:
    """`crm --help` against a trivial Typer app's --help (target: within 1.3x)."""
    crm = _crm("--help")
    ref = [PY, str(HERE / "trivial_typer.py"), "--help"]
    env = {**os.environ, "COLUMNS": "100"}
    for _ in range(2):  # warm the file cache
        _time(crm, env)
        _time(ref, env)
    a, b = [], []
    for _ in range(args.runs):
        a.append(_time(crm, env))
        b.append(_time(ref, env))
    return _report("cli: crm --help", statistics.median(a), statistics.median(b), 1.3,
                   reference_label="trivial typer")


def bench_cli_one_row(args) -> bool:
    """A one-row `crm opp list` as a whole process against a trivial Typer app that opens the same SQLite
    file with sqlite3 and prints one row (target: within 2x). `crm` runs warm, as a shell loop runs it
    (crm_tui.warm: the first command starts the server, later ones fork from it); the same command cold
    (CRM_WARM=0) is measured in the same rounds, and so is the reference with a library imported first,
    to show what each layer costs a cold start (`python -X importtime` shows the split)."""
    db = _demo_db(args.size).removeprefix("sqlite:///")
    crm = _crm("--db", db, "opp", "list", "--limit", "1", "--sort", "id", "--format", "ids")
    ref = [PY, str(HERE / "trivial_sqlite_typer.py"), db]
    layers = {"+ import sqlalchemy": "sqlalchemy", "+ import sqlmodel": "sqlmodel",
              "+ our models": "crm_tui.store.models"}
    envs = {label: {**os.environ, "CRM_BENCH_PREIMPORT": mods} for label, mods in layers.items()}
    _warm_up(crm)
    for _ in range(2):  # warm the file cache
        _time(crm, COLD)
        _time(ref)
    served = _served()
    a, b, cold = [], [], []
    floors: dict[str, list[float]] = {label: [] for label in layers}
    for _ in range(args.runs):
        a.append(_time(crm))
        b.append(_time(ref))
        cold.append(_time(crm, COLD))
        for label, env in envs.items():
            floors[label].append(_time(ref, env))
    warm_runs = _served() - served
    reference = statistics.median(b)
    ok = _report("cli: one-row opp list", statistics.median(a), reference, 2.0,
                 subject_label="crm (warm)", reference_label="typer+sqlite3")
    print(f"{'':<28} ({warm_runs} of {len(a)} runs went through the warm server)")
    print(f"{'':<28} (cold, CRM_WARM=0: {statistics.median(cold) * 1000:.1f} ms, "
          f"{statistics.median(cold) / reference:.2f}x)")
    for label, times in floors.items():
        print(f"{'':<28} (reference {label}: {statistics.median(times) * 1000:.1f} ms, "
              f"{statistics.median(times) / reference:.2f}x)")
    return ok and warm_runs == len(a)


def _demo_db(size: str) -> str:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"demo-{size}.db"
    if not path.exists():
        print(f"building {path} with `crm demo --size {size}` ...", file=sys.stderr)
        started = time.perf_counter()
        subprocess.run(_crm("--db", str(path), "demo", "--size", size), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"  built in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return f"sqlite:///{path}"


def _paint(which: list[str]) -> tuple[float, float]:
    out = subprocess.run([PY, str(HERE / "paint.py"), *which], check=True, capture_output=True, text=True,
                         env={**os.environ, "TEXTUAL": ""}).stdout.split()
    return float(out[0]), float(out[1])


def bench_tui_paint(args) -> bool:
    """The TUI's first paint on the demo database against a minimal Textual app (target: within 1.5x)."""
    url = _demo_db(args.size)
    _paint(["minimal"])
    _paint(["crm", url])
    crm_ready, crm_loaded, ref_ready = [], [], []
    for _ in range(max(3, args.runs // 2)):
        r, loaded = _paint(["crm", url])
        crm_ready.append(r)
        crm_loaded.append(loaded)
        ref_ready.append(_paint(["minimal"])[0])
    ok = _report(f"tui: first paint ({args.size})", statistics.median(crm_ready), statistics.median(ref_ready), 1.5,
                 reference_label="minimal textual")
    print(f"{'':<28} (first screen filled in by its workers at {statistics.median(crm_loaded) * 1000:.1f} ms)")
    return ok


def _pipeline(args: list[str]) -> list[float]:
    out = subprocess.run([PY, str(HERE / "bench_pipeline.py"), *args], check=True, capture_output=True, text=True,
                         env={**os.environ, "TEXTUAL": ""}).stdout.split()
    return [float(x) for x in out]


def bench_pipeline(args) -> bool:
    """The Pipeline board on a large demo database (1,000,000 deals with --size large): first paint against a
    minimal Textual app (target: within 2x), and a card move (target: under 50 ms)."""
    url = _demo_db(args.size)
    _pipeline(["paint", "minimal"])
    _pipeline(["paint", "board", url])
    ready, cards, totals, ref = [], [], [], []
    for _ in range(max(3, args.runs // 3)):
        r, c, t = _pipeline(["paint", "board", url])
        ready.append(r)
        cards.append(c)
        totals.append(t)
        ref.append(_pipeline(["paint", "minimal"])[0])
    ok = _report(f"pipeline: first paint ({args.size})", statistics.median(ready), statistics.median(ref), 2.0,
                 reference_label="minimal textual")
    print(f"{'':<28} (first cards of every column at {statistics.median(cards) * 1000:.1f} ms, "
          f"column counts and totals at {statistics.median(totals) * 1000:.1f} ms)")
    ui_move, service_move = _pipeline(["move", url])
    move_ok = ui_move <= 0.050
    print(f"{'pipeline: card move':<28} key to both columns updated {ui_move * 1000:6.1f} ms   "
          f"transaction alone {service_move * 1000:6.1f} ms   target < 50 ms   {'OK' if move_ok else 'MISS'}")
    list_median, list_worst = _pipeline(["list", url])
    print(f"{'pipeline: list view':<28} v to the first page and its count {list_median * 1000:6.1f} ms "
          f"(worst {list_worst * 1000:.1f} ms)   no target: kept as it was")
    return ok and move_ok


TUI_SPEED_TARGETS = {"switch": 0.200, "filter": 0.300, "detail": 0.200, "detail_opportunity": 0.200,
                     "detail_lead": 0.200}


def bench_tui_speed(args) -> bool:
    """The TUI answering keys on the demo database, driven by Pilot (bench/tui_speed.py): an F-key to another
    area, a filter applied on Accounts, a detail opened (an account, a deal from the pipeline's list, a lead);
    each from the key press to the first frame written once the screen is ready (its data shown, no worker
    left), and (settled) until the Pilot found it settled, which adds the Pilot's own 60-130 ms of polling.
    Targets, on the first figure: median switch < 200 ms, filter < 300 ms, detail < 200 ms."""

    url = _demo_db(args.size)
    rounds = max(2, args.runs // 5)
    out = subprocess.run([PY, str(HERE / "tui_speed.py"), url, str(rounds)], check=True, capture_output=True,
                         text=True, env={**os.environ, "TEXTUAL": ""}).stdout
    times = json.loads(out.strip().splitlines()[-1])
    first, again = times["switch_first"], times["switch"]
    for suffix in ("", "_settled"):
        times["switch" + suffix] = times.pop("switch_first" + suffix) + times["switch" + suffix]
    ok = True
    for name, target in TUI_SPEED_TARGETS.items():
        shown, waited = times[name], times[name + "_settled"]
        median = statistics.median(shown)
        good = median < target
        ok = ok and good
        print(f"{'tui: ' + name + ' (' + args.size + ')':<34} median {median * 1000:6.1f} ms over {len(shown)}   "
              f"worst {max(shown) * 1000:6.1f} ms   target < {target * 1000:.0f} ms   {'OK' if good else 'MISS'}   "
              f"(settled: median {statistics.median(waited) * 1000:.1f}, worst {max(waited) * 1000:.1f} ms)")
    print(f"{'':<34} (switch: first visit to an area {statistics.median(first) * 1000:.1f} ms, "
          f"coming back {statistics.median(again) * 1000:.1f} ms)")
    return ok


BENCHES = {"cli_help": bench_cli_help, "cli_one_row": bench_cli_one_row, "tui_paint": bench_tui_paint, "pipeline": bench_pipeline,
           "tui_speed": bench_tui_speed}


def _power_benches() -> dict:
    sys.path.insert(0, str(HERE))
    sys.modules.setdefault("run", sys.modules[__name__])  # bench_power uses this module's helpers
    import bench_power

    return bench_power.BENCHES


BENCHES.update(_power_benches())


def _forecast_benches() -> dict:
    sys.path.insert(0, str(HERE))
    sys.modules.setdefault("run", sys.modules[__name__])
    import bench_forecast

    return bench_forecast.BENCHES


BENCHES.update(_forecast_benches())


def _rls_benches() -> dict:
    sys.path.insert(0, str(HERE))
    sys.modules.setdefault("run", sys.modules[__name__])
    import rls

    return rls.BENCHES


BENCHES.update(_rls_benches())


def _writers_benches() -> dict:
    sys.path.insert(0, str(HERE))
    import pg_writers

    return pg_writers.BENCHES


BENCHES.update(_writers_benches())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", choices=[[], *BENCHES], help="benchmarks to run (default: all)")
    parser.add_argument("--runs", type=int, default=15, help="runs per subject (median taken)")
    parser.add_argument("--size", default="medium", help="demo database size for the TUI benchmarks "
                                                        "(rls: medium 200,000 deals, large 1,000,000, or a number)")
    parser.add_argument("--seconds", type=float, default=60.0, help="pg_writers: how long the writers write")
    parser.add_argument("--via", choices=("process", "inproc"), default="process",
                        help="pg_writers: a `crm` process per command, or the commands in each worker's process")
    parser.add_argument("--url", default=None, help="pg_writers: the scratch database (else CRM_BENCH_POSTGRES_URL)")
    args = parser.parse_args()
    names = args.names or list(BENCHES)
    atexit.register(_stop_warm)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.runs} runs each")
    results = {name: BENCHES[name](args) for name in names}
    missed = [n for n, ok in results.items() if not ok]
    print("all targets met" if not missed else f"missed: {', '.join(missed)}")


if __name__ == "__main__":
    main()

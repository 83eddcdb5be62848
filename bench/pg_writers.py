"""Concurrent writers on PostgreSQL: 8 sales reps, each with their own database login, write at once for
--seconds (default 60) while the TUI stays open as one of them. Not a test: it prints throughput, latency
and verdicts.

    .venv/bin/python bench/run.py pg_writers --seconds 20
    .venv/bin/python bench/pg_writers.py --seconds 60 --via inproc     # alone; --url or CRM_BENCH_POSTGRES_URL

Set-up (as the database owner; every table is dropped first): a small demo, an admin, two teams of four
sales reps (w1..w8) with logins ``<db>_w1``..., five deals and five leads each. The sales role's deal
rights are raised to the team (read, edit, assign), so four reps contend for the same twenty deals and
may hand them to each other (the new owner is notified); the other team's deals and every other rep's
leads must be refused.

Each rep is a worker process running `crm` commands as its own login for the whole time: ``--via
process`` starts a `crm` process per command (what a shell script does; start-up dominates),
``--via inproc`` runs the same Typer commands in the worker process (CliRunner, the command state
reset after each, so every command opens its own engine and session). The mix: `opp update --amount
--if-version V` after `opp show`, plain `opp update --amount`, `opp move`, `assign opp --to`, `tag add
--entity opp --where 'owner=me'`, `lead update --title`, `opp list`, `search`. Every outcome is logged:
applied, refused-conflict, refused-right, busy, or error (anything else; a bug).

Verdicts: no lost update (per deal and field, the value of the applied write with the highest version is
the final value, and no two applied changes reported the same version); no visibility leak (every deal
in a list or search belongs to the rep's team, every lead to the rep; every write to another team's deal
or another rep's lead was refused); the TUI's unread count equals the database's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
if str(ROOT) not in sys.path:  # this checkout's crm_tui, run alone or as a worker
    sys.path.insert(0, str(ROOT))
PASSWORD = "bench-writers"
REPS = 8
TEAMS = ("North", "South")
DEALS_EACH = 5
LEADS_EACH = 5
STAGES = ("Lead", "Qualified", "Proposal", "Negotiation")
WRITES = ("update_if_version", "update", "move", "assign", "tag", "lead_update")
MIX = {"update_if_version": 25, "update": 20, "move": 15, "assign": 8, "tag": 6, "lead_update": 8, "list": 12,
       "search": 10}
VERSION = re.compile(r"version (\d+)")


def _rep(i: int) -> str:
    return f"w{i}"


def _team_of(i: int) -> str:
    return TEAMS[(i - 1) // (REPS // len(TEAMS))]


def _login(url: str, user: str) -> str:
    from sqlalchemy.engine import make_url

    return f"{make_url(url).database}_{user}"[:63]


def _login_url(url: str, user: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=_login(url, user), password=PASSWORD).render_as_string(hide_password=False)


# ---------------------------------------------------------------- set-up (as the owner)


def setup(url: str) -> dict:
    """Drop every table, build the demo, the reps and their records; what the workers need to know."""
    from sqlalchemy import create_engine, inspect, text

    from crm_tui.services import records
    from crm_tui.services.access import set_rule
    from crm_tui.services.data import demo
    from crm_tui.services.registry import ENTITIES
    from crm_tui.services.users import create_team, create_user, resolve_actor
    from crm_tui.store.db import open_engine, session_scope

    engine = create_engine(url)
    with engine.begin() as conn:
        for name in inspect(conn).get_table_names():
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    engine.dispose()
    engine = open_engine(url)
    demo.generate(engine, opportunities=200, seed=7, me="boss")
    world: dict = {"reps": {}, "deals": {}, "leads": {}}
    with session_scope(engine) as s:
        if not s.execute(text("SELECT 1 FROM users WHERE username = 'boss'")).first():
            create_user(session=s, data={"username": "boss", "role": "admin"})
        boss = resolve_actor(session=s, username="boss")
        for team in TEAMS:
            create_team(session=s, actor=boss, name=team)
        for action in ("read", "edit", "assign"):
            set_rule(session=s, actor=boss, role="sales", entity="opportunity", action=action, level="team")
        for i in range(1, REPS + 1):
            user = create_user(session=s, data={"username": _rep(i), "role": "sales", "team": _team_of(i)},
                               with_login=True, login=_login(url, _rep(i)), password=PASSWORD)
            world["reps"][_rep(i)] = {"id": user.id, "team": _team_of(i)}
    with session_scope(engine) as s:
        account = records.list_records(ENTITIES["account"], session=s, limit=1, actor="boss")[0]["id"]
        for rep in world["reps"]:
            for k in range(DEALS_EACH):
                row = records.create_record(ENTITIES["opportunity"], session=s, actor="boss", data={
                    "name": f"Bench zebra deal {rep}-{k}", "account": account, "owner": rep, "amount": "1000"})
                world["deals"][row["id"]] = world["reps"][rep]["team"]
            for k in range(LEADS_EACH):
                row = records.create_record(ENTITIES["lead"], session=s, actor="boss", data={
                    "last_name": f"Zebra {rep}-{k}", "company": "Bench zebra", "owner": rep})
                world["leads"][row["id"]] = rep
    engine.dispose()
    return world


# ---------------------------------------------------------------- a worker (one rep, one process)


class Runner:
    """Runs `crm ARGS` as one login: a process per command, or in this process (CliRunner)."""

    def __init__(self, url: str, user: str, via: str, home: str):
        self.via = via
        self.env = {**os.environ, "CRM_DATABASE_URL": url, "CRM_USER": user, "CRM_CONFIG": f"{home}/config.toml",
                    "CRM_DATA_DIR": home, "COLUMNS": "200", "CRM_DEBUG": ""}
        if via == "inproc":
            from typer.testing import CliRunner

            self.runner = CliRunner()

    def __call__(self, *args: str) -> tuple[int, str, str]:
        if self.via == "process":
            done = subprocess.run([PY, "-m", "crm_tui", *args], capture_output=True, text=True, env=self.env)
            return done.returncode, done.stdout, done.stderr
        from crm_tui.cli import app
        from crm_tui.commands._common import State

        try:
            result = self.runner.invoke(app, list(args), env=self.env)
        finally:
            State.reset()
        err = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            err += f"\nTRACEBACK {result.exception!r}"
        return result.exit_code, result.stdout, err


def _outcome(rc: int, err: str) -> str:
    if rc == 0:
        return "applied"
    low = err.lower()
    if "traceback" in low:
        return "error"
    if "changed by someone else" in low or "conflict" in low:
        return "refused-conflict"
    if "is already the stage" in low or "already owns" in low:
        return "unchanged"  # a move to its stage, an assignment to its owner: nothing to write
    if "busy" in low or "lock" in low:
        return "busy"
    if "no opportunity" in low or "no lead" in low or "not found" in low or "may not" in low or \
            "not allowed" in low or "permission" in low or "row-level security" in low:
        return "refused-right"
    return "error"


def worker(url: str, user: str, world_file: str, seconds: float, via: str, seed: int, out: str) -> None:
    world = json.loads(Path(world_file).read_text())
    me = world["reps"][user]
    team = me["team"]
    teammates = [u for u, r in world["reps"].items() if r["team"] == team]
    deals = {int(k): v for k, v in world["deals"].items()}
    leads = {int(k): v for k, v in world["leads"].items()}
    ours = [d for d, t in deals.items() if t == team]
    theirs = [d for d, t in deals.items() if t != team]
    rng = random.Random(seed)
    home = tempfile.mkdtemp(prefix=f"crm-writer-{user}-")
    crm = Runner(_login_url(url, user), user, via, home)
    kinds, weights = zip(*MIX.items())
    crm("opp", "list", "--limit", "1", "--format", "ids")  # warm up (imports, first connection), not counted
    deadline = time.monotonic() + seconds
    counter = 0
    with open(out, "w") as log:
        def record(kind: str, target, expected_ok: bool, started: float, rc: int, stdout: str, err: str,
                   **extra) -> dict:
            entry = {"w": user, "kind": kind, "target": target, "mine": expected_ok, "t0": started,
                     "t1": time.time(), "outcome": _outcome(rc, err), "msg": err.strip().splitlines()[-1:] if rc
                     else [], **extra}
            log.write(json.dumps(entry) + "\n")
            log.flush()
            return entry

        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            counter += 1
            if kind in ("update_if_version", "update", "move", "assign"):
                deal = rng.choice(ours) if rng.random() < 0.8 else rng.choice(theirs)
                mine = deals[deal] == team
                if kind == "update_if_version":
                    t0 = time.time()
                    rc, so, err = crm("opp", "show", str(deal), "--format", "json")
                    shown = json.loads(so) if rc == 0 else None
                    record("show", deal, mine, t0, rc, so, err,
                           leak=bool(shown) and not mine)
                    if shown is None:
                        if mine:
                            continue
                        version = 1  # try blind: it must be refused all the same
                    else:
                        version = int(shown["version"])
                    amount = str(10_000 + counter * 10 + REPS * rng.randint(0, 999))
                    t0 = time.time()
                    rc, so, err = crm("opp", "update", str(deal), "--amount", amount, "--if-version", str(version),
                                      "--format", "json")
                    row = json.loads(so) if rc == 0 else {}
                    record(kind, deal, mine, t0, rc, so, err, field="amount", value=row.get("amount"),
                           version=row.get("version"))
                elif kind == "update":
                    amount = str(20_000 + counter * 10 + rng.randint(0, 9))
                    t0 = time.time()
                    rc, so, err = crm("opp", "update", str(deal), "--amount", amount, "--format", "json")
                    row = json.loads(so) if rc == 0 else {}
                    record(kind, deal, mine, t0, rc, so, err, field="amount", value=row.get("amount"),
                           version=row.get("version"))
                elif kind == "move":
                    stage = rng.choice(STAGES)
                    t0 = time.time()
                    rc, so, err = crm("opp", "move", str(deal), stage)
                    found = VERSION.search(err) if rc == 0 else None
                    record(kind, deal, mine, t0, rc, so, err, field="stage", value=stage,
                           version=int(found.group(1)) if found else None)
                else:
                    to = rng.choice([u for u in teammates if u != user])
                    t0 = time.time()
                    rc, so, err = crm("assign", "opp", str(deal), "--to", to, "--format", "json")
                    row = json.loads(so) if rc == 0 and so.strip().startswith("{") else {}
                    record(kind, deal, mine, t0, rc, so, err, field="owner", value=to, version=row.get("version"))
            elif kind == "tag":
                tag = f"t_{user}_{counter}"
                t0 = time.time()
                rc, so, err = crm("tag", "add", tag, "--entity", "opp", "--where", "owner=me")
                tagged = re.search(r"tag \S+: ([\d,]+) ", err) if rc == 0 else None
                record(kind, None, True, t0, rc, so, err, tag=tag,
                       tagged=int(tagged.group(1).replace(",", "")) if tagged else 0)
            elif kind == "lead_update":
                lead = rng.choice([lid for lid, o in leads.items() if o == user]) if rng.random() < 0.7 else \
                    rng.choice([lid for lid, o in leads.items() if o != user])
                mine = leads[lead] == user
                title = f"Buyer {user}-{counter}"  # a new value every time: every applied write changes it
                t0 = time.time()
                rc, so, err = crm("lead", "update", str(lead), "--title", title, "--format", "json")
                row = json.loads(so) if rc == 0 else {}
                record(kind, lead, mine, t0, rc, so, err, field="title", value=row.get("title"),
                       version=row.get("version"))
            elif kind == "list":
                t0 = time.time()
                rc, so, err = crm("opp", "list", "--format", "json", "--limit", "200")
                rows = json.loads(so) if rc == 0 else []
                bad = [r["id"] for r in rows if deals.get(r["id"], team) != team]
                # Demo deals belong to demo users: a rep in a team sees none of them.
                foreign = [r["id"] for r in rows if r["id"] not in deals]
                record(kind, None, True, t0, rc, so, err, rows=len(rows), leak=bad + foreign)
            else:
                t0 = time.time()
                rc, so, err = crm("search", "zebra", "--format", "json", "--limit", "200")
                rows = json.loads(so) if rc == 0 else []
                leak = [(r.get("entity"), r.get("id")) for r in rows
                        if (r.get("entity") == "opportunity" and deals.get(r.get("id")) != team)
                        or (r.get("entity") == "lead" and leads.get(r.get("id")) != user)]
                record(kind, None, True, t0, rc, so, err, rows=len(rows), leak=leak)


# ---------------------------------------------------------------- the TUI (as w1) and the verdicts


async def _watch_tui(url: str, user: str, stop: asyncio.Event, samples: list) -> None:
    from crm_tui.app import make_app
    from crm_tui.settings import Settings

    app = make_app(_login_url(url, user), user=user, settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        while not stop.is_set():
            await pilot.pause(0.5)
            samples.append((time.time(), app.unread_notifications))
        # Settle: let the poll (or LISTEN) catch up with the last writes, then read the header.
        for _ in range(20):
            await pilot.pause(0.5)
            samples.append((time.time(), app.unread_notifications))
        from textual.widgets._header import HeaderTitle

        shown = [str(title.render()) for title in app.screen.query(HeaderTitle)]
        samples.append(("header", " ".join(shown)))


def _final(url: str) -> tuple[dict, dict, dict]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        opps = {r[0]: {"amount_minor": r[1], "stage": r[2], "owner": r[3], "version": r[4]} for r in conn.execute(
            text(
                "SELECT o.id, o.amount_minor, s.name, u.username, o.version FROM opportunities o "
                "JOIN stages s ON s.id = o.stage_id LEFT JOIN users u ON u.id = o.owner_id"))}
        leads = {r[0]: {"title": r[1], "version": r[2]} for r in conn.execute(
            text("SELECT id, title, version FROM leads"))}
        tags: dict = defaultdict(set)
        for tag, rid in conn.execute(text(
                "SELECT t.name, g.record_id FROM taggings g JOIN tags t ON t.id = g.tag_id "
                "WHERE g.entity = 'opportunity'")):
            tags[tag].add(rid)
    engine.dispose()
    return opps, leads, tags


def _unread(url: str, user: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                              "WHERE u.username = :u AND n.read_at IS NULL"), {"u": user}).scalar()
    engine.dispose()
    return int(n or 0)


def _amount_minor(text_value) -> int | None:
    if text_value is None:
        return None
    digits = re.sub(r"[^0-9.\-]", "", str(text_value))
    return round(float(digits) * 100) if digits else None


def verify(url: str, world: dict, log: list[dict]) -> list[tuple[str, bool, str]]:
    opps, leads, tags = _final(url)
    verdicts = []
    # Writes to what the rep may not change: all refused.
    wrong = [e for e in log if e["kind"] in WRITES and not e["mine"] and e["outcome"] == "applied"]
    errors = [e for e in log if e["outcome"] == "error"]
    mine_refused = Counter(e["outcome"] for e in log if e["kind"] in WRITES and e["mine"])
    # Lost updates: per record and field, the applied write with the highest version holds.
    lost, dup = [], []
    by_record: dict = defaultdict(list)
    for e in log:
        if e["kind"] in WRITES and e.get("field") and e["outcome"] == "applied" and e.get("version") is not None:
            by_record[(e["kind"] == "lead_update", e["target"])].append(e)
    for (is_lead, rid), writes in by_record.items():
        final = leads[rid] if is_lead else opps[rid]
        seen: dict = defaultdict(set)
        for e in writes:
            seen[e["version"]].add((e["field"], str(e["value"])))
        for version, changes in seen.items():
            if len({f for f, _ in changes}) > 1 or len(changes) > 1:
                dup.append((rid, version, sorted(changes)))
        for fld in {e["field"] for e in writes}:
            last = max((e for e in writes if e["field"] == fld), key=lambda e: (e["version"], e["t1"]))
            if fld == "amount":
                want, have = _amount_minor(last["value"]), final["amount_minor"]
            else:
                want, have = last["value"], final[fld]
            newer = final["version"] > last["version"] and any(
                e["field"] != fld for e in writes if e["version"] > last["version"])
            if want != have:
                lost.append((rid, fld, want, have, last["version"], final["version"], newer))
        top = max(e["version"] for e in writes)
        if final["version"] < top:
            lost.append((rid, "version", top, final["version"], None, None, None))
    # Every applied change of a deal or lead raised its version by one, and nothing else wrote them: the
    # final version is one (as created) plus the applied changes logged.
    bumps: Counter = Counter((e["kind"] == "lead_update", e["target"]) for e in log
                             if e["kind"] in WRITES and e.get("field") and e["outcome"] == "applied")
    miscounted = [(rid, 1 + bumps[(False, rid)], v["version"]) for rid, v in opps.items()
                  if int(rid) in {int(d) for d in world["deals"]} and v["version"] != 1 + bumps[(False, rid)]]
    miscounted += [(rid, 1 + bumps[(True, rid)], v["version"]) for rid, v in leads.items()
                   if int(rid) in {int(d) for d in world["leads"]} and v["version"] != 1 + bumps[(True, rid)]]
    untagged = []
    for e in log:
        if e["kind"] == "tag" and e["outcome"] == "applied":
            # The rep's deals at that moment (assignments move them): as many carry the tag as it said.
            if len(tags.get(e["tag"], set())) != e["tagged"]:
                untagged.append((e["tag"], e["tagged"], len(tags.get(e["tag"], set()))))
    leaks = [e for e in log if e.get("leak")]
    verdicts.append(("no lost update", not lost and not dup,
                     f"{sum(len(w) for w in by_record.values())} applied field writes on {len(by_record)} records; "
                     f"{len(lost)} final values differ from the last applied write, {len(dup)} versions reported "
                     f"twice" + (f"; first: {(lost or dup)[0]}" if lost or dup else "")))
    verdicts.append(("versions add up", not miscounted,
                     f"{sum(bumps.values())} applied changes; {len(miscounted)} records whose version is not "
                     f"1 + their applied changes" + (f"; first (id, expected, found): {miscounted[0]}"
                                                     if miscounted else "")))
    verdicts.append(("others' records refused", not wrong,
                     f"{sum(1 for e in log if e['kind'] in WRITES and not e['mine'])} writes to another team's deal "
                     f"or another rep's lead, {len(wrong)} applied"))
    verdicts.append(("own writes applied or conflict", set(mine_refused) <= {"applied", "refused-conflict", "busy", "unchanged"},
                     ", ".join(f"{k} {v}" for k, v in sorted(mine_refused.items()))))
    verdicts.append(("bulk tags landed", not untagged,
                     f"{sum(1 for e in log if e['kind'] == 'tag' and e['outcome'] == 'applied')} applied tag "
                     f"commands tagged {sum(e.get('tagged', 0) for e in log)} deals; {len(untagged)} differ"
                     + (f"; first (tag, said, found): {untagged[0]}" if untagged else "")))
    verdicts.append(("no visibility leak", not leaks,
                     f"{sum(1 for e in log if e['kind'] in ('list', 'search', 'show'))} reads, {len(leaks)} leaked"
                     + (f"; first: {leaks[0]['kind']} {leaks[0]['leak']}" if leaks else "")))
    verdicts.append(("no errors", not errors, f"{len(errors)} unexpected failures"
                     + (f"; first: {errors[0]['kind']} {errors[0]['msg']}" if errors else "")))
    return verdicts


def run(url: str, seconds: float, via: str) -> bool:
    from sqlalchemy.engine import make_url

    print(f"pg_writers: {REPS} reps on {make_url(url).database}, {seconds:.0f}s, crm commands via {via}")
    started = time.perf_counter()
    world = setup(url)
    print(f"{'writers: set-up':<28} {time.perf_counter() - started:.1f}s: demo, {REPS} reps with logins in "
          f"{len(TEAMS)} teams, {len(world['deals'])} deals, {len(world['leads'])} leads")
    tmp = Path(tempfile.mkdtemp(prefix="crm-writers-"))
    world_file = tmp / "world.json"
    world_file.write_text(json.dumps(world))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    tui_user = _rep(1)
    samples: list = []

    async def main() -> list[subprocess.Popen]:
        stop = asyncio.Event()
        tui = asyncio.create_task(_watch_tui(url, tui_user, stop, samples))
        await asyncio.sleep(3)  # the TUI opens first, as a rep's would be
        procs = [subprocess.Popen([PY, __file__, "worker", url, _rep(i), str(world_file), str(seconds), via,
                                   str(1000 + i), str(tmp / f"{_rep(i)}.ndjson")], env=env)
                 for i in range(1, REPS + 1)]
        while any(p.poll() is None for p in procs):
            await asyncio.sleep(0.5)
        stop.set()
        await tui
        return procs

    t0 = time.time()
    procs = asyncio.run(main())
    wall = time.time() - t0
    log = [json.loads(line) for i in range(1, REPS + 1) for line in (tmp / f"{_rep(i)}.ndjson").read_text().splitlines()]
    ok = all(p.returncode == 0 for p in procs)
    if not ok:
        print(f"{'writers: workers':<28} {[p.returncode for p in procs]} exit codes: a worker crashed")
    span = max(e["t1"] for e in log) - min(e["t0"] for e in log)
    by_kind: dict = defaultdict(list)
    for e in log:
        by_kind[e["kind"]].append(e)
    print(f"{'writers: operations':<28} {len(log)} in {span:.1f}s = {len(log) / span:.1f} ops/s "
          f"(wall {wall:.1f}s with the TUI start)")
    for kind, entries in sorted(by_kind.items()):
        lat = sorted(e["t1"] - e["t0"] for e in entries)
        outcomes = Counter(e["outcome"] for e in entries)
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        print(f"  {kind:<18} {len(entries):5} {len(entries) / span:6.2f}/s   median {statistics.median(lat) * 1000:7.0f} ms"
              f"   p95 {p95 * 1000:7.0f} ms   worst {lat[-1] * 1000:7.0f} ms   "
              + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    lat = sorted(e["t1"] - e["t0"] for e in log)
    worst = max(log, key=lambda e: e["t1"] - e["t0"])
    print(f"{'writers: latency':<28} p95 {lat[int(0.95 * (len(lat) - 1))] * 1000:.0f} ms   worst "
          f"{lat[-1] * 1000:.0f} ms ({worst['kind']} by {worst['w']})")
    verdicts = verify(url, world, log)
    counts = [s[1] for s in samples if s[0] != "header"]
    header = next((s[1] for s in samples if s[0] == "header"), "")
    unread = _unread(url, tui_user)
    found = re.search(r"(\d+) unread", header)
    shown = int(found.group(1)) if found else 0
    tui_ok = bool(counts) and counts[-1] == unread and shown == unread
    verdicts.append(("TUI unread count", tui_ok, f"{tui_user}'s header shows {shown} unread ({header!r}; the app's "
                     f"count sampled {len(counts)} times, from {counts[0] if counts else None} to "
                     f"{counts[-1] if counts else None}), database {unread} unread"))
    for name, good, detail in verdicts:
        print(f"{'writers: ' + name:<36} {'OK' if good else 'FAIL'}   {detail}")
        ok = ok and good
    print(f"{'writers: log':<28} {tmp}")
    return ok


def bench_pg_writers(args) -> bool:
    """8 reps writing at once as their own logins, with the TUI open: no lost update, no leak."""
    url = getattr(args, "url", None) or os.environ.get("CRM_BENCH_POSTGRES_URL")
    if not url:
        print(f"{'pg_writers':<28} skipped: set CRM_BENCH_POSTGRES_URL (a scratch database whose owner has "
              "CREATEROLE; its tables are dropped)")
        return True
    return run(url, getattr(args, "seconds", 60.0), getattr(args, "via", "process"))


BENCHES = {"pg_writers": bench_pg_writers}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        url, user, world_file, seconds, via, seed, out = sys.argv[2:9]
        worker(url, user, world_file, float(seconds), via, int(seed), out)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--url", default=None, help="the scratch database (else CRM_BENCH_POSTGRES_URL)")
    parser.add_argument("--via", choices=("process", "inproc"), default="process")
    args = parser.parse_args()
    sys.exit(0 if bench_pg_writers(args) else 1)


if __name__ == "__main__":
    main()

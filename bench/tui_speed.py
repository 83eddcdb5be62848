"""How quick the TUI answers a key, driven by Pilot on a demo database (a benchmark, not a test).

    python bench/tui_speed.py DATABASE_URL [ROUNDS]

Three interactions, each timed from the key press until the screen is settled (every worker the
key started has finished and its result is on screen):

- switch: an F-key to another area (Accounts, Leads, Pipeline, Contacts, Proposals, Forecast,
  Products, Dashboard), the first visit (the screen is built and loads) and later ones;
- filter: on Accounts, `/`, a word, Enter: the filtered first page and its count shown;
- detail: Enter on an account: its detail screen with fields, contacts, deals and timeline.

Prints one JSON object: {"switch": [seconds...], "filter": [...], "detail": [...]}.
"""

from __future__ import annotations

import json
import sys
import time

AREAS = (("f2", "accounts"), ("f3", "leads"), ("f4", "pipeline"), ("f5", "contacts"), ("f7", "proposals"),
         ("f8", "forecast"), ("f12", "products"), ("f10", "dashboard"))
FILTER_WORDS = ("tech", "inc", "health", "group", "zz-no-match", "software", "a")


async def settled(pilot, ready=lambda: True, timeout: float = 30.0) -> None:
    """Until no worker is pending or running and ``ready()`` holds, with the messages they sent handled."""
    from textual.worker import WorkerState

    deadline = time.perf_counter() + timeout
    while True:
        await pilot.pause()
        busy = [w for w in pilot.app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if busy:
            await pilot.app.workers.wait_for_complete(busy)
            continue
        await pilot.pause()
        if ready() and not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
            return
        if time.perf_counter() > deadline:
            raise SystemExit(f"the screen did not settle within {timeout:.0f} s: {pilot.app.screen!r}")
        await pilot.pause(0.002)


def list_ready(app) -> bool:
    """The Accounts list: the first page of its newest query is on screen and counted (other screens:
    their workers have finished)."""
    screen = app.screen
    if not hasattr(screen, "_good_query"):
        return True
    return screen._good_query.generation == screen._generation and screen._total is not None


async def drive(pilot, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"switch": [], "switch_first": [], "filter": [], "detail": []}
    await settled(pilot, lambda: getattr(pilot.app.screen, "_loaded", True))
    seen = {"dashboard"}  # the app opens on it
    for _ in range(rounds):
        for key, mode in AREAS:
            started = time.perf_counter()
            await pilot.press(key)
            await settled(pilot, lambda: list_ready(pilot.app))
            elapsed = time.perf_counter() - started
            out["switch" if mode in seen else "switch_first"].append(elapsed)
            seen.add(mode)
    await pilot.press("f2")
    await settled(pilot, lambda: list_ready(pilot.app))
    accounts = pilot.app.screen
    for _ in range(rounds):
        for word in FILTER_WORDS:
            await pilot.press("slash", *word)
            started = time.perf_counter()
            await pilot.press("enter")
            await settled(pilot, lambda: list_ready(pilot.app))
            out["filter"].append(time.perf_counter() - started)
            await pilot.press("escape")  # clears the filter, back to every account
            await settled(pilot, lambda: list_ready(pilot.app))
        for _ in range(len(FILTER_WORDS)):
            accounts.table.focus()
            await pilot.press("down")
            started = time.perf_counter()
            await pilot.press("enter")
            await settled(pilot, lambda: getattr(pilot.app.screen, "details", None) is not None)
            out["detail"].append(time.perf_counter() - started)
            await pilot.press("escape")
            await settled(pilot, lambda: pilot.app.screen is accounts)
    return out


def main() -> None:
    from crm_tui.app import make_app

    url = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    app = make_app(url, user="bench")
    result: dict[str, list[float]] = {}

    async def auto_pilot(pilot) -> None:
        result.update(await drive(pilot, rounds))
        pilot.app.exit()

    app.run(headless=True, size=(160, 48), auto_pilot=auto_pilot)
    if app.startup_error:
        raise SystemExit(app.startup_error)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""How quick the TUI answers a key, driven by Pilot on a demo database (a benchmark, not a test).

    python bench/tui_speed.py DATABASE_URL [ROUNDS]

Three interactions, each timed from the key press until the screen is settled (every worker the
key started has finished and its result is on screen):

- switch: an F-key to another area (Accounts, Leads, Pipeline, Contacts, Proposals, Forecast,
  Products, Dashboard), the first visit (the screen is built and loads) and later ones;
- filter: on Accounts, `/`, a word, Enter: the filtered first page and its count shown;
- detail: Enter on an account: its detail screen with fields, contacts, deals and timeline;
  detail_opportunity and detail_lead: Enter on a deal of the pipeline's list, on a lead of the
  leads list (everyone's: the bench user owns none).

Each is measured twice:

- ``NAME``: from the key press to the first frame the app wrote once the screen was ready (its data
  in place, no worker of the app pending or running): what the user waits for;
- ``NAME_settled``: from the key press until the Pilot found the screen settled. This adds the
  Pilot's own waiting: each press and pause sleeps in steps of 20 ms until the process is idle, and
  the settle loop pauses twice more, so 60-130 ms after the last frame (the figure reported before).

Prints one JSON object: {"switch": [seconds...], "switch_settled": [...], "filter": [...], ...}.
"""

from __future__ import annotations

import collections
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


class Frames:
    """Watches the frames the app writes: the first one written once ``ready()`` holds and no worker
    is pending or running is the moment the user sees the answer to the key."""

    def __init__(self, app) -> None:
        self.ready = None
        self.shown: float | None = None
        display = app._display

        def recorded(screen, renderable) -> None:
            display(screen, renderable)
            if (self.ready is not None and self.shown is None and screen is app.screen and self.ready()
                    and not _busy(app)):
                self.shown = time.perf_counter()

        app._display = recorded

    async def measure(self, pilot, out, name: str, key: str, ready) -> None:
        self.ready, self.shown = ready, None
        started = time.perf_counter()
        await pilot.press(key)
        await settled(pilot, ready)
        done = time.perf_counter()
        self.ready = None
        out[name].append((self.shown or done) - started)
        out[name + "_settled"].append(done - started)


def _busy(app) -> bool:
    from textual.worker import WorkerState

    return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)


async def open_details(pilot, frames: Frames, out, name: str, table, times: int, ready) -> None:
    """Enter on the next row of ``table`` and back, ``times`` times."""
    listing = pilot.app.screen
    for _ in range(times):
        table.focus()
        await pilot.press("down")
        await frames.measure(pilot, out, name, "enter", lambda: pilot.app.screen is not listing and ready(pilot.app.screen))
        await pilot.press("escape")
        await settled(pilot, lambda: pilot.app.screen is listing)


async def drive(pilot, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = collections.defaultdict(list)
    frames = Frames(pilot.app)
    await settled(pilot, lambda: getattr(pilot.app.screen, "_loaded", True))
    seen = {"dashboard"}  # the app opens on it
    for _ in range(rounds):
        for key, mode in AREAS:
            await frames.measure(pilot, out, "switch" if mode in seen else "switch_first", key,
                                 lambda mode=mode: pilot.app.current_mode == mode and list_ready(pilot.app))
            seen.add(mode)
    await pilot.press("f2")
    await settled(pilot, lambda: list_ready(pilot.app))
    accounts = pilot.app.screen
    for _ in range(rounds):
        for word in FILTER_WORDS:
            await pilot.press("slash", *word)
            # Done when the list shows this word's rows, counted: the filter bar may have applied it
            # already when typing paused (its debounce), then Enter only moves the focus to the list.
            await frames.measure(pilot, out, "filter", "enter",
                                 lambda word=word: word in (accounts._query.search, accounts._query.where)
                                 and list_ready(pilot.app))
            await pilot.press("escape")  # clears the filter, back to every account
            await settled(pilot, lambda: list_ready(pilot.app))
        await open_details(pilot, frames, out, "detail", accounts.table, len(FILTER_WORDS),
                           lambda screen: getattr(screen, "details", None) is not None)
    from textual.widgets import DataTable

    await pilot.press("f4")
    await settled(pilot, lambda: getattr(pilot.app.screen, "list_total", None) is not None)
    await pilot.press("v")  # the pipeline's list
    await settled(pilot, lambda: not getattr(pilot.app.screen, "list_loading", False))
    deals = pilot.app.screen.query_one("#pipeline-list", DataTable)
    await pilot.press("f3")
    await settled(pilot, lambda: list_ready(pilot.app))
    leads = pilot.app.screen.query_one("#list-table", DataTable)
    for _ in range(rounds):
        await pilot.press("f4")
        await settled(pilot, lambda: not getattr(pilot.app.screen, "list_loading", False))
        await open_details(pilot, frames, out, "detail_opportunity", deals, len(FILTER_WORDS),
                           lambda screen: getattr(screen, "detail", None) is not None)
        await pilot.press("f3")
        await settled(pilot, lambda: list_ready(pilot.app))
        await open_details(pilot, frames, out, "detail_lead", leads, len(FILTER_WORDS),
                           lambda screen: bool(getattr(screen, "row", None)))
    return dict(out)


def main() -> None:
    from crm_tui.app import make_app

    url = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    app = make_app(url, user="bench")
    import tempfile
    from pathlib import Path

    from crm_tui.ui_state import EVERYONE, UIState

    # Everyone's deals and leads (the bench user owns none); the choice goes to a file of the run's own.
    app.ui_state = UIState(Path(tempfile.mkdtemp(prefix="crm-bench-")) / "ui-state.json", "bench")
    for screen in ("pipeline", "leads"):
        app.ui_state.set_scope(screen, EVERYONE)
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

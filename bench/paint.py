"""Time a Textual app from process start to its first paint (headless, to on_ready).

    python bench/paint.py minimal
    python bench/paint.py crm DATABASE_URL

Prints two numbers in seconds: ready (on_ready fired) and loaded (the database
is open and the first page of the accounts list is on screen). The crm side is
built the way ``crm`` builds it: ``make_app(url)``, which paints first and opens
the database in a worker. The process start is taken from the OS, so imports count.
"""

from __future__ import annotations

import os
import sys
import time


def _process_start() -> float:
    """Seconds since this process was created, from /proc (Linux)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start_ticks = int(fields[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


T0 = time.perf_counter() - _process_start()


def minimal_app():
    """The reference every paint is measured against: Header, a Label and Footer."""
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Label

    class Minimal(App):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Label("hello")
            yield Footer()

    return Minimal()


def main() -> None:
    which = sys.argv[1]
    if which == "minimal":
        app = minimal_app()
    else:
        from crm_tui.app import make_app

        app = make_app(sys.argv[2], user="bench")

    marks: dict[str, float] = {}

    async def auto_pilot(pilot) -> None:
        marks["ready"] = time.perf_counter() - T0
        if which == "minimal":
            await pilot.app.workers.wait_for_complete()
        else:
            def loaded() -> bool:
                screen = pilot.app.screen
                if hasattr(screen, "table"):  # a list: its first page and its count are in
                    return bool(screen.table.row_count and screen._total is not None)
                return bool(getattr(screen, "_loaded", False))  # the dashboard: its lists are in

            while not loaded():
                if pilot.app.return_code:
                    raise SystemExit(pilot.app.startup_error)
                await pilot.pause(0.005)
        await pilot.pause()
        marks["loaded"] = time.perf_counter() - T0
        pilot.app.exit()

    app.run(headless=True, size=(160, 48), auto_pilot=auto_pilot)
    print(f"{marks['ready']:.4f} {marks['loaded']:.4f}")


if __name__ == "__main__":
    main()

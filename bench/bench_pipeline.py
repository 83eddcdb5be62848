"""The pipeline board on a 1,000,000-opportunity database: first paint and a card move.

    python bench/bench_pipeline.py paint minimal          # the reference: a minimal Textual app
    python bench/bench_pipeline.py paint board URL        # crm opened on the Pipeline
    python bench/bench_pipeline.py move URL               # moves, in the app and in the service
    python bench/bench_pipeline.py list URL               # the list view: v on the board

``paint`` prints three numbers in seconds from process start: ready (Textual's
on_ready, the board's first paint), cards (every column's first cards are on
screen) and totals (the grouped count/sum query has filled every header). ``move`` prints the median of a card move pressed with
shift+right until both columns are updated on screen, and the median of the
move's transaction alone (``pipeline.move_opportunity`` + commit). ``list`` prints the
median of ``v`` on the board until the list's first page and its count are on screen.

bench/run.py runs these side by side (``run.py pipeline --size large``).
"""

from __future__ import annotations

import statistics
import sys
import time

from paint import T0, minimal_app  # noqa: E402 - process start and the reference app, shared


def _pipeline_app(url: str):
    """The app the user gets (`crm`: paint first, open the database in a worker), opened on the Pipeline."""
    import tempfile
    from pathlib import Path

    from crm_tui.app import make_app
    from crm_tui.ui_state import EVERYONE, UIState

    app = make_app(url, user="bench", mode="pipeline")
    # Everyone's deals, the whole board (the pipeline opens on mine by default): the case the targets
    # are for. The choice goes to a file of the run's own, never the user's.
    app.ui_state = UIState(Path(tempfile.mkdtemp(prefix="crm-bench-")) / "ui-state.json", "bench")
    app.ui_state.set_scope("pipeline", EVERYONE)
    return app


def paint(which: str, url: str | None) -> None:
    if which == "minimal":
        app = minimal_app()
    else:
        app = _pipeline_app(url)

    marks: dict[str, float] = {}
    if which != "minimal":
        # Stamp the moments the board's handlers finish: the first cards mounted, the totals shown.
        from crm_tui.screens.pipeline import PipelineScreen

        cards_handler = PipelineScreen.on_pipeline_screen_board_loaded
        totals_handler = PipelineScreen.on_pipeline_screen_totals_loaded

        async def cards_stamped(self, message):
            await cards_handler(self, message)
            marks.setdefault("cards", time.perf_counter() - T0)

        def totals_stamped(self, message):
            totals_handler(self, message)
            if all(c.counted for c in self.columns):
                marks.setdefault("loaded", time.perf_counter() - T0)

        PipelineScreen.on_pipeline_screen_board_loaded = cards_stamped
        PipelineScreen.on_pipeline_screen_totals_loaded = totals_stamped

    async def auto_pilot(pilot) -> None:
        marks["ready"] = time.perf_counter() - T0
        if which != "minimal":
            while "loaded" not in marks:
                await pilot.pause(0.005)
        else:
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            marks["cards"] = marks["loaded"] = time.perf_counter() - T0
        pilot.app.exit()

    app.run(headless=True, size=(160, 48), auto_pilot=auto_pilot)
    print(f"{marks['ready']:.4f} {marks['cards']:.4f} {marks['loaded']:.4f}")


def move(url: str, runs: int = 9) -> None:
    """Press shift+right on the focused card and wait until both columns show it; then the service alone."""
    from crm_tui.screens.pipeline import PipelineScreen
    from crm_tui.services.sales import pipeline
    from crm_tui.store.db import session_scope
    from crm_tui.widgets.kanban import KanbanCard

    # The service is imported up front here; the move timings are about the move, not imports.
    app = _pipeline_app(url)
    ui_times: list[float] = []

    async def auto_pilot(pilot) -> None:
        screen = pilot.app.screen
        while not screen.query(KanbanCard) or not all(c.counted for c in screen.columns):
            await pilot.pause(0.005)
        await pilot.pause()
        moved: list[float] = []
        original = PipelineScreen.on_pipeline_screen_moved

        async def timed(self, message):
            await original(self, message)
            moved.append(time.perf_counter())

        PipelineScreen.on_pipeline_screen_moved = timed
        for i in range(runs):
            focused = pilot.app.focused
            key = "shift+right" if i % 2 == 0 else "shift+left"
            before = len(moved)
            started = time.perf_counter()
            await pilot.press(key)
            while len(moved) == before:
                await pilot.pause(0.001)
            ui_times.append(moved[-1] - started)
            assert pilot.app.focused is not None and focused is not None
        PipelineScreen.on_pipeline_screen_moved = original
        pilot.app.exit()

    app.run(headless=True, size=(160, 48), auto_pilot=auto_pilot)

    engine = app.engine
    with session_scope(engine) as s:
        stages = [st for st in pipeline.list_stages(session=s, active_only=True) if not st.is_won and not st.is_lost]
        opp = pipeline.column_page(session=s, stage_id=stages[0].id, limit=1)[0]
    service_times = []
    for i in range(runs):
        target = stages[1] if i % 2 == 0 else stages[0]
        started = time.perf_counter()
        with session_scope(engine) as s:
            pipeline.move_opportunity(session=s, opportunity_id=opp.id, stage=target.id, actor="bench")
        service_times.append(time.perf_counter() - started)
    print(f"{statistics.median(ui_times):.4f} {statistics.median(service_times):.4f}")


def list_view(url: str, runs: int = 5) -> None:
    """Press v on the board (the list: its first page and the count of every deal) and v back."""
    from crm_tui.screens.pipeline import PipelineScreen
    from crm_tui.widgets.kanban import KanbanCard

    app = _pipeline_app(url)
    times: list[float] = []

    async def auto_pilot(pilot) -> None:
        screen = pilot.app.screen
        while not screen.query(KanbanCard) or not all(c.counted for c in screen.columns):
            await pilot.pause(0.005)
        await pilot.app.workers.wait_for_complete()
        shown: list[float] = []
        original = PipelineScreen.on_pipeline_screen_list_loaded

        def timed(self, message):
            original(self, message)
            shown.append(time.perf_counter())

        PipelineScreen.on_pipeline_screen_list_loaded = timed
        for _ in range(runs):
            before = len(shown)
            started = time.perf_counter()
            await pilot.press("v")
            while len(shown) == before:
                await pilot.pause(0.001)
            times.append(shown[-1] - started)
            await pilot.app.workers.wait_for_complete()
            await pilot.press("v")  # back to the board
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        PipelineScreen.on_pipeline_screen_list_loaded = original
        pilot.app.exit()

    app.run(headless=True, size=(160, 48), auto_pilot=auto_pilot)
    print(f"{statistics.median(times):.4f} {max(times):.4f}")


def main() -> None:
    if sys.argv[1] == "paint":
        paint(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif sys.argv[1] == "move":
        move(sys.argv[2])
    elif sys.argv[1] == "list":
        list_view(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

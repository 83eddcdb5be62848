"""Progress of long runs on stderr: a bar when stderr is a terminal, nothing at all when it is a
pipe or a file, so scripts read only the data on stdout and the summary line on stderr."""

from __future__ import annotations

import sys
from typing import Any


class Bar:
    """``with Bar("exporting", total=n, unit="opportunities") as bar: bar.update(done)``.

    ``total=None`` shows a moving bar with the step being worked on (``bar.step("recording changes")``)."""

    def __init__(self, description: str, *, total: int | None = None, unit: str = ""):
        self.description, self.total, self.unit = description, total, unit
        self._progress: Any = None
        self._task = None

    @staticmethod
    def wanted() -> bool:
        return sys.stderr.isatty()

    def __enter__(self) -> "Bar":
        if not self.wanted():
            return self
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = [TextColumn("{task.description}"), BarColumn()]
        if self.total is not None:
            columns.append(MofNCompleteColumn())
            if self.unit:
                columns.append(TextColumn(self.unit))
        columns.append(TimeElapsedColumn())
        self._progress = Progress(*columns, console=Console(stderr=True), transient=True)
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def update(self, completed: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed)

    def step(self, description: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=description)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

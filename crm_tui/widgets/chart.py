"""A plotext chart that never takes the screen down: too small a canvas shows a line saying so.

plotext raises (ValueError, IndexError, ZeroDivisionError) when the canvas is a few cells high or
wide, as on the Forecast at 80×24; an exception in ``render`` would end the app.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual_plotext import PlotextPlot

MIN_WIDTH, MIN_HEIGHT = 20, 6


class Chart(PlotextPlot):
    def render(self) -> Any:
        too_small = Text("(a larger terminal shows this chart)", style="dim italic", no_wrap=True, overflow="ellipsis")
        if self.size.width < MIN_WIDTH or self.size.height < MIN_HEIGHT:
            return too_small
        try:
            return super().render()
        except (ValueError, IndexError, ZeroDivisionError, OverflowError):
            return too_small

"""Every stored screen picture (tests/ui/__snapshots__) shows its text: no text drawn in the colour of
the cell behind it. The Dashboard's greeting and cards once were, and the pictures kept them so."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

PICTURES = sorted((Path(__file__).parent / "__snapshots__" / "test_snapshots").glob("*.svg"))
ROW = 24.4  # the SVG's line height: a row's background rect sits just above its text's baseline


def invisible_text(svg: str) -> list[str]:
    fills = dict(re.findall(r"\.terminal-(?:\d+-)?(r\d+) \{ fill: (#[0-9a-f]{6})", svg))
    rects = [(fill, float(x), float(y), float(w)) for fill, x, y, w in
             re.findall(r'<rect fill="(#[0-9a-f]{6})" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"', svg)]
    found = []
    for cls, x, y, text in re.findall(r'<text class="terminal-(?:\d+-)?(r\d+)" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        shown = html.unescape(text).replace("\xa0", " ").strip()
        fill = fills.get(cls)
        if not shown or fill is None:
            continue
        under = [r for r in rects if abs(r[2] - (float(y) - ROW * 0.76)) < 4 and r[1] <= float(x) + 1 < r[1] + r[3]]
        if under and under[-1][0] == fill:
            found.append(shown[:30])
    return found


def test_there_are_pictures():
    assert len(PICTURES) >= 26


@pytest.mark.parametrize("picture", PICTURES, ids=[p.stem.removeprefix("test_screen_layout") for p in PICTURES])
def test_no_text_in_its_background_colour(picture):
    assert invisible_text(picture.read_text(encoding="utf-8")) == []

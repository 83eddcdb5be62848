"""The one rule for CSV cells a spreadsheet would run as a formula (OWASP "CSV injection").

Every CSV the CLI writes (``crm export``, ``list``/``search``/``forecast``/... ``--format csv``, an
import's rejects file) passes text cells through ``neutralise`` unless the user asks for ``--raw``;
``crm import`` takes the guard back with ``unneutralise``. The pair is exact both ways:

- a cell is dangerous when its first character (also after leading spaces) is ``=``, ``+``, ``-``,
  ``@``, tab, CR or LF, or a full-width ``=``, ``+``, ``-``, ``@``; numbers we format ourselves
  (``-5``, ``-12.50``) are not;
- ``neutralise`` puts one ``'`` before a value that is dangerous once its leading quotes are set
  aside: ``=1+1`` -> ``'=1+1``, and ``'=1+1`` (a value that really starts with a quote) -> ``''=1+1``;
- ``unneutralise`` takes one ``'`` off a value that starts with a quote and is dangerous once its
  leading quotes are set aside, and leaves everything else alone (``'Tis`` stays ``'Tis``).

So ``unneutralise(neutralise(v)) == v`` for every text ``v``: an unedited export imports as it was.
A hand-made file with ``'=SUM(A1)`` (the spreadsheet habit of typing a quote to keep text as text)
imports as ``=SUM(A1)``, as the spreadsheet itself would show it.
"""

from __future__ import annotations

import re

TRIGGERS = frozenset("=+-@\t\r\n") | frozenset("\uff1d\uff0b\uff0d\uff20")  # and full-width = + - @
# First characters after which a cell may need a look: the triggers, a space (before one) or a quote.
CELL_START = TRIGGERS | {" ", "'"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet would treat this cell as a formula."""
    if not text:
        return False
    stripped = text.lstrip(" ")
    return bool(stripped) and (stripped[0] in TRIGGERS or text[0] in TRIGGERS) and not _NUMBER.match(text)


def neutralise(text: str) -> str:
    """Make a cell inert for spreadsheets: a leading ``'`` when it could start a formula (see the module)."""
    if not text or text[0] not in CELL_START:
        return text
    return "'" + text if is_dangerous(text.lstrip("'")) else text


def unneutralise(text: str) -> str:
    """Take back what ``neutralise`` added (and only that)."""
    if text[:1] == "'" and is_dangerous(text.lstrip("'")):
        return text[1:]
    return text


def cell(value: object, raw: bool = False) -> object:
    """A value for a CSV writer: text neutralised unless ``raw``; numbers, dates and the rest as they are."""
    if raw or not isinstance(value, str):
        return value
    return neutralise(value)

"""Is filter-box text a filter expression or words to search for? (No SQLAlchemy, no Textual: both sides use it.)"""

from __future__ import annotations

import re

# An operator of the filter language, or one of its words between two terms ("a and b", "x in (1, 2)").
_OPERATOR = re.compile(r"!=|<=|>=|[=<>~]")
_KEYWORD = re.compile(r"(?:^|\s|\))(?:and|or|in)(?=\s|\()|(?:^|\s|\()not(?=\s|\()", re.IGNORECASE)


def looks_like_expression(text: str) -> bool:
    """Whether filter-box text is a filter expression (``industry=Technology and state=CA``).

    Anything with an operator (= != > >= < <= ~) or the words and/or/in/not
    between terms is one; anything else is plain text to search for.
    """
    text = (text or "").strip()
    if not text:
        return False
    return bool(_OPERATOR.search(text)) or bool(_KEYWORD.search(text))


def split_filter(text: str) -> tuple[str, str]:
    """``(search, where)`` for filter-box text: at most one of them is non-empty."""
    text = (text or "").strip()
    return ("", text) if looks_like_expression(text) else (text, "")

"""User text made safe to show: control characters become visible escapes.

A value a user typed (or imported) may hold terminal escape sequences (``ESC ]0;title BEL``,
``ESC [31m``), a carriage return that overwrites a line, or a bidi override that reorders what
follows. Wherever such a value is shown to a person (CLI tables and messages, the TUI, PDFs) it
goes through ``visible``, which spells those characters out as ``\\x1b``, ``\\r``, ``\\u202e``.
Machine formats (CSV, JSON, NDJSON) keep the exact value. No dependency: every layer may use it.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls; bidi embeddings, overrides and isolates,
# and the line/paragraph separators some terminals treat as a newline.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _spell(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object, *, one_line: bool = False) -> str:
    """``value`` as text with every control character spelled out (``ESC`` -> ``\\x1b``).

    Tab and newline stay as they are unless ``one_line`` (then ``\\t`` and ``\\n`` too), so a
    multi-line note still reads as lines. ``None`` is the empty string."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return pattern.sub(_spell, text) if pattern.search(text) else text


def has_controls(value: str) -> bool:
    """True when ``visible`` would change ``value``."""
    return bool(_UNSAFE.search(value))


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␇ for BEL, ␍ for CR: the Control Pictures block
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls, bidi controls and separators: no picture of their own


def pictured(value: str) -> str:
    """``value`` with each control character replaced by one visible symbol (ESC -> ␛), keeping its
    length: for an editable field, whose cursor counts characters (its value itself stays as stored)."""
    return _UNSAFE_ONE_LINE.sub(_picture, value) if _UNSAFE_ONE_LINE.search(value) else value

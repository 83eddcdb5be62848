"""Helpers shared by the test modules (import with `from support import ...`)."""

from __future__ import annotations

from pathlib import Path

# Real third-party data (public CRM data set, HubSpot samples, messy CSVs, injection payloads),
# copied from the team's shared fixtures so a clean clone has them; each folder keeps its SOURCE.txt.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def one_line_error(result, code: int = 1) -> str:
    """Check a CLI result is a clean user error: exit ``code``, no traceback, one
    line on stderr starting with "error:", nothing on stdout. Returns that line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}\nstderr: {result.stderr}"
    )
    assert result.exit_code == code, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert result.stdout == ""
    return lines[0]

"""`crm batch`: many crm commands, one per line, run by one process.

A shell loop that calls `crm` a hundred times pays Python's and the libraries' start-up a hundred
times (about half a second each). Written as lines for `crm batch`, the same commands share one
start-up: each line is exactly what would follow `crm` on the command line, runs as that command
would (its own transaction, its own output, its own error line), and the batch stops at the first
line that fails, like `set -e`, unless --keep-going.
"""

from __future__ import annotations

import shlex
import sys
from typing import Optional

import typer

from crm_tui.commands._common import State, fail, info


def _lines(source: str):
    if source == "-":
        yield from enumerate(sys.stdin, start=1)
        return
    try:
        with open(source, encoding="utf-8") as handle:
            yield from enumerate(handle, start=1)
    except OSError as exc:
        raise fail(f"file: cannot read {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"file: {source} is not UTF-8 text") from None


def _argv(text: str, *, commands_on_stdin: bool) -> list[str] | str | None:
    """The arguments of one line, None for a blank or comment line, or why the line cannot run."""
    try:
        argv = shlex.split(text, comments=True)
    except ValueError as exc:  # an unclosed quote
        return f"cannot read the line: {exc}"
    if not argv:
        return None
    if argv[0] == "crm":
        argv = argv[1:]
    command = _command(argv)
    if command is None and not any(a in ("-h", "--help", "--version") for a in argv):
        return "no command (a line is what follows `crm`; the app does not open from a batch)"
    if command == "batch":
        return "a batch cannot run another batch"
    if commands_on_stdin and "-" in argv:
        return "it reads stdin, which holds the commands: give the commands in a file instead"
    return argv


def _command(argv: list[str]) -> str | None:
    """The command a line runs: its first word after the root's own options (``--db VALUE``)."""
    words = iter(argv)
    for word in words:
        if word == "--db":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def batch(
    ctx: typer.Context,
    source: str = typer.Argument("-", metavar="[FILE]", help="The commands, one per line (default: stdin)"),
    keep_going: bool = typer.Option(False, "--keep-going", "-k",
                                    help="Run every line even after one fails; exit 1 if any failed"),
) -> None:
    """Run many crm commands, one per line, in one process (a line is what follows `crm`).

    Blank lines and # comments are skipped. Each line runs as that command would on its own: its own
    transaction, its output on stdout, its error line on stderr. The batch stops at the first line that
    fails (with that line's exit code) unless --keep-going.
    """
    app = ctx.find_root().command  # the `crm` group itself: each line runs through it as `crm LINE` would

    db = State.db  # the batch's --db applies to every line
    failed = ran = 0
    first_code = 0
    for number, text in _lines(source):
        argv = _argv(text, commands_on_stdin=source == "-")
        if argv is None:
            continue
        ran += 1
        if isinstance(argv, str):
            code = 1
            typer.echo(f"error: line {number}: {argv}", err=True)
        else:
            code = _run(app, (["--db", db] if db else []) + argv)
            if code:
                info(f"crm batch: line {number} failed (exit {code}): {_shown(text)}")
        if code:
            failed += 1
            first_code = first_code or code
            if not keep_going:
                raise typer.Exit(code)
    State.reset()
    if failed:
        info(f"crm batch: {failed} of {ran} commands failed")
        raise typer.Exit(first_code)


def _run(app, argv: list[str]) -> int:
    """One line, as `crm ARGV` would run it; its exit code."""
    try:
        result = app.main(args=argv, prog_name="crm", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        return 1
    except typer.TyperException as exc:  # a usage error: Click's own message, exit 2
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            typer.echo(f"Error: {exc.format_message()}", err=True)
        return int(exc.exit_code)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return result if isinstance(result, int) else 0


def _shown(text: str, limit: Optional[int] = 120) -> str:
    text = text.strip()
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"

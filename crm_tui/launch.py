"""The `crm` entry point: a scripting command goes to the warm server when one runs (crm_tui.warm),
everything else, and every command when none runs yet, runs here as before (crm_tui.cli)."""

from __future__ import annotations

import os
import sys


def _open_closed_streams() -> None:
    """`crm ... >&-`: a closed standard stream becomes /dev/null, as Python itself treats it (what is
    printed to a missing sys.stdout is dropped), instead of a traceback, and the next file opened (the
    database) can never become fd 0, 1 or 2."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            stream = open(fd, "r" if fd == 0 else "w", closefd=False,  # noqa: SIM115 - the process's own stream
                          errors="backslashreplace" if fd == 2 else None)
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)


def main() -> None:
    from crm_tui import warm

    _open_closed_streams()
    argv = sys.argv[1:]
    if warm.eligible(argv):
        code = warm.run(argv)
        if code is not None:
            sys.exit(code)
    from crm_tui.cli import main as cold

    cold()


if __name__ == "__main__":
    main()

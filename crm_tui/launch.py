"""The `crm` entry point: a scripting command goes to the warm server when one runs (crm_tui.warm),
everything else, and every command when none runs yet, runs here as before (crm_tui.cli)."""

from __future__ import annotations

import sys


def main() -> None:
    from crm_tui import warm

    argv = sys.argv[1:]
    if warm.eligible(argv):
        code = warm.run(argv)
        if code is not None:
            sys.exit(code)
    from crm_tui.cli import main as cold

    cold()


if __name__ == "__main__":
    main()

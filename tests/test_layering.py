"""Imports point down only: the core never loads the UI or the CLI framework, and
the CLI entry point stays light so `crm --help` is quick."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_services_and_store_do_not_import_textual_or_typer():
    proc = run_python(
        "import crm_tui.services, crm_tui.services.records, crm_tui.services.registry, crm_tui.store.db, sys; "
        "assert 'textual' not in sys.modules and 'typer' not in sys.modules"
    )
    assert proc.returncode == 0, proc.stderr


def test_every_service_module_stays_free_of_textual_and_typer():
    code = (
        "import importlib, pkgutil, sys, crm_tui.services as s, crm_tui.store as st, crm_tui.integrations as i\n"
        "for pkg in (s, st, i):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.migrations' in m.name: continue\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('textual', 'typer', 'click', 'rich'))\n"
        "assert not bad, bad\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_cli_module_does_not_import_the_database_or_ui_stack():
    proc = run_python(
        "import crm_tui.cli, sys; "
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual', 'alembic')); "
        "assert not bad, bad"
    )
    assert proc.returncode == 0, proc.stderr


def test_crm_help_does_not_import_the_database_or_ui_stack():
    proc = run_python(
        "import sys\n"
        "sys.argv = ['crm', '--help']\n"
        "from crm_tui.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual', 'alembic'))\n"
        "assert not bad, bad\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout


def test_crm_help_lists_every_command_without_importing_them():
    """`crm --help` shows every top-level command from its short help; the modules behind them
    (and the services they use) load only when a command runs."""
    proc = run_python(
        "import sys\n"
        "sys.argv = ['crm', '--help']\n"
        "from crm_tui.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "loaded = sorted(k for k in sys.modules if k.startswith('crm_tui.commands.') and not k.endswith('._lazy')\n"
        "                and not k.endswith('._common'))\n"
        "assert not loaded, loaded\n"
        "assert 'crm_tui.services.fields' not in sys.modules\n"
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("lead", "account", "contact", "opp", "activity", "proposal", "product", "stage", "demo", "tag",
                 "update", "delete", "undo", "export", "import", "search", "forecast", "quota", "lint", "summary",
                 "view", "db", "user"):
        assert f" {name} " in proc.stdout, name


def test_import_contracts_hold():
    """The layer contracts in pyproject.toml ([tool.importlinter]): the core never imports the UI or CLI
    frameworks, the TUI and CLI never import SQLAlchemy themselves, and imports point down only."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint_imports)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout

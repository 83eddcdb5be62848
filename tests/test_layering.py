"""Imports point down only: the core never loads the UI or the CLI framework, screens and
widgets never reach for the database layer, and the CLI entry point stays light so `crm --help`
is quick."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import crm_tui

ROOT = Path(crm_tui.__file__).parent


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


def test_the_entity_registry_loads_without_the_database_or_ui_stack():
    """Screens and CLI commands resolve nouns, columns and detail screens from the registry without
    paying for SQLAlchemy; an entity's SQL side loads when first asked for."""
    proc = run_python(
        "import sys\n"
        "from crm_tui.services import registry\n"
        "assert registry.entry_for('opps').detail_screen\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual', 'typer'))\n"
        "assert not bad, bad\n"
        "assert registry.ENTITIES['lead'].table.name == 'leads'\n"
    )
    assert proc.returncode == 0, proc.stderr


def _help_without_the_stack(*argv: str) -> subprocess.CompletedProcess:
    """Run `crm ARGV` (a help) in a fresh interpreter; it fails if SQLAlchemy, SQLModel, Textual or
    Alembic got imported on the way."""
    proc = run_python(
        "import sys\n"
        f"sys.argv = {['crm', *argv]!r}\n"
        "from crm_tui.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual', 'alembic'))\n"
        "assert not bad, bad\n"
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_noun_help_does_not_import_the_database_or_ui_stack():
    """`crm accounts --help` (any noun, plural or alias) builds its commands from the registry alone."""
    proc = _help_without_the_stack("deals", "--help")
    assert "opportunities" in proc.stdout and " list " in proc.stdout


def test_cli_module_does_not_import_the_database_or_ui_stack():
    proc = run_python(
        "import crm_tui.cli, sys; "
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual', 'alembic')); "
        "assert not bad, bad"
    )
    assert proc.returncode == 0, proc.stderr


def test_crm_help_does_not_import_the_database_or_ui_stack():
    assert "Usage" in _help_without_the_stack("--help").stdout


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


def test_the_lead_timeline_and_activity_services_do_not_import_textual_or_typer():
    code = ("import sys, crm_tui.services.sales.leads, crm_tui.services.engagement.timeline, crm_tui.services.engagement.activities; "
            "print(sorted(m for m in ('textual', 'typer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_screens_and_widgets_never_import_the_database_layer():
    for folder in ("screens", "widgets"):
        for path in (ROOT / folder).glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                for name in names:
                    assert not name.startswith(("sqlalchemy", "sqlmodel")), f"{path.name} imports {name}"
            assert ".execute(" not in path.read_text(encoding="utf-8"), path.name

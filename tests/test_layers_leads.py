"""Layer rules for the code this issue adds: services stay UI-free; screens and widgets write no SQL."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import crm_tui

ROOT = Path(crm_tui.__file__).parent


def test_services_do_not_import_textual_or_typer():
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

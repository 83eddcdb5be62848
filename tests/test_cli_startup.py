"""A data command starts without loading what it does not use (no timings: what gets loaded).

`crm opp list --format ids` and `crm tag add` run in a fresh interpreter; afterwards the
migration tool, the UI and the rich console are not in ``sys.modules``, the ORM mappers were never
configured (the read path and the Actor are Core reads), and no table model built its pydantic
validator. bench/run.py (`cli_one_row`, `bulk_tag`) measures what this saves.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Never on a data command's way: the migration tool (an up-to-date database is checked against
# HEAD_REVISION with one query), the TUI and the rich console (ids/csv/json are plain text), PDFs, HTTP.
NOT_LOADED = ("alembic", "mako", "textual", "rich", "fpdf", "httpx", "crm_tui.app", "crm_tui.screens",
              "crm_tui.widgets", "crm_tui.integrations")

_PROBE = """
import json, os, sys
sys.argv = ['crm', *json.loads(os.environ['PROBE_ARGV'])]
from crm_tui.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
from crm_tui.store import models
report = {
    "code": code,
    "loaded": sorted(m for m in sys.modules),
    "mappers_configured": models.User.__mapper__.configured,
    "validators_built": sorted(c.__name__ for c in (models.Opportunity, models.User, models.Stage, models.Tagging)
                               if c.__pydantic_complete__),
}
print("PROBE " + json.dumps(report), file=sys.stderr)
"""


def _probe(db_url: str, *argv: str) -> tuple[subprocess.CompletedProcess, dict]:
    import os

    env = {**os.environ, "PROBE_ARGV": json.dumps(["--db", db_url, *argv])}
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, env=env)
    line = next((x for x in proc.stderr.splitlines() if x.startswith("PROBE ")), None)
    assert line is not None, proc.stderr
    return proc, json.loads(line.removeprefix("PROBE "))


def _loaded(report: dict, names: tuple[str, ...]) -> list[str]:
    return [m for m in report["loaded"] if any(m == n or m.startswith(n + ".") for n in names)]


@pytest.fixture
def deals(cli) -> list[int]:
    for name in ("Alpha renewal", "Beta expansion", "Gamma pilot"):
        result = cli("opp", "add", name, "--amount", "1000")
        assert result.exit_code == 0, result.stderr
    ids = [int(x) for x in cli("opp", "list", "--sort", "id", "--format", "ids").stdout.split()]
    assert len(ids) == 3
    return ids


def test_one_row_list_loads_no_migration_tool_ui_or_orm_setup(db_url, deals):
    proc, report = _probe(db_url, "opp", "list", "--limit", "1", "--sort", "id", "--format", "ids")
    assert report["code"] == 0, proc.stderr
    assert proc.stdout.split() == [str(min(deals))]  # the command did its work
    assert _loaded(report, NOT_LOADED) == []
    assert report["mappers_configured"] is False
    assert report["validators_built"] == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_list_for_pipes_loads_no_rich(db_url, deals, fmt):
    proc, report = _probe(db_url, "opp", "list", "--format", fmt)
    assert report["code"] == 0, proc.stderr
    assert "Alpha renewal" in proc.stdout
    assert _loaded(report, NOT_LOADED) == []


def test_bulk_tag_loads_no_migration_tool_or_ui(db_url, deals):
    proc, report = _probe(db_url, "tag", "add", "q1_priority", "--entity", "opp", "--where", "amount>=1000")
    assert report["code"] == 0, proc.stderr
    assert "3 opportunities" in proc.stderr
    assert _loaded(report, NOT_LOADED) == []
    # --where on deals compiles with the deals' filter fields alone: other entities' modules stay unloaded
    assert _loaded(report, ("crm_tui.services.sales.leads", "crm_tui.services.sales.contacts",
                            "crm_tui.services.engagement.activities")) == []

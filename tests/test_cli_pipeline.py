"""`crm opp move`, `crm opp history`, `crm stage add|update|reorder` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from crm_tui.cli import app
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Opportunity, Stage


@pytest.fixture
def crm(db_url, engine, monkeypatch):
    from crm_tui.commands._common import State

    monkeypatch.setenv("CRM_USER", "alice")
    runner = CliRunner()

    def run(*args, code=0):
        try:
            result = runner.invoke(app, ["--db", db_url, *args])
        finally:
            State.reset()
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    run("opp", "add", "Big deal", "--amount", "1000", "--stage", "Lead")
    return run


def opp(engine, oid=1):
    with session_scope(engine) as s:
        o = s.get(Opportunity, oid)
        return o, s.get(Stage, o.stage_id).name


def test_move_across_stages_and_history_shows_names(crm, engine):
    r = crm("opp", "move", "1", "qualified")
    assert "moved opportunity 1 from Lead to Qualified" in r.stderr
    crm("opp", "move", "1", "Proposal")
    r = crm("opp", "move", "1", "Lost", "--reason", "competition")
    o, name = opp(engine)
    assert name == "Lost" and o.lost_reason == "competition" and o.version == 4
    hist = json.loads(crm("opp", "history", "1", "--format", "json").stdout)
    stage_moves = [(h["old_value"], h["new_value"]) for h in hist if h["field"] == "stage"]
    assert stage_moves == [("Proposal", "Lost"), ("Qualified", "Proposal"), ("Lead", "Qualified")]
    with session_scope(engine) as s:
        n = len(s.exec(select(Activity).where(Activity.opportunity_id == 1, Activity.type == "system")).all())
    assert n == 3


@pytest.mark.parametrize("args, message", [
    (["opp", "move", "1", "Nowhere"], "error: stage: 'Nowhere' is not a stage; stages are: Lead, Qualified"),
    (["opp", "move", "1", "Lost"], "error: reason: is required when a deal is lost"),
    (["opp", "move", "1", "Lost", "--reason", "meh"], "error: reason: 'meh' is not a lost reason"),
    (["opp", "move", "99", "Won"], "error: opportunity 99 not found"),
    (["opp", "move", "1", "Won", "--if-version", "7"], "changed since you loaded it"),
    (["stage", "update", "Lead", "--probability", "101"], "error: probability: '101' is outside 0-100"),
    (["stage", "add", "Pilot", "--probability", "x"], "error: probability: 'x' is not a whole number"),
    (["opp", "update", "1", "--expected-close", "soonish"], "expected_close: 'soonish' is not a date"),
])
def test_bad_input_is_refused_and_nothing_written(crm, engine, args, message):
    r = crm(*args, code=1)
    assert message in r.stderr
    o, name = opp(engine)
    assert (name, o.version) == ("Lead", 1)
    with session_scope(engine) as s:
        assert s.get(Stage, 1).probability == 10


def test_stage_add_update_reorder(crm, engine, restore_stages):  # noqa: F811 - the imported fixture
    crm("stage", "add", "Demo", "--probability", "30")
    r = crm("stage", "update", "Lead", "--probability", "15")
    assert "1 opportunities now at 15%" in r.stderr
    assert opp(engine)[0].probability == 15
    r = crm("stage", "reorder", "Lead,Demo,Qualified,Proposal,Negotiation,Won,Lost", "--format", "json")
    assert [s["name"] for s in json.loads(r.stdout)][:3] == ["Lead", "Demo", "Qualified"]
    names = [s["name"] for s in json.loads(crm("stage", "list", "--format", "json").stdout)]
    assert names == ["Lead", "Demo", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]


def test_cli_import_does_not_load_sqlalchemy():
    code = "import sys, crm_tui.cli; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

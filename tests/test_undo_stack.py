"""Undoing a session's writes last-first (the app's ctrl+z): a batch and the batch that undid it cancel
out, so the write before them can be undone too; anyone else's later change still refuses it."""

from __future__ import annotations

import pytest

from crm_tui.errors import Conflict
from crm_tui.services import records
from crm_tui.services.data import bulk
from crm_tui.services.sales import pipeline
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity, Stage

ME = "tester"


def stage_of(engine, oid: int) -> str:
    with session_scope(engine) as s:
        return s.get(Stage, s.get(Opportunity, oid).stage_id).name


def move(engine, oid: int, stage: str, actor: str = ME) -> str:
    with session_scope(engine) as s:
        return pipeline.move_opportunity(session=s, opportunity_id=oid, stage=stage, actor=actor).batch_id


def undo(engine, batch: str, cancelled=()) -> str | None:
    with session_scope(engine) as s:
        return bulk.undo(session=s, batch_id=batch, actor=ME, cancelled=cancelled).undo_batch_id


@pytest.fixture
def deal(engine) -> int:
    with session_scope(engine) as s:
        return records.create_record(OPP, session=s, actor=ME, data={"name": "Platform", "stage": "Lead"})["id"]


def test_a_move_says_its_batch_and_undo_takes_it_back(engine, deal):
    batch = move(engine, deal, "Qualified")
    assert batch
    undo(engine, batch)
    assert stage_of(engine, deal) == "Lead"


def test_last_first_undo_of_two_moves(engine, deal):
    first = move(engine, deal, "Qualified")
    second = move(engine, deal, "Proposal")
    undid_second = undo(engine, second)
    with pytest.raises(Conflict, match="changed since"):  # crm undo's rule alone: the later moves block it
        undo(engine, first)
    undo(engine, first, cancelled=[second, undid_second])
    assert stage_of(engine, deal) == "Lead"


def test_someone_elses_later_change_still_refuses(engine, deal):
    first = move(engine, deal, "Qualified")
    second = move(engine, deal, "Proposal")
    undid_second = undo(engine, second)
    move(engine, deal, "Negotiation", actor="bob")
    with pytest.raises(Conflict, match="changed since"):
        undo(engine, first, cancelled=[second, undid_second])
    assert stage_of(engine, deal) == "Negotiation"

"""Global keys are reserved app-wide, and an action that cannot be taken back asks first.

No screen or widget of crm-tui may bind a key the app binds for itself (F1-F12, ctrl+f,
ctrl+p, ctrl+q ...): the same key must do the same thing on every screen. Sending a proposal
and winning or losing a deal ask Yes/No first; answering No changes nothing in the database.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil

import pytest
from sqlalchemy import select
from ui_helpers import make, settle, wait_until

import crm_tui.screens
import crm_tui.widgets
from crm_tui.app import CRMApp
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.screens.proposal_editor import ProposalEditorScreen, RespondDialog
from crm_tui.screens.search import SearchScreen
from crm_tui.services import records
from crm_tui.services.quotes import proposals as P
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.store.models import Opportunity, Proposal, Stage
from crm_tui.widgets.confirm import ConfirmScreen
from crm_tui.widgets.kanban import KanbanCard, KanbanColumn

USER = "tester"


def _keys(binding) -> list[str]:
    key = binding.key if hasattr(binding, "key") else binding[0]
    return [k.strip() for k in key.split(",")]


def reserved_keys() -> set[str]:
    """Every function key, the app's own keys and the command palette's."""
    keys = {f"f{n}" for n in range(1, 13)} | {CRMApp.COMMAND_PALETTE_BINDING}
    for binding in CRMApp.BINDINGS:
        if binding.action != "hide_keys":  # escape: the app's only while the keys panel shows
            keys.update(_keys(binding))
    return keys


def crm_classes_with_bindings():
    for package in (crm_tui.screens, crm_tui.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and "BINDINGS" in cls.__dict__:
                    yield cls


def test_no_screen_shadows_a_global_key():
    reserved = reserved_keys()
    assert {"f1", "f8", "f10", "ctrl+f", "ctrl+p", "ctrl+q"} <= reserved
    classes = list(crm_classes_with_bindings())
    assert len(classes) > 20  # the walk found the screens
    shadowed = [f"{cls.__module__}.{cls.__qualname__}: {key} → {b.action if hasattr(b, 'action') else b[1]}"
                for cls in classes for b in cls.__dict__["BINDINGS"] for key in _keys(b) if key in reserved]
    assert shadowed == []


@pytest.fixture
def deal(engine) -> int:
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor=USER, data={"name": "Umbrella"})
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                                    data={"name": "Fleet rollout", "account": acc["id"], "stage": "Negotiation",
                                          "amount": "100",
                                          "expected_close": (dt.date.today() + dt.timedelta(days=5)).isoformat()})
        records.create_record(ENTITIES["product"], session=s, actor=USER,
                              data={"sku": "SEAT", "name": "Seat licence", "unit_price": "49.90"})
        P.create_template(session=s, name="Starter", actor=USER, lines=[{"product": "SEAT", "quantity": "10"}])
        P.new_proposal(session=s, opportunity_id=opp["id"], actor=USER, template="Starter")
    return opp["id"]


def proposal_status(engine) -> str:
    with session_scope(engine) as s:
        return s.execute(select(Proposal)).scalars().one().status


def stage_of(engine, oid) -> str:
    with session_scope(engine) as s:
        return s.get(Stage, s.get(Opportunity, oid).stage_id).name


async def open_editor(pilot, engine):
    with session_scope(engine) as s:
        pid = s.execute(select(Proposal.id)).scalar_one()
    pilot.app.push_screen(ProposalEditorScreen(pid))
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProposalEditorScreen)
                     and pilot.app.screen.view is not None, what="the editor")
    return pilot.app.screen


def footer_keys(app) -> dict[str, str]:
    return {b.binding.action: b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}


async def test_proposal_editor_keeps_the_global_keys_and_send_asks_first(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        editor = await open_editor(pilot, engine)
        shown = footer_keys(app)
        assert {"send", "respond", "diff"} <= set(shown)  # the editor's own keys are in the footer
        assert not {shown["send"], shown["respond"], shown["diff"]} & reserved_keys()
        # the send key asks; No (escape, n, the No button) sends nothing
        for cancel in ("escape", "n", "enter"):  # enter presses the focused button: No
            await pilot.press(shown["send"])
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(cancel)
            await settle(pilot)
            assert app.screen is editor
            assert proposal_status(engine) == "draft"
        await pilot.press(shown["send"])
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert proposal_status(engine) == "sent"
        # the response dialog has a key of its own; cancelling it changes nothing
        await pilot.press(shown["respond"])
        await settle(pilot)
        assert isinstance(app.screen, RespondDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert proposal_status(engine) == "sent"
        # F8 is the forecast and F10 the dashboard here too, as everywhere
        await pilot.press("f8")
        await settle(pilot)
        assert app.current_mode == "forecast"
        assert proposal_status(engine) == "sent"


async def test_ctrl_f_on_the_opportunity_is_the_global_search(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        app.push_screen(OpportunityDetailScreen(deal))
        await settle(pilot)
        shown = footer_keys(app)
        assert "follow_up" in shown and shown["follow_up"] not in reserved_keys()
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)


async def test_won_and_lost_on_the_opportunity_ask_first(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        app.push_screen(OpportunityDetailScreen(deal))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#field-stage").value = "Won"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert stage_of(engine, deal) == "Negotiation"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert stage_of(engine, deal) == "Won"


async def test_moving_a_card_to_won_asks_first(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.focused, KanbanCard) and app.focused.card.id == deal
        await pilot.press("shift+right")  # Negotiation → Won
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert stage_of(engine, deal) == "Negotiation"
        await pilot.press("shift+right")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert stage_of(engine, deal) == "Won"
        won = next(c for c in app.screen.query(KanbanColumn) if c.summary.name == "Won")
        assert [c.card.id for c in won.cards] == [deal]

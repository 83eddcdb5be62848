"""Proposals in the TUI, driven with Pilot on the real app, asserted on the database."""

from __future__ import annotations

import datetime as dt

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from ui_helpers import make, settle, wait_until

from crm_tui import money
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.screens.proposal_editor import DiffScreen, ProposalEditorScreen, RespondDialog, default_pdf_path
from crm_tui.screens.proposals import NewProposalDialog, ProposalsScreen
from crm_tui.services import records
from crm_tui.services.quotes import proposals as P
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Change, Opportunity, Proposal, ProposalLine, Stage

USER = "tester"


@pytest.fixture
def deal(engine) -> int:
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor=USER,
                                    data={"name": "Société Ωmega ООО", "city": "Lyon"})
        records.create_record(ENTITIES["contact"], session=s, actor=USER,
                              data={"first_name": "Zoë", "last_name": "Петрова", "account": acc["id"]})
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                                    data={"name": "Fleet rollout", "account": acc["id"], "stage": "Proposal",
                                          "amount": "100"})
        for sku, name, price in (("SEAT", "Seat licence", "49.90"), ("ONB", "Onboarding day", "1200")):
            records.create_record(ENTITIES["product"], session=s, actor=USER,
                                  data={"sku": sku, "name": name, "unit_price": price})
        P.create_template(session=s, name="Starter", actor=USER, tax_rate="10", terms="Net 30",
                          lines=[{"product": "SEAT", "quantity": "10"}, {"product": "ONB"}])
    return opp["id"]


def proposal_row(engine):
    with session_scope(engine) as s:
        return s.execute(select(Proposal)).scalars().one()


def lines_of(engine, pid, revision):
    with session_scope(engine) as s:
        return [(ln.description, ln.quantity_milli, ln.unit_price_minor, ln.total_minor) for ln in s.execute(
            select(ProposalLine).where(ProposalLine.proposal_id == pid, ProposalLine.revision == revision)
            .order_by(ProposalLine.position)).scalars()]


async def open_editor_from_opportunity(pilot, oid):
    app = pilot.app
    app.push_screen(OpportunityDetailScreen(oid))
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    assert isinstance(app.screen, NewProposalDialog)
    await wait_until(pilot, lambda: app.screen.query_one("#np-template").value == "Starter", what="templates")
    await pilot.click("#np-create")
    await settle(pilot)
    await wait_until(pilot, lambda: isinstance(app.screen, ProposalEditorScreen) and app.screen.view is not None,
                     what="the editor")
    return app.screen


async def type_into(pilot, selector: str, text: str) -> None:
    await pilot.click(selector)
    await pilot.press("home", "ctrl+k")
    await pilot.press(*list(text))
    await pilot.pause()


async def test_build_from_template_change_price_send_revise_diff_and_pdf(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        editor = await open_editor_from_opportunity(pilot, deal)
        row = proposal_row(engine)
        assert row.number.startswith("PRO-") and row.total_minor == 186890  # (499 + 1200) × 1.1
        assert lines_of(engine, row.id, 1) == [("Seat licence", 10000, 4990, 49900),
                                               ("Onboarding day", 1000, 120000, 120000)]
        # change the onboarding price: totals follow as you type, nothing is written yet
        editor.query_one("#pe-lines").focus()
        await pilot.press("down")
        await type_into(pilot, "#pe-unit_price", "950.50")
        totals = str(editor.query_one("#pe-totals").render())
        expected = P.price_lines([P.LineInput("a", 10000, 4990), P.LineInput("b", 1000, 95050)],
                                 tax_rate_bp=1000, currency="USD")
        assert money.format_money(expected.total_minor, "USD") in totals  # 1,594.95 USD
        assert "unsaved" in str(editor.query_one("#pe-heading").render())
        assert proposal_row(engine).total_minor == 186890
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = proposal_row(engine)
        assert (row.total_minor, row.version, row.revision) == (expected.total_minor, 2, 1)
        # send it (it asks first)
        await pilot.press("ctrl+y")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        row = proposal_row(engine)
        assert row.status == "sent" and row.sent_at is not None
        # change the seat quantity: saving a sent proposal makes revision 2 and keeps revision 1
        editor.query_one("#pe-lines").focus()
        await pilot.press("up")
        await type_into(pilot, "#pe-quantity", "12")
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = proposal_row(engine)
        assert (row.revision, row.status) == (2, "draft")
        assert lines_of(engine, row.id, 1)[0][1] == 10000 and lines_of(engine, row.id, 2)[0][1] == 12000
        await wait_until(pilot, lambda: editor.view.revision == 2, what="revision 2 on screen")
        # the diff between revisions
        await pilot.press("alt+d")
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        table = app.screen.query_one("#diff-table")
        cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert ["line changed", "Seat licence"] == cells[0][:2] and cells[0][4] == "quantity"
        assert any(c[:2] == ["total", "total"] for c in cells)
        await pilot.press("escape")
        await settle(pilot)
        # the PDF of the saved proposal (the first one asks who the seller is)
        await pilot.press("ctrl+g")
        await settle(pilot)
        app.screen.query_one("#seller-name").value = "Nordlicht Software GmbH"
        await pilot.press("enter")
        await settle(pilot)
        path = default_pdf_path(row.number, 2, app.settings)
        assert path.exists()
        text = " ".join(p.extract_text() for p in PdfReader(path).pages)
        assert money.format_money(row.total_minor, "USD") in text and "Société Ωmega ООО" in text


async def test_bad_line_input_is_shown_and_not_saved(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        editor = await open_editor_from_opportunity(pilot, deal)
        await type_into(pilot, "#pe-quantity", "-3")
        problem = str(editor.query_one("#pe-problem").render())
        assert "line 1 quantity" in problem and "'-3'" in problem
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = proposal_row(engine)
        assert row.version == 1 and lines_of(engine, row.id, 1)[0][1] == 10000


async def test_concurrent_edit_is_refused_and_keeps_the_other_save(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        editor = await open_editor_from_opportunity(pilot, deal)
        row = proposal_row(engine)
        with session_scope(engine) as s:  # someone else saves first
            P.update_line(session=s, proposal_id=row.id, actor="bob", position=1, data={"unit_price": "40"},
                          expected_version=1)
        await type_into(pilot, "#pe-unit_price", "10")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert lines_of(engine, row.id, 1)[0][2] == 4000  # bob's price stands
        assert proposal_row(engine).version == 2
        assert editor.dirty and editor.lines[0]["unit_price"] == "10"  # our edit is still on screen


async def test_accept_offers_won_and_moves_the_opportunity(engine, deal):
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_editor_from_opportunity(pilot, deal)
        await pilot.press("ctrl+y")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, RespondDialog)
        await pilot.click("#respond-won")
        await settle(pilot)
        row = proposal_row(engine)
        assert row.status == "accepted"
        with session_scope(engine) as s:
            opp = s.get(Opportunity, deal)
            assert opp.amount_minor == row.total_minor and s.get(Stage, opp.stage_id).is_won


def written(engine) -> tuple[int, int, int]:
    """(activities, changes, proposal versions summed): what listing must leave alone."""
    with session_scope(engine) as s:
        return (s.execute(select(func.count()).select_from(Activity)).scalar(),
                s.execute(select(func.count()).select_from(Change)).scalar(),
                s.execute(select(func.coalesce(func.sum(Proposal.version), 0))).scalar())


async def test_proposals_area_filters_and_never_writes(engine, deal):
    with session_scope(engine) as s:
        a = P.new_proposal(session=s, opportunity_id=deal, actor=USER, template="Starter")
        P.new_proposal(session=s, opportunity_id=deal, actor=USER, template="Starter")
        P.send_proposal(session=s, proposal_id=a.id, actor=USER,
                        now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=4))
    before = written(engine)
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProposalsScreen)
        await wait_until(pilot, lambda: len(screen.rows) == 2, what="two proposals")
        # a's follow-up is due, but listing is a read: no task (the jobs make it), no change
        assert written(engine) == before
        assert "follow-up" not in str(screen.query_one("#proposals-status-line").render())
        screen.query_one("#proposals-show").value = "overdue"
        await wait_until(pilot, lambda: [r["id"] for r in screen.rows] == [a.id], what="overdue filter")
        screen.query_one("#proposals-show").value = "all"
        screen.query_one("#proposals-status").value = "draft"
        await wait_until(pilot, lambda: [r["status"] for r in screen.rows] == ["draft"], what="status filter")
        screen.query_one("#proposals-table").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalEditorScreen)
                         and getattr(app.screen, "view", None) is not None, what="the editor with its proposal")
        assert app.screen.view.status == "draft"
    assert written(engine) == before

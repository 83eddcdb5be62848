"""The proposal PDF from the editor: the seller is asked for once (saved to the config file), the toast
says where the PDF is, and alt+o opens it (or says where it is when nothing here opens PDFs)."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader
from ui_helpers import make, settle

from crm_tui.screens import proposal_editor
from crm_tui.screens.proposal_editor import ProposalEditorScreen, default_pdf_path
from crm_tui.screens.seller_form import SellerFormScreen
from crm_tui.services import records
from crm_tui.services.quotes import proposals as P
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope

USER = "tester"


@pytest.fixture
def proposal(engine) -> int:
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor=USER,
                                    data={"name": "Keystone Robotics", "city": "Portland", "state": "OR",
                                          "postal_code": "48491", "country": "US"})
        opp = records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                                    data={"name": "Keystone Robotics – Data platform", "account": acc["id"],
                                          "stage": "Proposal"})
        view = P.new_proposal(session=s, opportunity_id=opp["id"], actor=USER)
        P.save_proposal(session=s, proposal_id=view.id, actor=USER, expected_version=view.version,
                        lines=[{"description": "Data platform licence", "quantity": "1", "unit_price": "40000"}])
    return view.id


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def open_editor(pilot, proposal_id):
    pilot.app.push_screen(ProposalEditorScreen(proposal_id))
    await settle(pilot)
    assert isinstance(pilot.app.screen, ProposalEditorScreen)
    return pilot.app.screen


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_seller_is_asked_once_then_the_pdf_carries_it(engine, proposal, ui_env, size):
    app = make(engine)
    async with app.run_test(size=size) as pilot:
        editor = await open_editor(pilot, proposal)
        number = editor.view.number
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, SellerFormScreen)
        await pilot.press("enter")  # no name yet: refused, the form stays
        await settle(pilot)
        assert isinstance(app.screen, SellerFormScreen)
        assert "name is needed" in str(app.screen.query_one("#seller-error").render())
        assert app.screen.query_one("#seller-name").region.height == 1  # every field shows at 80×24
        assert app.screen.query_one("#seller-save").region.bottom <= size[1]
        app.screen.query_one("#seller-name").value = "Nordlicht Software GmbH"
        app.screen.query_one("#seller-address1").value = "Müllerstraße 12"
        app.screen.query_one("#seller-address2").value = "80469 München"
        app.screen.query_one("#seller-email").value = "sales@nordlicht.example"
        await pilot.click("#seller-save")
        await settle(pilot)
        assert app.screen is editor
        saved = json.loads((ui_env / "config.json").read_text(encoding="utf-8"))
        assert saved["seller"] == {"name": "Nordlicht Software GmbH", "address": ["Müllerstraße 12", "80469 München"],
                                   "email": "sales@nordlicht.example", "phone": None, "website": None,
                                   "tax_id": None, "logo": None}
        path = default_pdf_path(number, 1, app.settings)
        assert path.exists()
        text = " ".join(p.extract_text() for p in PdfReader(path).pages)
        assert "Nordlicht Software GmbH" in text and "Müllerstraße 12" in text and "Portland, OR 48491" in text
        assert any(f"PDF written to {path}" in m and "alt+o opens it" in m for m in messages(app))
        # Asked once: the next PDF is written straight away.
        path.unlink()
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert app.screen is editor and path.exists()


async def test_cancelling_the_seller_form_writes_no_pdf(engine, proposal):
    app = make(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, proposal)
        await pilot.press("ctrl+g")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is editor
        assert not default_pdf_path(editor.view.number, 1, app.settings).exists()
        assert any("PDF not written" in m for m in messages(app))


async def test_alt_o_opens_the_pdf_or_says_where_it_is(engine, proposal, ui_env, monkeypatch):
    (ui_env / "config.json").write_text(json.dumps({"seller": {"name": "Solo Ltd"}}))
    opened: list[list[str]] = []

    class FakePopen:
        def __init__(self, args, **_kwargs):
            opened.append(list(args))

    monkeypatch.setattr("subprocess.Popen", FakePopen)
    app = make(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, proposal)
        assert editor.check_action("open_pdf", ()) is False  # nothing written yet: not offered
        await pilot.press("ctrl+g")
        await settle(pilot)
        path = default_pdf_path(editor.view.number, 1, app.settings)
        assert path.exists() and editor.check_action("open_pdf", ()) is True
        monkeypatch.setattr(proposal_editor, "open_command", lambda: "xdg-open")
        await pilot.press("alt+o")
        await settle(pilot)
        assert opened == [["xdg-open", str(path)]]
        monkeypatch.setattr(proposal_editor, "open_command", lambda: None)
        await pilot.press("alt+o")
        await settle(pilot)
        assert len(opened) == 1
        assert any(str(path) in m and "nothing here opens PDFs" in m for m in messages(app))

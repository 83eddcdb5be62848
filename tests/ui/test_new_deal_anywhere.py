"""A new deal from anywhere: `n` on the pipeline (board and list), `d` on an account (prefilled with
it), and "new deal / lead / account / contact" in the command palette from any screen."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input
from ui_helpers import make, settle, wait_until

from crm_tui.screens.account_detail import AccountDetailScreen
from crm_tui.screens.account_form import AccountFormScreen
from crm_tui.screens.contact_detail import ContactDetailScreen
from crm_tui.screens.contact_form import ContactFormScreen
from crm_tui.screens.lead_detail import LeadDetailScreen, LeadFormScreen
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.screens.opportunity_form import OpportunityFormScreen
from crm_tui.screens.pipeline import PipelineScreen
from crm_tui.store.db import session_scope
from crm_tui.store.models import Account, Contact, Lead, Opportunity, Stage
from crm_tui.widgets.kanban import KanbanColumn
from crm_tui.widgets.picker import Picker

SIZE = (160, 48)


def deal_named(engine, name: str) -> Opportunity | None:
    with session_scope(engine) as s:
        opp = s.execute(select(Opportunity).where(Opportunity.name == name)).scalar_one_or_none()
        if opp is not None:
            s.expunge(opp)
        return opp


def stage_name(engine, stage_id: int) -> str:
    with session_scope(engine) as s:
        return s.get(Stage, stage_id).name


async def fill(pilot, values: dict[str, str]) -> None:
    screen = pilot.app.screen
    for name, value in values.items():
        screen.query_one(f"#input-{name}").value = value  # an Input, or a Picker given the key
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_n_on_the_board_adds_a_deal_and_the_board_shows_it(engine, seeded):
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen)
        shown = {b.binding.action: b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert shown["new_deal"] == "n"
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityFormScreen)
        await fill(pilot, {"name": "Acme – Platform", "account": str(seeded["Acme Corporation"]),
                           "amount": "40,000", "stage": "Qualified"})
        assert isinstance(app.screen, PipelineScreen)
        deal = deal_named(engine, "Acme – Platform")
        assert deal is not None and deal.amount_minor == 4_000_000 and deal.account_id == seeded["Acme Corporation"]
        assert stage_name(engine, deal.stage_id) == "Qualified"
        qualified = next(c for c in app.screen.query(KanbanColumn) if c.summary.name == "Qualified")
        assert [c.card.name for c in qualified.cards] == ["Acme – Platform"]


async def test_n_on_the_pipeline_list_adds_a_deal_and_the_list_shows_it(engine, seeded):
    app = make(engine, mode="pipeline")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityFormScreen)
        await fill(pilot, {"name": "Globex renewal", "amount": "900"})
        assert isinstance(app.screen, PipelineScreen)
        assert deal_named(engine, "Globex renewal") is not None
        table = app.screen.query_one("#pipeline-list", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "Globex renewal" in names


async def test_d_on_an_account_opens_the_form_prefilled_with_it(engine, seeded):
    initech = seeded["Initech"]
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AccountDetailScreen(initech))
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, OpportunityFormScreen)
        picker = form.query_one("#input-account", Picker)
        assert picker.value == str(initech) and "Initech" in str(picker.render())  # shown by name
        await fill(pilot, {"name": "Initech – TPS reports", "amount": "1,250.50"})
        assert isinstance(app.screen, AccountDetailScreen)
        deal = deal_named(engine, "Initech – TPS reports")
        assert deal is not None and deal.account_id == initech and deal.amount_minor == 125_050
        opps = app.screen.query_one("#detail-opportunities", DataTable)
        assert [str(opps.get_row_at(i)[0]) for i in range(opps.row_count)] == ["TPS reports"]


async def run_palette(pilot, words: str) -> None:
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="the palette")
    await pilot.press(*words)
    await wait_until(pilot, lambda: pilot.app.screen.query_one(CommandList).option_count > 0, what="a hit")
    await pilot.press("down", "enter")
    await settle(pilot)


@pytest.mark.parametrize("mode", ["dashboard", "forecast", "accounts"])
async def test_new_deal_from_the_palette_on_any_screen_opens_the_saved_deal(engine, seeded, mode):
    app = make(engine, mode=mode)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_palette(pilot, "new deal")
        assert isinstance(app.screen, OpportunityFormScreen)
        await fill(pilot, {"name": f"From {mode}", "amount": "10"})
        deal = deal_named(engine, f"From {mode}")
        assert deal is not None
        assert isinstance(app.screen, OpportunityDetailScreen) and app.screen.opportunity_id == deal.id


async def test_new_lead_account_and_contact_from_the_palette(engine, seeded):
    app = make(engine, mode="dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_palette(pilot, "new lead")
        assert isinstance(app.screen, LeadFormScreen)
        app.screen.query_one("#lead-first_name", Input).value = "Ana"
        app.screen.query_one("#lead-last_name", Input).value = "Ruiz"
        app.screen.query_one("#lead-company", Input).value = "Ruiz Logistics"
        await pilot.press("ctrl+s")
        await settle(pilot)
        with session_scope(engine) as s:
            lead_id = s.execute(select(Lead.id).where(Lead.company == "Ruiz Logistics")).scalar_one()
        assert isinstance(app.screen, LeadDetailScreen) and app.screen.lead_id == lead_id

        await run_palette(pilot, "new account")
        assert isinstance(app.screen, AccountFormScreen)
        await fill(pilot, {"name": "Hooli"})
        with session_scope(engine) as s:
            account_id = s.execute(select(Account.id).where(Account.name == "Hooli")).scalar_one()
        assert isinstance(app.screen, AccountDetailScreen) and app.screen.account_id == account_id

        await run_palette(pilot, "new contact")
        assert isinstance(app.screen, ContactFormScreen)
        await fill(pilot, {"first_name": "Gavin", "last_name": "Belson", "account": str(account_id)})
        with session_scope(engine) as s:
            contact = s.execute(select(Contact).where(Contact.last_name == "Belson")).scalar_one()
            assert contact.account_id == account_id
            contact_id = contact.id
        assert isinstance(app.screen, ContactDetailScreen) and app.screen.contact_id == contact_id


async def test_new_deal_from_the_palette_on_an_account_is_prefilled_with_it(engine, seeded):
    globex = seeded["Globex Inc"]
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AccountDetailScreen(globex))
        await settle(pilot)
        await run_palette(pilot, "app new deal")
        assert isinstance(app.screen, OpportunityFormScreen)
        picker = app.screen.query_one("#input-account", Picker)
        assert picker.value == str(globex) and "Globex" in str(picker.render())  # shown by name

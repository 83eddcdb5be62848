"""Contacts in the TUI: the account detail's contacts (reports-to tree, buying roles), the contact form
(new and edit, from the account and from the Contacts area), a reporting loop refused under its field,
and opening a deal from the account."""

from __future__ import annotations

from sqlalchemy import select
from ui_helpers import make, settle, wait_until

from crm_tui.screens.account_detail import AccountDetailScreen
from crm_tui.screens.contact_detail import ContactDetailScreen
from crm_tui.screens.contact_form import ContactFormScreen
from crm_tui.screens.contacts import ContactsScreen
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.store.models import Contact

SIZE = (160, 48)
CONTACT = ENTITIES["contact"]


def contact(engine, name: str) -> Contact:
    with session_scope(engine) as s:
        return s.execute(select(Contact).where(Contact.last_name == name)).scalar_one()


async def open_acme(pilot) -> AccountDetailScreen:
    await settle(pilot)
    await pilot.press("enter")  # the cursor starts on Acme
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountDetailScreen) and pilot.app.screen.details,
                     what="the account detail")
    return pilot.app.screen


def contact_names(screen) -> list[str]:
    table = screen.query_one("#detail-contacts")
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_add_a_contact_from_the_account_with_role_and_manager(engine, seeded):
    wile = contact(engine, "Coyote")
    async with make(engine).run_test(size=SIZE) as pilot:
        detail = await open_acme(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContactFormScreen)
                         and pilot.app.screen._people_for is not None, what="the form and its people")
        form = pilot.app.screen
        assert form.query_one("#input-account").value == str(seeded["Acme Corporation"])
        assert pilot.app.focused.id == "input-first_name"
        await pilot.press(*"Road", "tab", *"Runner")
        form.query_one("#input-buying_role").value = "champion"
        form.query_one("#input-reports_to").value = str(wile.id)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is detail and len(contact_names(detail)) == 2,
                         what="the detail with two contacts")
        names = contact_names(detail)
        assert names[0].startswith("Wile Coyote") and names[1] == "└ Road Runner"
        assert "champion" in str(detail.query_one("#detail-contacts").get_row_at(1)[2])
    runner = contact(engine, "Runner")
    assert (runner.account_id, runner.buying_role, runner.reports_to_id) == (
        seeded["Acme Corporation"], "champion", wile.id)


async def test_a_reporting_loop_is_refused_under_the_field(engine, seeded):
    acme = seeded["Acme Corporation"]
    wile = contact(engine, "Coyote")
    with session_scope(engine) as s:
        runner_id = records.create_record(CONTACT, session=s, actor="tester", data={
            "first_name": "Road", "last_name": "Runner", "account": acme, "reports_to": wile.id})["id"]
    async with make(engine).run_test(size=SIZE) as pilot:
        detail = await open_acme(pilot)
        assert contact_names(detail)[1] == "└ Road Runner"
        detail.query_one("#detail-contacts").focus()
        await pilot.press("e")  # on the contacts list: edit the contact under the cursor (Wile)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContactFormScreen)
                         and pilot.app.screen.version is not None and pilot.app.screen._people_for,
                         what="the form, loaded")
        form = pilot.app.screen
        assert form.record_id == wile.id
        form.query_one("#input-reports_to").value = str(runner_id)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: form.query_one("#field-reports_to").has_class("-invalid"),
                         what="the error under reports to")
        message = str(form.query_one("#error-reports_to").render())
        assert "reporting loop" in message and "Wile Coyote → Road Runner → Wile Coyote" in message
        assert pilot.app.screen is form  # still open, edits kept
    assert contact(engine, "Coyote").reports_to_id is None


async def test_contacts_area_adds_and_edits_and_opens_a_contact(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContactsScreen) and pilot.app.screen.total == 1,
                         what="the contacts list")
        contacts = pilot.app.screen
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContactFormScreen), what="the form")
        await pilot.press(*"Ada", "tab", *"Lovelace", "ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is contacts and contacts.total == 2, what="two contacts")
        await pilot.press("e")  # the cursor is on the first row
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContactFormScreen)
                         and pilot.app.screen.version is not None, what="the edit form")
        form = pilot.app.screen
        edited = form.record_id
        form.query_one("#input-title").value = "Analyst"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is contacts, what="back on the list")
        with session_scope(engine) as s:
            assert records.get_record(CONTACT, session=s, record_id=edited)["title"] == "Analyst"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContactDetailScreen)
                         and pilot.app.screen.row, what="the contact detail")
        assert pilot.app.screen.contact_id == edited


async def test_enter_on_an_open_opportunity_opens_the_deal(engine, seeded):
    async with make(engine).run_test(size=SIZE) as pilot:
        detail = await open_acme(pilot)
        opps = detail.query_one("#detail-opportunities")
        assert opps.row_count == 1
        opps.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, OpportunityDetailScreen), what="the deal")
        await settle(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is detail, what="back on the account")

"""Names, never raw ids: account, contact, owner and stage are chosen by name with a picker (search as you
type), the right ids land in the database, and timelines read as sentences."""

from __future__ import annotations

import re

from sqlalchemy import select
from ui_helpers import make, settle, wait_until

from crm_tui.screens.contact_form import ContactFormScreen
from crm_tui.screens.lead_detail import ConvertScreen, LeadDetailScreen
from crm_tui.screens.opportunity_detail import OpportunityDetailScreen, RoleDialog
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import leads
from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope
from crm_tui.store.models import Contact, Opportunity, OpportunityContact, User
from crm_tui.widgets.picker import Picker, PickerDialog
from crm_tui.widgets.timeline import Timeline

ME = "tester"
SIZE = (160, 48)
RAW = re.compile(r"\d{4}-\d{2}-\d{2}T\d|_id\b|∅|→|\bopp \d|\bcontact \d|\blead \d")


def _world(engine) -> dict[str, int]:
    with session_scope(engine) as s:
        create_user(session=s, data={"username": "bob", "name": "Bob Stone"})
        add = records.create_record
        ids = {
            "acme": add(ENTITIES["account"], session=s, actor=ME, data={"name": "Acme", "city": "Portland"})["id"],
            "acme2": add(ENTITIES["account"], session=s, actor=ME, data={"name": "Acme", "city": "Denver"})["id"],
            "globex": add(ENTITIES["account"], session=s, actor=ME, data={"name": "Globex", "city": "Springfield"})["id"],
        }
        ids["ana"] = add(ENTITIES["contact"], session=s, actor=ME, data={
            "first_name": "Ana", "last_name": "Diaz", "account": ids["globex"], "email": "ana@globex.com"})["id"]
        ids["anna"] = add(ENTITIES["contact"], session=s, actor=ME, data={
            "first_name": "Anna", "last_name": "Berg", "account": ids["acme"]})["id"]
        ids["deal"] = add(ENTITIES["opportunity"], session=s, actor=ME, data={
            "name": "Data platform", "account": ids["acme"], "amount": "40000", "stage": "Proposal"})["id"]
    return ids


async def _pick(pilot, picker_id: str, text: str, expect: str) -> None:
    """Focus a picker, open it with Enter, type ``text``, wait for ``expect`` in the list, choose it."""
    picker = pilot.app.screen.query_one(picker_id, Picker)
    picker.focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PickerDialog), what="the picker dialog")
    dialog = pilot.app.screen
    await pilot.press(*text)
    await wait_until(pilot, lambda: dialog._shown_for == text and dialog.choices, what=f"choices for {text!r}")
    labels = [f"{c.label} {c.detail}" for c in dialog.choices]
    assert any(expect in label for label in labels), labels
    while expect not in f"{dialog.choices[dialog.query_one('#picker-results').highlighted].label} " \
                        f"{dialog.choices[dialog.query_one('#picker-results').highlighted].detail}":
        await pilot.press("down")
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, PickerDialog), what="the dialog closed")


def _deal(engine, deal_id: int) -> Opportunity:
    with session_scope(engine) as s:
        o = s.get(Opportunity, deal_id)
        s.expunge(o)
        return o


async def test_the_opportunity_form_sets_account_contact_and_owner_by_name(engine):
    ids = _world(engine)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(ids["deal"]))
        await wait_until(pilot, lambda: isinstance(app.screen, OpportunityDetailScreen) and app.screen.detail
                         and app.screen.query_one("#field-account", Picker).choice is not None, what="the deal")
        screen = app.screen
        account = screen.query_one("#field-account", Picker)
        assert account.choice.label == "Acme" and "Portland" in str(account.render())
        # two accounts called Acme: the second line tells them apart
        await _pick(pilot, "#field-account", "acme", "Denver")
        assert account.value == str(ids["acme2"])
        await _pick(pilot, "#field-account", "glo", "Globex")
        # the primary contact is chosen among the chosen account's people
        await _pick(pilot, "#field-contact", "an", "Ana Diaz")
        assert [c.label for c in screen.query_one("#field-contact", Picker).choice and [
            screen.query_one("#field-contact", Picker).choice]] == ["Ana Diaz"]
        await _pick(pilot, "#field-owner", "sto", "Bob Stone")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _deal(engine, ids["deal"]).account_id == ids["globex"], what="saved")
    deal = _deal(engine, ids["deal"])
    with session_scope(engine) as s:
        bob = s.execute(select(User.id).where(User.username == "bob")).scalar_one()
    assert (deal.account_id, deal.primary_contact_id, deal.owner_id) == (ids["globex"], ids["ana"], bob)


async def test_the_contact_picker_offers_only_the_accounts_people(engine):
    ids = _world(engine)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(ids["deal"]))
        await wait_until(pilot, lambda: isinstance(app.screen, OpportunityDetailScreen) and app.screen.detail,
                         what="the deal")
        app.screen.query_one("#field-contact", Picker).focus()
        await pilot.press("a")  # typing a letter opens the search with it
        await wait_until(pilot, lambda: isinstance(app.screen, PickerDialog) and app.screen._shown_for == "a",
                         what="the search")
        assert [c.label for c in app.screen.choices] == ["Anna Berg"]  # Ana Diaz is at Globex
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#field-contact", Picker).value == ""


async def test_the_buying_role_dialog_picks_the_contact_by_name(engine):
    ids = _world(engine)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(ids["deal"]))
        await wait_until(pilot, lambda: isinstance(app.screen, OpportunityDetailScreen) and app.screen.detail,
                         what="the deal")
        detail = app.screen
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, RoleDialog), what="the role dialog")
        await _pick(pilot, "#role-contact", "berg", "Anna Berg")
        app.screen.query_one("#role-role").focus()
        await pilot.press(*"champion", "enter")
        await wait_until(pilot, lambda: app.screen is detail and detail.query_one("#opp-roles").row_count == 1,
                         what="the buying group")
        row = [str(c) for c in detail.query_one("#opp-roles").get_row_at(0)]
        assert row[0] == "Anna Berg" and str(ids["anna"]) not in row
    with session_scope(engine) as s:
        links = s.execute(select(OpportunityContact.contact_id, OpportunityContact.role)).all()
    assert [tuple(r) for r in links] == [(ids["anna"], "champion")]


async def test_lead_conversion_matches_an_existing_account_by_name(engine):
    ids = _world(engine)
    with session_scope(engine) as s:
        lead_id = leads.create_lead(session=s, actor=ME, data={"first_name": "Kim", "last_name": "Lee",
                                                               "company": "Keystone Robotics"})[0]["id"]
        leads.set_status(session=s, lead_id=lead_id, status="qualified", actor=ME)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(lead_id))
        await wait_until(pilot, lambda: isinstance(app.screen, LeadDetailScreen) and app.screen.row, what="the lead")
        detail = app.screen
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ConvertScreen) and app.screen.plan is not None,
                         what="the conversion plan")
        convert = app.screen
        assert "Kim Lee" in str(convert.query_one("#convert-title").render())
        assert "new account" in str(convert.query_one("#convert-account-note").render()).lower()
        await _pick(pilot, "#convert-account", "globex", "Globex")
        assert "Globex" in str(convert.query_one("#convert-account-note").render())
        convert.query_one("#convert-amount").focus()
        await pilot.press(*"5000", "enter")
        await wait_until(pilot, lambda: app.screen is detail and detail.row.get("status") == "converted",
                         what="converted")
        timeline = detail.query_one("#lead-timeline", Timeline)
        await wait_until(pilot, lambda: any(i.kind == "change" and "Converted" in i.title for i in timeline.items),
                         what="the conversion on the timeline")
        lines = [str(timeline.get_option_at_index(n).prompt) for n in range(timeline.option_count)]
        conversion = next(line for line in lines if "Converted to opportunity" in line)
        assert "Globex – " in conversion and "account Globex" in conversion and "contact Kim Lee" in conversion
        assert not [line for line in lines if RAW.search(line)], lines
    with session_scope(engine) as s:
        deal = s.execute(select(Opportunity).where(Opportunity.id != ids["deal"])).scalar_one()
        assert deal.account_id == ids["globex"]


async def test_the_contact_form_sets_the_account_by_name(engine):
    ids = _world(engine)
    app = make(engine, mode="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ContactFormScreen), what="the form")
        form = app.screen
        form.query_one("#input-first_name").value = "Li"
        form.query_one("#input-last_name").value = "Wei"
        await _pick(pilot, "#input-account", "glob", "Globex")
        await wait_until(pilot, lambda: form._people_for == ids["globex"], what="the account's people")
        await _pick(pilot, "#input-owner", "bob", "Bob Stone")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form, what="saved")
    with session_scope(engine) as s:
        li = s.execute(select(Contact).where(Contact.last_name == "Wei")).scalar_one()
        bob = s.execute(select(User.id).where(User.username == "bob")).scalar_one()
        assert (li.account_id, li.owner_id) == (ids["globex"], bob)


async def test_today_names_the_records_and_the_done_toast_names_the_task(engine):
    from crm_tui.screens.today import TodayScreen
    from crm_tui.services.engagement.activities import log_activity

    ids = _world(engine)
    with session_scope(engine) as s:
        log_activity(session=s, actor=ME, type="task", subject="Call Ana", due="yesterday 10:00",
                     links={"opp": ids["deal"], "contact": ids["anna"]})
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, TodayScreen)
                         and app.screen.query_one("#today-tasks").option_count == 1, what="today's task")
        line = str(app.screen.query_one("#today-tasks").get_option_at_index(0).prompt)
        assert "Acme – Data platform" in line and "Anna Berg" in line, line
        assert not RAW.search(line) and str(ids["deal"]) not in line.split("Call Ana")[1], line
        await pilot.press("x")
        await wait_until(pilot, lambda: app.screen.query_one("#today-tasks").option_count == 0, what="done")
        assert "Task “Call Ana” done" in [n.message for n in app._notifications]


async def test_a_converted_lead_names_what_it_became(engine):
    from textual.widgets import OptionList

    with session_scope(engine) as s:
        lead_id = leads.create_lead(session=s, actor=ME, data={"first_name": "Kim", "last_name": "Lee",
                                                               "company": "Keystone Robotics"})[0]["id"]
        leads.convert_lead(session=s, lead_id=lead_id, actor=ME, opportunity_name="Data platform")
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(lead_id))
        await wait_until(pilot, lambda: isinstance(app.screen, LeadDetailScreen) and app.screen.row
                         and app.screen.query_one("#lead-converted", OptionList).option_count == 3, what="the lead")
        links = app.screen.query_one("#lead-converted", OptionList)
        lines = [str(links.get_option_at_index(n).prompt) for n in range(links.option_count)]
        assert lines == ["o opportunity Keystone Robotics – Data platform", "a account Keystone Robotics",
                         "k contact Kim Lee"]
        heading = str(app.screen.query_one("#lead-heading").render())
        assert heading.startswith("Kim Lee (Keystone Robotics)")
        from rich.console import Console

        console = Console(width=120, record=True)
        console.print(app.screen.query_one("#lead-fields").content)
        fields = [line.split() for line in console.export_text().splitlines()]
        assert ["converted", "account", "name", "Keystone", "Robotics"] in fields
        assert not [f for f in fields if f[-2:] == ["id"] or f[:3] == ["converted", "account", "id"]]


async def test_a_new_proposal_picks_its_deal_by_name(engine):
    from crm_tui.screens.proposals import NewProposalDialog
    from crm_tui.store.models import Proposal

    ids = _world(engine)
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(NewProposalDialog())
        await wait_until(pilot, lambda: isinstance(app.screen, NewProposalDialog), what="the dialog")
        await _pick(pilot, "#np-opp", "data", "Data platform")
        app.screen.query_one("#np-create").press()
        await wait_until(pilot, lambda: not isinstance(app.screen, NewProposalDialog), timeout=10, what="created")
    with session_scope(engine) as s:
        assert s.execute(select(Proposal.opportunity_id)).scalars().all() == [ids["deal"]]


async def test_reports_to_offers_the_accounts_people_by_name(engine):
    ids = _world(engine)
    app = make(engine, mode="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ContactFormScreen), what="the form")
        form = app.screen
        form.query_one("#input-last_name").value = "Park"
        await _pick(pilot, "#input-account", "glob", "Globex")
        form.query_one("#input-reports_to", Picker).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerDialog) and app.screen._shown_for == "",
                         what="the account's people")
        assert [c.label for c in app.screen.choices] == ["Ana Diaz"]  # Anna Berg is at Acme
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is form, what="chosen")
        assert "Ana Diaz" in str(form.query_one("#input-reports_to", Picker).render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form, what="saved")
    with session_scope(engine) as s:
        park = s.execute(select(Contact).where(Contact.last_name == "Park")).scalar_one()
        assert (park.account_id, park.reports_to_id) == (ids["globex"], ids["ana"])

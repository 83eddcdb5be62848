"""What a rep reads all day has names, never a record's id, and the same money, dates and keys everywhere:
the lists carry no id column, offers and errors name the people, the pipeline list shows a deal's own name
with its account beside it, a bulk change says what it did in words, months read as months, a converted
lead opens what it became instead of offering conversion again, ctrl+s saves the activity dialog, and the
Leads list keeps its follow-up column at 80×24."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from textual.widgets import Button, DataTable
from ui_helpers import settle, wait_until

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Contact

WIDE = (160, 48)
SMALL = (80, 24)


def make(engine, mode: str | None = None):
    from crm_tui.app import make_app

    return make_app(engine=engine, user="alice", mode=mode)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def columns_shown(table: DataTable) -> list[str]:
    """The keys of the columns that fit whole in the table's visible width, left to right."""
    room = table.scrollable_content_region.width - table._row_label_column_width
    shown, used = [], 0
    for key, column in table.columns.items():
        used += column.get_render_width(table)
        if used > room:
            break
        shown.append(str(key.value))
    return shown


def rendered(app, selector: str) -> str:
    """A widget's text as the user reads it."""
    from rich.console import Console

    widget = app.screen.query_one(selector)
    console = Console(width=150, record=True)
    console.print(widget.render())
    return console.export_text()


@pytest.fixture
def book(engine):
    """Alice's book: an account with two people (Maria reports to nobody, Kim to Maria), a deal named
    after the account, a lead with a follow-up, and a lead already converted."""
    today = dt.date.today()
    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice", "role": "sales"})
    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor="alice",
                                    data={"name": "Trey Labs SA", "owner": "alice"})["id"]
        maria = records.create_record(ENTITIES["contact"], session=s, actor="alice", data={
            "first_name": "Maria", "last_name": "Thomas", "account": acc, "email": "maria@trey.example",
            "owner": "alice"})["id"]
        kim = records.create_record(ENTITIES["contact"], session=s, actor="alice", data={
            "first_name": "Kim", "last_name": "Lee", "account": acc, "reports_to": maria, "owner": "alice"})["id"]
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="alice", data={
            "name": "Trey Labs SA – CRM rollout for the whole sales organisation", "account": acc,
            "stage": "Proposal", "amount": "848350", "owner": "alice",
            "expected_close": today.isoformat()})["id"]
        other = records.create_record(ENTITIES["opportunity"], session=s, actor="alice", data={
            "name": "Trey Labs SA – Data platform", "account": acc, "stage": "Lead", "amount": "8030",
            "owner": "alice", "expected_close": today.isoformat()})["id"]
        lead = records.create_record(ENTITIES["lead"], session=s, actor="alice", data={
            "first_name": "Zoë", "last_name": "García-Hernández", "company": "Cobalt Logistics International",
            "status": "contacted", "source": "Inbound call", "owner": "alice",
            "next_follow_up": (today + dt.timedelta(days=2)).isoformat() + "T10:00:00+00:00"})["id"]
        done = records.create_record(ENTITIES["lead"], session=s, actor="alice", data={
            "first_name": "Ana", "last_name": "Rodriguez", "company": "Monarch Health", "owner": "alice"})["id"]
    from crm_tui.services.sales.leads import convert_lead

    with session_scope(engine) as s:
        conv = convert_lead(session=s, lead_id=done, actor="alice", amount="5000")
    return {"account": acc, "maria": maria, "kim": kim, "deal": deal, "other": other, "lead": lead,
            "converted": done, "converted_opp": conv.opportunity_id, "converted_opp_name": conv.opportunity_name}


# ---------------------------------------------------------------- 1. no id column in the lists


@pytest.mark.parametrize("mode, table_id", [("contacts", "#list-table"), ("leads", "#list-table"),
                                            ("products", "#list-table")])
async def test_lists_have_no_id_column(engine, book, mode, table_id):
    if mode == "products":
        with session_scope(engine) as s:
            records.create_record(ENTITIES["product"], session=s, actor="alice",
                                  data={"sku": "CRM-START", "name": "CRM starter", "unit_price": "100"})
    app = make(engine, mode)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(table_id, DataTable)
        await wait_until(pilot, lambda: table.row_count > 0, what="rows")
        keys = [str(k.value) for k in table.columns]
        labels = [str(c.label) for c in table.columns.values()]
        assert "id" not in keys and "Id" not in labels, labels


async def test_account_detail_shows_no_id(engine, book):
    from crm_tui.screens.account_detail import AccountDetailScreen

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(AccountDetailScreen(book["account"]))
        await wait_until(pilot, lambda: getattr(app.screen, "details", None), what="the account")
        fields = rendered(app, "#detail-fields")
        assert "Id" not in fields and f"#{book['account']}" not in fields, fields


# ---------------------------------------------------------------- 2. the duplicate offer names the record


async def test_a_contact_with_an_email_in_use_is_offered_by_name_account_and_email(engine, book):
    from crm_tui.screens.contact_form import ContactFormScreen

    app = make(engine, "contacts")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ContactFormScreen)
        form.query_one("#input-first_name").value = "Augusta"
        form.query_one("#input-last_name").value = "King"
        form.query_one("#input-account").value = str(book["account"])
        form.query_one("#input-email").value = "MARIA@trey.example"
        await pilot.press("ctrl+s")
        await settle(pilot)
        offers = [n.message for n in app._notifications if n.title.startswith("Same")]
        assert len(offers) == 1, toasts(app)
        offer = offers[0]
        assert "Maria Thomas" in offer and "Trey Labs SA" in offer and "maria@trey.example" in offer, offer
        assert "#" not in offer and str(book["maria"]) not in offer, offer
        assert "ctrl+b" in offer


# ---------------------------------------------------------------- 3. a reporting loop names the people


async def test_a_reporting_loop_names_the_contacts(engine, book):
    from crm_tui.screens.contact_detail import ContactDetailScreen
    from crm_tui.screens.contact_form import ContactFormScreen

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(ContactDetailScreen(book["maria"]))
        await settle(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ContactFormScreen) and app.screen.version is not None,
                         what="the form")
        form = app.screen
        form.query_one("#input-reports_to").value = str(book["kim"])
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: form.query_one("#field-reports_to").has_class("-invalid"),
                         what="the error under reports to")
        message = str(form.query_one("#error-reports_to").render())
        assert "Maria Thomas → Kim Lee → Maria Thomas" in message, message
        assert str(book["kim"]) not in message and str(book["maria"]) not in message, message
        shown = " ".join(toasts(app))
        assert "reporting loop" in shown and f"{book['maria']} → " not in shown
    with session_scope(engine) as s:
        assert s.get(Contact, book["maria"]).reports_to_id is None


# ---------------------------------------------------------------- 4. the pipeline list: the deal's own name


async def test_pipeline_list_shows_the_deals_own_name_and_the_account_beside_it(engine, book):
    from crm_tui.screens.pipeline import PipelineScreen

    app = make(engine, "pipeline")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen)
        await pilot.press("v")
        await settle(pilot)
        table = app.screen.query_one("#pipeline-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3, what="the list")  # with the converted lead's
        row = table.get_row(str(book["other"]))
        names = {str(k.value): i for i, k in enumerate(table.columns)}
        assert str(row[names["name"]]) == "Data platform"
        assert str(row[names["account"]]) == "Trey Labs SA"


# ---------------------------------------------------------------- 5. a bulk change says what it did


async def test_bulk_tag_says_what_was_done_in_words(engine, book):
    app = make(engine, "pipeline")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        table = app.screen.query_one("#pipeline-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3, what="the list")  # with the converted lead's
        table.focus()
        await pilot.press("asterisk", "t")
        await settle(pilot)
        await pilot.press(*"vip", "enter")
        await settle(pilot)
        with engine.connect() as conn:
            batch = conn.execute(text("SELECT DISTINCT batch_id FROM changes WHERE field = 'tag'")).scalar_one()
        done = [t for t in toasts(app) if "vip" in t]
        assert done == ["Tagged 3 deals “vip” — ctrl+z undoes"], toasts(app)
        assert not [t for t in toasts(app) if batch in t]


# ---------------------------------------------------------------- 6. forecast months


async def test_forecast_months_read_as_months(engine, book):
    from crm_tui import formatting

    today = dt.date.today()
    app = make(engine, "forecast")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#forecast-table", DataTable)
        await wait_until(pilot, lambda: table.row_count > 0, what="the forecast")
        months = {str(table.get_row_at(i)[0]) for i in range(table.row_count)} - {"Total"}
        assert f"{today:%b}" in months, months
        assert not [m for m in months if "-" in m], months
        assert formatting.month(today) == f"{today:%b}"
        assert formatting.month(dt.date(today.year + 1, 1, 1)) == f"Jan {today.year + 1}"


# ---------------------------------------------------------------- 7. dashboard money as compact as the lists


async def test_dashboard_figures_carry_no_zero_cents(engine, book):

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        card = rendered(app, "#dash-month")
        assert "856,380 USD" in card, card  # the open pipeline: 848,350 + 8,030
        assert ".00" not in card, card


# ---------------------------------------------------------------- 8. a converted lead opens what it became


async def test_a_converted_lead_offers_what_it_became_not_conversion(engine, book):
    from crm_tui.screens.lead_detail import ConvertScreen, LeadDetailScreen
    from crm_tui.screens.opportunity_detail import OpportunityDetailScreen

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(book["converted"]))
        await settle(pilot)
        screen = app.screen
        footer_keys = [b.action for (_, b, enabled, _) in screen.active_bindings.values() if b.show and enabled]
        assert "convert" not in footer_keys, footer_keys
        button = screen.query_one("#lead-convert", Button)
        assert "Convert" not in str(button.label) and book["converted_opp_name"] in str(button.label), button.label
        assert not button.disabled
        await pilot.press("v")
        await settle(pilot)
        assert not isinstance(app.screen, ConvertScreen)
        assert app.screen is screen
        await pilot.click("#lead-convert")
        await settle(pilot)
        assert isinstance(app.screen, OpportunityDetailScreen)
        assert app.screen.opportunity_id == book["converted_opp"]


# ---------------------------------------------------------------- 9. ctrl+s saves the activity dialog


async def test_ctrl_s_saves_the_log_activity_dialog(engine, book):
    from crm_tui.screens.lead_detail import LeadDetailScreen
    from crm_tui.widgets.log_activity import LogActivityScreen

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(book["lead"]))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, LogActivityScreen)
        await pilot.press(*"Talked budget", "tab", *"They want a pilot", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
    with session_scope(engine) as s:
        rows = s.execute(select(Activity.subject, Activity.body).where(Activity.lead_id == book["lead"])).all()
    assert ("Talked budget", "They want a pilot") in [tuple(r) for r in rows]


# ---------------------------------------------------------------- 10. the Leads list at 80×24


async def test_leads_list_keeps_name_company_status_and_follow_up_at_80_columns(engine, book):
    app = make(engine, "leads")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#list-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2, what="the leads")
        shown = columns_shown(table)
        for key in ("name", "company", "status", "next_follow_up"):
            assert key in shown, shown


# ---------------------------------------------------------------- walk-through finds


async def test_reassigning_a_deal_names_it(engine, book):
    from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
    from crm_tui.screens.reassign import UserPickerScreen

    with session_scope(engine) as s:
        create_user(session=s, data={"username": "bob", "name": "Bob", "role": "sales"})
    with engine.begin() as conn:  # an admin may give deals to anyone (a manager only within the team)
        conn.execute(text("UPDATE users SET role = 'admin' WHERE username = 'alice'"))
    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(book["other"]))
        await settle(pilot)
        app.screen.action_reassign()
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UserPickerScreen)
        title = str(dialog.query_one(".dialog-title").render())
        assert "Data platform" in title and str(book["other"]) not in title, title
        dialog.dismiss("bob")
        await settle(pilot)
        said = [t for t in toasts(app) if "bob" in t]
        assert said and "Data platform" in said[0] and str(book["other"]) not in said[0], toasts(app)


async def test_undoing_a_lead_edit_names_the_lead_without_its_id(engine, book):
    from crm_tui.screens.lead_detail import LeadDetailScreen

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(LeadDetailScreen(book["lead"]))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#lead-title").value = "COO"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        assert app.session_writes, "the edit is remembered for ctrl+z"
        what = app.session_writes[-1][1]
        assert "Zoë García-Hernández" in what and "#" not in what, what


async def test_account_detail_lists_deals_by_their_own_name_and_compact_money(engine, book):
    from crm_tui.screens.account_detail import AccountDetailScreen

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(AccountDetailScreen(book["account"]))
        await wait_until(pilot, lambda: getattr(app.screen, "details", None), what="the account")
        opps = app.screen.query_one("#detail-opportunities", DataTable)
        lines = [opps.render_line(y).text for y in range(1, opps.row_count + 1)]
        platform = next(line for line in lines if "Data platform" in line)
        assert "Trey Labs SA" not in platform  # the screen's title says it
        assert "8,030 USD" in platform and "8,030.00" not in platform, platform


async def test_pipeline_list_status_line_fits_80_columns(engine, book):
    app = make(engine, "pipeline")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        status = app.screen.query_one("#pipeline-status")
        said = str(status.render())
        assert "sorted by close date" in said and len(said) <= status.size.width, (said, status.size)


async def test_narrow_leads_list_names_its_quick_filter_in_the_status_line(engine, book):
    app = make(engine, "leads")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#lead-quick").display or not app.screen.query_one("#lead-quick").region
        assert "mine" in str(app.screen.query_one("#list-status").render())  # my leads, by default
        await pilot.press("3")  # new since yesterday, with mine
        await settle(pilot)
        said = str(app.screen.query_one("#list-status").render())
        assert "mine + new since yesterday" in said, said
    app = make(engine, "leads")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#lead-quick").region.width > 0
        assert "mine" not in str(app.screen.query_one("#list-status").render())


async def test_opportunity_header_names_the_deal_and_its_account_once(engine, book):
    from crm_tui.screens.opportunity_detail import OpportunityDetailScreen

    app = make(engine)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(book["other"]))
        await settle(pilot)
        header = str(app.screen.query_one("#opp-title").render())
        assert header.startswith("Data platform  ·  8,030 USD  ·  Lead  ·  Trey Labs SA"), header
        assert header.count("Trey Labs SA") == 1 and "version" not in header, header


async def test_dashboard_deals_read_by_their_own_name_and_the_stalled_title_fits_80_columns(engine, book):
    from textual.widgets import Label, OptionList

    app = make(engine)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        closing = app.screen.query_one("#dash-closing", OptionList)
        texts = [str(closing.get_option_at_index(i).prompt) for i in range(closing.option_count)]
        platform = next(t for t in texts if "Data platform" in t)
        assert "Trey Labs SA – " not in platform and platform.endswith("· Trey Labs SA"), platform
        title = app.screen.query_one("#dash-stalled-title", Label)
        said = str(title.render())
        assert said.startswith("Stalled deals") and len(said) <= title.size.width, (said, title.size)


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_pipeline_board_status_line_is_never_cut(engine, book, size):
    app = make(engine, "pipeline")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        status = app.screen.query_one("#pipeline-status")
        said = str(status.render())
        assert said.startswith("Open: 3 deals · 861,380 USD"), said
        assert len(said) <= status.size.width, (said, status.size)
        assert ("shift+←/→ move" in said) == (size == WIDE)


async def test_proposals_list_shows_a_short_title_whole_and_the_status_at_80_columns(engine, book):
    from crm_tui.services.quotes import proposals as P

    with session_scope(engine) as s:
        view = P.new_proposal(session=s, opportunity_id=book["deal"], actor="alice")
        P.save_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=view.version,
                        header={"title": "CRM starter package"},
                        lines=[{"description": "Licence", "quantity": "1", "unit_price": "1000"}])
    app = make(engine, "proposals")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#proposals-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1, what="the proposal")
        assert "CRM starter package" in table.render_line(1).text, table.render_line(1).text
        assert "status" in columns_shown(table), columns_shown(table)

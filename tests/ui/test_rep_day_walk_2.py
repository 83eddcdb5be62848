"""What a rep met walking a whole day through the app at 160×48 and 80×24, on the demo data: an account's
contacts show their e-mail addresses whole on a wide terminal, the Dashboard's lists open what is under
the cursor as soon as one is focused, the proposal editor writes money as money, and a record changed by
someone else meanwhile is named, never numbered."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Region
from textual.widgets import DataTable
from ui_helpers import USER, make, settle, wait_until

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope

LONG_EMAIL = "elizabeth.andersson124@tailspin.com"  # the demo's longest


def shown_lines(widget) -> list[str]:
    """The lines a widget shows on screen, as text."""
    width, height = widget.outer_size
    return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]


async def open_account(pilot, account_id: int) -> None:
    from crm_tui.screens.account_detail import AccountDetailScreen

    pilot.app.push_screen(AccountDetailScreen(account_id))
    await settle(pilot)
    await wait_until(pilot, lambda: pilot.app.screen.query_one("#detail-contacts", DataTable).row_count > 0,
                     what="the contacts")


async def test_wide_account_shows_contact_emails_whole(engine):
    with session_scope(engine) as s:
        account = records.create_record(ENTITIES["account"], session=s, actor=USER,
                                        data={"name": "Tailspin Holdings Co"})["id"]
        boss = records.create_record(ENTITIES["contact"], session=s, actor=USER, data={
            "first_name": "Elizabeth", "last_name": "Andersson", "account": account, "email": LONG_EMAIL,
            "title": "Head of Procurement", "buying_role": "decision maker", "phone": "+1 648 555 7815"})["id"]
        records.create_record(ENTITIES["contact"], session=s, actor=USER, data={
            "first_name": "Zoë", "last_name": "Nguyen", "account": account, "reports_to": boss,
            "email": "zoe.nguyen94@tailspin.com", "title": "Software Engineer",
            "buying_role": "influencer", "phone": "+1 704 555 5482"})
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_account(pilot, account)
        lines = shown_lines(app.screen.query_one("#detail-contacts", DataTable))
        text = "\n".join(lines)
        assert LONG_EMAIL in text, text
        assert "zoe.nguyen94@tailspin.com" in text, text
        assert "+1 648 555 7815" in text, text  # the phone is not pushed out for it
        assert "Head of Pro" in text, text  # the title gives way first, and says so with "…"
        assert "└ Zoë Nguyen" in text, text  # the reporting line


async def test_narrow_account_marks_a_cut_email(engine):
    """At 80 columns the row cannot fit: the table scrolls sideways, and no address is cut short unmarked."""
    with session_scope(engine) as s:
        account = records.create_record(ENTITIES["account"], session=s, actor=USER,
                                        data={"name": "Tailspin Holdings Co"})["id"]
        records.create_record(ENTITIES["contact"], session=s, actor=USER, data={
            "first_name": "Elizabeth", "last_name": "Andersson", "account": account, "email": LONG_EMAIL})
    app = make(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, account)
        table = app.screen.query_one("#detail-contacts", DataTable)
        cell = table.get_row_at(0)[3]
        shown = cell.plain if isinstance(cell, Text) else str(cell)
        width = table.ordered_columns[3].width
        assert shown == LONG_EMAIL or (shown.endswith("…") and LONG_EMAIL.startswith(shown[:-1])), shown
        assert len(shown) <= width, (shown, width)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_conflict_in_a_form_names_the_record(engine):
    from textual.widgets import Input

    from crm_tui.screens.account_form import AccountFormScreen

    with session_scope(engine) as s:
        account = records.create_record(ENTITIES["account"], session=s, actor=USER,
                                        data={"name": "Globex Inc", "city": "Springfield"})["id"]
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        form = AccountFormScreen(account)
        app.push_screen(form)
        await settle(pilot)
        with session_scope(engine) as s:  # someone else saves first
            records.update_record(ENTITIES["account"], session=s, record_id=account, data={"city": "Capital City"},
                                  actor="someone", expected_version=1)
        form.query_one("#input-city", Input).value = "Shelbyville"
        await pilot.press("ctrl+s")
        await settle(pilot)
        said = [t for t in toasts(app) if "someone else" in t]
        assert said and "“Globex Inc”" in said[0], toasts(app)
        assert f"account {account}" not in said[0] and "version" not in said[0], said[0]


async def test_a_refused_edit_names_the_deal(engine):
    from textual.widgets import Input

    from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
    from crm_tui.services.access import set_rule
    from crm_tui.services.users import create_user, resolve_actor

    with session_scope(engine) as s:
        create_user(session=s, data={"username": "boss", "role": "admin"})
        create_user(session=s, data={"username": USER, "role": "sales"})
        boss = resolve_actor(session=s, username="boss")
        set_rule(session=s, actor=boss, role="sales", entity="opportunity", action="read", level="all")
        set_rule(session=s, actor=boss, role="sales", entity="opportunity", action="edit", level="own")
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="boss", data={
            "name": "Globex Inc – CRM rollout", "amount": "40000", "owner": "boss"})["id"]
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(OpportunityDetailScreen(deal))
        await settle(pilot)
        app.screen.query_one("#field-next_step", Input).value = "Call the CFO"
        await pilot.press("ctrl+s")
        await settle(pilot)
        said = [t for t in toasts(app) if "may edit" in t]
        assert said and "“Globex Inc – CRM rollout”" in said[0], toasts(app)
        assert f"opportunity {deal}" not in said[0], said[0]


async def test_a_dashboard_list_reached_with_tab_opens_its_first_row(engine):
    """Tab to "My tasks" and press enter: the first task's deal opens (before, nothing was under the cursor
    until ↓ was pressed, and enter did nothing)."""
    import datetime as dt

    from textual.widgets import OptionList

    from crm_tui.screens.opportunity_detail import OpportunityDetailScreen

    now = dt.datetime.now(dt.timezone.utc)
    with session_scope(engine) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor=USER, data={
            "name": "Horizon Software Co – Managed services", "amount": "40780"})["id"]
        records.create_record(ENTITIES["activity"], session=s, actor=USER, data={
            "subject": "Send contract", "type": "task", "opp": deal,
            "due": (now - dt.timedelta(hours=1)).astimezone().strftime("%Y-%m-%d %H:%M")})
    for size in ((160, 48), (80, 24)):
        app = make(engine, mode=None)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            for _ in range(12):
                if app.focused is not None and app.focused.id == "dash-tasks":
                    break
                await pilot.press("tab")
                await pilot.pause()
            tasks = app.focused
            assert isinstance(tasks, OptionList) and tasks.id == "dash-tasks", app.focused
            assert tasks.highlighted == 0, "the focused list shows its cursor on the first row"
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, OpportunityDetailScreen), (size, app.screen)
            assert app.screen.opportunity_id == deal


async def test_the_proposal_editor_writes_unit_prices_as_money(engine):
    from crm_tui.screens.proposal_editor import ProposalEditorScreen
    from crm_tui.services.quotes import proposals as P

    with session_scope(engine) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                                     data={"name": "Lumen Industries Ltd – E-commerce site", "amount": "10550"})["id"]
        records.create_record(ENTITIES["product"], session=s, actor=USER, data={
            "sku": "SVC-IMPL-DAY", "name": "Implementation day", "unit_price": "1400"})
        view = P.new_proposal(session=s, opportunity_id=deal, actor=USER)
        P.save_proposal(session=s, proposal_id=view.id, actor=USER, expected_version=view.version, lines=[
            {"description": "Implementation consultant (per day)", "quantity": "3", "unit_price": "1400"}])
    app = make(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.push_screen(ProposalEditorScreen(view.id))
        await settle(pilot)
        table = app.screen.query_one("#pe-lines", DataTable)
        row = [str(c) for c in table.get_row_at(0)]
        assert "1,400.00" in row and "4,200.00" in row, row
        assert "1400.00" not in row, row
        from textual.widgets import Select

        offered = [str(prompt) for prompt, _value in app.screen.query_one("#pe-product", Select)._options]
        assert any("1,400.00" in text for text in offered), offered


async def test_filter_hints_are_whole_on_a_wide_terminal(engine):
    """At 160 columns the Pipeline's filter hint ended "or an expression:" with the example cut off, and
    the Leads' ended "field=valu"."""
    from textual.widgets import Input

    app = make(engine, mode="pipeline")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        hint = app.screen.query_one(Input)
        shown = " ".join(shown_lines(hint))
        assert hint.placeholder.split()[-1] in shown, (hint.placeholder, shown_lines(hint))
        await pilot.press("f3")
        await settle(pilot)
        bar = app.screen.query_one("#list-search", Input)
        shown = " ".join(shown_lines(bar))
        assert " ".join(bar.placeholder.split()) in " ".join(shown.split()), (bar.placeholder, shown)


async def test_the_area_key_leaves_notifications_and_today(engine):
    """F11 (or F6) opens over the area you are in; its area key then went nowhere: F10 on the Notifications
    opened from the Dashboard did nothing. It goes back to the area's own screen."""
    from crm_tui.screens.dashboard import DashboardScreen
    from crm_tui.screens.notifications import NotificationsScreen
    from crm_tui.screens.today import TodayScreen

    app = make(engine, mode=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(app.screen, NotificationsScreen)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen), app.screen
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen), app.screen


async def test_the_conversion_dialog_fits_80_by_24(engine):
    """At 80×24 the dialog ran off the right edge and its Convert button was below the bottom, unreachable."""
    from textual.widgets import Button

    from crm_tui.screens.lead_detail import ConvertScreen

    with session_scope(engine) as s:
        lead = records.create_record(ENTITIES["lead"], session=s, actor=USER, data={
            "first_name": "Olga", "last_name": "Andersson", "company": "Monarch Systems", "status": "qualified"})
    app = make(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(ConvertScreen(lead["id"], lead["version"]))
        await settle(pilot)
        dialog = app.screen.query_one(".dialog")
        assert dialog.region.right <= 80 and dialog.region.bottom <= 24, dialog.region
        go = app.screen.query_one("#convert-go", Button)
        go.focus()
        await settle(pilot)
        assert dialog.region.contains_region(go.region), (dialog.region, go.region)

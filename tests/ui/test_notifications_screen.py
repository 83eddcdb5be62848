"""Pilot: the unread count in the header, new notifications reaching an open app within 2 s, the
Notifications screen (open the record, mark read, mark all read), and reassigning a lead or a deal
from its detail screen by picking a user by name; assert on what the user sees and on the database."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from textual.widgets import Header, OptionList
from textual.widgets._header import HeaderTitle
from ui_helpers import make, wait_until

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import create_user, resolve_actor
from crm_tui.store.db import session_scope
from crm_tui.store.models import Lead, Notification, Opportunity, User

ME = "tester"
LEAD = ENTITIES["lead"]
OPP = ENTITIES["opportunity"]


@pytest.fixture
def people(engine):
    with session_scope(engine) as s:
        create_user(session=s, data={"username": ME, "name": "Tess Ter", "role": "admin"})
        create_user(session=s, data={"username": "jess", "name": "Jessica Lee", "role": "sales"})
        create_user(session=s, data={"username": "bob", "name": "Bob Stone", "role": "manager"})
    return engine


def give_me_a_lead(engine, name: str, by: str = "bob") -> int:
    """Someone else adds a lead and gives it to me: I am notified."""
    with session_scope(engine) as s:
        return records.create_record(LEAD, session=s, data={"last_name": name, "owner": ME}, actor=by)["id"]


def header_text(app) -> str:
    return " ".join(str(t.render()) for h in app.screen.query(Header) for t in h.query(HeaderTitle))


def my_notifications(engine, username: str = ME) -> list[tuple[str, bool]]:
    with session_scope(engine) as s:
        return [(title, read_at is not None) for title, read_at in s.execute(
            select(Notification.title, Notification.read_at).join(User, User.id == Notification.user_id)
            .where(User.username == username).order_by(Notification.id))]


def option_texts(app, selector: str) -> list[str]:
    listing = app.screen.query_one(selector, OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_a_new_notification_reaches_the_open_app_within_two_seconds(people):
    engine = people
    give_me_a_lead(engine, "Early")
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: "1 unread" in header_text(app), what="the unread count in the header")
        started = time.monotonic()
        give_me_a_lead(engine, "Fresh\x1b[31m")  # written by another program (cron, a colleague's CLI)
        await wait_until(pilot, lambda: "2 unread" in header_text(app), timeout=4, what="the new count")
        assert time.monotonic() - started < 2.0
        toasts = [str(n.message) for n in app._notifications]
        assert "Lead Fresh\\x1b[31m assigned to you by Bob Stone" in toasts  # spelled out, never run
        # Another user's notifications never count.
        with session_scope(engine) as s:
            records.create_record(LEAD, session=s, data={"last_name": "Theirs", "owner": "jess"}, actor="bob")
        await pilot.pause(1.7)
        await wait_until(pilot, lambda: app._latest_notification is not None)
        assert "2 unread" in header_text(app)


async def test_the_notifications_screen_opens_records_and_marks_them_read(people):
    engine = people
    first = give_me_a_lead(engine, "Ames")
    give_me_a_lead(engine, "Bell")
    with session_scope(engine) as s:
        records.create_record(LEAD, session=s, data={"last_name": "Hidden", "owner": "jess"}, actor="bob")
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 40)) as pilot:
        from crm_tui.screens.lead_detail import LeadDetailScreen
        from crm_tui.screens.notifications import NotificationsScreen

        await wait_until(pilot, lambda: "2 unread" in header_text(app), what="the count")
        await pilot.press("f11")
        await wait_until(pilot, lambda: isinstance(app.screen, NotificationsScreen)
                         and app.screen.query_one(OptionList).option_count == 2, what="the notifications")
        texts = option_texts(app, "#notifications-list")
        assert "Lead Bell assigned to you by Bob Stone" in texts[0] and texts[0].startswith("● ")
        assert "Lead Ames assigned to you by Bob Stone" in texts[1]
        assert not any("Hidden" in t for t in texts)  # jess's, not mine
        assert "2 unread of 2" in str(app.screen.query_one("#notifications-title").render())

        # Down to the older one, Enter: its lead opens and it is read.
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LeadDetailScreen), what="the lead")
        assert app.screen.lead_id == first
        await wait_until(pilot, lambda: my_notifications(engine)[0][1], what="read in the database")
        assert my_notifications(engine) == [("Lead Ames assigned to you by Bob Stone", True),
                                            ("Lead Bell assigned to you by Bob Stone", False)]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, NotificationsScreen)
                         and "1 unread of 2" in str(app.screen.query_one("#notifications-title").render()),
                         what="the list again")
        await pilot.press("a")  # mark all read
        await wait_until(pilot, lambda: all(read for _, read in my_notifications(engine)), what="all read")
        await wait_until(pilot, lambda: "unread" not in header_text(app), what="the count gone")
        assert "0 unread of 2" in str(app.screen.query_one("#notifications-title").render())
        assert my_notifications(engine, "jess") == [("Lead Hidden assigned to you by Bob Stone", False)]


async def test_mark_one_read_with_r_and_an_empty_list_says_what_comes_here(people):
    engine = people
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 40)) as pilot:
        from crm_tui.screens.notifications import NotificationsScreen

        await pilot.press("f11")
        await wait_until(pilot, lambda: isinstance(app.screen, NotificationsScreen)
                         and "No notifications yet" in str(app.screen.query_one("#notifications-title").render()))
        give_me_a_lead(engine, "Solo")
        await wait_until(pilot, lambda: "1 unread" in header_text(app), what="the count")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count == 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: my_notifications(engine) == [("Lead Solo assigned to you by Bob Stone", True)])
        await wait_until(pilot, lambda: "unread" not in header_text(app), what="the count gone")


async def test_reassign_a_lead_from_its_detail_by_picking_a_name(people):
    engine = people
    with session_scope(engine) as s:
        lead = records.create_record(LEAD, session=s, data={"last_name": "King", "company": "Acme"}, actor=ME)["id"]
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 40)) as pilot:
        from crm_tui.screens.base import open_record
        from crm_tui.screens.lead_detail import LeadDetailScreen
        from crm_tui.screens.reassign import UserPickerScreen

        await wait_until(pilot, lambda: app.db.ready)
        open_record(app, "lead", lead)
        await wait_until(pilot, lambda: isinstance(app.screen, LeadDetailScreen) and app.screen.row, what="lead")
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, UserPickerScreen), what="the picker")
        names = option_texts(app, "#user-picker")
        assert names == ["Bob Stone  (bob)", "Jessica Lee  (jess)", "Tess Ter  (tester)  · owner now"]
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LeadDetailScreen), what="back on the lead")
        await wait_until(pilot, lambda: _owner(engine, Lead, lead) == "jess", what="the new owner")
        assert my_notifications(engine, "jess") == [("Lead King (Acme) assigned to you by Tess Ter", False)]
        await wait_until(pilot, lambda: any("is now jess's" in str(n.message) for n in app._notifications))


async def test_reassign_is_refused_without_the_assign_right(people):
    engine = people
    with session_scope(engine) as s:
        lead = records.create_record(LEAD, session=s, data={"last_name": "Mine", "owner": "jess"}, actor=ME)["id"]
    from crm_tui.app import make_app

    app = make_app(engine=engine, user="jess", mode=None)
    async with app.run_test(size=(160, 40)) as pilot:
        from crm_tui.screens.base import open_record
        from crm_tui.screens.lead_detail import LeadDetailScreen
        from crm_tui.screens.reassign import UserPickerScreen

        await wait_until(pilot, lambda: app.db.ready)
        open_record(app, "lead", lead)
        await wait_until(pilot, lambda: isinstance(app.screen, LeadDetailScreen) and app.screen.row, what="lead")
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, UserPickerScreen), what="the picker")
        await pilot.press("enter")  # Bob Stone
        await wait_until(pilot, lambda: any("may assign no leads" in str(n.message) for n in app._notifications),
                         what="the refusal")
        assert _owner(engine, Lead, lead) == "jess"


async def test_reassign_a_deal_from_its_detail(people):
    engine = people
    with session_scope(engine) as s:
        deal = records.create_record(OPP, session=s, data={"name": "Acme deal", "amount": "10.00"}, actor=ME)["id"]
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 48)) as pilot:
        from crm_tui.screens.base import open_record
        from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
        from crm_tui.screens.reassign import UserPickerScreen

        await wait_until(pilot, lambda: app.db.ready)
        open_record(app, "opportunity", deal)
        await wait_until(pilot, lambda: isinstance(app.screen, OpportunityDetailScreen)
                         and app.screen.detail is not None, what="the deal")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, UserPickerScreen), what="the picker")
        await pilot.press("enter")  # Bob Stone
        await wait_until(pilot, lambda: _owner(engine, Opportunity, deal) == "bob", what="the new owner")
        assert my_notifications(engine, "bob") == [("Deal Acme deal assigned to you by Tess Ter", False)]
        await wait_until(pilot, lambda: isinstance(app.screen, OpportunityDetailScreen)
                         and app.screen.detail.record["owner"] == "bob", what="the detail reloaded")


def _owner(engine, model, record_id: int) -> str | None:
    with session_scope(engine) as s:
        return s.execute(select(User.username).join(model, model.owner_id == User.id)
                         .where(model.id == record_id)).scalar()


def test_the_actor_sees_only_their_own_count(people):
    from crm_tui.services import notifications

    give_me_a_lead(people, "Count")
    with session_scope(people) as s:
        assert notifications.status(session=s, actor=resolve_actor(session=s, username=ME))[1] == 1
        assert notifications.status(session=s, actor=resolve_actor(session=s, username="jess"))[1] == 0


@pytest.fixture
def pg_people(request):
    """The same people on the PostgreSQL test server (CRM_TEST_POSTGRES_URL), emptied first."""
    import os

    from support import truncate_postgres

    from crm_tui.store.db import open_engine

    url = os.environ.get("CRM_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")
    truncate_postgres(url, request.getfixturevalue("postgres_tables"))
    engine = open_engine(url)
    with session_scope(engine) as s:
        create_user(session=s, data={"username": ME, "name": "Tess Ter", "role": "admin"})
        create_user(session=s, data={"username": "bob", "name": "Bob Stone", "role": "manager"})
    yield engine
    engine.dispose()


async def test_on_postgresql_listen_notify_wakes_the_app_at_once(pg_people):
    engine = pg_people
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app._listening.is_set(), what="LISTEN on")
        started = time.monotonic()
        give_me_a_lead(engine, "Pushed")
        # While listening the timer does not poll (one every ~30 s): only the NOTIFY can bring it this fast.
        await wait_until(pilot, lambda: "1 unread" in header_text(app), timeout=4, what="the count")
        assert time.monotonic() - started < 2.0
        assert any("Lead Pushed assigned to you by Bob Stone" == str(n.message) for n in app._notifications)

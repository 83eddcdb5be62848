"""The Dashboard's onboarding checklist: shown while a step is left, each step opening the screen
where it is done (the e-mail: my profile), gone once every step is done."""

from __future__ import annotations

from ui_helpers import make, settle, wait_until

from crm_tui.services import records
from crm_tui.services import users as U
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import leads, pipeline
from crm_tui.store.db import session_scope
from crm_tui.widgets.onboarding import OnboardingChecklist
from crm_tui.widgets.profile import ProfileDialog

SIZE = (160, 48)


def checklist(app) -> OnboardingChecklist:
    return app.screen.query_one(OnboardingChecklist)


async def test_a_new_rep_walks_the_checklist_until_it_is_gone(engine):
    with session_scope(engine) as s:
        U.create_user(session=s, data={"username": "boss", "role": "admin"})
        U.create_user(session=s, data={"username": "tester", "name": "Jessica", "role": "sales"})
    app = make(engine, mode=None)  # the dashboard, as the user gets it
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: checklist(app).steps, what="the checklist")
        widget = checklist(app)
        assert widget.display and widget.steps == dict.fromkeys(("email", "activity", "lead", "deal", "stage"),
                                                                  False)
        # enter on the first step opens my profile; saving an e-mail ticks it
        widget.query_one("#onboarding-steps").focus()
        await pilot.press("home", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileDialog)
        await wait_until(pilot, lambda: not app.screen.query_one("#profile-email").disabled, what="the profile")
        app.screen.query_one("#profile-email").value = "jessica@example.com"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProfileDialog) and checklist(app).steps["email"],
                         what="the e-mail step done")
        with session_scope(engine) as s:
            assert U.get_user(session=s, username="tester").email == "jessica@example.com"
        # enter on "first lead qualified" opens the Leads
        widget = checklist(app)
        widget.query_one("#onboarding-steps").focus()
        await pilot.press("home", "down", "down", "enter")
        await settle(pilot)
        assert app.current_mode == "leads"
        # the rest done elsewhere: back on the dashboard the checklist is gone
        with session_scope(engine) as s:
            me = U.resolve_actor(session=s, username="tester")
            records.create_record(ENTITIES["activity"], session=s, actor=me,
                                  data={"subject": "Intro call", "type": "call", "owner": "tester"})
            lead = records.create_record(ENTITIES["lead"], session=s, actor=me,
                                         data={"first_name": "Ann", "last_name": "Lee", "owner": "tester"})
            leads.set_status(session=s, lead_id=lead["id"], status="qualified", actor="tester")
            deal = records.create_record(ENTITIES["opportunity"], session=s, actor=me,
                                         data={"name": "First deal", "amount": "100", "owner": "tester"})
            pipeline.move_opportunity(session=s, opportunity_id=deal["id"], stage="Qualified", actor="tester")
        await pilot.press("f10")
        await wait_until(pilot, lambda: app.current_mode == "dashboard" and checklist(app).checklist is not None
                         and checklist(app).checklist.complete, what="the checklist complete")
        assert not checklist(app).display


async def test_a_rep_who_has_done_every_step_sees_no_checklist(engine):
    with session_scope(engine) as s:
        U.create_user(session=s, data={"username": "tester", "role": "admin", "email": "t@example.com"})
        me = U.resolve_actor(session=s, username="tester")
        records.create_record(ENTITIES["activity"], session=s, actor=me,
                              data={"subject": "Call", "type": "call", "owner": "tester"})
        records.create_record(ENTITIES["lead"], session=s, actor=me,
                              data={"first_name": "A", "last_name": "B", "status": "qualified", "owner": "tester"})
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor=me,
                                     data={"name": "D", "amount": "1", "owner": "tester"})
        pipeline.move_opportunity(session=s, opportunity_id=deal["id"], stage="Qualified", actor="tester")
    app = make(engine, mode=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: checklist(app).checklist is not None, what="the checklist loaded")
        assert checklist(app).checklist.complete and not checklist(app).display


async def test_my_profile_is_in_the_palette_for_everyone(engine):
    with session_scope(engine) as s:
        U.create_user(session=s, data={"username": "boss", "role": "admin"})
        U.create_user(session=s, data={"username": "tester", "role": "sales"})
    app = make(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        command = next(c for c in app.palette_commands(app.screen) if c.action == "open_profile")
        assert command.name == "App: my profile"
        await app.run_action(command.action, command.target)
        await settle(pilot)
        assert isinstance(app.screen, ProfileDialog)
        await wait_until(pilot, lambda: not app.screen.query_one("#profile-name").disabled, what="the profile")
        app.screen.query_one("#profile-name").value = "Jessica Lee"
        app.screen.query_one("#profile-email").value = "jess@example.com"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProfileDialog), what="saved")
    with session_scope(engine) as s:
        me = U.get_user(session=s, username="tester")
        assert (me.name, me.email, me.role) == ("Jessica Lee", "jess@example.com", "sales")

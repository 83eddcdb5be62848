"""A detail screen reads everything it shows in one load: the record, its timeline, the names in its pickers.

The timeline comes with the record (one worker, one message, the screen laid out once); if it cannot be
read with the record, the timeline loads on its own and says what went wrong as it always did. A deal's
pickers (account, contact, owner, stage) show names read with the deal, without look-ups of their own.
"""

from __future__ import annotations

from textual.widgets import OptionList
from ui_helpers import USER, make, settle, wait_until

from crm_tui.services.engagement import timeline as timeline_service
from crm_tui.store.db import session_scope

SIZE = (160, 48)


def timeline_lines(screen) -> list[str]:
    from crm_tui.widgets.timeline import Timeline

    widget = screen.query_one(Timeline)
    return [str(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)]


async def open_account(pilot, account_id: int):
    from crm_tui.screens.base import open_record

    open_record(pilot.app, "account", account_id)
    await settle(pilot)
    return pilot.app.screen


async def test_the_account_and_its_timeline_arrive_together(engine, seeded, monkeypatch):
    from crm_tui.screens.account_detail import AccountDetailScreen
    from crm_tui.widgets.timeline import Timeline

    shown: list[tuple[str | None, list[str]]] = []  # (the account on screen then, the timeline's subjects)
    own_loads: list[str] = []
    show, load = Timeline.show, Timeline._load

    def watched_show(self, items):
        details = self.screen.details
        shown.append((details.account["name"] if details else None, [i.title for i in items]))
        show(self, items)

    def watched_load(self):
        own_loads.append(self.entity)
        load(self)

    monkeypatch.setattr(Timeline, "show", watched_show)
    monkeypatch.setattr(Timeline, "_load", watched_load)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_account(pilot, seeded["Acme Corporation"])
        assert isinstance(screen, AccountDetailScreen)
        # the timeline was shown once, by the handler that put the account on screen, and never loaded alone
        assert shown == [("Acme Corporation", ["Discovery call"])]
        assert own_loads == []
        assert any("Discovery call" in line for line in timeline_lines(screen))
        await pilot.press("r")  # a refresh reloads the account, and the timeline loads itself as it always did
        await settle(pilot)
        assert own_loads == ["account"]
        assert len(shown) == 2 and any("Discovery call" in line for line in timeline_lines(screen))


async def test_a_timeline_that_cannot_be_read_with_the_account_loads_on_its_own(engine, seeded, monkeypatch):
    real = timeline_service.timeline
    calls = {"n": 0}

    def first_fails(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk hiccup")
        return real(**kwargs)

    monkeypatch.setattr(timeline_service, "timeline", first_fails)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_account(pilot, seeded["Acme Corporation"])
        await wait_until(pilot, lambda: any("Discovery call" in line for line in timeline_lines(screen)),
                         what="the timeline, read on its second try")
        assert screen.details.account["name"] == "Acme Corporation"
        assert calls["n"] == 2
        assert not pilot.app._notifications  # the second try worked: nothing to tell


async def test_a_timeline_that_cannot_be_read_at_all_is_notified_and_the_account_still_shows(engine, seeded,
                                                                                            monkeypatch):
    def fails(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(timeline_service, "timeline", fails)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_account(pilot, seeded["Acme Corporation"])
        await wait_until(pilot, lambda: any("disk on fire" in str(n.message) for n in pilot.app._notifications),
                         what="the timeline's failure notified")
        assert screen.details.account["name"] == "Acme Corporation"


async def test_a_lead_and_a_contact_show_their_timeline_with_the_record(engine, seeded):
    from crm_tui.screens.base import open_record
    from crm_tui.services.engagement import activities
    from crm_tui.services.sales import leads

    with session_scope(engine) as s:
        lead_id = leads.create_lead(session=s, data={"first_name": "Ada", "last_name": "Byron",
                                                     "company": "Engines Ltd"}, actor=USER)[0]["id"]
        activities.log_activity(session=s, actor=USER, type="note", subject="Met at the fair",
                                links={"lead": lead_id})
        activities.log_activity(session=s, actor=USER, type="call", subject="Called Wile", links={"contact": 1})
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_record(pilot.app, "lead", lead_id)
        await settle(pilot)
        assert pilot.app.screen.row["id"] == lead_id
        assert any("Met at the fair" in line for line in timeline_lines(pilot.app.screen))
        await pilot.press("escape")
        await settle(pilot)
        open_record(pilot.app, "contact", 1)
        await settle(pilot)
        assert pilot.app.screen.row["id"] == 1
        assert any("Called Wile" in line for line in timeline_lines(pilot.app.screen))


async def test_a_deals_pickers_show_names_read_with_the_deal(engine, seeded, monkeypatch):
    from crm_tui.screens.base import open_record
    from crm_tui.widgets.picker import Picker

    looked_up: list[str] = []
    resolve = Picker._resolve

    def counted(self, key):
        looked_up.append(f"{self.kind}:{key}")
        resolve(self, key)

    monkeypatch.setattr(Picker, "_resolve", counted)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_record(pilot.app, "opportunity", 1)
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.detail.record["name"] == "Rocket skates"
        assert screen.query_one("#field-account", Picker).choice.label == "Acme Corporation"
        assert screen.query_one("#field-stage", Picker).choice.label == screen.detail.record["stage"]
        assert screen.query_one("#field-owner", Picker).value == USER
        assert screen.query_one("#field-contact", Picker).value == ""  # the deal has no primary contact
        assert looked_up == []  # no picker looked its name up a second time


async def test_a_picker_given_a_key_that_names_nothing_says_not_found(engine, seeded):
    from textual.app import App, ComposeResult

    from crm_tui.services.pick import Choice
    from crm_tui.widgets.picker import Picker

    class Host(App):
        def compose(self) -> ComposeResult:
            yield Picker("account", id="p")
            yield OptionList()

    async with Host().run_test() as pilot:
        picker = pilot.app.query_one(Picker)
        picker.set_looked_up("42", None)
        await pilot.pause()
        assert "42  (not found)" in str(picker.render())
        assert picker.value == "42" and picker.has_class("-empty")
        picker.set_looked_up("7", Choice(7, "7", "Acme Corporation", "San Francisco, CA"))
        await pilot.pause()
        assert str(picker.render()).startswith("Acme Corporation")
        assert picker.record_id == 7 and not picker.has_class("-empty")
        picker.set_looked_up("", None)
        assert picker.value == "" and picker.choice is None

"""Every Dashboard row names the company of the record it opens: on the demo data, Enter on each row
opens a record whose account (a lead's company) is the one the row shows."""

from __future__ import annotations

import re

from ui_helpers import make, settle, wait_until

from crm_tui.screens.dashboard import LISTS, DashboardScreen
from crm_tui.services.data.demo import generate

ME = "tester"


def opened_company(screen):
    """The account (a lead's company) of the record a detail screen shows, once it has loaded."""
    from crm_tui.screens.account_detail import AccountDetailScreen
    from crm_tui.screens.contact_detail import ContactDetailScreen
    from crm_tui.screens.lead_detail import LeadDetailScreen
    from crm_tui.screens.opportunity_detail import OpportunityDetailScreen
    from crm_tui.screens.proposal_editor import ProposalEditorScreen

    if isinstance(screen, OpportunityDetailScreen):
        return screen.detail.record.get("account") if screen.detail else ...
    if isinstance(screen, LeadDetailScreen):
        return screen.row.get("company") if screen.row else ...
    if isinstance(screen, ProposalEditorScreen):
        return screen.view.account if screen.view else ...
    if isinstance(screen, AccountDetailScreen):
        return screen.details.account["name"] if getattr(screen, "details", None) else ...
    if isinstance(screen, ContactDetailScreen):
        return screen.row.get("account") if screen.row else ...
    raise AssertionError(f"a dashboard row opened {screen!r}")


def record_company(engine, entity: str, record_id: int):
    from crm_tui.services import records
    from crm_tui.services.quotes.proposals import get_proposal
    from crm_tui.services.registry import ENTITIES
    from crm_tui.store.db import session_scope

    with session_scope(engine) as s:
        if entity == "proposal":
            return get_proposal(session=s, proposal_id=record_id).account
        row = records.get_record(ENTITIES[entity], session=s, record_id=record_id)
    return {"lead": row.get("company"), "account": row.get("name")}.get(entity, row.get("account"))


def label_company(key: str, label: str) -> str | None:
    if key in ("leads", "followups"):  # "Ada Byron (Engines Ltd)  [new] Web"
        found = re.findall(r"\(([^()]*)\)", label)
        return found[-1] if found else None
    if "  · " in label:
        return label.rsplit("  · ", 1)[1]
    if key in ("closing", "stalled"):  # a deal whose name starts with its account shows it once
        name = re.split(r"\s{2,}", label.strip())[1]
        return name.split(" – ")[0]
    return None


async def test_every_dashboard_row_names_the_company_of_the_record_it_opens(engine):
    generate(engine, opportunities=2000, seed=3, me=ME)
    app = make(engine, mode=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen)
                         and getattr(app.screen, "_loaded", False), what="the dashboard")
        dashboard = app.screen
        checked = {}
        for key, _title in LISTS:
            widget = dashboard.query_one(f"#dash-{key}")
            rows = [(i, str(widget.get_option_at_index(i).prompt)) for i in range(widget.option_count)
                    if not widget.get_option_at_index(i).disabled]
            checked[key] = len(rows)
            for index, label in rows:  # every row: the record it opens, read as the detail reads it
                entity, record_id = dashboard.items[widget.get_option_at_index(index).id]
                assert label_company(key, label) == record_company(engine, entity, record_id), (key, label)
            for index, label in rows[:2]:  # and the first rows opened for real with enter
                widget.focus()
                widget.highlighted = index
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.screen is not dashboard
                                 and opened_company(app.screen) is not ..., what=f"{key} row {label!r}")
                assert label_company(key, label) == opened_company(app.screen), (key, label)
                app.pop_screen()
                await settle(pilot)
        assert checked["tasks"] > 0 and checked["closing"] + checked["stalled"] > 0, checked


def test_a_day_in_another_year_shows_its_year():
    import datetime as dt

    from crm_tui.screens.dashboard import day_text

    today = dt.date(2026, 12, 4)
    assert day_text(dt.date(2026, 8, 20), today=today) == "20 Aug"
    assert day_text(dt.date(2025, 8, 20), today=today) == "20 Aug 2025"
    assert day_text(dt.date(2027, 1, 1), weekday=True, today=today) == "Fri 1 Jan 2027"
    assert day_text(dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC), today=today) == "30 Jun 2025"

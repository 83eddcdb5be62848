"""A record named with terminal escapes and Rich markup shows literally in the app: in the list,
in the detail (title, header, fields, related tables), in the timeline and in notifications."""

from __future__ import annotations

import html

from ui_helpers import USER, make, settle, table_names

from crm_tui.screens.account_detail import AccountDetailScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope

SIZE = (200, 50)
ESCAPES = "\x1b]0;pwned\x07\x1b[31mRED"
MARKUP = "[red]x[/] [link=http://e.example]y[/link]"
NAME = f"{ESCAPES} {MARKUP}"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[31mRED [red]x[/] [link=http://e.example]y[/link]"


def screen_text(app) -> str:
    """Everything the screen shows, as text (from Textual's own screenshot)."""
    svg = app.export_screenshot()
    return html.unescape(svg).replace("\xa0", " ")


def seed(engine) -> int:
    with session_scope(engine) as s:
        account = records.create_record(ENTITIES["account"], session=s, actor=USER,
                                        data={"name": NAME, "description": f"about {ESCAPES}"})["id"]
        records.create_record(ENTITIES["contact"], session=s, actor=USER,
                              data={"first_name": "Eve\x1b[2J", "last_name": "[b]Bold[/b]", "account": account})
        records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                              data={"name": f"Deal {MARKUP}", "account": account, "amount": "100"})
        records.create_record(ENTITIES["activity"], session=s, actor=USER,
                              data={"subject": f"Call \x1b[5m{MARKUP}", "type": "call", "account": account})
    return account


async def test_a_hostile_name_shows_literally_in_the_list_and_the_detail(engine):
    account = seed(engine)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table_names(pilot.app) == [SHOWN]
        listed = screen_text(pilot.app)
        assert "\x1b" not in listed and "\x07" not in listed
        assert SHOWN[:60] in listed  # the cell may be cut at its column's width

        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AccountDetailScreen) and screen.account_id == account
        shown = screen_text(pilot.app)
        assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
        assert SHOWN in shown  # the title
        assert "about \\x1b]0;pwned" in shown  # the description
        assert "Eve\\x1b[2J [b]Bold[/b]" in shown  # the contacts table
        assert "Deal [red]x[/] [link=" in shown  # the opportunities table (cut at the column's width)
        assert f"Call \\x1b[5m{MARKUP}" in shown  # the timeline


async def test_notifications_show_their_text_literally(engine):
    seed(engine)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.notify(f"saved {NAME}", title=f"Account {ESCAPES}")
        await pilot.pause()
        notes = list(pilot.app._notifications)
        assert notes[-1].message == f"saved {SHOWN}" and notes[-1].markup is False
        assert notes[-1].title == "Account \\x1b]0;pwned\\x07\\x1b[31mRED"


async def test_a_new_account_with_a_name_in_use_offers_the_existing_one(engine, seeded):
    from textual.widgets import Input

    acme = seeded["Acme Corporation"]
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        pilot.app.screen.query_one("#input-name", Input).value = "acme corporation"
        await pilot.press("ctrl+s")
        await settle(pilot)
        with session_scope(engine) as s:  # accepted: two branches may share a name
            names = [r["name"] for r in records.list_records(ENTITIES["account"], session=s)]
        assert names.count("acme corporation") == 1 and "Acme Corporation" in names
        offers = [n for n in pilot.app._notifications if n.title == "Same name"]
        assert len(offers) == 1
        assert offers[0].message == ("An account with this name already exists: Acme Corporation. "
                                     "Press ctrl+b to open it.")
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AccountDetailScreen) and pilot.app.screen.account_id == acme


async def test_a_kanban_card_shows_a_hostile_deal_name_literally(engine):
    from crm_tui.widgets.kanban import KanbanCard

    seed(engine)
    async with make(engine, mode="pipeline").run_test(size=SIZE) as pilot:
        await settle(pilot)
        cards = list(pilot.app.screen.query(KanbanCard))
        assert len(cards) == 1
        card = str(cards[0].render_card())
        assert card.startswith("Deal [red]x[/] [link=http://e.example]y[/link]\n")
        assert "\\x1b]0;pwned\\x07\\x1b[31mRED" in card and "\x1b" not in card  # the account line


async def test_a_new_contact_with_an_email_in_use_offers_the_existing_one(engine):
    from crm_tui.screens.contact_detail import ContactDetailScreen
    from crm_tui.screens.contact_form import ContactFormScreen

    with session_scope(engine) as s:
        acc = records.create_record(ENTITIES["account"], session=s, actor=USER, data={"name": "Acme"})["id"]
        ada = records.create_record(ENTITIES["contact"], session=s, actor=USER,
                                    data={"first_name": "Ada", "last_name": "Lovelace", "account": acc,
                                          "email": "ada@example.com"})["id"]
    async with make(engine, mode="contacts").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ContactFormScreen)
        form.query_one("#input-first_name").value = "Augusta"
        form.query_one("#input-last_name").value = "King"
        form.query_one("#input-account").value = str(acc)
        form.query_one("#input-email").value = "ADA@example.com"
        await pilot.press("ctrl+s")
        await settle(pilot)
        offers = [n.message for n in pilot.app._notifications if n.title == "Same email"]
        assert offers == ["A contact with this e-mail already exists: Ada Lovelace (Acme, ada@example.com). "
                          "Press ctrl+b to open it."]
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ContactDetailScreen) and pilot.app.screen.contact_id == ada


async def test_the_edit_form_draws_control_characters_as_symbols_and_keeps_the_value(engine):
    from textual.widgets import Input

    from crm_tui.screens.account_form import AccountFormScreen

    account = seed(engine)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, AccountFormScreen)
        assert form.query_one("#input-name", Input).value == NAME  # the value as stored
        shown = screen_text(pilot.app)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "about ␛]0;pwned␇␛[31mRED" in shown  # the description (the name's input shows its end)
        drawn = form.query_one("#input-name", Input)._value.plain  # what the name's input draws
        assert "\x1b" not in drawn and drawn.startswith("␛]0;pwned") and "[red]x[/]" in drawn
        form.query_one("#input-industry", Input).value = "Retail"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with session_scope(engine) as s:  # saving another field leaves the name exactly as it was
        row = records.get_record(ENTITIES["account"], session=s, record_id=account)
    assert row["name"] == NAME and row["industry"] == "Retail"

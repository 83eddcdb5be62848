"""The change log read as sentences: names instead of ids, money and dates as people write them."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event

from crm_tui.services import records
from crm_tui.services.engagement import changes
from crm_tui.services.engagement.timeline import timeline
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import leads, pipeline
from crm_tui.services.users import create_user
from crm_tui.store.db import session_scope

ME = "tester"
RAW = re.compile(r"\d{4}-\d{2}-\d{2}T|_id\b|∅|→")


def _history(s, entity: str, record_id: int) -> list[dict]:
    return records.history(session=s, entity=entity, record_id=record_id)


def _deal(engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        create_user(session=s, data={"username": "alice", "name": "Alice"})
        create_user(session=s, data={"username": "bob", "name": "Bob"})
        acme = records.create_record(ENTITIES["account"], session=s, data={"name": "Acme", "city": "Portland"},
                                     actor=ME)["id"]
        globex = records.create_record(ENTITIES["account"], session=s, data={"name": "Globex"}, actor=ME)["id"]
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor=ME, data={
            "name": "Data platform", "amount": "40000", "currency": "USD", "stage": "Proposal",
            "owner": "alice", "account": str(acme)})
    return deal["id"], globex


def test_an_edit_reads_as_sentences_with_names_and_money(engine):
    deal, globex = _deal(engine)
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=deal, stage="Negotiation", actor=ME)
    with session_scope(engine) as s:
        version = records.get_record(ENTITIES["opportunity"], session=s, record_id=deal)["version"]
        records.update_record(ENTITIES["opportunity"], session=s, record_id=deal, expected_version=version, actor=ME,
                              data={"amount": "45000", "owner": "bob", "account": str(globex)})
    with session_scope(engine) as s:
        sentences = [t for t in changes.describe_changes(session=s, rows=_history(s, "opportunity", deal)) if t]
    assert "Stage moved from Proposal to Negotiation" in sentences
    assert "Amount changed from 40,000 USD to 45,000 USD" in sentences
    assert "Owner changed from Alice to Bob" in sentences
    assert "Account changed from Acme to Globex" in sentences
    assert "Probability changed from 50% to 75%" in sentences
    assert not [t for t in sentences if RAW.search(t)], sentences


def test_a_field_set_and_cleared(engine):
    with session_scope(engine) as s:
        acme = records.create_record(ENTITIES["account"], session=s, data={"name": "Acme"}, actor=ME)["id"]
        contact = records.create_record(ENTITIES["contact"], session=s, actor=ME,
                                        data={"first_name": "Ana", "last_name": "Diaz"})["id"]
    with session_scope(engine) as s:
        records.update_record(ENTITIES["contact"], session=s, record_id=contact, data={"account": str(acme),
                              "title": "CTO"}, actor=ME)
    with session_scope(engine) as s:
        records.update_record(ENTITIES["contact"], session=s, record_id=contact, data={"title": ""}, actor=ME)
    with session_scope(engine) as s:
        sentences = changes.describe_changes(session=s, rows=_history(s, "contact", contact))
    assert "Account set to Acme" in sentences
    assert "Title set to CTO" in sentences
    assert "Title cleared (was CTO)" in sentences


def test_a_lead_conversion_is_one_sentence_naming_what_it_made(engine):
    with session_scope(engine) as s:
        lead_id = leads.create_lead(session=s, data={"first_name": "Ana", "last_name": "Diaz",
                                                     "company": "Keystone Robotics"}, actor=ME)[0]["id"]
        leads.set_status(session=s, lead_id=lead_id, status="qualified", actor=ME)
    with session_scope(engine) as s:
        leads.convert_lead(session=s, lead_id=lead_id, actor=ME, opportunity_name="Data platform")
    with session_scope(engine) as s:
        lines = [b.text for b in changes.describe_batches(session=s, rows=_history(s, "lead", lead_id))]
    assert lines[0] == ("Converted to opportunity Keystone Robotics – Data platform, account Keystone Robotics, "
                        "contact Ana Diaz")
    assert "Status changed from new to qualified" in lines
    assert not [t for t in lines if RAW.search(t)], lines


def test_timestamps_and_dates_read_as_days():
    today = dt.date(2026, 12, 4)
    moment = dt.datetime(2026, 12, 4, 14, 2, tzinfo=dt.timezone.utc)
    assert re.fullmatch(r"\d{1,2} \w{3} \d{2}:\d{2}", changes.when_text(moment, today=today))
    assert changes.when_text(dt.date(2026, 12, 4), today=today) == "4 Dec"
    assert changes.when_text(dt.date(2025, 8, 20), today=today) == "20 Aug 2025"
    row = {"id": 1, "entity": "opportunity", "record_id": 1, "field": "expected_close", "old_value": "2026-12-04",
           "new_value": "2027-01-15", "batch_id": "b"}
    assert changes.describe_change(row, changes.Names(), today=today) == "Expected close changed from 4 Dec to 15 Jan 2027"
    row = {**row, "field": "converted_at", "old_value": None, "new_value": "2026-12-04T04:11:36+00:00"}
    assert not RAW.search(changes.describe_change(row, changes.Names(), today=today) or "")


def test_money_in_its_currency():
    assert changes.money_text(4_000_000, "USD") == "40,000 USD"
    assert changes.money_text(125_050, "EUR") == "1,250.50 EUR"
    assert changes.money_text(12_000, "JPY") == "12,000 JPY"
    assert changes.money_text(100_000, "CHF") == "1,000 CHF"


def test_names_are_read_once_per_kind_not_per_row(engine):
    deal, _ = _deal(engine)
    for amount in ("41000", "42000", "43000", "44000"):
        with session_scope(engine) as s:
            v = records.get_record(ENTITIES["opportunity"], session=s, record_id=deal)["version"]
            records.update_record(ENTITIES["opportunity"], session=s, record_id=deal, expected_version=v, actor=ME,
                                  data={"amount": amount, "owner": "bob" if amount[1] in "13" else "alice"})
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with session_scope(engine) as s:
        rows = _history(s, "opportunity", deal)
        event.listen(engine, "before_cursor_execute", count)
        try:
            changes.describe_changes(session=s, rows=rows)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(rows) >= 8
    assert len(statements) <= 3, statements  # users, accounts, the deal's currency


def test_the_timeline_shows_no_raw_ids_or_iso_timestamps(engine):
    deal, _ = _deal(engine)
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=deal, stage="Negotiation", actor=ME)
    with session_scope(engine) as s:
        titles = [i.title for i in timeline(session=s, entity="opportunity", record_id=deal) if i.kind == "change"]
    assert "Stage moved from Proposal to Negotiation; probability changed from 50% to 75%" in titles
    assert not [t for t in titles if RAW.search(t)], titles


def test_crm_history_table_reads_as_sentences_and_csv_keeps_the_fields(db_url, engine, monkeypatch):
    from typer.testing import CliRunner

    from crm_tui.cli import app
    from crm_tui.commands._common import State

    deal, _ = _deal(engine)
    monkeypatch.setenv("COLUMNS", "200")

    def crm(*args: str, user: str = "alice") -> str:
        monkeypatch.setenv("CRM_USER", user)
        try:
            result = CliRunner().invoke(app, ["--db", db_url, *args])
        finally:
            State.reset()
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.stdout

    crm("opp", "move", str(deal), "Negotiation")
    crm("account", "update", "1", "--city", "Salem", user=ME)
    table = crm("opp", "history", str(deal))
    assert "Stage moved from Proposal to Negotiation" in table and not RAW.search(table)
    assert "City changed from Portland to Salem" in crm("account", "history", "1", "--format", "table")
    csv_text = crm("account", "history", "1", "--format", "csv")
    assert csv_text.splitlines()[0].startswith("id,entity,record_id,field,old_value,new_value")
    assert ",city,Portland,Salem," in csv_text

"""The record services (crm_tui.services.records via registry.ENTITIES) on every backend.

Every assertion is on what a caller gets back or on what the database holds
afterwards (counted and read with plain SQL in a fresh connection).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from crm_tui.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.services import records
from crm_tui.services.engagement.activities import complete_activity
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope

ACTOR = "tester"
TABLES = ("users", "accounts", "contacts", "opportunities", "activities", "changes")


# ---------------------------------------------------------------- helpers


def create(engine, entity: str, data: dict, actor: str = ACTOR) -> dict:
    with session_scope(engine) as s:
        return records.create_record(ENTITIES[entity], session=s, data=data, actor=actor)


def update(engine, entity: str, record_id: int, data: dict, actor: str = ACTOR, **kw) -> dict:
    with session_scope(engine) as s:
        return records.update_record(ENTITIES[entity], session=s, record_id=record_id, data=data, actor=actor, **kw)


def get(engine, entity: str, record_id: int) -> dict:
    with session_scope(engine) as s:
        return records.get_record(ENTITIES[entity], session=s, record_id=record_id)


def delete(engine, entity: str, record_id: int, actor: str = ACTOR) -> dict:
    with session_scope(engine) as s:
        return records.delete_record(ENTITIES[entity], session=s, record_id=record_id, actor=actor)


def listing(engine, entity: str, **kw) -> list[dict]:
    with session_scope(engine) as s:
        return records.list_records(ENTITIES[entity], session=s, **kw)


def count(engine, entity: str, **kw) -> int:
    with session_scope(engine) as s:
        return records.count_records(ENTITIES[entity], session=s, **kw)


def history(engine, entity: str, record_id: int) -> list[dict]:
    with session_scope(engine) as s:
        return records.history(session=s, entity=entity, record_id=record_id)


def db_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


def db_row(engine, table: str, record_id: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": record_id}).one()._mapping)


def db_changes(engine, entity: str, record_id: int) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT field, old_value, new_value, actor, batch_id FROM changes "
            "WHERE entity = :e AND record_id = :r ORDER BY id"), {"e": entity, "r": record_id})
        return [dict(r._mapping) for r in rows]


def stage_id(engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM stages WHERE name = :n"), {"n": name}).scalar_one()


@pytest.fixture
def account(engine) -> dict:
    return create(engine, "account", {"name": "Acme Robotics Inc", "industry": "Technology", "state": "CA"})


@pytest.fixture
def opp(engine, account) -> dict:
    return create(engine, "opportunity", {"name": "Acme data platform", "account": account["id"],
                                          "amount": "12,500.50"})


# ---------------------------------------------------------------- accounts


def test_account_create_get_list_count(engine):
    row = create(engine, "account", {
        "name": "  Acme Robotics Inc ", "industry": "Technology", "email": "Sales@Acme.example.com",
        "website": "acme.example.com", "state": "CA", "employees": "250", "phone": "+1 415 555 0100",
    })
    assert row["id"] > 0
    assert row["name"] == "Acme Robotics Inc"
    assert row["owner"] == ACTOR  # the person running it, created on first use
    assert row["status"] == "prospect"
    assert row["currency"] == "USD"
    assert row["employees"] == 250
    assert row["version"] == 1
    assert row["lifetime_value"] == "0.00"

    stored = db_row(engine, "accounts", row["id"])
    assert stored["name"] == "Acme Robotics Inc"
    assert stored["email"].lower() == "sales@acme.example.com"
    assert stored["employees"] == 250
    assert stored["status"] == "prospect"
    with engine.connect() as conn:
        owner = conn.execute(text("SELECT username FROM users WHERE id = :i"), {"i": stored["owner_id"]}).scalar()
    assert owner == ACTOR

    assert get(engine, "account", row["id"]) == row
    assert [r["id"] for r in listing(engine, "account")] == [row["id"]]
    assert count(engine, "account") == 1


def test_account_update_writes_one_change_per_field(engine, account):
    updated = update(engine, "account", account["id"], {"status": "active", "city": "San Francisco"})
    assert updated["status"] == "active"
    assert updated["city"] == "San Francisco"
    assert updated["version"] == 2

    stored = db_row(engine, "accounts", account["id"])
    assert (stored["status"], stored["city"], stored["version"]) == ("active", "San Francisco", 2)

    changes = sorted(db_changes(engine, "account", account["id"]), key=lambda c: c["field"])
    assert [(c["field"], c["old_value"], c["new_value"], c["actor"]) for c in changes] == [
        ("city", None, "San Francisco", ACTOR),
        ("status", "prospect", "active", ACTOR),
    ]
    assert changes[0]["batch_id"] and changes[0]["batch_id"] == changes[1]["batch_id"]

    hist = history(engine, "account", account["id"])
    assert {(h["field"], h["old_value"], h["new_value"], h["actor"], h["batch_id"]) for h in hist} == {
        (c["field"], c["old_value"], c["new_value"], c["actor"], c["batch_id"]) for c in changes
    }


def test_updates_get_their_own_batch_and_history_is_newest_first(engine, account):
    update(engine, "account", account["id"], {"status": "active"}, actor="alice")
    update(engine, "account", account["id"], {"status": "churned"}, batch_id="bulk-0001")
    hist = history(engine, "account", account["id"])
    assert [(h["old_value"], h["new_value"], h["actor"]) for h in hist] == [
        ("active", "churned", ACTOR),
        ("prospect", "active", "alice"),
    ]
    assert hist[0]["batch_id"] == "bulk-0001"
    assert hist[1]["batch_id"] != "bulk-0001"


def test_update_with_same_values_writes_nothing(engine, account):
    same = update(engine, "account", account["id"], {"name": "Acme Robotics Inc", "industry": "Technology"})
    assert same["version"] == 1
    assert db_changes(engine, "account", account["id"]) == []


def test_clearing_a_field_is_recorded(engine, account):
    update(engine, "account", account["id"], {"industry": ""})
    assert db_row(engine, "accounts", account["id"])["industry"] is None
    assert [(c["field"], c["old_value"], c["new_value"]) for c in db_changes(engine, "account", account["id"])] == [
        ("industry", "Technology", None)]


def test_owner_is_resolved_by_username(engine):
    create(engine, "account", {"name": "Seed"}, actor="bob")  # creates user bob
    create(engine, "account", {"name": "Seed 2"}, actor="alice")  # and alice
    row = create(engine, "account", {"name": "Owned", "owner": "BOB"})
    assert row["owner"] == "bob"
    moved = update(engine, "account", row["id"], {"owner": "alice"})
    assert moved["owner"] == "alice"
    change = db_changes(engine, "account", row["id"])
    assert [c["field"] for c in change] == ["owner_id"]


def test_delete_account_removes_it_and_keeps_a_snapshot(engine, account):
    before = db_counts(engine)
    deleted = delete(engine, "account", account["id"])
    assert deleted["name"] == "Acme Robotics Inc"
    with pytest.raises(NotFound) as info:
        get(engine, "account", account["id"])
    assert str(info.value) == f"account {account['id']} not found"
    after = db_counts(engine)
    assert after["accounts"] == before["accounts"] - 1
    (change,) = db_changes(engine, "account", account["id"])
    assert change["field"] == "*" and change["new_value"] is None and change["actor"] == ACTOR
    assert json.loads(change["old_value"])["name"] == "Acme Robotics Inc"


def test_missing_records_are_not_found(engine):
    entity = ENTITIES["account"]
    with pytest.raises(NotFound, match="account 999999 not found"):
        get(engine, "account", 999999)
    with pytest.raises(NotFound):
        update(engine, "account", 999999, {"status": "active"})
    with pytest.raises(NotFound):
        delete(engine, "account", 999999)
    assert entity.name == "account"
    assert db_counts(engine)["changes"] == 0


# ---------------------------------------------------------------- contacts


def test_contact_crud(engine, account):
    contact = create(engine, "contact", {"first_name": "Zoë", "last_name": "Müller", "account": str(account["id"]),
                                         "email": "zoe@acme.example.com", "buying_role": "Decision_Maker",
                                         "is_primary": "yes"})
    assert contact["name"] == "Zoë Müller"
    assert contact["account_id"] == account["id"]
    assert contact["account"] == "Acme Robotics Inc"
    assert contact["buying_role"] == "decision maker"
    assert contact["is_primary"] is True
    assert db_row(engine, "contacts", contact["id"])["account_id"] == account["id"]

    boss = create(engine, "contact", {"last_name": "Boss", "account": account["id"]})
    assert boss["first_name"] == ""
    changed = update(engine, "contact", contact["id"], {"reports_to": boss["id"], "title": "CTO"})
    assert changed["reports_to_id"] == boss["id"] and changed["title"] == "CTO" and changed["version"] == 2
    assert {c["field"] for c in db_changes(engine, "contact", contact["id"])} == {"reports_to_id", "title"}

    with pytest.raises(ValidationError) as info:
        update(engine, "contact", boss["id"], {"reports_to": boss["id"]})
    assert info.value.field == "reports_to"

    # Someone reports to the boss: the boss cannot go.
    with pytest.raises(Conflict, match="1 contacts reporting to them"):
        delete(engine, "contact", boss["id"])
    assert count(engine, "contact") == 2

    delete(engine, "contact", contact["id"])
    delete(engine, "contact", boss["id"])
    assert count(engine, "contact") == 0
    assert db_counts(engine)["contacts"] == 0


# ---------------------------------------------------------------- opportunities


def test_opportunity_create_defaults_and_money(engine, opp, account):
    assert opp["account_id"] == account["id"]
    assert opp["stage"] == "Lead"
    assert opp["probability"] == 10
    assert opp["amount_minor"] == 1_250_050
    assert opp["amount"] == "12500.50"
    assert opp["currency"] == "USD"
    assert opp["weighted_amount"] == "1250.05"
    assert opp["actual_close"] is None
    stored = db_row(engine, "opportunities", opp["id"])
    assert stored["amount_minor"] == 1_250_050
    assert stored["stage_id"] == stage_id(engine, "Lead")
    assert bool(stored["probability_manual"]) is False


@pytest.mark.parametrize(("amount", "currency", "minor", "plain"), [
    ("1,500", "JPY", 1500, "1500"),
    ("1.234", "BHD", 1234, "1.234"),
    ("99.99", "eur", 9999, "99.99"),
])
def test_opportunity_amount_in_its_currency(engine, amount, currency, minor, plain):
    row = create(engine, "opportunity", {"name": "Deal", "amount": amount, "currency": currency,
                                         "expected_close": "2026-12-31"})
    assert (row["amount_minor"], row["amount"], row["currency"]) == (minor, plain, currency.upper())
    assert row["expected_close"] == dt.date(2026, 12, 31)
    assert db_row(engine, "opportunities", row["id"])["amount_minor"] == minor


def test_relative_close_date(engine):
    row = create(engine, "opportunity", {"name": "Soon", "expected_close": "today+7d"})
    assert row["expected_close"] == dt.date.today() + dt.timedelta(days=7)


def test_probability_follows_stage(engine, opp):
    moved = update(engine, "opportunity", opp["id"], {"stage": "proposal"})
    assert moved["stage"] == "Proposal" and moved["probability"] == 50
    assert moved["weighted_amount"] == "6250.25"  # 12500.50 * 50% exactly
    fields = {c["field"]: c for c in db_changes(engine, "opportunity", opp["id"])}
    assert fields["probability"]["old_value"] == "10" and fields["probability"]["new_value"] == "50"
    assert fields["stage_id"]["new_value"] == str(stage_id(engine, "Proposal"))
    moved = update(engine, "opportunity", opp["id"], {"stage": "Negotiation"})
    assert moved["probability"] == 75


def test_probability_set_by_hand_stays_on_stage_change(engine, opp):
    manual = update(engine, "opportunity", opp["id"], {"probability": "30"})
    assert manual["probability"] == 30
    assert bool(db_row(engine, "opportunities", opp["id"])["probability_manual"]) is True
    moved = update(engine, "opportunity", opp["id"], {"stage": "Negotiation"})
    assert moved["stage"] == "Negotiation"
    assert moved["probability"] == 30
    assert db_row(engine, "opportunities", opp["id"])["probability"] == 30
    # Clearing it hands it back to the stage.
    cleared = update(engine, "opportunity", opp["id"], {"probability": ""})
    assert cleared["probability"] == 75
    assert bool(db_row(engine, "opportunities", opp["id"])["probability_manual"]) is False


def test_probability_given_on_create_is_kept(engine):
    row = create(engine, "opportunity", {"name": "Hand", "stage": "Qualified", "probability": "40"})
    assert row["probability"] == 40
    assert update(engine, "opportunity", row["id"], {"stage": "Proposal"})["probability"] == 40


def test_moving_to_won_sets_actual_close(engine, opp):
    won = update(engine, "opportunity", opp["id"], {"stage": "Won"})
    assert won["stage"] == "Won"
    assert won["probability"] == 100
    assert won["actual_close"] == dt.date.today()
    assert won["forecast_category"] == "closed"
    stored = db_row(engine, "opportunities", opp["id"])
    assert str(stored["actual_close"])[:10] == dt.date.today().isoformat()


def test_lost_requires_a_reason(engine, opp):
    before = db_counts(engine)
    with pytest.raises(ValidationError) as info:
        update(engine, "opportunity", opp["id"], {"stage": "Lost"})
    assert info.value.field == "lost_reason"
    assert "Lost" in str(info.value)
    stored = db_row(engine, "opportunities", opp["id"])
    assert stored["stage_id"] == stage_id(engine, "Lead") and stored["version"] == 1
    assert db_counts(engine) == before

    lost = update(engine, "opportunity", opp["id"], {"stage": "Lost", "lost_reason": "price"})
    assert (lost["stage"], lost["probability"], lost["lost_reason"]) == ("Lost", 0, "price")
    assert lost["actual_close"] == dt.date.today()

    reopened = update(engine, "opportunity", opp["id"], {"stage": "Proposal"})
    assert reopened["actual_close"] is None
    assert reopened["probability"] == 50


def test_creating_straight_into_lost_requires_a_reason(engine):
    with pytest.raises(ValidationError) as info:
        create(engine, "opportunity", {"name": "Gone", "stage": "Lost"})
    assert info.value.field == "lost_reason"
    assert db_counts(engine)["opportunities"] == 0


def test_currency_change_with_other_decimals_needs_the_amount_again(engine, opp):
    with pytest.raises(ValidationError) as info:
        update(engine, "opportunity", opp["id"], {"currency": "JPY"})
    assert info.value.field == "currency" and info.value.value == "JPY"
    assert db_row(engine, "opportunities", opp["id"])["currency"] == "USD"
    row = update(engine, "opportunity", opp["id"], {"currency": "JPY", "amount": "1,800,000"})
    assert (row["amount_minor"], row["currency"], row["amount"]) == (1_800_000, "JPY", "1800000")


# ---------------------------------------------------------------- activities


def test_activity_crud_and_done(engine, opp, account):
    call = create(engine, "activity", {"subject": "Discovery call", "type": "call", "account": account["id"],
                                       "opp": opp["id"], "body": "Budget confirmed."})
    assert (call["type"], call["account"], call["opportunity_id"]) == ("call", "Acme Robotics Inc", opp["id"])
    assert call["occurred_at"] is not None
    task = create(engine, "activity", {"subject": "Send contract", "due": "2030-01-02 10:30"})
    assert task["type"] == "task"
    assert task["completed_at"] is None
    note = create(engine, "activity", {"subject": "Just a note"})
    assert note["type"] == "note"

    with session_scope(engine) as s:
        done = complete_activity(session=s, activity_id=task["id"], actor=ACTOR)
    assert done["completed_at"] is not None and done["version"] == 2
    with pytest.raises(Conflict, match="already done"):
        with session_scope(engine) as s:
            complete_activity(session=s, activity_id=task["id"], actor=ACTOR)
    assert [c["field"] for c in db_changes(engine, "activity", task["id"])] == ["completed_at"]

    assert {r["id"] for r in listing(engine, "activity", filters={"open": "yes"})} == {call["id"], note["id"]}
    assert [r["id"] for r in listing(engine, "activity", filters={"open": "no"})] == [task["id"]]
    assert [r["id"] for r in listing(engine, "activity", filters={"opp": str(opp["id"])})] == [call["id"]]

    changed = update(engine, "activity", call["id"], {"subject": "Discovery call (rescheduled)"})
    assert changed["subject"] == "Discovery call (rescheduled)"
    assert db_changes(engine, "activity", call["id"])[0]["old_value"] == "Discovery call"

    # The opportunity has an activity: it cannot be deleted; the activity can.
    with pytest.raises(Conflict, match="1 activities"):
        delete(engine, "opportunity", opp["id"])
    delete(engine, "activity", call["id"])
    delete(engine, "opportunity", opp["id"])
    assert db_counts(engine)["opportunities"] == 0


# ---------------------------------------------------------------- bad input writes nothing


BAD_CREATES = [
    ("opportunity", {"name": "X", "amount": "-5"}, "amount", "-5"),
    ("opportunity", {"name": "X", "amount": "lots"}, "amount", "lots"),
    ("opportunity", {"name": "X", "amount": "5.5", "currency": "JPY"}, "amount", "5.5"),
    ("opportunity", {"name": "X", "stage": "Closing"}, "stage", "Closing"),
    ("opportunity", {"name": "X", "expected_close": "2026-02-30"}, "expected_close", "2026-02-30"),
    ("opportunity", {"name": "X", "expected_close": "next tuesday"}, "expected_close", "next tuesday"),
    ("opportunity", {"name": "X", "currency": "XYZ"}, "currency", "XYZ"),
    ("opportunity", {"name": "X", "probability": "101"}, "probability", "101"),
    ("opportunity", {"name": "X", "probability": "-1"}, "probability", "-1"),
    ("opportunity", {"name": "X", "probability": "high"}, "probability", "high"),
    ("opportunity", {"name": "X", "account": 999999}, "account", 999999),
    ("opportunity", {"name": "X", "account": "abc"}, "account", "abc"),
    ("opportunity", {"name": "X", "forecast_category": "maybe"}, "forecast_category", "maybe"),
    ("account", {"name": "A", "email": "not-an-email"}, "email", "not-an-email"),
    ("account", {"name": "A", "website": "not a site"}, "website", "not a site"),
    ("account", {"name": "A", "status": "dormant"}, "status", "dormant"),
    ("account", {"name": "A", "owner": "nobody"}, "owner", "nobody"),
    ("account", {"name": "A", "employees": "-3"}, "employees", "-3"),
    ("account", {"name": "A", "currency": "DOLLARS"}, "currency", "DOLLARS"),
    ("account", {"name": "A" * 201}, "name", "A" * 201),
    ("account", {"name": "A", "colour": "red"}, "colour", None),
    ("account", {"industry": "Technology"}, "name", None),
    ("account", {"name": "   "}, "name", None),
    ("contact", {"first_name": "No", "email": "a@b.com"}, "last_name", None),
    ("contact", {"last_name": "L", "email": "a@b"}, "email", "a@b"),
    ("contact", {"last_name": "L", "account": 999999}, "account", 999999),
    ("contact", {"last_name": "L", "reports_to": "424242"}, "reports_to", "424242"),
    ("contact", {"last_name": "L", "is_primary": "perhaps"}, "is_primary", "perhaps"),
    ("activity", {"subject": "S", "type": "fax"}, "type", "fax"),
    ("activity", {"subject": "S", "due": "whenever"}, "due", "whenever"),
    ("activity", {"subject": "S", "lead": 999999}, "lead", 999999),
    ("activity", {"type": "call"}, "subject", None),
]


@pytest.mark.parametrize(("entity", "data", "field", "value"), BAD_CREATES,
                         ids=[f"{e}-{f}-{v!s:.12}" for e, _, f, v in BAD_CREATES])
def test_bad_input_names_field_and_value_and_writes_nothing(engine, entity, data, field, value):
    before = db_counts(engine)
    with pytest.raises(ValidationError) as info:
        create(engine, entity, data)
    error = info.value
    assert error.field == field
    message = str(error)
    assert message.startswith(f"{field}: ")
    assert "\n" not in message
    if value is not None:
        assert error.value == value
        shown = value if len(str(value)) <= 60 else str(value)[:59] + "…"  # a long value is cut short
        assert repr(shown) in message
    assert db_counts(engine) == before


def test_several_bad_fields_are_all_named(engine):
    before = db_counts(engine)
    with pytest.raises(ValidationErrors) as info:
        create(engine, "opportunity", {"name": "X", "probability": "101", "currency": "XYZ", "expected_close": "soon"})
    assert {e.field for e in info.value.errors} == {"probability", "currency", "expected_close"}
    for fragment in ("probability: '101'", "currency: 'XYZ'", "expected_close: 'soon'"):
        assert fragment in str(info.value)
    assert db_counts(engine) == before


@pytest.mark.parametrize(("data", "field"), [
    ({"email": "nope"}, "email"),
    ({"name": ""}, "name"),
    ({"status": "gone"}, "status"),
    ({"owner": "ghost"}, "owner"),
    ({"employees": "many"}, "employees"),
])
def test_bad_update_writes_nothing(engine, account, data, field):
    before = db_counts(engine)
    stored_before = db_row(engine, "accounts", account["id"])
    with pytest.raises(ValidationError) as info:
        update(engine, "account", account["id"], data)
    assert info.value.field == field
    assert db_row(engine, "accounts", account["id"]) == stored_before
    assert db_counts(engine) == before


# ---------------------------------------------------------------- optimistic locking


def test_stale_expected_version_is_a_conflict_and_keeps_the_other_write(engine, account):
    seen = get(engine, "account", account["id"])  # both people open version 1
    update(engine, "account", account["id"], {"city": "Oakland"}, actor="alice", expected_version=seen["version"])
    with pytest.raises(Conflict) as info:
        update(engine, "account", account["id"], {"city": "Berkeley"}, actor="bob", expected_version=seen["version"])
    assert f"account {account['id']}" in str(info.value)
    stored = db_row(engine, "accounts", account["id"])
    assert (stored["city"], stored["version"]) == ("Oakland", 2)
    assert [(c["new_value"], c["actor"]) for c in db_changes(engine, "account", account["id"])] == [("Oakland", "alice")]


def test_concurrent_write_between_read_and_update_is_a_conflict(engine, account, monkeypatch):
    """Another writer commits after we read the record but before our UPDATE runs."""
    real_raw = records._raw
    interleaved = []

    def raw_then_other_writer(entity, session, record_id):
        existing = real_raw(entity, session, record_id)
        if not interleaved:
            interleaved.append(True)
            update(engine, "account", record_id, {"city": "Oakland"}, actor="alice")
        return existing

    monkeypatch.setattr(records, "_raw", raw_then_other_writer)
    with pytest.raises(Conflict):
        update(engine, "account", account["id"], {"city": "Berkeley"}, actor="bob")
    monkeypatch.undo()
    assert interleaved
    stored = db_row(engine, "accounts", account["id"])
    assert (stored["city"], stored["version"]) == ("Oakland", 2)
    assert [c["actor"] for c in db_changes(engine, "account", account["id"])] == ["alice"]


# ---------------------------------------------------------------- delete rules


def test_delete_account_with_contacts_is_refused_with_the_count(engine, account):
    for last in ("One", "Two"):
        create(engine, "contact", {"last_name": last, "account": account["id"]})
    before = db_counts(engine)
    with pytest.raises(Conflict) as info:
        delete(engine, "account", account["id"])
    message = str(info.value)
    assert "2 contacts" in message
    assert "Acme Robotics Inc" in message
    assert db_counts(engine) == before
    assert db_row(engine, "accounts", account["id"])["name"] == "Acme Robotics Inc"


def test_delete_account_with_opportunities_is_refused(engine, opp, account):
    with pytest.raises(Conflict, match="1 opportunities"):
        delete(engine, "account", account["id"])
    assert db_counts(engine)["accounts"] == 1


# ---------------------------------------------------------------- lists


@pytest.fixture
def accounts(engine) -> dict[str, int]:
    seed = create(engine, "account", {"name": "Seed"}, actor="bob")  # makes user bob
    data = [
        {"name": "Acme Robotics", "industry": "Technology", "state": "CA", "employees": "120", "city": "San Jose"},
        {"name": "Acme Foods", "industry": "Retail", "state": "NY", "employees": "40", "owner": "bob"},
        {"name": "Globex Analytics", "industry": "Technology", "state": "TX", "employees": "800"},
        {"name": "Initech Systems", "industry": "Software", "state": "CA", "employees": "15", "owner": "bob"},
        {"name": "Umbrella Health", "industry": "Healthcare", "state": "MA", "employees": "2500",
         "website": "umbrella-robotics.example"},
    ]
    ids = {d["name"]: create(engine, "account", d)["id"] for d in data}
    delete(engine, "account", seed["id"])
    return ids


def names(rows) -> list[str]:
    return [r["name"] for r in rows]


def test_list_default_sort_is_by_name(engine, accounts):
    assert names(listing(engine, "account")) == sorted(accounts)


def test_list_search_is_case_insensitive_and_every_word_must_match(engine, accounts):
    assert names(listing(engine, "account", search="ACME")) == ["Acme Foods", "Acme Robotics"]
    assert names(listing(engine, "account", search="robotics")) == ["Acme Robotics", "Umbrella Health"]
    assert names(listing(engine, "account", search="acme robotics")) == ["Acme Robotics"]
    assert names(listing(engine, "account", search="san jose")) == ["Acme Robotics"]
    assert listing(engine, "account", search="nothing-like-this") == []
    assert count(engine, "account", search="acme") == 2


def test_list_filters(engine, accounts):
    assert names(listing(engine, "account", filters={"industry": "technology"})) == ["Acme Robotics",
                                                                                    "Globex Analytics"]
    assert names(listing(engine, "account", filters={"state": "ca", "industry": "Software"})) == ["Initech Systems"]
    assert names(listing(engine, "account", filters={"owner": "bob"})) == ["Acme Foods", "Initech Systems"]
    assert count(engine, "account", filters={"state": "CA"}) == 2
    assert count(engine, "account", filters={"state": None}) == 5  # None means no filter


def test_list_sort(engine, accounts):
    assert names(listing(engine, "account", sort="-name")) == sorted(accounts, reverse=True)
    assert names(listing(engine, "account", sort="employees")) == [
        "Initech Systems", "Acme Foods", "Acme Robotics", "Globex Analytics", "Umbrella Health"]
    assert names(listing(engine, "account", sort="-employees"))[0] == "Umbrella Health"
    assert [r["id"] for r in listing(engine, "account", sort="id")] == sorted(accounts.values())


def test_list_paging(engine, accounts):
    all_names = names(listing(engine, "account", sort="name"))
    pages = [names(listing(engine, "account", sort="name", limit=2, offset=o)) for o in (0, 2, 4)]
    assert pages == [all_names[0:2], all_names[2:4], all_names[4:]]
    assert listing(engine, "account", sort="name", limit=2, offset=10) == []
    with session_scope(engine) as s:
        streamed = names(records.iter_records(ENTITIES["account"], session=s, sort="name", batch=2))
    assert streamed == all_names


def test_sort_by_unknown_column_is_a_validation_error(engine, accounts):
    with pytest.raises(ValidationError) as info:
        listing(engine, "account", sort="colour")
    assert info.value.field == "sort" and info.value.value == "colour"
    assert "colour" in str(info.value)


def test_unknown_filter_is_a_validation_error(engine, accounts):
    with pytest.raises(ValidationError) as info:
        listing(engine, "account", filters={"colour": "red"})
    assert info.value.field == "colour"


@pytest.mark.parametrize(("entity", "key"), [
    ("contact", "account"), ("opportunity", "account"), ("activity", "opp"), ("activity", "contact"),
])
def test_non_numeric_id_filter_is_a_validation_error(engine, entity, key):
    with pytest.raises(ValidationError) as info:
        listing(engine, entity, filters={key: "abc"})
    assert info.value.field == key and info.value.value == "abc"


def test_opportunity_filters(engine, account):
    a = create(engine, "opportunity", {"name": "A", "account": account["id"], "stage": "Proposal"})
    b = create(engine, "opportunity", {"name": "B", "stage": "Won"})
    c = create(engine, "opportunity", {"name": "C", "stage": "Proposal", "amount": "10"})
    assert {r["id"] for r in listing(engine, "opportunity", filters={"stage": "proposal"})} == {a["id"], c["id"]}
    assert {r["id"] for r in listing(engine, "opportunity", filters={"open": "yes"})} == {a["id"], c["id"]}
    assert [r["id"] for r in listing(engine, "opportunity", filters={"open": "no"})] == [b["id"]]
    assert [r["id"] for r in listing(engine, "opportunity", filters={"account": str(account["id"])})] == [a["id"]]
    assert [r["id"] for r in listing(engine, "opportunity", sort="-amount_minor", limit=1)] == [c["id"]]
    with pytest.raises(ValidationError) as info:
        listing(engine, "opportunity", filters={"stage": "Closing"})
    assert info.value.field == "stage"


def test_search_treats_percent_and_underscore_literally(engine):
    for name in ("Acme_Labs", "AcmeXLabs", "100% Organic", "1000 Organic"):
        create(engine, "account", {"name": name})
    assert names(listing(engine, "account", search="acme_labs")) == ["Acme_Labs"]
    assert names(listing(engine, "account", search="100%")) == ["100% Organic"]
    assert count(engine, "account", search="_") == 1


def test_search_ignores_case_beyond_ascii(engine):
    """The demo data itself has "Ōsaka", "Zürich" and "Société Générale" accounts."""
    for name in ("Ōsaka Software Corp", "ÉCOLE Numérique", "Zürich Data AG"):
        create(engine, "account", {"name": name})
    assert names(listing(engine, "account", search="ōsaka")) == ["Ōsaka Software Corp"]
    assert names(listing(engine, "account", search="école")) == ["ÉCOLE Numérique"]
    assert names(listing(engine, "account", search="ZÜRICH")) == ["Zürich Data AG"]


def test_owner_me_means_the_acting_user(engine):
    account = create(engine, "account", {"name": "Mine Ltd", "owner": "me"}, actor="zoe")
    assert account["owner"] == "zoe"
    other = create(engine, "account", {"name": "Theirs Ltd"}, actor="yann")
    updated = update(engine, "account", other["id"], {"owner": "me"}, actor="zoe")
    assert updated["owner"] == "zoe"
    assert [(c["field"], c["actor"]) for c in _history(engine, "account", other["id"])] == [("owner_id", "zoe")]


def test_a_decimal_comma_amount_names_the_field_and_writes_nothing(engine):
    before = count(engine, "opportunity")
    with pytest.raises(ValidationError) as info:
        create(engine, "opportunity", {"name": "Comma deal", "amount": "1,5"})
    assert info.value.field == "amount" and "1,5" in str(info.value)
    assert count(engine, "opportunity") == before


def _history(engine, entity: str, record_id: int) -> list[dict]:
    with session_scope(engine) as s:
        return records.history(session=s, entity=entity, record_id=record_id)


def test_snapshot_sql_is_the_text_python_writes(engine):
    """records.snapshot_sql (a whole row logged by INSERT ... SELECT) gives exactly records.snapshot_text
    (a row logged from Python, as deletes are): booleans, dates, date-times with and without
    microseconds, integers, NULLs, quotes, backslashes, control characters and non-ASCII text."""
    from sqlalchemy import select
    from sqlalchemy import update as sql_update

    acc = create(engine, "account", {"name": 'Zü "q"\\ \n\t\x01 x', "employees": "5"})
    create(engine, "opportunity", {"name": "D", "account": acc["id"], "amount": "5.5",
                                   "expected_close": "2024-02-03", "stage": "Won"})
    create(engine, "contact", {"last_name": "L", "is_primary": "yes"})
    create(engine, "product", {"sku": "S-1", "name": "Widget", "unit_price": "3"})
    OPP = ENTITIES["opportunity"].table
    with engine.begin() as conn:
        conn.execute(sql_update(OPP).values(
            stage_changed_at=dt.datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)))
    with engine.connect() as conn:
        checked = 0
        for name in ("account", "opportunity", "contact", "product"):
            T = ENTITIES[name].table
            for row in conn.execute(select(T)).mappings():
                sql = conn.execute(select(records.snapshot_sql(T, conn.dialect.name)).where(T.c.id == row["id"]))
                assert sql.scalar() == records.snapshot_text(dict(row)), name
                checked += 1
    assert checked == 4

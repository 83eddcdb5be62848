"""A new rep's first week, step by step: what she may change of what she can read, and the history
she cannot rewrite.

The rep (jessica, sales) reads an account shared with her in full, deals of other reps included;
moving one of those deals to another stage is refused with the rule, as editing it is, and the deal
stays where it was (on SQLite the app applies the rule; on PostgreSQL the database refuses too, and
the app must say why rather than call it a conflict). With psql, her own change rows are as
append-only as everyone else's.

The PostgreSQL tests skip unless CRM_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy.engine import make_url
from support import POSTGRES_URL, one_line_error

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import create_user
from crm_tui.store.db import open_engine, session_scope

PASSWORD = "walk-pw"


def _ids(result) -> set[int]:
    assert result.exit_code == 0, result.output
    return set(map(int, result.stdout.split()))


def _stage(cli, deal: int) -> str:
    shown = cli("opp", "show", str(deal), "--format", "json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    return (data[0] if isinstance(data, list) else data)["stage"]


def test_a_rep_moving_a_deal_she_only_reads_is_told_the_rule(cli, monkeypatch):
    monkeypatch.setenv("CRM_USER", "boss")
    assert cli("user", "add", "boss", "--role", "admin").exit_code == 0
    for name in ("bob", "jessica"):
        assert cli("user", "add", name, "--role", "sales").exit_code == 0
    account = _ids(cli("account", "add", "Kestrel Ltd", "--owner", "bob")).pop()
    deal = _ids(cli("opp", "add", "Kestrel renewal", "--account", str(account), "--owner", "bob")).pop()
    assert _ids(cli("account", "share", str(account), "--with", "jessica")) == {account}
    before = _stage(cli, deal)

    monkeypatch.setenv("CRM_USER", "jessica")
    assert _ids(cli("opp", "list", "--format", "ids")) == {deal}  # she reads it (shared)
    line = one_line_error(cli("opp", "move", str(deal), "proposal"))
    assert "sales user may edit only their own" in line, line
    assert "changed by someone else" not in line

    monkeypatch.setenv("CRM_USER", "boss")
    assert _stage(cli, deal) == before  # not moved


def test_the_pipeline_service_checks_the_movers_edit_right(engine):
    """The Kanban and the deal form pass the acting user; a deal she may not edit is not moved."""
    from crm_tui.errors import Conflict, CRMError
    from crm_tui.services.sales import pipeline
    from crm_tui.services.shares import share_account
    from crm_tui.services.users import resolve_actor

    with session_scope(engine) as s:
        for name, role in (("boss", "admin"), ("bob", "sales"), ("jessica", "sales")):
            create_user(session=s, data={"username": name, "role": role})
        account = records.create_record(ENTITIES["account"], session=s, actor="bob",
                                        data={"name": "Kestrel Ltd", "owner": "bob"})
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                     data={"name": "Bob deal", "owner": "bob", "account": account["id"]})
        share_account(session=s, actor=resolve_actor(session=s, username="boss"), account_id=account["id"],
                      username="jessica")
    with session_scope(engine) as s:
        before = records.get_record(ENTITIES["opportunity"], session=s, record_id=deal["id"])["stage"]
    with session_scope(engine) as s:
        jessica = resolve_actor(session=s, username="jessica")
        with pytest.raises(CRMError) as refused:
            pipeline.move_opportunity(session=s, opportunity_id=deal["id"], stage="Proposal", actor=jessica)
    assert not isinstance(refused.value, Conflict)
    assert "may edit only their own" in str(refused.value)
    with session_scope(engine) as s:
        assert records.get_record(ENTITIES["opportunity"], session=s, record_id=deal["id"])["stage"] == before
        bob = resolve_actor(session=s, username="bob")
        moved = pipeline.move_opportunity(session=s, opportunity_id=deal["id"], stage="Proposal", actor=bob)
    assert moved.to_stage_id != moved.from_stage_id


# ---------------------------------------------------------------- PostgreSQL: psql as her


def _login(user: str) -> str:
    return f"{make_url(POSTGRES_URL).database}_walk_{user}"[:63]


@pytest.fixture
def jessica_on_postgres(request):
    if not POSTGRES_URL:
        pytest.skip("set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")
    from support import truncate_postgres

    truncate_postgres(POSTGRES_URL, request.getfixturevalue("postgres_tables"))
    engine = open_engine(POSTGRES_URL)
    with session_scope(engine) as s:
        create_user(session=s, data={"username": "boss", "role": "admin"})
        create_user(session=s, data={"username": "jessica", "role": "sales"}, with_login=True,
                    login=_login("jessica"), password=PASSWORD)
    yield engine
    engine.dispose()


def _psql(user: str) -> psycopg.Connection:
    url = make_url(POSTGRES_URL)
    return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, dbname=url.database,
                           user=_login(user), password=PASSWORD, autocommit=True)


def test_a_rep_with_psql_cannot_rewrite_or_erase_the_history_of_her_records(jessica_on_postgres):
    engine = jessica_on_postgres
    with session_scope(engine) as s:
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="jessica",
                                     data={"name": "Jess deal", "owner": "jessica", "amount": "100"})
    with session_scope(engine) as s:
        records.update_record(ENTITIES["opportunity"], session=s, record_id=deal["id"], data={"amount": "200"},
                              actor="jessica")
        records.update_record(ENTITIES["opportunity"], session=s, record_id=deal["id"], data={"amount": "300"},
                              actor="boss")
    with _psql("jessica") as conn:
        seen = dict(conn.execute("SELECT actor, count(*) FROM changes GROUP BY actor").fetchall())
        assert set(seen) == {"boss", "jessica"}  # she reads the whole history of her deal
        assert conn.execute("UPDATE changes SET new_value = 'x' WHERE actor = 'jessica'").rowcount == 0
        assert conn.execute("DELETE FROM changes WHERE actor = 'jessica'").rowcount == 0
        assert conn.execute("DELETE FROM changes").rowcount == 0
        assert dict(conn.execute("SELECT actor, count(*) FROM changes GROUP BY actor").fetchall()) == seen
        assert conn.execute("SELECT count(*) FROM changes WHERE new_value = 'x'").fetchone()[0] == 0


def test_a_reps_forecast_sets_what_she_sees_against_her_own_quota(engine):
    """Everyone, for a rep, is the deals she may see: the quota beside them is hers, not the company's."""
    import datetime as dt

    from crm_tui.services.sales import forecast
    from crm_tui.services.users import resolve_actor

    month = dt.date(2027, 1, 1)
    with session_scope(engine) as s:
        for name, role in (("boss", "admin"), ("bob", "sales"), ("jessica", "sales")):
            create_user(session=s, data={"username": name, "role": role})
        boss = resolve_actor(session=s, username="boss")
        forecast.set_quota(session=s, username="bob", month=month, amount="90000", currency="USD", actor=boss)
        forecast.set_quota(session=s, username="jessica", month=month, amount="10000", currency="USD", actor=boss)
        records.create_record(ENTITIES["opportunity"], session=s, actor="jessica",
                              data={"name": "Jess deal", "owner": "jessica", "amount": "4000",
                                    "expected_close": "2027-01-20"})
    with session_scope(engine) as s:
        start, end = month, dt.date(2027, 1, 31)
        hers = forecast.forecast(session=s, start=start, end=end, by=(),
                                 actor=resolve_actor(session=s, username="jessica")).totals["USD"]
        everyone = forecast.forecast(session=s, start=start, end=end, by=(),
                                     actor=resolve_actor(session=s, username="boss")).totals["USD"]
    assert hers.quota_minor == 1_000_000
    assert everyone.quota_minor == 10_000_000

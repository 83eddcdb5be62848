"""Row visibility enforced by PostgreSQL: each CRM user connects with their own login and row-level
security (crm_tui/store/row_security.py) shows and lets them change only what their role may.

The team: alice (admin), bob and jessica (sales, team West), mara (manager, West), carl (sales,
East), fin (finance). Logins are named after the test database (``<db>_jessica``): PostgreSQL roles
belong to the whole server, and `crm user add --login` links one that exists already.

The PostgreSQL tests skip unless CRM_TEST_POSTGRES_URL is set; the coverage check runs everywhere.
"""

from __future__ import annotations

import random

import psycopg
import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.engine import make_url
from support import CLI, POSTGRES_URL, sqlite_url, truncate_postgres

from crm_tui.services import records
from crm_tui.services.access import set_rule
from crm_tui.services.registry import ENTITIES
from crm_tui.services.shares import share_account
from crm_tui.services.users import create_team, create_user, deactivate_user, resolve_actor
from crm_tui.store import row_security
from crm_tui.store.db import open_engine, session_scope
from crm_tui.store.models import (
    Account,
    Activity,
    Contact,
    Lead,
    Opportunity,
    Proposal,
    Stage,
    Tag,
    Tagging,
    metadata,
)
from crm_tui.store.visibility import visible

PASSWORD = "s3cret-'quote"  # a quote, to prove the password is sent as a literal
TEAM = (("alice", "admin", None), ("bob", "sales", "West"), ("jessica", "sales", "West"),
        ("mara", "manager", "West"), ("carl", "sales", "East"), ("fin", "finance", None))
COMPARED = {"account": "accounts", "contact": "contacts", "lead": "leads", "opportunity": "opportunities",
            "activity": "activities", "proposal": "proposals"}
RECORD_TABLES = {"accounts", "contacts", "leads", "opportunities", "activities", "proposals"}

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")


# ---------------------------------------------------------------- coverage (every backend)


def test_every_table_holding_records_is_covered_or_exempt():
    """A new table with an owner or a record reference must get policies (or a reason it needs none)."""
    missing, unknown = [], []
    for table in metadata.sorted_tables:
        refers = ("owner_id" in table.c or "record_id" in table.c or
                  any(fk.column.table.name in RECORD_TABLES for fk in table.foreign_keys))
        if table.name in row_security.COVERED:
            continue
        if refers:
            missing.append(table.name)
        elif table.name not in row_security.EXEMPT:
            unknown.append(table.name)
    assert missing == [], f"tables with records but no row security: {missing}"
    assert unknown == [], f"tables neither covered nor exempt (say why in row_security.EXEMPT): {unknown}"


# ---------------------------------------------------------------- PostgreSQL fixtures


def login_name(user: str) -> str:
    return f"{make_url(POSTGRES_URL).database}_{user}"[:63]


def login_url(user: str, password: str = PASSWORD) -> str:
    return make_url(POSTGRES_URL).set(username=login_name(user), password=password).render_as_string(
        hide_password=False)


def raw(user: str, password: str = PASSWORD) -> psycopg.Connection:
    """A plain connection as ``user``'s login, as psql would have (autocommit)."""
    url = make_url(login_url(user, password))
    return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, dbname=url.database,
                           user=url.username, password=url.password, autocommit=True)


@pytest.fixture
def pg(request):
    if not POSTGRES_URL:
        pytest.skip("set CRM_TEST_POSTGRES_URL to run PostgreSQL tests")
    truncate_postgres(POSTGRES_URL, request.getfixturevalue("postgres_tables"))
    engine = open_engine(POSTGRES_URL)
    yield engine
    engine.dispose()


def add_team(engine, *, logins: bool) -> dict[str, int]:
    """The team's users (with logins on PostgreSQL); their ids."""
    ids = {}
    with session_scope(engine) as s:
        setup = resolve_actor(session=s, username="setup")
        for name in ("West", "East"):
            create_team(session=s, actor=setup, name=name)
        for username, role, team in TEAM:
            user = create_user(session=s, data={"username": username, "role": role, "team": team},
                               with_login=logins, login=login_name(username) if logins else None,
                               password=PASSWORD if logins else None)
            ids[username] = user.id
    return ids


# ---------------------------------------------------------------- a rep with psql


@pytest.fixture
def bobs_and_jessicas(pg):
    """bob's deal (tagged, changed, with a task) and lead (with a call); jessica's deal; bob's account
    Shared with jessica, with a deal, a note and a change."""
    users = add_team(pg, logins=True)
    ids: dict[str, int] = {}
    with session_scope(pg) as s:
        acct = records.create_record(ENTITIES["account"], session=s, actor="bob", data={"name": "Bob Co",
                                                                                        "owner": "bob"})["id"]
        shared = records.create_record(ENTITIES["account"], session=s, actor="bob", data={"name": "Shared Co",
                                                                                          "owner": "bob"})["id"]
        opp = ENTITIES["opportunity"]
        ids["bob_deal"] = records.create_record(opp, session=s, actor="bob", data={
            "name": "Bob zebra deal", "account": acct, "owner": "bob", "amount": "500"})["id"]
        ids["shared_deal"] = records.create_record(opp, session=s, actor="bob", data={
            "name": "Shared deal", "account": shared, "owner": "bob"})["id"]
        ids["jess_deal"] = records.create_record(opp, session=s, actor="jessica", data={
            "name": "Jess deal", "owner": "jessica"})["id"]
        ids["bob_lead"] = records.create_record(ENTITIES["lead"], session=s, actor="bob", data={
            "last_name": "Lee", "company": "Zebra", "owner": "bob"})["id"]
        ids["account"], ids["shared"] = acct, shared
    with session_scope(pg) as s:
        records.update_record(ENTITIES["opportunity"], session=s, record_id=ids["bob_deal"], data={"amount": "600"},
                              actor="bob")
        records.update_record(ENTITIES["opportunity"], session=s, record_id=ids["shared_deal"],
                              data={"amount": "700"}, actor="bob")
        tag = Tag(name="q1_priority")
        s.add(tag)
        s.flush()
        s.add(Tagging(entity="opportunity", record_id=ids["bob_deal"], tag_id=tag.id))
        for key, link in (("bob_task", {"opportunity_id": ids["bob_deal"]}), ("bob_call", {"lead_id": ids["bob_lead"]}),
                          ("shared_note", {"opportunity_id": ids["shared_deal"]})):
            activity = Activity(type="task", subject=f"zebra {key}", owner_id=users["bob"], **link)
            s.add(activity)
            s.flush()
            ids[key] = activity.id
        admin = resolve_actor(session=s, username="alice")
        share_account(session=s, actor=admin, account_id=shared, username="jessica")
    ids.update({f"user_{k}": v for k, v in users.items()})
    return ids


def ids_of(conn, sql: str, *args) -> set[int]:
    return {row[0] for row in conn.execute(sql, args).fetchall()}


@needs_postgres
def test_a_rep_with_psql_cannot_read_another_reps_records(bobs_and_jessicas):
    ids = bobs_and_jessicas
    with raw("jessica") as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == login_name("jessica")
        assert ids_of(conn, "SELECT id FROM opportunities") == {ids["jess_deal"], ids["shared_deal"]}
        assert ids_of(conn, "SELECT id FROM leads") == set()
        assert ids_of(conn, "SELECT id FROM activities") == {ids["shared_note"]}
        assert ids_of(conn, "SELECT record_id FROM changes WHERE entity = 'opportunity'") == {ids["shared_deal"]}
        assert ids_of(conn, "SELECT record_id FROM taggings") == set()
        # The full-text index is on the record rows: a search reaches only what she may read.
        hits = ids_of(conn, "SELECT id FROM opportunities WHERE to_tsvector('simple', name) @@ "
                            "to_tsquery('simple', 'zebra')")
        assert hits == set()
        assert ids_of(conn, "SELECT id FROM activities WHERE to_tsvector('simple', subject) @@ "
                            "to_tsquery('simple', 'zebra')") == {ids["shared_note"]}
    with raw("bob") as conn:  # the same rows are there for their owner
        assert ids["bob_deal"] in ids_of(conn, "SELECT id FROM opportunities")
        assert ids_of(conn, "SELECT record_id FROM taggings") == {ids["bob_deal"]}


@needs_postgres
def test_a_rep_with_psql_cannot_change_another_reps_records(bobs_and_jessicas):
    ids = bobs_and_jessicas
    with raw("jessica") as conn:
        for sql, arg in (("UPDATE opportunities SET name = 'mine now' WHERE id = %s", ids["bob_deal"]),
                         ("UPDATE opportunities SET name = 'mine now' WHERE id = %s", ids["shared_deal"]),
                         ("DELETE FROM opportunities WHERE id = %s", ids["bob_deal"]),
                         ("UPDATE leads SET owner_id = NULL WHERE id = %s", ids["bob_lead"]),
                         ("DELETE FROM leads WHERE id = %s", ids["bob_lead"]),
                         ("UPDATE activities SET subject = 'x' WHERE id = %s", ids["bob_task"]),
                         ("DELETE FROM activities WHERE id = %s", ids["bob_call"]),
                         ("DELETE FROM activities WHERE id = %s", ids["shared_note"]),
                         ("DELETE FROM changes WHERE record_id = %s", ids["bob_deal"]),
                         ("UPDATE changes SET new_value = 'x' WHERE record_id = %s", ids["shared_deal"]),
                         ("DELETE FROM taggings WHERE record_id = %s", ids["bob_deal"]),
                         ("UPDATE users SET role = 'admin' WHERE id = %s", ids["user_jessica"]),
                         ("DELETE FROM account_shares WHERE account_id = %s", ids["shared"])):
            assert conn.execute(sql, (arg,)).rowcount == 0, sql
        stage = conn.execute("SELECT id FROM stages ORDER BY position LIMIT 1").fetchone()[0]
        refused = [
            ("INSERT INTO opportunities (name, owner_id, stage_id, probability, amount_minor, currency, version, "
             "probability_manual, created_at, updated_at, stage_changed_at, forecast_category) VALUES "
             "('fake', %s, %s, 10, 0, 'USD', 1, false, now(), now(), now(), 'pipeline')", (ids["user_bob"], stage)),
            ("INSERT INTO activities (type, subject, owner_id, version, created_at, updated_at) "
             "VALUES ('note', 'fake', %s, 1, now(), now())", (ids["user_bob"],)),
            ("UPDATE opportunities SET owner_id = %s WHERE id = %s", (ids["user_bob"], ids["jess_deal"])),
            ("INSERT INTO taggings (entity, record_id, tag_id, created_at) "
             "SELECT 'opportunity', %s, id, now() FROM tags", (ids["bob_deal"],)),
            ("INSERT INTO account_shares (account_id, user_id, shared_by, created_at) VALUES (%s, %s, 'me', now())",
             (ids["account"], ids["user_jessica"])),
            ("INSERT INTO changes (entity, record_id, field, actor, changed_at, batch_id) "
             "VALUES ('opportunity', %s, 'amount', 'bob', now(), 'forged')", (ids["bob_deal"],)),
        ]
        for sql, args in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(sql, args)
        # Her own deal she may change.
        assert conn.execute("UPDATE opportunities SET name = 'Jess renamed' WHERE id = %s",
                            (ids["jess_deal"],)).rowcount == 1
    with raw("alice") as conn:  # an admin's login changes anything
        assert conn.execute("UPDATE opportunities SET name = 'Bob deal' WHERE id = %s", (ids["bob_deal"],)).rowcount == 1
    with session_scope(open_engine(POSTGRES_URL)) as s:
        assert s.get(Opportunity, ids["bob_deal"]).owner_id == ids["user_bob"]
        assert s.get(Lead, ids["bob_lead"]).owner_id == ids["user_bob"]


@needs_postgres
def test_the_cli_as_a_reps_own_login_shows_what_she_may_see(bobs_and_jessicas, monkeypatch):
    ids = bobs_and_jessicas
    cli = CLI(login_url("jessica"))
    refused = cli("opp", "list", "--format", "ids")  # CRM_USER is "tester": not who the login is
    line = cli.error(refused)
    assert "tester" in line and login_name("jessica") in line and "jessica" in line
    monkeypatch.setenv("CRM_USER", "jessica")
    listed = cli("opp", "list", "--format", "ids")
    assert listed.exit_code == 0, listed.output
    assert set(map(int, listed.stdout.split())) == {ids["jess_deal"], ids["shared_deal"]}
    history = cli("opp", "history", str(ids["shared_deal"]), "--format", "json")
    assert history.exit_code == 0 and "700" in history.stdout
    assert cli.error(cli("opp", "show", str(ids["bob_deal"])))
    found = cli("search", "zebra", "--format", "json")  # bob's deal, lead and task say zebra too
    assert found.exit_code == 0, found.output
    assert "zebra shared_note" in found.stdout and "Bob zebra deal" not in found.stdout
    assert "bob_task" not in found.stdout and "Zebra" not in found.stdout
    monkeypatch.delenv("CRM_USER")  # without CRM_USER "me" is the login's user
    mine = cli("opp", "list", "--where", "owner=me", "--format", "ids")
    assert set(map(int, mine.stdout.split())) == {ids["jess_deal"]}


@needs_postgres
def test_user_add_creates_a_login_and_deactivate_disables_it(pg):
    cli = CLI(POSTGRES_URL)
    name = login_name("rookie")
    added = cli("user", "add", "rookie", "--role", "sales", "--login", name, "--password-stdin",
                input="first-pass\n")
    assert added.exit_code == 0, added.output
    with raw("rookie", "first-pass") as conn:
        assert conn.execute("SELECT crm_me(current_user::text)").fetchone()[0] is not None
    assert cli("user", "deactivate", "rookie").exit_code == 0
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        raw("rookie", "first-pass")
    assert cli("user", "update", "rookie", "--active").exit_code == 0  # it may connect again
    raw("rookie", "first-pass").close()
    with session_scope(pg) as s:  # leave the login disabled for whoever runs next
        deactivate_user(session=s, actor=resolve_actor(session=s, username="setup"), username="rookie")


def test_logins_are_postgresql_only(tmp_path):
    cli = CLI(sqlite_url(tmp_path / "crm.db"))
    line = cli.error(cli("user", "add", "rookie", "--login", "rookie", "--password-stdin", input="x\n"))
    assert "PostgreSQL" in line and "SQLite" in line


# ---------------------------------------------------------------- the app and the database agree


def mixed_data(engine, users: dict[str, int]) -> None:
    """Accounts, contacts, leads, deals, activities and proposals owned by everyone (and no one), linked at
    random; two accounts shared (with jessica and with carl). The same rows on every backend."""
    rng = random.Random(20261204)
    owners = [*users.values(), None]
    with session_scope(engine) as s:
        stage = s.execute(select(Stage.id).order_by(Stage.position)).scalars().first()
        accounts, contacts, leads, deals = [], [], [], []
        for i in range(14):
            a = Account(name=f"Account {i}", owner_id=rng.choice(owners))
            s.add(a)
            s.flush()
            accounts.append(a.id)
        for i in range(18):
            c = Contact(last_name=f"Contact {i}", account_id=rng.choice([*accounts, None]),
                        owner_id=rng.choice(owners))
            s.add(c)
            s.flush()
            contacts.append(c.id)
        for i in range(18):
            lead = Lead(last_name=f"Lead {i}", owner_id=rng.choice(owners))
            s.add(lead)
            s.flush()
            leads.append(lead.id)
        for i in range(24):
            o = Opportunity(name=f"Deal {i}", account_id=rng.choice([*accounts, None]), owner_id=rng.choice(owners),
                            stage_id=stage, probability=10)
            s.add(o)
            s.flush()
            deals.append(o.id)
        for i in range(48):
            links = {key: rng.choice([*pool, None, None])
                     for key, pool in (("opportunity_id", deals), ("lead_id", leads), ("contact_id", contacts),
                                       ("account_id", accounts))}
            s.add(Activity(type="note", subject=f"Note {i}", owner_id=rng.choice(owners), **links))
        for i in range(16):
            deal = s.get(Opportunity, rng.choice(deals))
            s.add(Proposal(number=f"P-{i}", title=f"Proposal {i}", opportunity_id=deal.id,
                           account_id=rng.choice([deal.account_id, None]), owner_id=rng.choice(owners)))
        s.flush()
        admin = resolve_actor(session=s, username="alice")
        share_account(session=s, actor=admin, account_id=accounts[3], username="jessica")
        share_account(session=s, actor=admin, account_id=accounts[7], username="carl")


def app_visible(engine) -> dict[tuple[str, str], set[int]]:
    out = {}
    with session_scope(engine) as s:
        for username, _role, _team in TEAM:
            actor = resolve_actor(session=s, username=username)
            for entity, table in COMPARED.items():
                T = metadata.tables[table]
                out[(username, entity)] = set(s.execute(visible(select(T.c.id), entity=entity, table=T,
                                                                actor=actor)).scalars())
    return out


def database_visible() -> dict[tuple[str, str], set[int]]:
    out = {}
    for username, _role, _team in TEAM:
        with raw(username) as conn:
            for entity, table in COMPARED.items():
                out[(username, entity)] = ids_of(conn, f"SELECT id FROM {table}")
    return out


def change_rules(engine) -> None:
    with session_scope(engine) as s:
        admin = resolve_actor(session=s, username="alice")
        for role, entity, action, level in (("sales", "account", "read", "own"), ("sales", "lead", "read", "team"),
                                            ("finance", "opportunity", "read", "team"),
                                            ("manager", "activity", "read", "own"), ("sales", "contact", "read", "none"),
                                            ("sales", "proposal", "read", "none"), ("manager", "lead", "read", "own")):
            set_rule(session=s, actor=admin, role=role, entity=entity, action=action, level=level)


@needs_postgres
def test_the_apps_visibility_and_the_databases_policies_agree(pg, tmp_path):
    lite = open_engine(sqlite_url(tmp_path / "crm.db"))
    mixed_data(lite, add_team(lite, logins=False))
    mixed_data(pg, add_team(pg, logins=True))
    for rules in ("defaults", "changed"):
        expected = app_visible(lite)
        assert expected == app_visible(pg)  # the same rows on both backends
        got = database_visible()
        differ = {key: (sorted(expected[key] - got[key]), sorted(got[key] - expected[key]))
                  for key in expected if expected[key] != got[key]}
        assert differ == {}, f"{rules}: (user, entity): (only the app shows, only the database shows): {differ}"
        restricted = {e for (u, e), v in got.items() if len(v) < len(got[("alice", e)])}
        assert restricted >= ({"opportunity", "lead", "activity", "proposal"} | ({"account", "contact"} if rules == "changed"
                                                                     else set())), restricted
        change_rules(lite)
        change_rules(pg)
    lite.dispose()


@needs_postgres
def test_every_covered_table_has_its_policies_installed(pg):
    with pg.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        policies = {}
        for table, name in conn.exec_driver_sql("SELECT tablename, policyname FROM pg_policies").all():
            policies.setdefault(table, set()).add(name)
        forced = dict(conn.exec_driver_sql("SELECT relname, relrowsecurity FROM pg_class WHERE relkind = 'r'").all())
    for table in row_security.COVERED:
        if table in tables:
            assert policies.get(table) == {"crm_read", "crm_insert", "crm_update", "crm_delete"}, table
            assert forced[table], table
    # Installing again changes nothing (it is what every migration and a newer crm-tui run).
    with pg.begin() as conn:
        before = row_security.installed_version(conn)
        row_security.install(conn)
        assert row_security.installed_version(conn) == before == row_security.version(conn)


@needs_postgres
def test_a_rep_with_psql_reads_only_her_own_notifications_and_no_outbox(bobs_and_jessicas):
    from crm_tui.services import notifications
    from crm_tui.store.models import User

    ids = bobs_and_jessicas
    with session_scope(open_engine(POSTGRES_URL)) as s:
        s.execute(update(User).where(User.username == "bob").values(email="bob@example.com"))
        notifications.set_prefs(session=s, actor=resolve_actor(session=s, username="bob"), email=["assigned"])
        mine = notifications.notify(session=s, user_id=ids["user_jessica"], kind="assigned", title="For Jessica")
        bobs = notifications.notify(session=s, user_id=ids["user_bob"], kind="assigned", title="For Bob")
    with raw("jessica") as conn:
        assert ids_of(conn, "SELECT id FROM notifications") == {mine}
        assert conn.execute("UPDATE notifications SET read_at = now() WHERE id = %s", (bobs,)).rowcount == 0
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0  # bob's e-mail: not hers to read
        assert conn.execute("SELECT count(*) FROM notification_prefs").fetchone()[0] == 0
    with raw("bob") as conn:
        assert ids_of(conn, "SELECT id FROM notifications") == {bobs}
    with open_engine(POSTGRES_URL).connect() as conn:  # the tables' owner, which sends the e-mail, sees it
        assert conn.exec_driver_sql("SELECT to_addr FROM outbox").scalars().all() == ["bob@example.com"]
